"""Review services: only verified buyers, one review each, the seller's one answer,
staff moderation, and the precomputed rating kept in step."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from orders.models import LineStatus
from personalization.services import shopper_create
from reviews.models import ProductRating, Review, ReviewPhoto
from reviews.services import (
    ReviewNotAllowed,
    ratings_rebuild,
    review_create,
    review_hide,
    review_reply,
    review_show,
)
from tests.factories import make_image_upload

from .conftest import buy

pytestmark = pytest.mark.django_db


def _rating(product):
    row = ProductRating.objects.filter(product=product).first()
    return None if row is None else (row.count, row.total, row.average)


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user("moderator", password="x-Long-pass-12",
                                                is_staff=True)


def test_a_buyer_with_a_delivered_line_reviews_and_the_rating_is_counted(buyer, product):
    review = review_create(shopper=buyer, product_id=product.pk, rating=4, text=" Bright. ")
    assert review.text == "Bright."
    assert review.order_line.status == LineStatus.DELIVERED
    assert _rating(product) == (1, 4, 4.0)


@pytest.mark.parametrize("status", [LineStatus.CONFIRMED, LineStatus.SHIPPED,
                                    LineStatus.CANCELLED, LineStatus.RETURNED])
def test_no_review_without_a_delivered_line(product, pune, status):
    shopper = shopper_create()
    buy(shopper, product, pune, status=status)
    with pytest.raises(ReviewNotAllowed):
        review_create(shopper=shopper, product_id=product.pk, rating=5)
    assert not Review.objects.exists()
    assert _rating(product) is None


def test_a_delivered_line_of_another_product_does_not_qualify(buyer, seller, pune):
    from tests.factories import ProductFactory

    other = ProductFactory(seller=seller, stock=5)
    with pytest.raises(ReviewNotAllowed):
        review_create(shopper=buyer, product_id=other.pk, rating=5)


@pytest.mark.parametrize(("rating", "text", "field"), [
    (0, "", "rating"), (6, "", "rating"), (None, "", "rating"), (3, "x" * 501, "text"),
])
def test_bad_input_is_a_field_error_and_writes_nothing(buyer, product, rating, text, field):
    with pytest.raises(ValidationError) as caught:
        review_create(shopper=buyer, product_id=product.pk, rating=rating, text=text)
    assert field in caught.value.message_dict
    assert not Review.objects.exists()


def test_one_review_per_shopper_and_product(buyer, product):
    review_create(shopper=buyer, product_id=product.pk, rating=5)
    with pytest.raises(ValidationError) as caught:
        review_create(shopper=buyer, product_id=product.pk, rating=1)
    assert "product" in caught.value.message_dict
    assert _rating(product) == (1, 5, 5.0)


def test_photos_are_rendered_through_the_pipeline_under_reviews(buyer, product):
    review = review_create(shopper=buyer, product_id=product.pk, rating=5,
                           photos=[make_image_upload(seed=1), make_image_upload(seed=2)])
    photos = list(review.photos.all())
    assert [photo.status for photo in photos] == ["ready", "ready"]
    for photo in photos:
        assert photo.original.startswith("reviews/masters/")
        assert {v["width"] for v in photo.variants} <= {160, 320, 640}
        assert all(v["name"].startswith("reviews/v/") for v in photo.variants)


def test_more_than_three_photos_are_refused(buyer, product, settings):
    with pytest.raises(ValidationError) as caught:
        review_create(shopper=buyer, product_id=product.pk, rating=5,
                      photos=[make_image_upload(seed=n) for n in range(4)])
    assert "photos" in caught.value.message_dict
    assert not ReviewPhoto.objects.exists() and not Review.objects.exists()


def test_the_seller_answers_once(buyer, product, seller):
    review = review_create(shopper=buyer, product_id=product.pk, rating=2)
    review = review_reply(review=review, actor=seller.user, text="Sorry, we sent a new bulb.")
    assert review.seller_reply == "Sorry, we sent a new bulb." and review.replied_at
    with pytest.raises(ValidationError) as caught:
        review_reply(review=review, actor=seller.user, text="Again")
    assert "seller_reply" in caught.value.message_dict
    assert Review.objects.get().seller_reply == "Sorry, we sent a new bulb."


def test_another_seller_or_staff_cannot_answer(buyer, product, other_seller, staff):
    review = review_create(shopper=buyer, product_id=product.pk, rating=2)
    for actor in (other_seller.user, staff):
        with pytest.raises(PermissionDenied):
            review_reply(review=review, actor=actor, text="Not mine")
    assert Review.objects.get().seller_reply == ""


def test_staff_hide_with_a_reason_and_the_rating_drops_it(buyer, product, pune, staff):
    second = shopper_create()
    buy(second, product, pune)
    review_create(shopper=buyer, product_id=product.pk, rating=1, text="spam link")
    review_create(shopper=second, product_id=product.pk, rating=5)
    assert _rating(product) == (2, 6, 3.0)
    spam = Review.objects.get(rating=1)
    with pytest.raises(ValidationError):
        review_hide(review=spam, actor=staff, reason=" ")
    hidden = review_hide(review=spam, actor=staff, reason="Advertising")
    assert hidden.hidden and hidden.hidden_reason == "Advertising" and hidden.hidden_by == staff
    assert _rating(product) == (1, 5, 5.0)
    review_show(review=hidden, actor=staff)
    assert _rating(product) == (2, 6, 3.0)


def test_a_seller_cannot_hide_reviews(buyer, product, seller):
    review = review_create(shopper=buyer, product_id=product.pk, rating=1)
    with pytest.raises(PermissionDenied):
        review_hide(review=review, actor=seller.user, reason="I do not like it")
    assert not Review.objects.get().hidden


def test_ratings_rebuild_repairs_a_stale_count(buyer, product):
    review_create(shopper=buyer, product_id=product.pk, rating=4)
    ProductRating.objects.update(count=3, total=3)
    assert ratings_rebuild() == 1
    assert _rating(product) == (1, 4, 4.0)


def test_the_rebuild_ratings_command_recounts(buyer, product):
    from io import StringIO

    from django.core.management import call_command

    review_create(shopper=buyer, product_id=product.pk, rating=2)
    ProductRating.objects.update(count=9, total=40)
    out = StringIO()
    call_command("rebuild_ratings", stdout=out)
    assert "Recounted the ratings of 1 products." in out.getvalue()
    assert _rating(product) == (1, 2, 2.0)
