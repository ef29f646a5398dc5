"""The API lists one market too: the feed by the shopper's region (else their
language), product lists by `?region=` (else Accept-Language, else the shop's
default), always in that region's currency."""

from __future__ import annotations

import pytest

from personalization.services import shopper_profile_update
from tests.region_world import INDIA, INDIA_OUTSIDE_PUNE, UAE, make_world

from .conftest import assert_error

pytestmark = pytest.mark.django_db
FEED, PRODUCTS = "/api/v1/feed/", "/api/v1/products/"


@pytest.fixture
def world():
    return make_world()


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["results"]}


def _currencies(response) -> set[str]:
    return {item["currency"] for item in response.json()["results"]}


def test_feed_of_a_dubai_shopper_is_dirhams_sold_in_the_uae(shopper_api, shopper_and_token,
                                                           world):
    shopper, _token = shopper_and_token
    shopper_profile_update(shopper=shopper, region_code="AE-DU")
    response = shopper_api.get(FEED, {"limit": 50})
    assert _ids(response) == world.ids(*UAE)
    assert _currencies(response) == {"AED"}
    assert "Accept-Language" in response["Vary"]


def test_feed_without_a_region_follows_the_language(shopper_api, world):
    hindi = shopper_api.get(FEED, {"limit": 50}, HTTP_ACCEPT_LANGUAGE="hi-IN,hi;q=0.9")
    assert _ids(hindi) == world.ids(*INDIA_OUTSIDE_PUNE)
    assert _currencies(hindi) == {"INR"}
    arabic = shopper_api.get(FEED, {"limit": 50}, HTTP_ACCEPT_LANGUAGE="ar")
    assert _ids(arabic) == world.ids(*UAE)


def test_anonymous_feed_is_the_default_market(api, world):
    assert _currencies(api.get(FEED, {"limit": 50})) == {"INR"}


@pytest.mark.parametrize(("params", "accept_language", "expected"), [
    ({"region": "AE"}, "", UAE),
    ({"region": "AE-DU"}, "hi-IN", UAE),  # the parameter wins over the header
    ({"region": "IN-MH-PUN"}, "", INDIA),
    ({}, "ar", UAE),
    ({}, "hi-IN", INDIA_OUTSIDE_PUNE),
    ({}, "", INDIA_OUTSIDE_PUNE),
    ({"q": "saree"}, "ar", UAE),
    ({"q": "saree", "region": "IN"}, "", INDIA_OUTSIDE_PUNE),
    ({"category": "sarees"}, "en-AE", UAE),
])
def test_product_list_is_one_market(api, world, params, accept_language, expected):
    response = api.get(PRODUCTS, {**params, "limit": 50}, HTTP_ACCEPT_LANGUAGE=accept_language)
    assert _ids(response) == world.ids(*expected)
    assert len(_currencies(response)) == 1
    assert "Accept-Language" in response["Vary"]


def test_an_unknown_region_is_a_400_naming_it(api, world):
    fields = assert_error(api.get(PRODUCTS, {"region": "XX"}), 400, "invalid")
    assert "region" in fields


def test_more_like_this_is_in_the_callers_market(api, world):
    product = world.products["aed_uae"][0]
    body = api.get(f"{PRODUCTS}{product.pk}/", HTTP_ACCEPT_LANGUAGE="ar").json()
    assert {card["id"] for card in body["more_like_this"]} <= world.ids(*UAE) - {product.pk}
    assert {card["currency"] for card in body["more_like_this"]} == {"AED"}
    hindi = api.get(f"{PRODUCTS}{product.pk}/", HTTP_ACCEPT_LANGUAGE="hi-IN").json()
    assert {card["currency"] for card in hindi["more_like_this"]} == {"INR"}


def test_the_micro_cache_keeps_one_answer_per_market(api, world, settings):
    settings.SHOP_API_MICROCACHE_SECONDS = 30
    arabic = api.get(PRODUCTS, {"limit": 50}, HTTP_ACCEPT_LANGUAGE="ar")
    hindi = api.get(PRODUCTS, {"limit": 50}, HTTP_ACCEPT_LANGUAGE="hi-IN")
    assert _currencies(arabic) == {"AED"} and _currencies(hindi) == {"INR"}
