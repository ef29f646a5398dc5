"""The feed API: the pages' ranking, cursor pages, cards with reasons, private caching."""

from __future__ import annotations

import pytest

from catalog.models import Product
from personalization.services import shopper_create_anonymous
from storefront.api.serializers import FeedItemSerializer
from tests.factories import ProductFactory, make_products

from .conftest import add_card_image, assert_error

pytestmark = pytest.mark.django_db
URL = "/api/v1/feed/"


def test_feed_pages_cover_every_listing_once_with_reasons(shopper_api):
    products = make_products(7)
    seen, response = [], shopper_api.get(URL, {"limit": 3})
    while True:
        assert response.status_code == 200
        body = response.json()
        assert all(item["reason"] for item in body["results"])
        seen += [item["id"] for item in body["results"]]
        if not body["next_cursor"]:
            break
        response = shopper_api.get(URL, {"limit": 3, "cursor": body["next_cursor"]})
    assert sorted(seen) == sorted(p.pk for p in products)


def test_feed_is_private_and_revalidatable(shopper_api):
    make_products(3)
    first = shopper_api.get(URL, {"limit": 1})
    assert first["Cache-Control"] == "private, no-cache"
    assert {"Authorization", "Cookie"} <= {v.strip() for v in first["Vary"].split(",")}
    cursor = first.json()["next_cursor"]
    second = shopper_api.get(URL, {"limit": 1, "cursor": cursor})
    again = shopper_api.get(URL, {"limit": 1, "cursor": cursor},
                            HTTP_IF_NONE_MATCH=second["ETag"])
    assert again.status_code == 304


def test_anonymous_caller_gets_a_feed_without_a_profile_being_created(api):
    from personalization.models import ShopperProfile

    ProductFactory()
    response = api.get(URL)
    assert response.status_code == 200 and len(response.json()["results"]) == 1
    assert ShopperProfile.objects.count() == 0


def test_a_shoppers_cursor_does_not_open_another_shoppers_snapshot(shopper_api):
    make_products(4)
    cursor = shopper_api.get(URL, {"limit": 2}).json()["next_cursor"]
    _other, token = shopper_create_anonymous()
    from rest_framework.test import APIClient

    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Shopper {token}")
    # a foreign cursor starts again at page 1 (the selector's contract), not page 2
    first_page = [i["id"] for i in other.get(URL, {"limit": 2}).json()["results"]]
    response = other.get(URL, {"limit": 2, "cursor": cursor})
    with_cursor = [i["id"] for i in response.json()["results"]]
    assert with_cursor == first_page


def test_bad_limit_and_unknown_fields_are_400(shopper_api):
    assert "limit" in assert_error(shopper_api.get(URL, {"limit": "many"}), 400, "invalid")
    assert "fields" in assert_error(shopper_api.get(URL, {"fields": "owner"}), 400, "invalid")


def test_sparse_feed_fields(shopper_api):
    ProductFactory()
    (item,) = shopper_api.get(URL, {"fields": "id,reason"}).json()["results"]
    assert set(item) == {"id", "reason"}


@pytest.mark.parametrize("n", [2, 20])
def test_feed_query_count_is_flat(shopper_api, django_assert_max_num_queries, n):
    for product in make_products(n):
        add_card_image(product)
    shopper_api.get(URL, {"limit": 1})  # first visit: the middleware notes last_seen once
    # token, ranking snapshot (or cache + live check), products, images
    with django_assert_max_num_queries(6):
        response = shopper_api.get(URL, {"limit": n})
    assert len(response.json()["results"]) == n


def test_feed_cards_equal_the_product_lists_cards_and_stock_is_fresh(shopper_api):
    # given listings with images (one discounted), fetched once so the feed's
    # cards are cached
    products = make_products(3, price_minor=74900, compare_at_minor=95900)
    for product in products:
        add_card_image(product)
    shopper_api.get(URL)
    Product.objects.filter(pk=products[0].pk).update(stock=0)
    # when the feed and the product list are read
    feed = {item["id"]: item for item in shopper_api.get(URL).json()["results"]}
    listed = {item["id"]: item for item in shopper_api.get("/api/v1/products/").json()["results"]}
    # then each feed card is the list's card plus why it is there, stock included
    for pk, item in feed.items():
        assert list(item) == list(FeedItemSerializer().fields)
        assert {k: v for k, v in item.items() if k not in ("reason", "reason_arg")} == listed[pk]
    assert feed[products[0].pk]["in_stock"] is False
    assert feed[products[1].pk]["in_stock"] is True
