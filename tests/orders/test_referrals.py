"""Referral credit: ?ref= on arrival, a friend's order within 7 days credits the sharer once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from rest_framework.test import APIClient

from catalog.models import Product
from orders import services
from orders.models import Order, ReferralCredit
from orders.referrals import referral_credit_for_order, referral_summary_get
from orders.selectors import cart_get
from personalization.models import ShopperProfile
from personalization.services import (
    shopper_create,
    shopper_create_anonymous,
    shopper_erase,
    shopper_export,
    shopper_link_user,
    shopper_referral_arrive,
)
from tests.factories import UserFactory, make_products

from .conftest import PUNE_ADDRESS, as_shopper, place_order


@pytest.fixture
def sharer(db):
    return shopper_create()


@pytest.fixture
def friend(db):
    return shopper_create()


def order_something(shopper, region, key="key-00000001"):
    product = make_products(1)[0]
    services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1)
    return place_order(shopper, region, key=key)


def credits_of(sharer) -> list[ReferralCredit]:
    return list(ReferralCredit.objects.filter(referrer=sharer))


# --- Arrival ---------------------------------------------------------------------------------


def test_a_new_shopper_gets_a_random_code_that_is_not_its_id(sharer, friend):
    assert sharer.referral_code != friend.referral_code
    assert len(sharer.referral_code) == 12 and sharer.referral_code.isalnum()
    assert str(sharer.pk) not in sharer.referral_code
    assert str(sharer.public_id).replace("-", "")[:8] not in sharer.referral_code


def test_arriving_by_a_link_notes_the_sharer_and_the_time(sharer, friend):
    before = timezone.now()
    assert shopper_referral_arrive(shopper=friend, code=sharer.referral_code)
    friend.refresh_from_db()
    assert friend.referred_by_id == sharer.pk and friend.referred_at >= before


def test_first_touch_wins_a_later_link_never_overwrites(sharer, friend):
    other = shopper_create()
    shopper_referral_arrive(shopper=friend, code=sharer.referral_code)
    first = ShopperProfile.objects.get(pk=friend.pk).referred_at

    # The same request object, and a fresh one as a later request would load it.
    assert not shopper_referral_arrive(shopper=friend, code=other.referral_code)
    assert not shopper_referral_arrive(shopper=ShopperProfile.objects.get(pk=friend.pk),
                                       code=other.referral_code)

    friend.refresh_from_db()
    assert friend.referred_by_id == sharer.pk and friend.referred_at == first


def test_a_stale_profile_cannot_overwrite_the_first_touch(sharer, friend):
    # Two tabs opened from two links at once: both loaded the profile unreferred.
    stale = ShopperProfile.objects.get(pk=friend.pk)
    other = shopper_create()
    assert shopper_referral_arrive(shopper=friend, code=sharer.referral_code)
    assert not shopper_referral_arrive(shopper=stale, code=other.referral_code)
    assert ShopperProfile.objects.get(pk=friend.pk).referred_by_id == sharer.pk


@pytest.mark.parametrize("code", ["", "nosuchcode22", "ABC", "x" * 200, None, 12, "a b c d e f"])
def test_unknown_or_malformed_codes_are_ignored(friend, code):
    assert not shopper_referral_arrive(shopper=friend, code=code)
    friend.refresh_from_db()
    assert friend.referred_at is None and friend.referred_by_id is None


def test_own_code_is_ignored(sharer):
    assert not shopper_referral_arrive(shopper=sharer, code=sharer.referral_code)
    sharer.refresh_from_db()
    assert sharer.referred_at is None


# --- Credit ----------------------------------------------------------------------------------


def test_an_order_within_seven_days_credits_the_sharer(sharer, friend, regions):
    shopper_referral_arrive(shopper=friend, code=sharer.referral_code,
                            now=timezone.now() - timedelta(days=6, hours=23))
    order = order_something(friend, regions["IN-MH-PUN"]).order

    [credit] = credits_of(sharer)
    assert credit.order_id == order.pk and credit.referred_id == friend.pk
    summary = referral_summary_get(shopper=sharer)
    assert (summary.friends, summary.orders) == (1, 1)


def test_no_credit_after_seven_days(sharer, friend, regions):
    shopper_referral_arrive(shopper=friend, code=sharer.referral_code,
                            now=timezone.now() - timedelta(days=7, minutes=1))
    order_something(friend, regions["IN-MH-PUN"])
    assert credits_of(sharer) == []
    assert referral_summary_get(shopper=sharer).friends == 0


def test_the_window_is_a_setting(sharer, friend, regions, settings):
    settings.ORDERS_REFERRAL_WINDOW_DAYS = 30
    shopper_referral_arrive(shopper=friend, code=sharer.referral_code,
                            now=timezone.now() - timedelta(days=20))
    order_something(friend, regions["IN-MH-PUN"])
    assert len(credits_of(sharer)) == 1


def test_no_credit_without_a_link_or_for_self_referral(sharer, regions):
    shopper_referral_arrive(shopper=sharer, code=sharer.referral_code)
    order_something(sharer, regions["IN-MH-PUN"])
    assert ReferralCredit.objects.count() == 0


def test_no_credit_when_the_arrival_names_the_shopper_itself(sharer, regions):
    # Cannot happen through the service; the credit checks it again anyway.
    ShopperProfile.objects.filter(pk=sharer.pk).update(referred_by=sharer,
                                                       referred_at=timezone.now())
    sharer.refresh_from_db()
    order_something(sharer, regions["IN-MH-PUN"])
    assert ReferralCredit.objects.count() == 0


def test_a_replayed_order_credits_once(sharer, friend, regions):
    shopper_referral_arrive(shopper=friend, code=sharer.referral_code)
    product = make_products(1)[0]
    services.cart_line_add(shopper=friend, product_id=product.pk, quantity=1)
    details = services.checkout_details_clean(**{**PUNE_ADDRESS, "region": regions["IN-MH-PUN"]})
    seen = cart_get(shopper=friend).signature

    # The double tap: the same key and request again, after the first one finished.
    placements = [services.order_place(shopper=friend, idempotency_key="same-key-0001",
                                       details=details, cart_signature_seen=seen)
                  for _ in range(3)]
    assert [p.replayed for p in placements] == [False, True, True]
    assert len(credits_of(sharer)) == 1


def test_crediting_the_same_order_again_returns_the_first_credit(sharer, friend, regions):
    shopper_referral_arrive(shopper=friend, code=sharer.referral_code)
    order = order_something(friend, regions["IN-MH-PUN"]).order
    [credit] = credits_of(sharer)
    with transaction.atomic():
        again = referral_credit_for_order(order=order, shopper=friend, placed_at=order.placed_at)
    assert again.pk == credit.pk and ReferralCredit.objects.count() == 1


def test_the_database_refuses_a_second_credit_for_one_order(sharer, friend, regions):
    shopper_referral_arrive(shopper=friend, code=sharer.referral_code)
    order = order_something(friend, regions["IN-MH-PUN"]).order
    with pytest.raises(IntegrityError), transaction.atomic():
        ReferralCredit.objects.create(order=order, referrer=sharer, referred=friend,
                                      arrived_at=timezone.now())
    assert ReferralCredit.objects.count() == 1


def test_each_referred_order_is_credited_and_the_friend_counted_once(sharer, friend, regions):
    shopper_referral_arrive(shopper=friend, code=sharer.referral_code)
    order_something(friend, regions["IN-MH-PUN"], key="first-order-1")
    order_something(friend, regions["IN-MH-PUN"], key="second-order-2")
    summary = referral_summary_get(shopper=sharer)
    assert (summary.friends, summary.orders) == (1, 2)


def test_a_refused_checkout_credits_nothing(sharer, friend, regions):
    shopper_referral_arrive(shopper=friend, code=sharer.referral_code)
    product = make_products(1)[0]
    services.cart_line_add(shopper=friend, product_id=product.pk, quantity=1)
    Product.objects.filter(pk=product.pk).update(stock=0)  # sold out after the order INSERT
    with pytest.raises(services.CheckoutRefused):
        place_order(friend, regions["IN-MH-PUN"])
    assert not Order.objects.exists() and ReferralCredit.objects.count() == 0


# --- Pages -----------------------------------------------------------------------------------


def test_a_shared_product_link_notes_the_arrival_on_a_first_visit(client, sharer):
    product = make_products(1)[0]
    response = client.get(f"/p/{product.pk}/?ref={sharer.referral_code}")
    assert response.status_code == 200
    visitor = ShopperProfile.objects.exclude(pk=sharer.pk).get()
    assert visitor.referred_by_id == sharer.pk and visitor.referred_at is not None


@pytest.mark.parametrize("path", ["/", "/cart/", "/orders/", "/search/?q=lamp&"])
def test_any_page_reads_ref(client, sharer, path):
    make_products(2)
    sep = "" if path.endswith("&") else "?"
    assert client.get(f"{path}{sep}ref={sharer.referral_code}").status_code == 200
    assert ShopperProfile.objects.exclude(pk=sharer.pk).get().referred_by_id == sharer.pk


@pytest.mark.parametrize("ref", ["nosuchcode22", "%3Cscript%3E", "A" * 500, ""])
def test_an_unknown_code_shows_the_page_as_usual(client, db, ref):
    product = make_products(1)[0]
    response = client.get(f"/p/{product.pk}/?ref={ref}")
    assert response.status_code == 200 and b"Add to cart" in response.content
    assert not ShopperProfile.objects.filter(referred_at__isnull=False).exists()


def test_opening_ones_own_shared_link_is_no_referral(client, sharer):
    product = make_products(1)[0]
    as_shopper(client, sharer).get(f"/p/{product.pk}/?ref={sharer.referral_code}")
    sharer.refresh_from_db()
    assert sharer.referred_at is None


def _queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_pages_without_ref_cost_no_extra_query(client, sharer, friend):
    product = make_products(3)[0]
    as_shopper(client, friend)
    url = f"/p/{product.pk}/"
    client.get(url)  # warm the caches the page fills on a first render
    plain = _queries(client, url)
    # A malformed code is refused before any query.
    assert len(_queries(client, url + "?ref=NOT-A-CODE")) == len(plain)
    # The first valid arrival: the sharer's id by code, one conditional UPDATE.
    assert len(_queries(client, f"{url}?ref={sharer.referral_code}")) == len(plain) + 2
    # Already referred: nothing more, whatever the link says.
    assert len(_queries(client, f"{url}?ref={shopper_create().referral_code}")) == len(plain)
    assert not any('"referral_code" =' in sql or "UPDATE" in sql for sql in plain)


def test_the_orders_page_tells_the_sharer_how_many_friends_ordered(client, sharer, friend,
                                                                   regions):
    page = as_shopper(client, sharer).get("/orders/").content.decode()
    assert "Invite friends" in page and "friend ordered" not in page
    assert f"%3Fref%3D{sharer.referral_code}" in page  # the WhatsApp invite carries the code

    shopper_referral_arrive(shopper=friend, code=sharer.referral_code)
    order_something(friend, regions["IN-MH-PUN"])
    page = client.get("/orders/").content.decode()
    assert "1 friend ordered" in page


@pytest.fixture
def back_to_english():
    """The locale middleware leaves the last request's language active in this
    thread; code run later without a request (a refresh) would render in it."""
    yield
    translation.deactivate()


def test_the_friends_count_is_translated(client, back_to_english, sharer, friend, regions):
    shopper_referral_arrive(shopper=friend, code=sharer.referral_code)
    order_something(friend, regions["IN-MH-PUN"])
    as_shopper(client, sharer)
    hindi = client.get("/orders/", HTTP_ACCEPT_LANGUAGE="hi").content.decode()
    assert "1 दोस्त ने ऑर्डर किया" in hindi and "दोस्तों को बुलाएँ" in hindi
    arabic = client.get("/orders/", HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert "طلب صديق واحد" in arabic and "ادعُ أصدقاءك" in arabic


# --- API -------------------------------------------------------------------------------------


def test_an_app_created_from_a_shared_link_is_referred(sharer):
    response = APIClient().post("/api/v1/shoppers/", {"ref": sharer.referral_code},
                                format="json")
    assert response.status_code == 201
    body = response.json()["shopper"]
    assert body["referred_at"] is not None and len(body["referral_code"]) == 12
    created = ShopperProfile.objects.get(public_id=response.json()["shopper"]["id"])
    assert created.referred_by_id == sharer.pk


def test_shopper_creation_without_a_body_still_works(db):
    assert APIClient().post("/api/v1/shoppers/").status_code == 201


@pytest.mark.parametrize("body", [{"ref": 0}, {"ref": ["x"]}, {"reff": "abc"}])
def test_a_badly_typed_ref_is_a_400_and_creates_no_shopper(db, body):
    response = APIClient().post("/api/v1/shoppers/", body, format="json")
    assert response.status_code == 400 and list(response.json()["error"]["fields"]) == list(body)
    assert not ShopperProfile.objects.exists()


def test_patch_takes_a_ref_once_and_ignores_unknown_ones(sharer):
    shopper, token = shopper_create_anonymous()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Shopper {token}")
    unknown = api.patch("/api/v1/shoppers/me/", {"ref": "nosuchcode22"}, format="json")
    assert unknown.status_code == 200 and unknown.json()["referred_at"] is None

    taken = api.patch("/api/v1/shoppers/me/", {"ref": sharer.referral_code}, format="json")
    assert taken.status_code == 200 and taken.json()["referred_at"] is not None
    later = api.patch("/api/v1/shoppers/me/", {"ref": shopper_create().referral_code},
                      format="json")
    assert later.json()["referred_at"] == taken.json()["referred_at"]
    shopper.refresh_from_db()
    assert shopper.referred_by_id == sharer.pk


def test_a_refused_patch_notes_no_arrival(sharer):
    shopper, token = shopper_create_anonymous()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Shopper {token}")
    response = api.patch("/api/v1/shoppers/me/",
                         {"ref": sharer.referral_code, "region": "XX-NOPE"}, format="json")
    assert response.status_code == 400
    shopper.refresh_from_db()
    assert shopper.referred_at is None


# --- Privacy ---------------------------------------------------------------------------------


@pytest.fixture
def credited(sharer, friend, regions):
    shopper_referral_arrive(shopper=friend, code=sharer.referral_code)
    order = order_something(friend, regions["IN-MH-PUN"]).order
    return sharer, friend, order


def test_export_holds_the_code_the_arrival_and_the_credits(credited):
    sharer, friend, order = credited
    mine = shopper_export(shopper=sharer)
    assert mine["profile"]["referral_code"] == sharer.referral_code
    assert len(mine["referrals"]["credits_earned"]) == 1
    theirs = shopper_export(shopper=friend)
    assert theirs["profile"]["referred_at"] is not None
    assert theirs["referrals"]["orders_credited_to_sharer"] == [order.public_id]
    # Neither learns who the other is from their own export.
    assert friend.referral_code not in str(mine) and str(friend.public_id) not in str(mine)
    assert str(sharer.public_id) not in str(theirs)


def test_erasing_the_sharer_keeps_the_count_for_sellers_but_names_nobody(credited):
    sharer, friend, order = credited
    shopper_erase(shopper=sharer)
    credit = ReferralCredit.objects.get(order=order)
    assert credit.referrer_id is None and credit.referred_id == friend.pk
    assert credit.arrived_at.time().isoformat() == "00:00:00"
    friend.refresh_from_db()
    # The touch stays taken: a later link does not start a new window.
    assert friend.referred_by_id is None and friend.referred_at is not None
    assert not shopper_referral_arrive(shopper=friend, code=shopper_create().referral_code)


def test_erasing_the_friend_unlinks_them_and_the_sharer_still_sees_one_friend(credited):
    sharer, friend, order = credited
    shopper_erase(shopper=friend)
    credit = ReferralCredit.objects.get(order=order)
    assert credit.referred_id is None and credit.referrer_id == sharer.pk
    assert referral_summary_get(shopper=sharer).friends == 1


def test_signing_in_moves_credits_and_arrival_to_the_account(credited, regions):
    sharer, friend, _order = credited
    user = UserFactory()
    account = shopper_create(user=user)
    merged_into = shopper_link_user(shopper=sharer, user=user)
    assert merged_into.pk == account.pk
    assert len(credits_of(account)) == 1
    assert ShopperProfile.objects.get(pk=friend.pk).referred_by_id == account.pk


def test_merging_the_friend_into_the_sharers_account_drops_the_self_credit(credited):
    sharer, friend, _order = credited
    user = UserFactory()
    sharer.user = user
    sharer.save(update_fields=["user"])
    # The "friend" was the sharer on another phone, now signed in to the same account.
    shopper_link_user(shopper=friend, user=user)
    assert ReferralCredit.objects.count() == 0
    sharer.refresh_from_db()
    assert sharer.referred_by_id is None
