"""Category pages: sort links over the keyset cursor, a bad sort, sub-category links."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Product
from storefront.forms import CategoryQueryForm
from storefront.selectors import CATEGORY_SORTS
from tests.factories import CategoryFactory, make_products
from tests.storefront.conftest import card_ids

pytestmark = pytest.mark.django_db

# What each sort must show first: (key of a product, whether highest first).
EXPECTED = {
    "popular": (lambda p: (p.popularity, p.pk), True),
    "newest": (lambda p: p.pk, True),
    "price": (lambda p: (p.price_minor, p.pk), False),
    "-price": (lambda p: (p.price_minor, p.pk), True),
}


def _next_url(html: str) -> str | None:
    found = re.search(r'rel="next" href="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def _all_pages(client, url: str) -> list[int]:
    """Return the ids of every page, following "Load more" to the end."""
    ids: list[int] = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        html = response.content.decode()
        ids += card_ids(html)
        url = _next_url(html)
    return ids


@pytest.fixture
def shoes():
    """45 shoes (three pages) with repeated prices and popularities, so every sort
    has ties that only the id breaks: the case keyset pagination gets wrong first."""
    category = CategoryFactory(slug="shoes", name="Shoes")
    products = make_products(45, categories=[category])
    for index, product in enumerate(products):
        product.price_minor = 10000 + (index * 7919 % 5) * 2500
        product.popularity = index * 31 % 4
    Product.objects.bulk_update(products, ["price_minor", "popularity"])
    return products


def test_the_forms_sorts_are_the_selectors_sorts():
    assert {value for value, _label in CategoryQueryForm.base_fields["sort"].choices} == set(
        CATEGORY_SORTS)


@pytest.mark.parametrize("sort", list(EXPECTED))
def test_each_sort_orders_every_page_and_pages_without_repeats_or_gaps(client, shoes, sort):
    key, descending = EXPECTED[sort]
    expected = [p.pk for p in sorted(shoes, key=key, reverse=descending)]
    url = "/c/shoes/" if sort == "popular" else f"/c/shoes/?sort={sort}"
    assert _all_pages(client, url) == expected


def test_popular_is_the_default_and_ties_fall_back_to_newest(client):
    category = CategoryFactory(slug="bags")
    old, hit, new = make_products(3, categories=[category])
    Product.objects.filter(pk=hit.pk).update(popularity=9)
    assert card_ids(client.get("/c/bags/").content.decode()) == [hit.pk, new.pk, old.pk]
    assert card_ids(client.get("/c/bags/?sort=").content.decode()) == [hit.pk, new.pk, old.pk]


def test_next_page_link_keeps_the_sort(client, shoes):
    html = client.get("/c/shoes/?sort=-price").content.decode()
    assert "sort=-price" in _next_url(html) and "cursor=" in _next_url(html)
    # The default sort's links carry no parameter: one URL, one cache entry per page.
    assert "sort=" not in _next_url(client.get("/c/shoes/").content.decode())


def test_sort_links_work_without_javascript_and_mark_the_current_one(client, shoes):
    html = client.get("/c/shoes/?sort=price").content.decode()
    links = re.findall(r'<a href="([^"]+)"( aria-current="true")?>([^<]+)</a>',
                       html.split('id="sort"', 1)[1].split("</ul>", 1)[0])
    shown = [(href.replace("&amp;", "&"), bool(current), label)
             for href, current, label in links]
    assert shown == [
        ("/c/shoes/", False, "Popular"),
        ("/c/shoes/?sort=newest", False, "Newest"),
        ("/c/shoes/?sort=price", True, "Price: low to high"),
        ("/c/shoes/?sort=-price", False, "Price: high to low"),
    ]


@pytest.mark.parametrize("value", ["cheapest", "PRICE", "price,-id", "-popularity"])
def test_an_unknown_sort_is_a_400_naming_the_field(client, shoes, value):
    response = client.get("/c/shoes/", {"sort": value})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Select a valid choice" in html and value in html
    assert not card_ids(html)


def test_a_cursor_of_one_sort_is_refused_by_another(client, shoes):
    next_url = _next_url(client.get("/c/shoes/?sort=price").content.decode())
    cursor = re.search(r"cursor=([^&]+)", next_url).group(1)
    response = client.get(f"/c/shoes/?sort=-price&cursor={cursor}")
    assert response.status_code == 400 and "expired" in response.content.decode()


def test_a_top_category_links_its_sub_categories_in_menu_order(client):
    top = CategoryFactory(slug="fashion", name="Fashion")
    CategoryFactory(slug="sarees", name="Sarees", parent=top, position=2)
    CategoryFactory(slug="kurtas", name="Kurtas", parent=top, position=1, icon="👚")
    CategoryFactory(slug="phones", name="Phones")
    html = client.get("/c/fashion/").content.decode()
    nav = html.split('id="subcats"', 1)[1].split("</ul>", 1)[0]
    assert re.findall(r'href="([^"]+)"', nav) == ["/c/kurtas/", "/c/sarees/"]
    assert "Kurtas" in nav and "👚" in nav and "Phones" not in nav
    # The header of the page comes before the links, the cards after them.
    assert html.index('id="subcats"') < html.index('id="sort"')


def test_a_sub_category_links_back_to_its_parent_and_has_no_sub_links(client):
    top = CategoryFactory(slug="fashion", name="Fashion")
    CategoryFactory(slug="kurtas", name="Kurtas", parent=top)
    html = client.get("/c/kurtas/").content.decode()
    assert 'href="/c/fashion/"' in html and 'id="subcats"' not in html


@pytest.mark.parametrize("sort", list(EXPECTED))
@pytest.mark.parametrize("n", [2, 20])
def test_category_query_count_is_flat_for_every_sort(client, django_assert_max_num_queries,
                                                      sort, n):
    top = CategoryFactory(slug="flat")
    subs = [CategoryFactory(parent=top) for _ in range(3)]
    make_products(n, categories=[top, *subs])
    url = f"/c/flat/?sort={sort}"
    client.get(url)
    # category with its parent and children, profile, one page of ids, cards
    # (with first photos)
    with django_assert_max_num_queries(4):
        assert len(card_ids(client.get(url).content.decode())) == n


def test_the_second_page_costs_what_the_first_does(client, shoes):
    first = client.get("/c/shoes/?sort=price")
    with CaptureQueriesContext(connection) as first_queries:
        client.get("/c/shoes/?sort=price")
    with CaptureQueriesContext(connection) as next_queries:
        assert client.get(_next_url(first.content.decode())).status_code == 200
    assert len(next_queries) == len(first_queries)


def test_sort_and_gallery_words_are_translated_for_a_hindi_shopper(client, shoes):
    client.cookies["django_language"] = "hi"
    html = client.get("/c/shoes/?sort=price").content.decode()
    assert "कीमत: कम से ज़्यादा" in html and "Price: low to high" not in html
