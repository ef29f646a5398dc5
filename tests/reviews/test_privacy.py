"""Reviews in the shopper's export, erasure and sign-in merge."""

from __future__ import annotations

from pathlib import Path

import pytest

from orders.models import LineStatus, Order
from personalization.models import ShopperProfile
from personalization.privacy import mergers
from personalization.services import shopper_create, shopper_erase, shopper_export
from reviews.models import ProductRating, Review, ReviewPhoto
from reviews.services import review_create, review_reply
from tests.factories import ProductFactory, make_image_upload

from .conftest import buy

pytestmark = pytest.mark.django_db


def _media_files(settings) -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() \
        else set()


def test_the_export_holds_the_review_its_photos_and_the_reply(buyer, product, seller):
    review = review_create(shopper=buyer, product_id=product.pk, rating=3, text="Dim bulb",
                           photos=[make_image_upload(seed=3)])
    review_reply(review=review, actor=seller.user, text="Thanks")
    exported = shopper_export(shopper=buyer)["reviews"]
    assert len(exported) == 1
    entry = exported[0]
    assert (entry["product"], entry["rating"], entry["text"], entry["seller_reply"]) == (
        product.pk, 3, "Dim bulb", "Thanks")
    assert len(entry["photos"]) == 1 and "/reviews/masters/" in entry["photos"][0]


def test_erasure_deletes_reviews_and_photos_and_keeps_a_live_order(
    buyer, product, seller, pune, settings, django_capture_on_commit_callbacks
):
    # given a review with a photo, and a second order of another item still on its way
    review_create(shopper=buyer, product_id=product.pk, rating=1,
                  photos=[make_image_upload(seed=4)])
    lamp = ProductFactory(seller=seller, stock=5, title="Lamp shade")
    live_line = buy(buyer, lamp, pune, status=LineStatus.SHIPPED)
    assert _media_files(settings)
    # when the shopper is erased
    with django_capture_on_commit_callbacks(execute=True):
        notices = shopper_erase(shopper=buyer)
    # then the review, its photo and its files are gone and the rating recounted
    assert not Review.objects.exists() and not ReviewPhoto.objects.exists()
    assert _media_files(settings) == set()
    assert ProductRating.objects.get(product=product).count == 0
    # and the live order is untouched: its line ships on, its address is held
    live_order = Order.objects.get(pk=live_line.order_id)
    assert live_order.lines.get().status == LineStatus.SHIPPED
    assert live_order.address and live_order.erasure_requested_at is not None
    assert any(notice["order"] == live_order.public_id for notice in notices)
    assert not ShopperProfile.objects.filter(pk=buyer.pk).exists()


def test_merge_moves_reviews_and_keeps_the_accounts_own_on_a_clash(buyer, product, pune):
    account = shopper_create()
    buy(account, product, pune)
    other = ProductFactory(seller=product.seller, stock=5)
    buy(buyer, other, pune)
    review_create(shopper=account, product_id=product.pk, rating=5)
    review_create(shopper=buyer, product_id=product.pk, rating=1)
    review_create(shopper=buyer, product_id=other.pk, rating=4)
    for merge in mergers():
        merge(buyer, account)
    assert sorted(Review.objects.filter(shopper=account).values_list("product_id", "rating")) \
        == sorted([(product.pk, 5), (other.pk, 4)])
    assert ProductRating.objects.get(product=product).count == 1
