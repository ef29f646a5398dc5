"""Cards as cached fragments: served from the cache, never stale, never shared
where they must not be (stock, CSRF token, the shopper's reason)."""

from __future__ import annotations

import dataclasses
import re

import pytest
from django.db import connection
from django.test.signals import template_rendered
from django.test.utils import CaptureQueriesContext

from catalog.models import Product
from catalog.services.images import product_image_delete
from core.db import _FALLBACK
from storefront import cards
from storefront.cards import card_rows_get
from tests.factories import ProductImageFactory, make_image_upload, make_products
from tests.storefront.conftest import card_ids

pytestmark = pytest.mark.django_db


def _card(html: str, pk: int) -> str:
    match = re.search(rf'<li class="card" data-p="{pk}">.*?</li>', html, re.S)
    assert match, f"no card {pk}"
    return match.group(0)


@pytest.fixture
def head_renders():
    """Count renders of the card head template (Django's test signal)."""
    seen: list[str] = []

    def record(sender, template, context, **kwargs):
        if template.name == "storefront/_card_head.html":
            seen.append(template.name)

    template_rendered.connect(record)
    yield seen
    template_rendered.disconnect(record)


def test_a_second_page_view_renders_no_card_template_and_is_identical(client, head_renders):
    # given a feed of 5 listings seen once
    make_products(5)
    first = client.get("/").content.decode()
    assert len(head_renders) == 5
    # when the shopper reloads
    head_renders.clear()
    second = client.get("/").content.decode()
    # then every card came from the cache and the cards are the same bytes
    assert head_renders == []
    assert card_ids(second) == card_ids(first)

    def masked(html):  # the CSRF token is masked afresh on every response
        return re.sub(r'csrfmiddlewaretoken" value="[^"]+"', "csrf", html)

    for pk in card_ids(first):
        assert masked(_card(second, pk)) == masked(_card(first, pk))


def test_a_price_or_title_change_shows_at_once(client):
    # given a card already cached
    product = make_products(1, price_minor=49900, compare_at_minor=None)[0]
    assert "₹499" in _card(client.get("/").content.decode(), product.pk)
    # when the seller changes it (a plain UPDATE: no save() hook to rely on)
    Product.objects.filter(pk=product.pk).update(price_minor=39900, compare_at_minor=49900,
                                                 title="Kurta, now on sale")
    card = _card(client.get("/").content.decode(), product.pk)
    # then the new price, discount and title are shown
    assert "₹399" in card and "-20%" in card and "Kurta, now on sale" in card
    assert "₹499</b>" not in card


def test_a_replaced_photo_shows_at_once(client):
    product = make_products(1)[0]
    old = ProductImageFactory(product=product, upload=make_image_upload(seed=1))
    before = _card(client.get("/").content.decode(), product.pk)
    product_image_delete(image=old)
    ProductImageFactory(product=product, upload=make_image_upload(seed=2))
    after = _card(client.get("/").content.decode(), product.pk)
    old_urls = set(re.findall(r"/media/[^\s\"]+", before))
    new_urls = set(re.findall(r"/media/[^\s\"]+", after))
    assert old_urls and new_urls and not old_urls & new_urls


def test_selling_out_shows_out_of_stock_on_the_next_view_though_the_card_is_cached(client):
    product = make_products(1, stock=1)[0]
    assert "COD" in _card(client.get("/").content.decode(), product.pk)
    # an order takes the last one: a conditional UPDATE of stock only
    Product.objects.filter(pk=product.pk).update(stock=0)
    card = _card(client.get("/").content.decode(), product.pk)
    assert "Out of stock" in card and ">COD<" not in card


def test_each_language_has_its_own_cards(client):
    product = make_products(1, price_minor=129999, compare_at_minor=150000)[0]
    english = _card(client.get("/").content.decode(), product.pk)
    client.post("/language/", {"language": "ar", "next": "/"})
    arabic = _card(client.get("/").content.decode(), product.pk)
    # English groups INR by lakh with the symbol first; Arabic puts it after
    assert "was " in english and "₹1,299.99" in english
    assert "was " not in arabic and "\u200f1,299.99\u00a0₹" in arabic


def test_the_hide_form_carries_this_requests_csrf_token_and_works(client):
    # given a client that enforces CSRF, as a browser does
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    products = make_products(2)
    browser.get("/")  # the first visit fills the cache
    html = browser.get("/").content.decode()
    card = _card(html, products[0].pk)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', card).group(1)
    # when "Not interested" is posted from a cached card
    response = browser.post("/hide/", {"csrfmiddlewaretoken": token,
                                       "product": products[0].pk, "next": "/"})
    # then it is accepted and the item is gone from the next first page
    assert response.status_code == 302
    assert products[0].pk not in card_ids(browser.get("/").content.decode())


