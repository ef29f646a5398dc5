"""Reviews API: the public list (cursor paging, hidden left out, flat queries), a
verified buyer's review (400 with field messages, 403 without a delivered line),
and the seller's one answer."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from personalization.services import shopper_create, shopper_token_create
from reviews.models import Review
from reviews.services import review_create, review_hide
from tests.factories import make_image_upload
from tests.reliability.hostile_files import hostile_files

from .conftest import buy

pytestmark = pytest.mark.django_db


def _url(product) -> str:
    return f"/api/v1/products/{product.pk}/reviews/"


def _client_for(shopper) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Shopper {shopper_token_create(shopper=shopper)}")
    return client


def _reviewers(product, pune, n: int) -> list:
    shoppers = []
    for index in range(n):
        shopper = shopper_create()
        buy(shopper, product, pune)
        review_create(shopper=shopper, product_id=product.pk, rating=1 + index % 5,
                      text=f"review {index}")
        shoppers.append(shopper)
    return shoppers


def test_the_list_pages_newest_first_leaves_hidden_out_and_carries_the_rating(
    product, pune
):
    _reviewers(product, pune, 5)
    staff = get_user_model().objects.create_user("mod", password="x-Long-pass-12",
                                                 is_staff=True)
    review_hide(review=Review.objects.get(text="review 4"), actor=staff, reason="Spam")
    first = APIClient().get(_url(product), {"limit": 2})
    assert first.status_code == 200
    body = first.json()
    assert body["rating"] == {"average": 2.5, "count": 4}
    assert [r["text"] for r in body["results"]] == ["review 3", "review 2"]
    assert first["Cache-Control"].startswith("public")
    second = APIClient().get(_url(product), {"limit": 2, "cursor": body["next_cursor"]}).json()
    assert [r["text"] for r in second["results"]] == ["review 1", "review 0"]
    assert second["next_cursor"] is None


def test_a_bad_cursor_or_limit_is_a_400_with_the_field(product):
    response = APIClient().get(_url(product), {"cursor": "forged", "limit": 99})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"limit"}
    response = APIClient().get(_url(product), {"cursor": "forged"})
    assert response.status_code == 400
    assert "cursor" in response.json()["error"]["fields"]


def test_an_unlisted_product_is_a_404(db):
    assert APIClient().get("/api/v1/products/999999/reviews/").status_code == 404


@pytest.mark.parametrize("n", [2, 12])
def test_the_list_query_count_is_flat(product, pune, django_assert_max_num_queries, n):
    _reviewers(product, pune, n)
    # A ready photo on every review (rows only: the pipeline has its own tests).
    for review in Review.objects.all():
        review.photos.create(original=f"reviews/masters/{review.pk}.jpg", width=640,
                             height=480, content_hash="x", status="ready", variants=[
                                 {"width": 320, "height": 240, "format": "jpeg",
                                  "name": f"reviews/v/{review.pk}-320.jpg", "bytes": 1}])
    with django_assert_max_num_queries(2):  # product + rating, reviews page with photos
        response = APIClient().get(_url(product), {"limit": 50})
    results = response.json()["results"]
    assert len(results) == n and all(len(r["photos"]) == 1 for r in results)


def test_a_verified_buyer_posts_a_review_with_a_photo(buyer, product):
    response = _client_for(buyer).post(_url(product), {
        "rating": "5", "text": "Lovely light",
        "photos": [make_image_upload(seed=9)],
    }, format="multipart")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["rating"], body["text"], body["verified_purchase"]) == (5, "Lovely light", True)
    assert len(body["photos"]) == 1 and "reviews/v/" in body["photos"][0]["src"]
    assert APIClient().get(_url(product)).json()["rating"] == {"average": 5.0, "count": 1}


def test_json_works_without_photos(buyer, product):
    response = _client_for(buyer).post(_url(product), {"rating": 3}, format="json")
    assert response.status_code == 201
    assert Review.objects.get().rating == 3


def test_no_review_without_a_delivered_line(product, pune):
    shopper = shopper_create()
    buy(shopper, product, pune, status="shipped")
    response = _client_for(shopper).post(_url(product), {"rating": 5}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "received" in response.json()["error"]["message"]
    assert not Review.objects.exists()


def test_no_shopper_is_a_401(product):
    response = APIClient().post(_url(product), {"rating": 5}, format="json")
    assert response.status_code in (401, 403)
    assert not Review.objects.exists()


@pytest.mark.parametrize(("payload", "fields"), [
    ({"rating": 0}, {"rating"}),
    ({"rating": "five"}, {"rating"}),
    ({}, {"rating"}),
    ({"rating": 4, "text": "x" * 501}, {"text"}),
])
def test_bad_input_is_a_400_with_field_messages(buyer, product, payload, fields):
    response = _client_for(buyer).post(_url(product), payload, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == fields
    assert not Review.objects.exists()


def test_a_second_review_is_a_400_on_product(buyer, product):
    client = _client_for(buyer)
    assert client.post(_url(product), {"rating": 4}, format="json").status_code == 201
    response = client.post(_url(product), {"rating": 1}, format="json")
    assert response.status_code == 400
    assert "product" in response.json()["error"]["fields"]


@pytest.mark.parametrize("index", [0, 40, 120])
def test_a_hostile_photo_is_a_400_on_photos(buyer, product, index):
    case = hostile_files()[index]
    response = _client_for(buyer).post(_url(product), {
        "rating": 4, "photos": [SimpleUploadedFile(case.name, case.data, case.content_type)],
    }, format="multipart")
    assert response.status_code == 400, case.label
    assert "photos" in response.json()["error"]["fields"]
    assert not Review.objects.exists()


def test_four_photos_are_a_400(buyer, product):
    response = _client_for(buyer).post(_url(product), {
        "rating": 4, "photos": [make_image_upload(seed=n) for n in range(4)],
    }, format="multipart")
    assert response.status_code == 400
    assert "photos" in response.json()["error"]["fields"]


def test_the_seller_answers_once_and_others_cannot(buyer, product, seller, other_seller):
    review = review_create(shopper=buyer, product_id=product.pk, rating=2)
    url = f"/api/v1/reviews/{review.pk}/reply/"
    other = APIClient()
    other.force_login(other_seller.user)
    assert other.post(url, {"text": "Not mine"}, format="json").status_code == 403
    mine = APIClient()
    mine.force_login(seller.user)
    response = mine.post(url, {"text": "A new bulb is on its way"}, format="json")
    assert response.status_code == 200
    assert response.json()["seller_reply"]["text"] == "A new bulb is on its way"
    again = mine.post(url, {"text": "Again"}, format="json")
    assert again.status_code == 400 and "seller_reply" in again.json()["error"]["fields"]
    listed = APIClient().get(_url(product)).json()["results"][0]
    assert listed["seller_reply"]["text"] == "A new bulb is on its way"


def test_the_reply_needs_a_login_and_csrf(buyer, product, seller):
    review = review_create(shopper=buyer, product_id=product.pk, rating=2)
    url = f"/api/v1/reviews/{review.pk}/reply/"
    assert APIClient().post(url, {"text": "Hi"}, format="json").status_code in (401, 403)
    strict = APIClient(enforce_csrf_checks=True)
    strict.force_login(seller.user)
    assert strict.post(url, {"text": "Hi"}, format="json").status_code == 403
    assert Review.objects.get().seller_reply == ""
