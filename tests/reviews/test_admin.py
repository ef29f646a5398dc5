"""Reviews in the admin: a seller sees and answers reviews of their own products only;
staff hide with a reason (and show again); the rating follows."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from personalization.services import shopper_create
from reviews.models import ProductRating, Review
from reviews.services import review_create
from tests.factories import ProductFactory

from .conftest import buy

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/reviews/review/"


def change_url(review) -> str:
    return f"/admin/reviews/review/{review.pk}/change/"


@pytest.fixture
def two_reviews(product, other_seller, pune, buyer):
    """A review of `product` (Lamp House) and one of another seller's product."""
    theirs_product = ProductFactory(seller=other_seller, stock=5, title="Steel bucket")
    other_buyer = shopper_create()
    buy(other_buyer, theirs_product, pune)
    mine = review_create(shopper=buyer, product_id=product.pk, rating=2, text="Lamp flickers")
    theirs = review_create(shopper=other_buyer, product_id=theirs_product.pk, rating=5,
                           text="Bucket is great")
    return mine, theirs


@pytest.fixture
def staff(db):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com",
                                                     "x-Long-pass-12")
    return user


def test_a_seller_lists_only_reviews_of_their_own_products(client, seller, two_reviews):
    mine, theirs = two_reviews
    client.force_login(seller.user)
    body = client.get(LIST_URL).content.decode()
    assert "Lamp flickers" in body and "Bucket is great" not in body
    assert change_url(mine) in body and change_url(theirs) not in body
    assert client.get(change_url(theirs)).status_code in (302, 404)


def test_a_seller_answers_once_in_the_admin(client, seller, two_reviews):
    mine, _theirs = two_reviews
    client.force_login(seller.user)
    form = client.get(change_url(mine)).content.decode()
    assert 'name="reply"' in form and 'name="hide"' not in form
    response = client.post(change_url(mine), {"reply": "We are sending a new one."})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.seller_reply == "We are sending a new one." and mine.replied_at
    # the answer is now read-only: no second one
    assert 'name="reply"' not in client.get(change_url(mine)).content.decode()
    client.post(change_url(mine), {"reply": "Changed my mind"})
    mine.refresh_from_db()
    assert mine.seller_reply == "We are sending a new one."


def test_a_seller_cannot_hide_even_with_a_forged_post(client, seller, two_reviews):
    mine, _theirs = two_reviews
    client.force_login(seller.user)
    client.post(change_url(mine), {"hide": "on", "reason": "I do not like it"})
    mine.refresh_from_db()
    assert not mine.hidden


def test_staff_hide_with_a_reason_and_show_again(client, staff, product, two_reviews):
    mine, _theirs = two_reviews
    client.force_login(staff)
    form = client.get(change_url(mine)).content.decode()
    assert 'name="hide"' in form and 'name="reply"' not in form
    refused = client.post(change_url(mine), {"hide": "on", "reason": ""})
    assert refused.status_code == 200
    assert "Say why the review is hidden." in refused.content.decode()
    assert not Review.objects.get(pk=mine.pk).hidden
    assert client.post(change_url(mine), {"hide": "on", "reason": "Abusive"}).status_code == 302
    mine.refresh_from_db()
    assert mine.hidden and mine.hidden_reason == "Abusive" and mine.hidden_by == staff
    assert ProductRating.objects.get(product=product).count == 0
    assert "Lamp flickers" not in client.get(f"/p/{product.pk}/").content.decode()
    client.post(change_url(mine), {"reason": ""})
    mine.refresh_from_db()
    assert not mine.hidden and ProductRating.objects.get(product=product).count == 1


def test_staff_see_every_review(client, staff, two_reviews):
    client.force_login(staff)
    body = client.get(LIST_URL).content.decode()
    assert "Lamp flickers" in body and "Bucket is great" in body


@pytest.mark.parametrize("n", [2, 12])
def test_the_list_query_count_is_flat(client, seller, product, pune,
                                      django_assert_max_num_queries, n):
    for index in range(n):
        shopper = shopper_create()
        buy(shopper, product, pune)
        review_create(shopper=shopper, product_id=product.pk, rating=1 + index % 5)
    client.force_login(seller.user)
    client.get(LIST_URL)
    # session, user, seller, count and filtered count, user and group permissions,
    # the page of reviews with their products, the rating filter's values
    with django_assert_max_num_queries(9):
        assert client.get(LIST_URL).status_code == 200
