"""Cross-cutting API behaviour: read-only catalog, trees, error shape, docs, throttling."""

from __future__ import annotations

import os
import re
import threading

import pytest
from django.test import RequestFactory
from rest_framework.request import Request
from rest_framework.test import APIClient

from catalog.models import Product
from core.api.throttling import ShopperCreateThrottle, parse_rate
from personalization.models import ShopperProfile
from tests.factories import CategoryFactory, ProductFactory, RegionFactory

from .conftest import assert_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_seller_cannot_change_any_product_through_the_api(method):
    # given two signed-in sellers; the API is read-only for the catalog (docs/API.md)
    mine = ProductFactory(title="Mine", price_minor=100)
    theirs = ProductFactory(title="Theirs", price_minor=200)
    client = APIClient()
    client.force_login(mine.seller.user)
    for product in (mine, theirs):
        response = getattr(client, method)(f"/api/v1/products/{product.pk}/",
                                          {"title": "Changed", "price_minor": 1}, format="json")
        assert_error(response, 405, "method_not_allowed")
    response = client.post("/api/v1/products/", {"title": "New", "seller": theirs.seller_id},
                           format="json")
    assert_error(response, 405, "method_not_allowed")
    assert sorted(Product.objects.values_list("title", "price_minor")) == [
        ("Mine", 100), ("Theirs", 200)]


def test_sellers_drafts_stay_hidden_from_the_api_even_for_that_seller():
    draft = ProductFactory(status=Product.Status.DRAFT)
    client = APIClient()
    client.force_login(draft.seller.user)
    assert client.get("/api/v1/products/").json()["results"] == []
    assert_error(client.get(f"/api/v1/products/{draft.pk}/"), 404, "not_found")


def test_category_tree_nests_subcategories(api, django_assert_max_num_queries):
    top = CategoryFactory(slug="home", name="Home", position=1)
    CategoryFactory(slug="lamps", name="Lamps", parent=top)
    CategoryFactory(slug="food", name="Food", position=2)
    with django_assert_max_num_queries(1):
        response = api.get("/api/v1/categories/")
    tree = response.json()
    assert [(c["slug"], [k["slug"] for k in c["children"]]) for c in tree] == [
        ("home", ["lamps"]), ("food", [])]
    assert response["Cache-Control"] == "public, max-age=60"
    assert api.get("/api/v1/categories/", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_region_tree_nests_states_and_cities(api, django_assert_max_num_queries):
    india = RegionFactory(code="IN", name="India")
    mh = RegionFactory(code="IN-MH", name="Maharashtra", kind="state", parent=india)
    RegionFactory(code="IN-MH-PUN", name="Pune", kind="city", parent=mh)
    with django_assert_max_num_queries(1):
        tree = api.get("/api/v1/regions/").json()
    assert tree[0]["code"] == "IN"
    assert tree[0]["children"][0]["children"][0]["code"] == "IN-MH-PUN"


def test_unknown_api_address_is_a_404_in_the_error_shape(api):
    fields = assert_error(api.get("/api/v1/nothing-here/"), 404, "not_found")
    assert fields == {}
    response = api.get("/api/v1/products")  # no trailing slash
    assert "/api/v1/products/" in response.json()["error"]["message"]


def test_docs_ui_loads_only_same_origin_assets(api):
    response = api.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert urls, "the docs page references its assets"
    assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    assert "cdn" not in html.lower()
    schema = api.get("/api/v1/schema/")
    assert schema.status_code == 200


# --- Throttling --------------------------------------------------------------------------------


def test_parse_rate():
    assert parse_rate("30/min") == (30, 60)
    assert parse_rate("5/s") == (5, 1)
    assert parse_rate("100/hour") == (100, 3600)


@pytest.fixture
def tight_rates(settings):
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {"shopper_create": "3/min", "shopper_write": "2/min",
                                      "ip_write": "1000/min"}
    settings.REST_FRAMEWORK = rest


def test_anonymous_creation_is_throttled_per_ip_with_retry_after(api, tight_rates):
    statuses = [api.post("/api/v1/shoppers/").status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    response = api.post("/api/v1/shoppers/")
    assert_error(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 61
    assert ShopperProfile.objects.count() == 3
    # another client IP has its own budget
    assert api.post("/api/v1/shoppers/", REMOTE_ADDR="10.0.0.9").status_code == 201


def test_forwarded_for_is_ignored_unless_a_proxy_is_trusted(api, tight_rates):
    for i in range(3):
        api.post("/api/v1/shoppers/", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
    response = api.post("/api/v1/shoppers/", HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert response.status_code == 429


def test_writes_are_throttled_per_shopper_token(shopper_api, tight_rates):
    codes = [shopper_api.patch("/api/v1/shoppers/me/", {"gender": g}, format="json").status_code
             for g in ("f", "m", "x")]
    assert codes == [200, 200, 429]
    # reads are not counted
    assert shopper_api.get("/api/v1/shoppers/me/").status_code == 200


def _concurrent_decisions(n: int) -> list[bool]:
    """Return what n simultaneous creation requests from one IP were told."""
    decisions: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(n)

    def ask():
        request = Request(RequestFactory().post("/api/v1/shoppers/", REMOTE_ADDR="203.0.113.7"))
        barrier.wait()
        allowed = ShopperCreateThrottle().allow_request(request, None)
        with lock:
            decisions.append(allowed)

    threads = [threading.Thread(target=ask) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return decisions


@pytest.mark.parametrize("backend", ["file", "redis"])
def test_concurrent_requests_never_slip_past_the_limit(settings, tight_rates, backend):
    if backend == "redis":
        redis = pytest.importorskip("redis")
        url = os.environ.get("SHOP_TEST_REDIS_URL", "redis://127.0.0.1:6379/6")
        try:
            redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        except redis.exceptions.ConnectionError:
            pytest.skip("Redis is not reachable")
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                       "LOCATION": url, "KEY_PREFIX": "test-h-api"}}
    # Without Redis: the locked file cache all workers share (core/throttle_cache.py).
    from core.throttle_cache import throttle_cache

    cache = throttle_cache()
    cache.clear()
    try:
        for _round in range(3):
            cache.clear()
            decisions = _concurrent_decisions(12)
            assert sorted(decisions) == [False] * 9 + [True] * 3
    finally:
        cache.clear()
