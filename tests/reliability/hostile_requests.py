"""Hostile API requests built from the OpenAPI schema: depth, encodings, path bytes.

Shared by tests/reliability/test_request_fuzz.py (in-process) and
bench/reliability/ (through gunicorn). For every operation in the schema:
path parameters replaced by hostile bytes, and for every operation that takes
a body, bodies that are deep, badly encoded, NUL-laden or oversized. The
expected outcome of every case is a 4xx (or a 2xx where the input happens to
be acceptable), never a 5xx, and under /api/ always the one error shape.
Deterministic: the same cases every run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PATH_BYTES = [
    "%00", "a%00b", "%ff", "%c0%af", "%ed%a0%80", "%f4%90%80%80", "..%2f..%2fetc%2fpasswd",
    "%2e%2e", "%0a", "%0d%0aSet-Cookie:x=1", "%e2%80%ae", "%ef%bb%bf", "-1", "0",
    "99999999999999999999999999", "1e9", "%20", "'%20OR%201=1--", "%3Cscript%3E", "x" * 300,
    "%25", "%u0000",
]
DEEP_ARRAY = b"[" * 1000 + b"]" * 1000
DEEP_OBJECT = b'{"a":' * 1000 + b"1" + b"}" * 1000
BODIES: list[tuple[str, bytes, str]] = [
    ("deep array", DEEP_ARRAY, "application/json"),
    ("deep object", DEEP_OBJECT, "application/json"),
    ("deep inside an object", b'{"events": ' + DEEP_ARRAY + b', "quantity": ' + DEEP_ARRAY
     + b"}", "application/json"),
    ("33 levels", b"[" * 33 + b"]" * 33, "application/json"),
    ("lone surrogate", b'{"id": "\\ud800", "events": [{"id": "\\udfff"}], "name": "\\ud800"}',
     "application/json"),
    ("NUL in strings", b'{"id": "a\\u0000b", "name": "\\u0000", "address": "x\\u0000"}',
     "application/json"),
    ("raw NUL bytes", b'{"name": "a\x00b"}', "application/json"),
    ("invalid UTF-8", b'{"name": "\xff\xfe\xc0\xaf"}', "application/json"),
    ("overlong UTF-8", b'{"name": "\xc0\x80"}', "application/json"),
    ("UTF-16 with BOM", '{"name": "x"}'.encode("utf-16"), "application/json"),
    ("UTF-16 declared", '{"name": "x"}'.encode("utf-16-le"),
     "application/json; charset=utf-16"),
    ("latin-1 declared", '{"name": "é"}'.encode("latin-1"),
     "application/json; charset=latin-1"),
    ("unknown charset", b'{"name": "x"}', "application/json; charset=x-nonsense"),
    ("UTF-8 BOM", b"\xef\xbb\xbf{}", "application/json"),
    ("NaN and Infinity", b'{"quantity": NaN, "product": Infinity}', "application/json"),
    ("huge number", b'{"quantity": 1' + b"0" * 5000 + b', "product": 1e999999}',
     "application/json"),
    ("empty body", b"", "application/json"),
    ("not JSON", b"\x89PNG\r\n\x1a\n", "application/json"),
    ("form instead of JSON", b"name=x&phone=y", "application/x-www-form-urlencoded"),
    ("multipart", b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\ny\r\n--b--\r\n",
     "multipart/form-data; boundary=b"),
    ("too large", b'{"pad": "' + b"x" * (10 * 1024 * 1024) + b'"}', "application/json"),
]


@dataclass(frozen=True)
class HostileRequest:
    label: str
    method: str
    path: str
    body: bytes | None = None
    content_type: str | None = None
    headers: dict = field(default_factory=dict)


def _operations(schema: dict) -> list[tuple[str, str, dict]]:
    ops = []
    for path, item in sorted(schema["paths"].items()):
        for method, operation in sorted(item.items()):
            if method in {"get", "post", "put", "patch", "delete"}:
                ops.append((method.upper(), path, operation))
    return ops


def hostile_requests(schema: dict) -> list[HostileRequest]:
    """Return the cases for every operation in `schema` (the API's OpenAPI document)."""
    cases: list[HostileRequest] = []
    for method, path, _operation in _operations(schema):
        params = re.findall(r"\{([^}]+)\}", path)
        if params:
            for raw in PATH_BYTES:
                concrete = re.sub(r"\{[^}]+\}", raw, path)
                cases.append(HostileRequest(f"{method} {path} with {raw[:24]!r}", method,
                                            concrete))
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        # Bodies on every operation: one that takes none must not choke on one either.
        for label, body, content_type in BODIES:
            cases.append(HostileRequest(f"{method} {path}: {label}", method, concrete,
                                        body, content_type))
        # Query strings: NUL, bad bytes, and a very long value on every operation.
        for query in ("?x=%00", "?cursor=%ff%fe", "?limit=-1&limit=1e9", "?q=" + "a" * 5000):
            cases.append(HostileRequest(f"{method} {path} query {query[:16]!r}", method,
                                        concrete + query))
    for token in ("nope", "x" * 2000, "%00", "\u00e9"):
        cases.append(HostileRequest(f"bad token {token[:8]!r}", "GET", "/api/v1/shoppers/me/",
                                    headers={"Authorization": f"Shopper {token}"}))
    return cases
