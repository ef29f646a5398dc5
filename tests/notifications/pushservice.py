"""A real Web Push service on 127.0.0.1 for the tests, playing the browser's push service.

It receives the RFC 8030 POST, checks the VAPID (RFC 8292) Authorization
header: a `vapid t=<JWT>,k=<public key>` whose ES256 signature must verify
with the shop's configured public key and whose claims name this origin,
and decrypts the aes128gcm body (RFC 8188/8291) with the subscription's own
private key and auth secret, as the browser would, using `http_ece`
(pywebpush's own dependency) and `cryptography` directly, not our code.
Paths starting /gone/ answer 410 Gone, as a push service does for an
expired subscription.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.orders.live import free_port

PORTS = range(8400, 8421)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_bytes(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.X962,
                                         serialization.PublicFormat.UncompressedPoint)


@dataclass
class VapidPair:
    """The shop's VAPID keys, as an operator puts them in the environment (base64url)."""

    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))

    @property
    def private_b64(self) -> str:
        return b64url(self.key.private_numbers().private_value.to_bytes(32, "big"))

    @property
    def public_b64(self) -> str:
        return b64url(public_bytes(self.key))


@dataclass
class BrowserSubscription:
    """What a browser makes on pushManager.subscribe(): a key pair and an auth secret."""

    endpoint: str
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def to_json(self) -> dict:
        return {"endpoint": self.endpoint,
                "keys": {"p256dh": b64url(public_bytes(self.key)), "auth": b64url(self.auth)}}


@dataclass
class Received:
    path: str
    headers: dict
    claims: dict
    plaintext: bytes


class PushService:
    """Start with `with PushService(vapid_public_b64) as service:`; read `service.received`."""

    def __init__(self, vapid_public_b64: str):
        self.vapid_public_b64 = vapid_public_b64
        self.subscriptions: dict[str, BrowserSubscription] = {}
        self.received: list[Received] = []
        self.refused: list[tuple[str, str]] = []
        self.port = free_port(PORTS)
        self.origin = f"http://127.0.0.1:{self.port}"

    def subscribe(self, name: str, *, gone: bool = False) -> BrowserSubscription:
        path = f"/{'gone' if gone else 'push'}/{name}"
        subscription = BrowserSubscription(endpoint=self.origin + path)
        self.subscriptions[path] = subscription
        return subscription

    def __enter__(self) -> PushService:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, reason = service.handle(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                if status == 201:
                    self.send_header("Location", f"{service.origin}/message/{time.time_ns()}")
                self.send_header("Content-Length", str(len(reason)))
                self.end_headers()
                self.wfile.write(reason.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, path: str, headers: dict, body: bytes) -> tuple[int, str]:
        headers = {key.lower(): value for key, value in headers.items()}
        try:
            claims = self.check_vapid(headers.get("authorization", ""))
        except (ValueError, InvalidSignature) as exc:
            self.refused.append((path, f"vapid: {exc}"))
            return 401, "bad vapid"
        if "ttl" not in headers:
            self.refused.append((path, "no TTL"))
            return 400, "TTL required"  # RFC 8030 section 5.2
        if path.startswith("/gone/"):
            return 410, "subscription expired"
        subscription = self.subscriptions.get(path)
        if subscription is None:
            return 404, "no such subscription"
        if headers.get("content-encoding") != "aes128gcm":
            self.refused.append((path, "encoding"))
            return 415, "aes128gcm only"
        plaintext = http_ece.decrypt(body, private_key=subscription.key,
                                     auth_secret=subscription.auth, version="aes128gcm")
        self.received.append(Received(path, headers, claims, plaintext))
        return 201, ""

    def check_vapid(self, header: str) -> dict:
        scheme, _sep, params = header.partition(" ")
        if scheme.lower() != "vapid":
            raise ValueError(f"scheme {scheme!r}")
        parts = dict(part.strip().split("=", 1) for part in params.split(","))
        if parts.get("k") != self.vapid_public_b64:
            raise ValueError("k is not the shop's public key")
        head_b64, claims_b64, sig_b64 = parts["t"].split(".")
        header_json = json.loads(unb64url(head_b64))
        if header_json.get("alg") != "ES256":
            raise ValueError("alg")
        signature = unb64url(sig_b64)
        if len(signature) != 64:
            raise ValueError("ES256 signatures are r||s, 64 bytes")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(parts["k"]))
        public.verify(
            encode_dss_signature(int.from_bytes(signature[:32], "big"),
                                 int.from_bytes(signature[32:], "big")),
            f"{head_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        claims = json.loads(unb64url(claims_b64))
        if claims.get("aud") != self.origin:
            raise ValueError(f"aud {claims.get('aud')!r}")
        if not time.time() < claims["exp"] <= time.time() + 24 * 3600:
            raise ValueError("exp must be within 24 hours (RFC 8292 section 2)")
        return claims

