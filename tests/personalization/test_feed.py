"""The feed selector: ranked, filtered, stable pages in a constant number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Product, Region, Seller
from personalization.conf import get_config
from personalization.models import Event, RankingVersion, ShopperProfile
from personalization.rebuild import affinities_rebuild
from personalization.selectors import (
    feed_page_get,
    feed_ranking_compute,
    history_get,
    popular_products_get,
    segments_get,
    similar_products_get,
)
from tests.factories import (
    CategoryFactory,
    ProductFactory,
    RegionFactory,
    SellerFactory,
    make_products,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()
OLD = NOW - timedelta(days=60)


@pytest.fixture(autouse=True)
def small_k(settings):
    settings.PERSONALIZATION = {"K_THRESHOLD": 3, "NEIGHBOUR_MIN_SHOPPERS": 2}


@pytest.fixture
def regions():
    india = RegionFactory(code="IN", name="India")
    mh = RegionFactory(code="IN-MH", name="Maharashtra", kind=Region.Kind.STATE, parent=india)
    pune = RegionFactory(code="IN-MH-PUN", name="Pune", kind=Region.Kind.CITY, parent=mh)
    dubai = RegionFactory(code="AE", name="UAE", currency="AED")
    return {"IN": india, "MH": mh, "PUN": pune, "AE": dubai}


def _ids(page):
    return [item.product_id for item in page.items]


def _old_products(n, **kwargs):
    products = make_products(n, **kwargs)
    # Neither new listings nor new sellers: keeps exploration out of the way.
    Product.objects.filter(pk__in=[p.pk for p in products]).update(created_at=OLD)
    Seller.objects.filter(products__in=products).update(created_at=OLD)
    return products


def _events(shopper, products, kind="click", at=None):
    Event.objects.bulk_create(
        [Event(shopper=shopper, product=p, type=kind, created_at=at or NOW - timedelta(hours=1))
         for p in products]
    )


def test_feed_without_ranking_data_lists_published_products_sold_here_in_stock_first(regions):
    shopper = ShopperProfile.objects.create(region=regions["PUN"])
    everywhere = ProductFactory()
    in_maharashtra = ProductFactory(regions=[regions["MH"]])
    sold_out = ProductFactory(stock=0)
    ProductFactory(regions=[regions["AE"]])  # not sold in Pune
    ProductFactory(status=Product.Status.DRAFT)

    page = feed_page_get(shopper=shopper, cursor=None, page_size=10)

    assert set(_ids(page)) == {everywhere.pk, in_maharashtra.pk, sold_out.pk}
    assert _ids(page)[-1] == sold_out.pk
    assert page.next_cursor is None


def test_popular_items_of_the_shoppers_region_come_first_with_the_region_as_reason(regions):
    products = _old_products(12)
    hit = products[5]
    # As many buyers as the other region's favourite: recent and global
    # popularity tie, so the region decides.
    for _ in range(6):
        _events(ShopperProfile.objects.create(region=regions["PUN"]), [hit], "purchase")
    for _ in range(6):  # elsewhere, tastes differ
        _events(ShopperProfile.objects.create(region=regions["AE"]), [products[1]], "purchase")
    affinities_rebuild()
    newcomer = ShopperProfile.objects.create(region=regions["PUN"])

    page = feed_page_get(shopper=newcomer, cursor=None, page_size=5)

    assert page.items[0].product_id == hit.pk
    assert (page.items[0].reason, page.items[0].reason_arg) == ("popular_region", "Pune")


def test_hidden_and_purchased_items_never_appear(regions):
    products = _old_products(8)
    shopper = ShopperProfile.objects.create(region=regions["PUN"])
    _events(shopper, [products[0]], "hide")
    _events(shopper, [products[1]], "purchase", at=NOW - timedelta(days=400))
    others = [ShopperProfile.objects.create(region=regions["PUN"]) for _ in range(4)]
    for other in others:
        _events(other, products[:2], "purchase")
    affinities_rebuild()

    page = feed_page_get(shopper=shopper, cursor=None, page_size=20)

    assert products[0].pk not in _ids(page)
    assert products[1].pk not in _ids(page)
    assert len(_ids(page)) == 6


def test_because_viewed_names_the_product_the_shopper_looked_at(regions):
    products = _old_products(10)
    kurta, dupatta = products[0], products[7]
    for _ in range(4):
        fan = ShopperProfile.objects.create(region=regions["PUN"])
        _events(fan, [kurta, dupatta], "cart")
    for _ in range(8):  # what is popular has nothing to do with the kurta
        _events(ShopperProfile.objects.create(region=regions["PUN"]), products[1:4], "purchase")
    shopper = ShopperProfile.objects.create(region=regions["PUN"], lifecycle_stage="habit")
    _events(shopper, [kurta], "view")
    affinities_rebuild(refresh_lifecycle=False)

    page = feed_page_get(shopper=shopper, cursor=None, page_size=10)

    reasons = {item.product_id: (item.reason, item.reason_arg) for item in page.items}
    assert reasons[dupatta.pk] == ("because_viewed", kurta.title)


def test_feed_never_has_three_in_a_row_from_one_category_or_seller(regions):
    sellers = SellerFactory.create_batch(3)
    categories = CategoryFactory.create_batch(3)
    # Most listings from one seller and one category (the newest, so ranked
    # first): a plain score order would bunch them.
    for i in range(30):
        ProductFactory(seller=sellers[0] if i >= 14 else sellers[1 + i % 2],
                       category=categories[0] if i >= 14 else categories[1 + i % 2])
    shopper = ShopperProfile.objects.create(region=regions["PUN"])

    page = feed_page_get(shopper=shopper, cursor=None, page_size=30)

    listed = Product.objects.in_bulk(_ids(page))
    runs = [listed[pid] for pid in _ids(page)]
    for a, b, c in zip(runs, runs[1:], runs[2:], strict=False):
        assert not (a.category_id == b.category_id == c.category_id)
        assert not (a.seller_id == b.seller_id == c.seller_id)


def test_three_pages_never_repeat_while_affinities_are_rebuilt_between_them(regions):
    products = _old_products(40)
    for i in range(6):
        fan = ShopperProfile.objects.create(region=regions["PUN"])
        _events(fan, products[i * 3:i * 3 + 6], "click")
    affinities_rebuild()
    shopper = ShopperProfile.objects.create(region=regions["PUN"])

    first = feed_page_get(shopper=shopper, cursor=None, page_size=10)
    for _ in range(6):  # tastes change completely before the next page
        fan = ShopperProfile.objects.create(region=regions["PUN"])
        _events(fan, products[-10:], "purchase")
    affinities_rebuild()
    second = feed_page_get(shopper=shopper, cursor=first.next_cursor, page_size=10)
    affinities_rebuild()
    third = feed_page_get(shopper=shopper, cursor=second.next_cursor, page_size=10)

    seen = _ids(first) + _ids(second) + _ids(third)
    assert len(seen) == 30
    assert len(set(seen)) == 30


def test_pages_continue_without_repeats_when_the_snapshot_left_the_cache(regions):
    products = _old_products(30)
    for i in range(4):
        fan = ShopperProfile.objects.create(region=regions["PUN"])
        _events(fan, products[i:i + 5], "click")
    affinities_rebuild()
    shopper = ShopperProfile.objects.create(region=regions["PUN"])
    first = feed_page_get(shopper=shopper, cursor=None, page_size=10)
    # Clicks after the snapshot was taken: ignored when it is reproduced.
    _events(shopper, products[20:23], "click", at=timezone.now() + timedelta(seconds=5))

    cache.clear()  # TTL, eviction, or another worker's local cache
    second = feed_page_get(shopper=shopper, cursor=first.next_cursor, page_size=10)
    third = feed_page_get(shopper=shopper, cursor=second.next_cursor, page_size=10)

    seen = _ids(first) + _ids(second) + _ids(third)
    assert len(set(seen)) == len(seen) == 30


def test_a_lost_snapshot_of_a_deleted_version_restarts_at_page_one(regions):
    products = _old_products(15)
    for _ in range(4):
        _events(ShopperProfile.objects.create(region=regions["PUN"]), products[:3], "click")
    affinities_rebuild()
    shopper = ShopperProfile.objects.create(region=regions["PUN"])
    first = feed_page_get(shopper=shopper, cursor=None, page_size=5)
    affinities_rebuild()
    affinities_rebuild()  # the snapshot's version is now deleted
    cache.clear()

    page = feed_page_get(shopper=shopper, cursor=first.next_cursor, page_size=5)

    assert _ids(page) == _ids(feed_page_get(shopper=shopper, cursor=None, page_size=5))


def test_listings_unpublished_since_the_snapshot_are_skipped_and_the_page_stays_full(regions):
    _old_products(20)
    shopper = ShopperProfile.objects.create(region=regions["PUN"])
    first = feed_page_get(shopper=shopper, cursor=None, page_size=5)
    # Archive the first two items that the next page would show.
    nxt = feed_page_get(shopper=shopper, cursor=first.next_cursor, page_size=5)
    Product.objects.filter(pk__in=_ids(nxt)[:2]).update(status=Product.Status.ARCHIVED)

    second = feed_page_get(shopper=shopper, cursor=first.next_cursor, page_size=5)

    assert len(second.items) == 5
    assert not set(_ids(nxt)[:2]) & set(_ids(second))
    assert _ids(second)[:3] == _ids(nxt)[2:]


def test_without_consent_the_feed_ignores_history_and_demographics(regions):
    products = _old_products(10)
    for _ in range(4):
        _events(ShopperProfile.objects.create(region=regions["PUN"]), products[:2], "cart")
    affinities_rebuild()
    shopper = ShopperProfile.objects.create(region=regions["PUN"], gender="f",
                                            consent_personalization=False)
    _events(shopper, [products[0]], "view")

    items = feed_page_get(shopper=shopper, cursor=None, page_size=10).items

    assert all(item.reason != "because_viewed" for item in items)
    assert products[0].pk in [item.product_id for item in items]  # a view hides nothing


@pytest.mark.parametrize("n", [20, 200])
def test_feed_query_count_is_flat(regions, django_assert_max_num_queries, n):
    products = _old_products(n)
    for i in range(5):
        fan = ShopperProfile.objects.create(region=regions["PUN"], gender="f", age_band="25-34")
        _events(fan, products[i:i + 8], "click")
    affinities_rebuild()
    shopper = ShopperProfile.objects.create(region=regions["PUN"], gender="f", age_band="25-34")
    _events(shopper, products[:5], "view")
    shopper = ShopperProfile.objects.get(pk=shopper.pk)  # region not loaded
    cache.clear()

    # region, segments+version, history, neighbours, listings
    with django_assert_max_num_queries(5):
        first = feed_page_get(shopper=shopper, cursor=None, page_size=8)
    # a reload with nothing new: history (unchanged), which ids are still published
    with django_assert_max_num_queries(2):
        again = feed_page_get(shopper=shopper, cursor=None, page_size=8)
    assert _ids(again) == _ids(first)
    # something new (a click): history, the new item's neighbours, listings
    # (segments, region and the older items' neighbours cached)
    _events(shopper, products[6:7], "click", at=timezone.now())
    with django_assert_max_num_queries(3):
        feed_page_get(shopper=shopper, cursor=None, page_size=8)
    # a later page: which of its ids are still published
    with django_assert_max_num_queries(1):
        second = feed_page_get(shopper=shopper, cursor=first.next_cursor, page_size=8)
    assert len(first.items) == 8 and len(second.items) == 8
    assert not set(_ids(first)) & set(_ids(second))


def test_the_chain_carries_each_dimensions_own_segment_in_the_one_query(
        regions, django_assert_num_queries):
    # given a rebuild where every segment of Pune's 25-34 women is usable
    products = _old_products(12)
    for i in range(4):
        fan = ShopperProfile.objects.create(region=regions["PUN"], gender="f", age_band="25-34")
        _events(fan, products[i:i + 6], "click")
    affinities_rebuild()
    shopper = ShopperProfile.objects.create(region=regions["PUN"], gender="f", age_band="25-34")
    data = feed_ranking_compute(shopper=shopper, as_of=timezone.now(), inputs_only=True)[1]
    # then the factored component has the city (the deepest region), the age
    # band and the gender beside the most specific segment and the global one
    keys = [segment.key for segment in data.segments]
    assert keys == ["rag:IN-MH-PUN:25-34:f", "ag:25-34:f", "r:IN-MH-PUN", "a:25-34", "g:f", "g"]
    # and reading them is still one query
    cache.clear()
    with django_assert_num_queries(1):
        segments_get(keys=[*keys[:-1], "r:IN-MH", "r:IN", "g"])


def test_similar_products_are_neighbours_first_then_the_same_category(regions):
    category = CategoryFactory()
    kurta, dupatta, bangle = make_products(3, categories=[CategoryFactory()])
    same_category = ProductFactory(category=kurta.category)
    for _ in range(3):
        _events(ShopperProfile.objects.create(region=regions["PUN"]), [kurta, bangle], "cart")
    affinities_rebuild()
    ProductFactory(category=category)

    similar = similar_products_get(product_id=kurta.pk, limit=3)

    assert similar[0] == bangle.pk
    assert kurta.pk not in similar
    assert set(similar) <= {bangle.pk, dupatta.pk, same_category.pk}
    assert same_category.pk in similar


def test_popular_products_of_a_region_come_first_and_only_published(regions):
    products = _old_products(6)
    for _ in range(4):
        _events(ShopperProfile.objects.create(region=regions["PUN"]), [products[3]], "purchase")
    affinities_rebuild()
    Product.objects.filter(pk=products[0].pk).update(status=Product.Status.ARCHIVED)

    popular = popular_products_get(region=regions["PUN"], limit=4)

    assert popular[0] == products[3].pk
    assert products[0].pk not in popular and len(popular) == 4


def test_an_active_version_is_one_row(regions):
    _old_products(3)
    affinities_rebuild()
    affinities_rebuild()

    assert RankingVersion.objects.filter(status="active").count() == 1


def test_a_hide_takes_effect_on_the_next_first_page(regions):
    _old_products(10)
    shopper = ShopperProfile.objects.create(region=regions["PUN"])
    first = feed_page_get(shopper=shopper, cursor=None, page_size=5)
    hidden = first.items[0].product_id

    Event.objects.create(shopper=shopper, product_id=hidden, type="hide")
    again = feed_page_get(shopper=shopper, cursor=None, page_size=5)

    assert hidden not in _ids(again)


def test_impressions_are_not_taken_for_interest(regions):
    products = _old_products(10)
    shopper = ShopperProfile.objects.create(region=regions["PUN"])
    Event.objects.bulk_create([Event(shopper=shopper, product=p, type="view", context="feed")
                               for p in products[:5]])

    items = feed_page_get(shopper=shopper, cursor=None, page_size=10).items

    assert {item.reason for item in items} <= {"popular", "popular_region", "new", "trending"}


def test_new_shoppers_share_one_ranking(regions, django_assert_max_num_queries):
    products = _old_products(30)
    for _ in range(4):
        _events(ShopperProfile.objects.create(region=regions["PUN"]), products[:5], "click")
    affinities_rebuild()
    first = ShopperProfile.objects.create(region=regions["PUN"])
    second = ShopperProfile.objects.create(region=regions["PUN"])
    feed_page_get(shopper=first, cursor=None, page_size=10)

    with django_assert_max_num_queries(1):  # the (empty) history
        page = feed_page_get(shopper=second, cursor=None, page_size=10)

    assert _ids(page) == _ids(feed_page_get(shopper=first, cursor=None, page_size=10))


def test_history_skips_feed_impressions_through_an_index_not_a_scan(regions):
    # given a shopper who scrolled far (impressions are 20 per page) and clicked once
    products = _old_products(3)
    shopper = ShopperProfile.objects.create(region=regions["PUN"])
    _events(shopper, products[:1], kind="click")
    Event.objects.bulk_create([Event(shopper=shopper, product=products[1], type="view",
                                     context="feed") for _ in range(50)])
    # when the ranking reads the history
    with CaptureQueriesContext(connection) as queries:
        history = history_get(shopper_id=shopper.pk, as_of=NOW, config=get_config())
    # then only the click is there, and the query plan uses the partial index
    # that leaves impressions out (its condition must match the query's exclude())
    assert [(event.product_id, event.type) for event in history] == [(products[0].pk, "click")]
    sql = queries.captured_queries[0]["sql"]  # with its parameters inlined
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A table this small would be read sequentially: ask which index it picks.
            cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {'QUERY PLAN ' if connection.vendor == 'sqlite' else ''}{sql}")
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "event_shopper_history" in plan, plan


def test_an_age_and_gender_segment_serves_a_shopper_without_a_region(regions):
    # Given young women (no region known) who all buy one item, and everyone
    # else another, more popular one
    products = _old_products(10)
    favourite, popular = products[3], products[8]
    for _ in range(15):
        _events(ShopperProfile.objects.create(age_band="18-24", gender="f"), [favourite],
                "purchase")
    for _ in range(20):
        _events(ShopperProfile.objects.create(region=regions["PUN"], age_band="45-54",
                                              gender="m"), [popular], "purchase")
    affinities_rebuild(fit=False)
    # When a new young woman without a region opens the feed
    newcomer = ShopperProfile.objects.create(age_band="18-24", gender="f")

    page = feed_page_get(shopper=newcomer, cursor=None, page_size=5)

    # Then the age x gender segment's favourite leads, though it is globally second
    assert page.items[0].product_id == favourite.pk
