"""Ratings on cards: read with the card row (no query per card), part of its digest
(so a cached card shows a new rating at once), within the feed's byte budget."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from reviews.models import ProductRating
from reviews.services import review_create
from storefront.cards import card_rows_get
from tests.storefront.conftest import card_ids, gzip_size

pytestmark = pytest.mark.django_db


def _card(html: str, pk: int) -> str:
    start = html.index(f'<li class="card" data-p="{pk}"')
    return html[start:html.index("</li>", start)]


def test_a_new_review_shows_on_the_cached_feed_card_at_once(client, product, buyer):
    # given a feed whose card for the product is cached without a rating
    first = client.get("/").content.decode()
    assert 'class="rt"' not in _card(first, product.pk)
    # when a verified buyer rates it
    review_create(shopper=buyer, product_id=product.pk, rating=4)
    # then the next feed shows the rating (the row's digest changed with it)
    card = _card(client.get("/").content.decode(), product.pk)
    assert '<p class="rt"><i aria-hidden="true">★</i><span class="vh">Rating</span> 4.0/5 (1)' \
        in card


def test_the_card_row_reads_the_rating_in_its_one_query(product, buyer,
                                                        django_assert_num_queries):
    review_create(shopper=buyer, product_id=product.pk, rating=5)
    with django_assert_num_queries(1):
        row = card_rows_get(product_ids=[product.pk])[0]
    assert (row.rating_count, row.rating_total, row.rating_average) == (1, 5, 5.0)


def test_api_cards_carry_the_rating(product, buyer):
    assert APIClient().get("/api/v1/products/").json()["results"][0]["rating"] is None
    review_create(shopper=buyer, product_id=product.pk, rating=3)
    card = APIClient().get("/api/v1/products/").json()["results"][0]
    assert card["rating"] == {"average": 3.0, "count": 1}
    detail = APIClient().get(f"/api/v1/products/{product.pk}/").json()
    assert detail["rating"] == {"average": 3.0, "count": 1}


def test_feed_with_every_card_rated_fits_one_tcp_window(client, products_with_photos):
    # given 25 listings with photos, every one rated (the largest cards can get)
    products = products_with_photos(25)
    ProductRating.objects.bulk_create(
        ProductRating(product=product, count=1000 + index, total=4321 + index)
        for index, product in enumerate(products))
    # when a new shopper opens the feed
    response = client.get("/")
    html = response.content.decode()
    # then 20 rated cards still fit in 14 KB gzipped with the inline CSS
    assert len(card_ids(html)) == 20
    assert html.count('<p class="rt">') == 20
    size = gzip_size(response.content)
    print(f"feed first page with 20 rated cards: {size} bytes gzipped")
    assert size <= 14 * 1024
