"""Event batches: per-event errors, deduplication, the sendBeacon path and its origin check."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from personalization.models import Event
from personalization.services import shopper_create_anonymous
from tests.factories import ProductFactory

from .conftest import assert_error

pytestmark = pytest.mark.django_db
URL = "/api/v1/events/"


def test_valid_events_are_stored_for_the_caller(shopper_api, shopper_and_token):
    shopper, _token = shopper_and_token
    product = ProductFactory()
    body = {"events": [
        {"id": "e1", "type": "view", "product": product.pk, "context": "feed"},
        {"id": "e2", "type": "cart", "product": product.pk},
    ]}
    response = shopper_api.post(URL, body, format="json")
    assert response.status_code == 200
    assert response.json() == {"accepted": 2, "duplicates": 0, "errors": []}
    assert response["Cache-Control"] == "private, no-store"
    assert sorted(Event.objects.filter(shopper=shopper).values_list("type", flat=True)) == [
        "cart", "view"]


def test_a_retried_batch_is_stored_once(shopper_api):
    product = ProductFactory()
    body = {"events": [{"id": "retry-1", "type": "click", "product": product.pk}]}
    shopper_api.post(URL, body, format="json")
    response = shopper_api.post(URL, body, format="json")
    assert response.json() == {"accepted": 0, "duplicates": 1, "errors": []}
    assert Event.objects.count() == 1


def test_bad_events_are_listed_by_index_and_the_good_ones_kept(shopper_api):
    product = ProductFactory()
    body = {"events": [
        {"id": "ok", "type": "view", "product": product.pk},
        {"id": "p1", "type": "purchase", "product": product.pk},
        {"id": "p2", "type": "view", "product": 999999},
        {"type": "view", "product": product.pk},
        {"id": "x", "type": "view", "product": product.pk, "shopper": "someone-else"},
        "not an object",
        {"id": "bad:id", "type": "view", "product": product.pk},
        {"id": "t1", "type": {}, "product": 2**70, "occurred_at": "2024-01-01T12:99:00Z"},
    ]}
    response = shopper_api.post(URL, body, format="json")
    assert response.status_code == 207
    result = response.json()
    assert result["accepted"] == 1
    errors = {e["index"]: e for e in result["errors"]}
    assert sorted(errors) == [1, 2, 3, 4, 5, 6, 7]
    assert "type" in errors[1]["fields"] and errors[1]["id"] == "p1"
    assert "product" in errors[2]["fields"]
    assert "id" in errors[3]["fields"] and errors[3]["id"] is None
    assert "shopper" in errors[4]["fields"]
    assert "non_field_errors" in errors[5]["fields"]
    assert "id" in errors[6]["fields"]
    assert set(errors[7]["fields"]) == {"type", "product", "occurred_at"}
    assert list(Event.objects.values_list("client_event_id", flat=True)) == ["ok"]


@pytest.mark.parametrize(
    "body",
    [
        {"events": []},
        {"events": "view"},
        {"event": []},
        [],
        {"events": [{"id": f"e{i}", "type": "view", "product": 1} for i in range(101)]},
    ],
)
def test_a_malformed_batch_is_a_400_and_stores_nothing(shopper_api, body):
    ProductFactory()
    fields = assert_error(shopper_api.post(URL, body, format="json"), 400, "invalid")
    assert "events" in fields
    assert Event.objects.count() == 0


def test_events_need_a_shopper(api):
    assert_error(api.post(URL, {"events": []}, format="json"), 401, "not_authenticated")


def _beacon(browser: Client, product_id: int, **headers):
    body = json.dumps({"events": [{"id": "b1", "type": "view", "product": product_id}]})
    return browser.post(URL, body, content_type="text/plain;charset=UTF-8", **headers)


def test_same_origin_beacon_with_text_plain_body_is_accepted_without_csrf():
    product = ProductFactory()
    browser = Client(enforce_csrf_checks=True)
    browser.get("/")
    response = _beacon(browser, product.pk, HTTP_SEC_FETCH_SITE="same-origin")
    assert response.status_code == 200, response.content
    assert Event.objects.filter(client_event_id="b1").exists()
    # older browsers without Sec-Fetch-Site: the Origin header decides
    response = _beacon(browser, product.pk, HTTP_ORIGIN="http://testserver")
    assert response.json()["duplicates"] == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_SEC_FETCH_SITE": "same-site"},
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_REFERER": "https://evil.example/page"},
        {},
    ],
)
def test_cross_site_beacon_cannot_forge_events(headers):
    product = ProductFactory()
    browser = Client(enforce_csrf_checks=True)
    browser.get("/")
    assert_error(_beacon(browser, product.pk, **headers), 403, "permission_denied")
    # (the page itself records server-side impressions; the beacon's event is absent)
    assert not Event.objects.filter(client_event_id="b1").exists()


def test_other_body_types_are_415(shopper_api):
    response = shopper_api.post(URL, "events=1", content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported_media_type")


def test_a_token_records_events_only_for_its_own_shopper(shopper_api, shopper_and_token):
    shopper, _token = shopper_and_token
    other, _other_token = shopper_create_anonymous()
    product = ProductFactory()
    body = {"events": [{"id": "same-id", "type": "view", "product": product.pk}]}
    Event.objects.create(shopper=other, product=product, type="view", client_event_id="same-id")
    response = shopper_api.post(URL, body, format="json")
    # the other shopper's identical client id is not a duplicate for this one
    assert response.json()["accepted"] == 1
    assert Event.objects.filter(shopper=other).count() == 1
    assert Event.objects.filter(shopper=shopper).count() == 1


@pytest.mark.parametrize("n", [2, 20])
def test_batch_query_count_is_flat(shopper_api, django_assert_max_num_queries, n):
    product = ProductFactory()
    body = {"events": [{"id": f"q{i}", "type": "view", "product": product.pk} for i in range(n)]}
    # token, products check, savepoint+lock, stored client ids, bulk insert, release
    with django_assert_max_num_queries(8):
        assert shopper_api.post(URL, body, format="json").status_code == 200
    assert Event.objects.count() == n