def test_titles_and_the_return_path_are_escaped(client):
    product = make_products(1, title='<script>alert("x")</script> & "kurta"')[0]
    html = client.get("/?x=\"><i>").content.decode()
    card = _card(html, product.pk)
    assert "<script>alert" not in card and "&lt;script&gt;" in card
    assert "<i>" not in card
    next_value = re.search(r'name="next" value="([^"]*)"', card).group(1)
    assert "<" not in next_value and ">" not in next_value


def test_moving_media_elsewhere_changes_every_key(settings):
    # Fragments hold media URLs; with a shared Redis, a deploy that moves media
    # (say to S3) must not keep serving the old URLs from the cache.
    product = make_products(1)[0]
    row = card_rows_get(product_ids=[product.pk])[0]
    options = {"language": "en", "thumb_cap": 480, "thumb_sizes": "10rem", "eager": False}
    cards._release.cache_clear()
    before = cards._key(row, **options)
    settings.MEDIA_URL = "https://media.example.com/"
    cards._release.cache_clear()
    try:
        assert cards._key(row, **options) != before
    finally:
        cards._release.cache_clear()


@pytest.mark.parametrize("count", [1, 3, 20])
def test_card_rows_from_the_compiled_statement_equal_the_querysets(count):
    # given listings with and without photos, one archived, ids repeated
    products = make_products(count + 1)
    ProductImageFactory(product=products[0], upload=make_image_upload(seed=3))
    Product.objects.filter(pk=products[-1].pk).update(status="archived")
    ids = [p.pk for p in reversed(products)] + [products[0].pk]
    # when read through the cached statement (twice: compiled, then reused)
    rows = card_rows_get(product_ids=ids)
    again = card_rows_get(product_ids=ids)
    # then they are what the ORM reads, in the order asked, archived dropped
    expected = {row[0]: row for row in cards._card_rows_queryset(ids)}
    assert rows == again
    assert not any(statement is _FALLBACK
                   for statement in cards._card_rows._statements().values())
    assert [row.pk for row in rows] == [pk for pk in ids if pk in expected]
    for row in rows:
        assert tuple(getattr(row, f) for f in row.__slots__) == expected[row.pk]
    assert rows[-2].image() is not None and rows[-2].image().variants


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL plans from the "
                    "statistics autovacuum keeps; SQLite has none unless ANALYZE is run")
def test_card_rows_look_ids_up_by_primary_key_not_by_walking_the_catalogue():
    # given a catalogue, as SQLite sees it before any ANALYZE
    products = make_products(30)
    ids = [p.pk for p in products[:20]]
    with CaptureQueriesContext(connection) as queries:
        card_rows_get(product_ids=ids)
    # (the first compile may also ask SQLite whether it has JSON: skip that)
    sql = next(q["sql"] for q in queries.captured_queries if "catalog_productimage" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        plan = " ".join(str(row) for row in cursor.fetchall())
    # then it does not walk the status index over every active listing: at
    # 100,000 listings that walk was 10 ms against 0.4 ms for the lookups
    assert "product_status_created" not in plan, plan
    assert "INTEGER PRIMARY KEY" in plan, plan


def test_page_and_api_render_the_same_row_type_and_every_shown_field_keys_both_caches(rf):
    # given a card row as the one reader returns it, for the page and the API alike
    product = make_products(1, price_minor=49900, compare_at_minor=59900)[0]
    ProductImageFactory(product=product, upload=make_image_upload(seed=5))
    row = card_rows_get(product_ids=[product.pk])[0]
    assert isinstance(row, cards.CardRow)
    # when a field of the row changes (as a new or edited field would)
    changed = dataclasses.replace(row, title="A brand new title", price_minor=39900)
    request = rf.get("/")
    html = cards.cards_render(request=request, rows=[changed], first_eager=False,
                              thumb_cap=480, thumb_sizes="10rem", event_context="category",
                              return_to="/")[0]
    api = cards.card_dicts([changed])[0]
    # then both renderers show it from the same row
    assert "A brand new title" in html and "₹399" in html
    assert api["title"] == "A brand new title" and api["price"] == "399.00"
    assert api["image"]["srcset"]["webp"].split(", ")[0] in html
    # and every field but stock changes the digest both caches are keyed by
    replacements = {"pk": row.pk + 1, "title": "x", "title_hi": "एक्स", "title_ar": "س",
                    "price_minor": 1, "compare_at_minor": 2,
                    "currency": "AED", "image_json": None, "stock": row.stock + 5,
                    "rating_count": 3, "rating_total": 12}
    assert set(replacements) == {f.name for f in dataclasses.fields(cards.CardRow)}
    for name, value in replacements.items():
        other = dataclasses.replace(row, **{name: value})
        assert (other.digest("ctx") == row.digest("ctx")) is (name == "stock"), name
