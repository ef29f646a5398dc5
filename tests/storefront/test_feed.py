"""The feed page: budgets, paging, cards, impressions, query counts."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from catalog.models import Product
from personalization.models import Event
from tests.factories import make_products
from tests.storefront.conftest import card_ids, gzip_size

pytestmark = pytest.mark.django_db


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def test_first_feed_page_of_20_items_fits_one_tcp_window(client, products_with_photos):
    # Given 25 listings, each with its own photo (distinct content-hashed URLs)
    products_with_photos(25)
    # When a new shopper opens the feed
    response = client.get("/")
    html = response.content.decode()
    # Then it shows 20 cards and, with its inline CSS, is at most 14 KB gzipped
    assert len(card_ids(html)) == 20
    assert re.search(r"<style[^>]*>[^<]*\.card\{", html)
    assert gzip_size(response.content) <= 14 * 1024


def test_feed_has_no_render_blocking_request(client, products_with_photos):
    products_with_photos(3)
    found = tags(client.get("/").content.decode())
    stylesheets = [a for t, a in found if t == "link" and "stylesheet" in a.get("rel", "")]
    scripts = [a for t, a in found if t == "script"]
    assert stylesheets == []
    assert scripts, "the enhancement script is referenced"
    assert all("src" in a and ("defer" in a or "async" in a) for a in scripts)


def test_every_image_has_dimensions_and_only_the_first_is_eager(client, products_with_photos):
    products_with_photos(5, distinct_photos=2)
    images = [a for t, a in tags(client.get("/").content.decode()) if t == "img"]
    assert len(images) == 5
    assert all(int(a["width"]) > 0 and int(a["height"]) > 0 for a in images)
    assert images[0].get("fetchpriority") == "high" and "loading" not in images[0]
    assert all(a.get("loading") == "lazy" and "fetchpriority" not in a for a in images[1:])
    assert all(a["alt"] for a in images)


def test_card_offers_avif_and_webp_sized_for_a_thumbnail(client, products_with_photos):
    products_with_photos(1)
    found = tags(client.get("/").content.decode())
    sources = {a["type"]: a for t, a in found if t == "source"}
    assert set(sources) == {"image/avif", "image/webp"}
    for source in sources.values():
        widths = [int(w) for w in re.findall(r" (\d+)w", source["srcset"])]
        assert widths and max(widths) <= 480
        assert "sizes" in source


@pytest.mark.parametrize("n", [2, 20])
def test_feed_query_count_is_flat(client, django_assert_max_num_queries, products_with_photos, n):
    products_with_photos(n, distinct_photos=2)
    client.get("/")  # the shopper's profile exists from here on
    # profile by cookie, ranking snapshot, products+seller+category, images,
    # impressions INSERT, shopper "seen" UPDATE at most hourly
    with django_assert_max_num_queries(6):
        response = client.get("/")
    assert len(card_ids(response.content.decode())) == n


def test_scrolling_by_cursor_never_shows_an_item_twice_or_skips_one(client):
    products = make_products(47)
    seen: list[int] = []
    url = "/"
    pages = 0
    while url:
        html = client.get(url).content.decode()
        seen += card_ids(html)
        match = re.search(r'<a class="btn" rel="next" href="([^"]+)"', html)
        url = match.group(1).replace("&amp;", "&") if match else ""
        pages += 1
    assert pages == 3
    assert len(seen) == len(set(seen)) == 47
    assert set(seen) == {p.pk for p in products}


def test_fragment_is_just_the_cards_and_the_next_link(client):
    make_products(30)
    first = client.get("/").content.decode()
    next_url = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    fragment = client.get(next_url + "&fragment=1").content.decode()
    assert "<html" not in fragment and "<style>" not in fragment
    assert len(card_ids(fragment)) == 10
    assert not set(card_ids(fragment)) & set(card_ids(first))
    assert 'rel="next"' not in fragment  # the last page


def test_an_oversized_cursor_is_a_400_with_the_reason(client):
    response = client.get("/", {"cursor": "x" * 3000})
    assert response.status_code == 400
    assert "cursor" in response.content.decode().lower()


def test_card_shows_price_discount_cod_and_reason(client):
    # Given a listing at 1,299 usually sold at 2,099 (38% off, rounded down)
    make_products(1, price_minor=129900, compare_at_minor=209900)
    html = client.get("/").content.decode()
    assert "<b>₹1,299</b>" in html
    assert "₹2,099</s>" in html
    assert "-38%" in html
    assert ">COD</abbr>" in html
    assert '<use href="#i-new"/></svg>New</span>' in html


def test_drafts_are_never_shown_and_sold_out_cards_say_so(client):
    shown = make_products(1)[0]
    sold_out = make_products(1, stock=0)[0]
    draft = make_products(1, status=Product.Status.DRAFT)[0]
    html = client.get("/").content.decode()
    ids = card_ids(html)
    assert shown.pk in ids and draft.pk not in ids
    if sold_out.pk in ids:
        card = html.split(f'data-p="{sold_out.pk}"', 1)[1].split("</li>", 1)[0]
        assert "Out of stock" in card and "COD" not in card


def test_rendering_a_feed_page_records_one_impression_per_card(client):
    products = make_products(3)
    client.get("/")
    views = Event.objects.filter(type="view", context="feed")
    assert sorted(views.values_list("product_id", flat=True)) == sorted(p.pk for p in products)
    assert views.exclude(shopper=None).count() == 3


def test_new_shopper_sees_the_welcome_banner_until_skipping(client):
    make_products(1)
    assert "/welcome/" in client.get("/").content.decode().split("<main", 1)[1].split("</main>")[0]
    client.post("/welcome/", {"skip": "1"})
    main = client.get("/").content.decode().split("<main", 1)[1].split("</main>")[0]
    assert 'href="/welcome/"' not in main


def test_a_shopper_with_a_region_gets_no_banner_and_the_same_query_budget(
    client, django_assert_max_num_queries
):
    from tests.factories import RegionFactory

    region = RegionFactory(code="IN", name="India")
    make_products(20, regions=[region])
    client.get("/")
    client.post("/welcome/", {"region": "IN"})
    with django_assert_max_num_queries(6):
        response = client.get("/")
    main = response.content.decode().split("<main", 1)[1]
    assert len(card_ids(main)) == 20 and 'href="/welcome/"' not in main.split("</main>")[0]
