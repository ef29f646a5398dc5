"""Pages show one market: listings sold where the shopper is, in its currency.

A Dubai shopper sees dirham listings sold in the UAE and nothing in rupees,
even rupee listings "sold everywhere"; a visitor from India who never said
where they are is guessed from their language and sees rupees only, with a
"Delivering to" link to change it.
"""

from __future__ import annotations

import re

import pytest

from personalization.market import REGION_COOKIE
from personalization.models import ShopperProfile
from tests.region_world import INDIA, INDIA_OUTSIDE_PUNE, UAE, make_world

from .conftest import card_ids

pytestmark = pytest.mark.django_db
HINDI_INDIA = "hi-IN,hi;q=0.9,en;q=0.8"


@pytest.fixture
def world():
    return make_world()


@pytest.fixture
def dubai_client(client, world):
    response = client.post("/region/", {"region": "AE-DU", "next": "/"})
    assert response.status_code == 303
    return client


def _main(response) -> str:
    return response.content.decode().split("<main", 1)[1].split("</main>", 1)[0]


# --- the Dubai shopper --------------------------------------------------------------------


def test_dubai_shoppers_feed_is_dirhams_sold_in_the_uae_only(dubai_client, world):
    response = dubai_client.get("/")
    assert set(card_ids(response.content.decode())) == world.ids(*UAE)
    assert "₹" not in _main(response)
    assert "Delivering to: <b>Dubai</b>" in response.content.decode()


def test_dubai_shoppers_search_finds_only_what_reaches_dubai(dubai_client, world):
    response = dubai_client.get("/search/", {"q": "saree"})
    assert set(card_ids(response.content.decode())) == world.ids(*UAE)
    assert "₹" not in _main(response)


def test_dubai_shoppers_category_page_is_dirhams_only(dubai_client, world):
    response = dubai_client.get("/c/sarees/")
    assert set(card_ids(response.content.decode())) == world.ids(*UAE)
    assert "₹" not in _main(response)


def test_more_like_this_stays_in_the_shoppers_market(dubai_client, world):
    product = world.products["aed_uae"][0]
    similar = set(card_ids(dubai_client.get(f"/p/{product.pk}/").content.decode()))
    assert similar == world.ids(*UAE) - {product.pk}


def test_a_listing_not_sold_here_says_so_and_offers_no_cart_button(dubai_client, world):
    # Given a shared link to a rupee listing
    product = world.products["inr_everywhere"][0]
    html = dubai_client.get(f"/p/{product.pk}/").content.decode()
    # Then the page says it is not delivered to Dubai, with no button and no rupee cards
    assert "Not delivered to Dubai." in html
    assert 'id="add"' not in html and card_ids(html) == []


def test_a_pune_shopper_also_sees_what_is_sold_only_in_pune(client, world):
    client.post("/region/", {"region": "IN-MH-PUN"})
    assert set(card_ids(client.get("/").content.decode())) == world.ids(*INDIA)


# --- the visitor who has not said where they are -------------------------------------------


def test_a_hindi_visitor_is_guessed_in_india_and_sees_rupees_only(client, world):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=HINDI_INDIA)
    assert set(card_ids(response.content.decode())) == world.ids(*INDIA_OUTSIDE_PUNE)
    main = _main(response)
    assert "AED" not in main and "Rs\u00a0" not in main  # dirhams, Nepali rupees
    # and the guess is visible, with the way to change it
    assert re.search(r'<p class="dlv"><a href="/region/">[^<]*<b>India</b>',
                     response.content.decode())
    assert ShopperProfile.objects.get().region_id is None  # a guess is never saved


def test_a_hindi_visitors_search_and_category_are_rupees_only(client, world):
    for url, params in (("/search/", {"q": "saree"}), ("/c/sarees/", {})):
        response = client.get(url, params, HTTP_ACCEPT_LANGUAGE=HINDI_INDIA)
        assert set(card_ids(response.content.decode())) == world.ids(*INDIA_OUTSIDE_PUNE)


@pytest.mark.parametrize(("accept_language", "expected"), [
    ("ar", UAE),  # Arabic is the UAE's language (and no other country's here)
    ("en-AE,en;q=0.8", UAE),  # a country named in the header wins over the language
    ("en", INDIA_OUTSIDE_PUNE),  # English says nothing: the shop's default (INR -> India)
    ("", INDIA_OUTSIDE_PUNE),
    ("fr-FR", INDIA_OUTSIDE_PUNE),  # an unknown country: the default too
])
def test_the_market_is_guessed_from_the_language(client, world, accept_language, expected):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=accept_language)
    assert set(card_ids(response.content.decode())) == world.ids(*expected)


def test_the_region_cookie_outlives_the_profile(client, world):
    # Given a phone whose profile was erased, but which chose Nepal before
    client.cookies[REGION_COOKIE] = "NP"
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=HINDI_INDIA)
    assert set(card_ids(response.content.decode())) == world.ids("npr_nepal")
    assert '<a href="/region/">डिलीवरी: <b>Nepal</b>' in response.content.decode()


def test_changing_region_restarts_the_feed_in_the_new_market(client, world):
    client.get("/", HTTP_ACCEPT_LANGUAGE=HINDI_INDIA)
    client.post("/region/", {"region": "AE"})
    ids = card_ids(client.get("/", HTTP_ACCEPT_LANGUAGE=HINDI_INDIA).content.decode())
    assert set(ids) == world.ids(*UAE)


# --- the chooser --------------------------------------------------------------------------


def test_the_chooser_lists_every_place_and_returns_to_the_page(client, world):
    html = client.get("/region/", HTTP_REFERER="http://testserver/c/sarees/").content.decode()
    assert 'value="AE-DU"' in html and "Pune, India" in html
    assert 'name="next" value="/c/sarees/"' in html
    response = client.post("/region/", {"region": "AE-DU", "next": "/c/sarees/"})
    assert response.status_code == 303 and response["Location"] == "/c/sarees/"
    assert response.cookies[REGION_COOKIE].value == "AE-DU"
    assert ShopperProfile.objects.get().region.code == "AE-DU"


def test_the_chooser_refuses_an_unknown_place_and_an_outside_next(client, world):
    response = client.post("/region/", {"region": "XX"})
    assert response.status_code == 400
    assert "Choose one of the places listed." in response.content.decode()
    assert ShopperProfile.objects.filter(region__isnull=False).count() == 0
    response = client.post("/region/", {"region": "IN", "next": "https://evil.example/"})
    assert response["Location"] == "/"


# --- budgets ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/search/?q=saree", "/c/sarees/"])
def test_region_filtering_adds_no_query(dubai_client, django_assert_max_num_queries, url):
    dubai_client.get(url)
    # The same budgets as without regions (tests/storefront/test_feed.py,
    # test_search.py, test_pages.py): the market is read from the cache.
    budget = {"/": 6, "/search/?q=saree": 4, "/c/sarees/": 5}[url]
    with django_assert_max_num_queries(budget):
        assert dubai_client.get(url).status_code == 200
