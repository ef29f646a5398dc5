"""ShopperMiddleware: request.shopper from the signed cookie, a token or the account."""

from datetime import timedelta

import pytest
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.utils import timezone

from personalization.models import Event, ShopperProfile
from personalization.services import shopper_create_anonymous
from tests.factories import ProductFactory, UserFactory


def whoami(request):
    return JsonResponse({"id": str(request.shopper.public_id)})


def untouched(request):
    return HttpResponse("ok")


urlpatterns = [path("whoami", whoami), path("untouched", untouched)]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def test_first_visit_creates_a_profile_and_sets_a_safe_cookie(client):
    response = client.get("/whoami")

    assert response.status_code == 200
    profile = ShopperProfile.objects.get()
    assert response.json()["id"] == str(profile.public_id)
    cookie = response.cookies["sid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert not cookie["secure"]
    assert int(cookie["max-age"]) == 365 * 24 * 3600
    # Signed: the raw UUID is in it, but not alone.
    assert str(profile.public_id) in cookie.value and cookie.value != str(profile.public_id)
    assert "Cookie" in response["Vary"]


def test_next_visit_is_recognised_without_a_new_cookie_or_write(
    client, django_assert_num_queries
):
    first = client.get("/whoami").json()["id"]

    with django_assert_num_queries(1):  # the profile by its public id; no last_seen write
        response = client.get("/whoami")

    assert response.json()["id"] == first
    assert "sid" not in response.cookies
    assert ShopperProfile.objects.count() == 1


def test_cookie_is_secure_over_https(client):
    response = client.get("/whoami", secure=True)

    assert response.cookies["sid"]["secure"] is True


@pytest.mark.parametrize("value", ["garbage", "x" * 5000, "a:b:c", ""])
def test_forged_or_garbled_cookie_yields_a_new_profile_not_an_error(client, value):
    victim, _token = shopper_create_anonymous()
    # A cookie holding a real public id but not signed by us must not work.
    client.cookies["sid"] = value or str(victim.public_id)

    response = client.get("/whoami")

    assert response.status_code == 200
    assert response.json()["id"] != str(victim.public_id)
    assert ShopperProfile.objects.count() == 2
    assert "sid" in response.cookies


def test_cookie_of_an_erased_profile_yields_a_new_profile(client):
    client.get("/whoami")
    ShopperProfile.objects.all().delete()

    response = client.get("/whoami")

    assert response.status_code == 200
    assert ShopperProfile.objects.filter(public_id=response.json()["id"]).exists()


def test_view_that_does_not_use_the_shopper_costs_nothing(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/untouched")

    assert "sid" not in response.cookies
    assert not ShopperProfile.objects.exists()


def test_token_identifies_an_app_client_without_cookies(client):
    shopper, token = shopper_create_anonymous()

    response = client.get("/whoami", headers={"authorization": f"Shopper {token}"})

    assert response.json()["id"] == str(shopper.public_id)
    assert "sid" not in response.cookies
    assert "Authorization" in response["Vary"]
    assert shopper.tokens.get().last_used_at is not None


def test_unknown_token_is_a_401_not_a_new_shopper(client):
    shopper_create_anonymous()

    response = client.get("/whoami", headers={"authorization": "Shopper not-a-real-token"})

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Shopper")
    assert ShopperProfile.objects.count() == 1


def test_last_seen_is_written_at_most_hourly_and_refreshes_the_cookie(client):
    client.get("/whoami")
    profile = ShopperProfile.objects.get()
    stale = timezone.now() - timedelta(hours=2)
    ShopperProfile.objects.filter(pk=profile.pk).update(last_seen_at=stale)

    response = client.get("/whoami")

    profile.refresh_from_db()
    assert profile.last_seen_at > stale + timedelta(hours=1)
    assert "sid" in response.cookies


def test_dormant_shopper_who_returns_is_no_longer_dormant(client):
    client.get("/whoami")
    long_ago = timezone.now() - timedelta(days=45)
    ShopperProfile.objects.update(last_seen_at=long_ago, lifecycle_stage="dormant")

    client.get("/whoami")

    assert ShopperProfile.objects.get().lifecycle_stage == "new"


def test_login_links_the_anonymous_profile_to_the_account(client):
    anonymous_id = client.get("/whoami").json()["id"]
    user = UserFactory()
    client.force_login(user)

    response = client.get("/whoami")

    assert response.json()["id"] == anonymous_id
    assert ShopperProfile.objects.get(public_id=anonymous_id).user == user


def test_login_merges_into_the_accounts_profile_keeping_history(client):
    user = UserFactory()
    own = ShopperProfile.objects.create(user=user, region=None)
    product = ProductFactory()
    Event.objects.create(shopper=own, product=product, type="view")
    anonymous_id = client.get("/whoami").json()["id"]
    anonymous = ShopperProfile.objects.get(public_id=anonymous_id)
    Event.objects.create(shopper=anonymous, product=product, type="cart")
    client.force_login(user)

    response = client.get("/whoami")

    assert response.json()["id"] == str(own.public_id)
    assert response.cookies["sid"].value  # the device now carries the account's profile
    assert not ShopperProfile.objects.filter(pk=anonymous.pk).exists()
    assert sorted(Event.objects.filter(shopper=own).values_list("type", flat=True)) == [
        "cart", "view"
    ]


def test_profile_of_another_account_is_not_taken_over_on_a_shared_phone(client):
    alice, bob = UserFactory(), UserFactory()
    client.force_login(alice)
    alice_profile_id = client.get("/whoami").json()["id"]
    client.logout()
    client.force_login(bob)

    bob_profile_id = client.get("/whoami").json()["id"]

    assert bob_profile_id != alice_profile_id
    assert ShopperProfile.objects.get(public_id=alice_profile_id).user == alice
    assert ShopperProfile.objects.get(public_id=bob_profile_id).user == bob
