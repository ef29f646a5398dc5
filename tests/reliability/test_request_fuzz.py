"""A deterministic fuzz pass over every operation of the API schema (issue 12, item 3).

Each case (tests/reliability/hostile_requests.py) is sent in-process with a
fresh shopper token: hostile path bytes, deep or badly encoded bodies,
NUL bytes and long query strings, bad tokens. Never a 5xx; every 4xx is the
API's one error shape. Schemathesis (tests/api/test_schema_fuzz.py) covers
the schema's own types; this covers the bytes around them.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from personalization.services import shopper_create_anonymous
from tests.factories import CategoryFactory, ProductFactory, RegionFactory
from tests.reliability.hostile_requests import hostile_requests

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def _is_error_shape(response) -> bool:
    try:
        body = json.loads(response.content)
    except ValueError:
        return False
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and isinstance(error.get("code"), str) and bool(
        error.get("message"))


def test_no_hostile_request_to_any_schema_operation_is_a_server_error(schema):
    # given a small catalogue, and every hostile case for every operation in the schema
    RegionFactory(code="IN", name="India")
    CategoryFactory(slug="home")
    ProductFactory()
    cases = hostile_requests(schema)
    assert len(cases) >= 400
    server_errors, wrong_shape = [], []
    for case in cases:
        _shopper, token = shopper_create_anonymous()
        client = Client(raise_request_exception=False)
        headers = {"HTTP_AUTHORIZATION": f"Shopper {token}", "HTTP_ACCEPT_ENCODING": "identity"}
        headers.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in case.headers.items()})
        extra = {"content_type": case.content_type} if case.content_type else {}
        # when it is sent
        response = client.generic(case.method, case.path, case.body or b"", **extra, **headers)
        # then it is answered without a 5xx, and any error in the one shape
        if response.status_code >= 500:
            server_errors.append((case.label, response.status_code))
        elif response.status_code >= 400 and not _is_error_shape(response):
            wrong_shape.append((case.label, response.status_code, response.content[:80]))
    assert server_errors == []
    assert wrong_shape == []
