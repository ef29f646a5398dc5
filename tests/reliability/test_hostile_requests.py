"""Hostile requests that once were 500s: each is now a 4xx in the documented shape.

Deep JSON, NUL bytes in paths and queries, lone surrogates, over-long URLs,
oversized bodies and bad tokens (issue 12, item 3). Run on SQLite and, with
DATABASE_URL pointing at PostgreSQL, there too: NUL is PostgreSQL's failure.
The fuzz over every schema operation is tests/reliability/test_request_fuzz.py.
"""

from __future__ import annotations

import json

import pytest

from personalization.services import shopper_create_anonymous
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

def assert_error(response, status: int, code: str) -> None:
    """Assert the API's one error shape, never cached (the orders API adds `private`)."""
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert "no-store" in response["Cache-Control"]


DEEP = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000


@pytest.fixture
def token_client(client):
    _shopper, token = shopper_create_anonymous()
    client.defaults["HTTP_AUTHORIZATION"] = f"Shopper {token}"
    return client


JSON_WRITES = [
    ("post", "/api/v1/events/"),
    ("post", "/api/v1/cart/lines/"),
    ("post", "/api/v1/checkout/"),
    ("patch", "/api/v1/shoppers/me/"),
]


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT, '{"events": ' + DEEP + "}"],
                         ids=["array", "object", "inside-events"])
@pytest.mark.parametrize(("method", "path"), JSON_WRITES)
def test_json_nested_a_thousand_deep_is_a_parse_error(token_client, method, path, body):
    response = getattr(token_client, method)(path, body, content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_json_just_past_the_depth_limit_is_refused_and_within_it_is_read(token_client):
    thirty_three = "[" * 33 + "]" * 33
    assert_error(token_client.patch("/api/v1/shoppers/me/", thirty_three,
                                    content_type="application/json"), 400, "parse_error")
    # Within the limit the body is parsed and judged by the serializer instead.
    response = token_client.patch("/api/v1/shoppers/me/", "[" * 5 + "]" * 5,
                                  content_type="application/json")
    assert_error(response, 400, "invalid")


def test_a_deep_beacon_body_sent_as_text_plain_is_a_parse_error(token_client):
    response = token_client.post("/api/v1/events/", DEEP, content_type="text/plain",
                                 HTTP_SEC_FETCH_SITE="same-origin")
    assert_error(response, 400, "parse_error")


@pytest.mark.parametrize("text", ["\\ud800", "\\udfff", "a\\udc00b"])
def test_a_lone_surrogate_as_event_id_is_a_400_and_stores_nothing(token_client, text):
    from personalization.models import Event

    product = ProductFactory()
    body = '{"events": [{"id": "' + text + '", "type": "click", "product": ' \
        + str(product.pk) + "}]}"
    response = token_client.post("/api/v1/events/", body, content_type="application/json")
    assert_error(response, 400, "parse_error")
    assert not Event.objects.exists()


@pytest.mark.parametrize("field", ["id", "context"])
def test_a_nul_character_in_json_text_is_a_400(token_client, field):
    product = ProductFactory()
    event = {"id": "ev-1", "type": "click", "product": product.pk, field: "x\x00y"}
    response = token_client.post("/api/v1/events/", json.dumps({"events": [event]}),
                                 content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_a_lone_surrogate_in_a_profile_field_is_a_400(token_client):
    response = token_client.patch("/api/v1/shoppers/me/", '{"language": "\\ud800"}',
                                  content_type="application/json")
    assert_error(response, 400, "parse_error")


@pytest.mark.parametrize("path", ["/api/v1/orders/%00/", "/api/v1/products/%00/",
                                  "/api/v1/cart/lines/%00/", "/api/v1/x%00y/"])
def test_a_nul_byte_in_an_api_path_is_a_404_in_the_error_shape(token_client, path):
    assert_error(token_client.get(path), 404, "not_found")


@pytest.mark.parametrize("path", ["/orders/%00/", "/p/%00/", "/c/%00/", "/%00"])
def test_a_nul_byte_in_a_page_path_is_the_404_page(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/search/?q=%00", "/api/v1/products/?search=a%00b",
                                  "/?cursor=%00"])
def test_a_nul_byte_in_the_query_string_is_a_400(client, path):
    response = client.get(path)
    assert response.status_code == 400
    if path.startswith("/api/"):
        assert_error(response, 400, "bad_request")


def test_a_five_thousand_character_search_is_our_own_414_page(client):
    response = client.get("/search/", {"q": "a" * 5000})
    assert response.status_code == 414
    assert response["Content-Type"].startswith("text/html")
    assert "too long" in response.content.decode()


def test_a_five_thousand_character_api_query_is_a_414_in_the_error_shape(client):
    assert_error(client.get("/api/v1/products/", {"search": "a" * 5000}), 414, "uri_too_long")


def test_a_ten_megabyte_body_is_a_413_in_the_error_shape(token_client):
    body = json.dumps({"events": [], "pad": "x" * (10 * 1024 * 1024)})
    response = token_client.post("/api/v1/events/", body, content_type="application/json")
    assert_error(response, 413, "request_too_large")


def test_creating_a_shopper_refuses_a_large_body_and_creates_nothing(client):
    from personalization.models import ShopperProfile

    before = ShopperProfile.objects.count()
    for size in (2 * 1024, 10 * 1024 * 1024):
        response = client.post("/api/v1/shoppers/", "x" * size, content_type="application/json")
        assert_error(response, 413, "request_too_large")
    assert ShopperProfile.objects.count() == before
    # Without a body (or a tiny one) it still works.
    assert client.post("/api/v1/shoppers/").status_code == 201


def test_a_large_storefront_form_post_is_the_413_page(client):
    response = client.post("/cart/add/", {"product": "1", "pad": "x" * (200 * 1024)})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")


def test_a_malformed_content_length_is_a_400(token_client):
    response = token_client.post("/api/v1/events/", "{}", content_type="application/json",
                                 CONTENT_LENGTH="-5")
    assert_error(response, 400, "bad_request")


@pytest.mark.parametrize("token", ["nope", "x" * 500, "\u00e9t\u00e9"])
def test_a_bad_token_is_a_401_in_the_error_shape(client, token):
    response = client.get("/api/v1/shoppers/me/", HTTP_AUTHORIZATION=f"Shopper {token}")
    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == 'Shopper realm="api"'
