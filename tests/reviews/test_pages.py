"""The product page's reviews: the list (hidden left out, photos, the seller's answer),
the form for a verified buyer only (works without JS), the paged reviews page,
and flat query counts."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from personalization.services import shopper_create
from reviews.models import Review
from reviews.services import review_create, review_hide, review_reply
from tests.factories import make_image_upload
from tests.reliability.hostile_files import hostile_files

from .conftest import as_shopper, buy

pytestmark = pytest.mark.django_db


def _page(client, product) -> str:
    response = client.get(f"/p/{product.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def _review_many(product, pune, n: int) -> None:
    for index in range(n):
        shopper = shopper_create()
        buy(shopper, product, pune)
        review_create(shopper=shopper, product_id=product.pk, rating=1 + index % 5,
                      text=f"Review number {index}")


def test_the_page_lists_reviews_with_photo_and_answer_and_leaves_hidden_out(
    client, product, pune, buyer, seller
):
    review = review_create(shopper=buyer, product_id=product.pk, rating=4,
                           text="Warm light, solid brass", photos=[make_image_upload(seed=7)])
    review_reply(review=review, actor=seller.user, text="Thank you for buying!")
    spammer = shopper_create()
    buy(spammer, product, pune)
    spam = review_create(shopper=spammer, product_id=product.pk, rating=1, text="cheap-pills")
    staff = get_user_model().objects.create_user("mod", password="x-Long-pass-12",
                                                 is_staff=True)
    review_hide(review=spam, actor=staff, reason="Advertising")
    html = _page(client, product)
    assert "Warm light, solid brass" in html and "cheap-pills" not in html
    assert "Answer from Lamp House" in html and "Thank you for buying!" in html
    assert "4.0/5 from 1 rating" in html
    assert "Verified buyer" in html
    photos = re.findall(r'<div class="rph">(.*?)</div></div>', html, re.S)
    assert photos and "/media/reviews/v/" in photos[0] and 'loading="lazy"' in photos[0]


def test_only_a_verified_buyer_sees_the_form(client, product, pune, buyer):
    assert 'id="review-form"' not in _page(client, product)
    assert "Only shoppers who received this item can review it." in _page(client, product)
    shipped = shopper_create()
    buy(shipped, product, pune, status="shipped")
    assert 'id="review-form"' not in _page(as_shopper(client, shipped), product)
    html = _page(as_shopper(client, buyer), product)
    assert 'id="review-form"' in html and 'enctype="multipart/form-data"' in html


def test_posting_the_form_reviews_and_redirects_back_with_thanks(client, product, buyer):
    as_shopper(client, buyer)
    response = client.post(f"/p/{product.pk}/review/", {
        "rating": "5", "text": "Bright!", "photos": [make_image_upload(seed=2)]})
    assert response.status_code == 303
    assert response["Location"] == f"/p/{product.pk}/?reviewed=1#reviews"
    review = Review.objects.get()
    assert (review.rating, review.text, review.photos.count()) == (5, "Bright!", 1)
    html = client.get(response["Location"]).content.decode()
    assert "Thank you! Your review is up." in html and "Bright!" in html
    assert 'id="review-form"' not in html


def test_a_forged_thanks_link_thanks_nobody(client, product):
    html = client.get(f"/p/{product.pk}/?reviewed=1").content.decode()
    assert "Your review is up" not in html


def test_posting_without_a_delivered_line_is_refused(client, product, pune):
    shopper = shopper_create()
    buy(shopper, product, pune, status="shipped")
    response = as_shopper(client, shopper).post(f"/p/{product.pk}/review/", {"rating": "5"})
    assert response.status_code == 403
    assert "Only shoppers who received this item can review it." in response.content.decode()
    assert not Review.objects.exists()


def test_bad_input_is_an_error_summary_linked_to_the_field(client, product, buyer):
    response = as_shopper(client, buyer).post(f"/p/{product.pk}/review/",
                                              {"rating": "9", "text": "x" * 501})
    assert response.status_code == 400
    html = response.content.decode()
    summary = re.search(r'<div class="err" role="alert" id="review-errors">(.*?)</div>', html,
                        re.S).group(1)
    assert 'href="#id_rating_0"' in summary and 'href="#id_text"' in summary
    assert not Review.objects.exists()


def test_a_hostile_photo_is_a_form_error_and_nothing_is_stored(client, product, buyer):
    case = hostile_files()[3]
    response = as_shopper(client, buyer).post(f"/p/{product.pk}/review/", {
        "rating": "4", "photos": [SimpleUploadedFile(case.name, case.data, case.content_type)]})
    assert response.status_code == 400
    assert "Photos (up to 3)" in response.content.decode()
    assert not Review.objects.exists()


def test_four_photos_are_a_form_error(client, product, buyer):
    response = as_shopper(client, buyer).post(f"/p/{product.pk}/review/", {
        "rating": "4", "photos": [make_image_upload(seed=n) for n in range(4)]})
    assert response.status_code == 400
    assert "Add at most 3 photos." in response.content.decode()


def test_the_reviews_page_pages_with_a_cursor(client, product, pune):
    _review_many(product, pune, 12)
    first = client.get(f"/p/{product.pk}/reviews/").content.decode()
    assert first.count("Review number") == 10 and "Review number 11" in first
    next_url = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = client.get(next_url).content.decode()
    assert "Review number 1<" in second and "Review number 0<" in second
    assert 'rel="next"' not in second
    assert client.get(f"/p/{product.pk}/reviews/?cursor=forged").status_code == 400


@pytest.mark.parametrize("n", [2, 12])
def test_product_page_query_count_stays_flat_with_reviews(
    client, product, pune, buyer, django_assert_max_num_queries, n
):
    _review_many(product, pune, n)
    as_shopper(client, buyer)
    client.get(f"/p/{product.pk}/")
    # profile, product+seller+category+rating+review state, images, similar ids,
    # similar cards, reviews with their photos (the ranking version is cached)
    with django_assert_max_num_queries(6):
        html = _page(client, product)
    assert html.count('class="rt"><i aria-hidden="true">★') == min(n, 5)


@pytest.mark.parametrize("n", [2, 12])
def test_reviews_page_query_count_is_flat(client, product, pune, django_assert_max_num_queries,
                                          n):
    _review_many(product, pune, n)
    client.get(f"/p/{product.pk}/reviews/")
    # profile, product+rating, reviews with their photos (and the nav categories)
    with django_assert_max_num_queries(5):
        assert client.get(f"/p/{product.pk}/reviews/").status_code == 200


@pytest.mark.parametrize(("language", "heading", "summary"), [
    ("hi", "समीक्षाएँ", "4.0/5, 1 रेटिंग से"),
    # Django's Arabic number format writes the decimal comma.
    ("ar", "المراجعات", "4,0/5 من تقييم واحد"),
])
def test_the_reviews_section_is_translated(client, product, buyer, language, heading, summary):
    review_create(shopper=buyer, product_id=product.pk, rating=4, text="ok")
    html = client.get(f"/p/{product.pk}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f'<h2 id="reviews-h">{heading}</h2>' in html
    assert summary in html
