"""Shopper creation, profile, export and erasure; one shopper never reaches another."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from personalization.models import Event, ShopperProfile, ShopperToken
from personalization.services import shopper_create_anonymous
from tests.factories import ProductFactory, RegionFactory

from .conftest import assert_error

pytestmark = pytest.mark.django_db
ME = "/api/v1/shoppers/me/"


def test_creating_a_shopper_returns_a_token_that_identifies_it(api):
    response = api.post("/api/v1/shoppers/")
    assert response.status_code == 201
    assert response["Cache-Control"] == "private, no-store"
    body = response.json()
    shopper = ShopperProfile.objects.get(public_id=body["shopper"]["id"])
    # only the hash of the token is stored
    assert not ShopperToken.objects.filter(key_hash=body["token"]).exists()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Shopper {body['token']}")
    me = client.get(ME)
    assert me.status_code == 200
    assert me.json()["id"] == str(shopper.public_id)


def test_me_without_credentials_is_401_and_creates_no_profile(api):
    response = api.get(ME)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Shopper")
    assert ShopperProfile.objects.count() == 0


def test_profile_update_changes_only_the_given_fields(shopper_api, shopper_and_token):
    shopper, _token = shopper_and_token
    RegionFactory(code="IN")
    response = shopper_api.patch(ME, {"region": "IN", "age_band": "25-34"}, format="json")
    assert response.status_code == 200
    assert response.json()["region"] == "IN" and response.json()["age_band"] == "25-34"
    response = shopper_api.patch(ME, {"gender": "f"}, format="json")
    shopper.refresh_from_db()
    assert (shopper.region.code, shopper.age_band, shopper.gender) == ("IN", "25-34", "f")
    # null takes an answer back
    shopper_api.patch(ME, {"age_band": None}, format="json")
    shopper.refresh_from_db()
    assert shopper.age_band == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"region": "XX"}, "region"),
        ({"age_band": "12"}, "age_band"),
        ({"gender": "q"}, "gender"),
        ({"language": "klingon"}, "language"),
        ({"consent_personalization": "perhaps"}, "consent_personalization"),
        ({"birth_date": "2000-01-01"}, "birth_date"),
    ],
)
def test_bad_profile_values_are_400_and_change_nothing(shopper_api, shopper_and_token, body,
                                                       field):
    shopper, _token = shopper_and_token
    before = ShopperProfile.objects.filter(pk=shopper.pk).values().get()
    fields = assert_error(shopper_api.patch(ME, {"gender": "m", **body}, format="json"), 400,
                          "invalid")
    assert field in fields
    assert ShopperProfile.objects.filter(pk=shopper.pk).values().get() == before


def test_malformed_json_is_a_400_in_the_error_shape(shopper_api):
    response = shopper_api.generic("PATCH", ME, "{not json", content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_export_holds_the_profile_and_events(shopper_api, shopper_and_token):
    shopper, _token = shopper_and_token
    product = ProductFactory(title="Brass lamp")
    Event.objects.create(shopper=shopper, product=product, type="view", context="feed")
    response = shopper_api.get(f"{ME}export/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    body = response.json()
    assert body["profile"]["id"] == str(shopper.public_id)
    assert [(e["product"], e["type"]) for e in body["events"]] == [("Brass lamp", "view")]
    assert len(body["tokens"]) == 1 and "key_hash" not in body["tokens"][0]


def test_erase_deletes_the_profile_and_its_token_stops_working(shopper_api, shopper_and_token):
    shopper, _token = shopper_and_token
    product = ProductFactory()
    Event.objects.create(shopper=shopper, product=product, type="click")
    response = shopper_api.delete(ME)
    assert response.status_code == 200
    assert response.json() == {"erased": True, "kept": []}
    assert not ShopperProfile.objects.filter(pk=shopper.pk).exists()
    assert not ShopperToken.objects.filter(shopper_id=shopper.pk).exists()
    assert Event.objects.get().shopper_id is None  # kept for statistics, unlinked
    assert shopper_api.get(ME).status_code == 401


def test_a_token_reaches_only_its_own_shopper(shopper_api, shopper_and_token):
    # given another shopper with a profile and events
    other, _other_token = shopper_create_anonymous()
    RegionFactory(code="IN")
    product = ProductFactory()
    Event.objects.create(shopper=other, product=product, type="view")
    # when the first shopper reads, exports, changes and erases "me"
    export = shopper_api.get(f"{ME}export/").json()
    shopper_api.patch(ME, {"region": "IN", "gender": "m"}, format="json")
    shopper_api.delete(ME)
    # then the other shopper's data was never read nor touched
    assert export["events"] == []
    assert export["profile"]["id"] != str(other.public_id)
    other.refresh_from_db()
    assert other.region_id is None and other.gender == ""
    assert Event.objects.filter(shopper=other).count() == 1


def test_there_is_no_way_to_address_another_shopper_by_id(shopper_api):
    other, _token = shopper_create_anonymous()
    response = shopper_api.get(f"/api/v1/shoppers/{other.public_id}/")
    assert_error(response, 404, "not_found")


def test_cookie_shopper_must_send_the_csrf_token_for_writes(client, shopper_and_token):
    # given a browser that got its shopper cookie from a page
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.get("/")  # sets the sid cookie (and the CSRF cookie)
    response = browser.patch(ME, {"gender": "f"}, content_type="application/json")
    assert_error(response, 403, "permission_denied")
    token = browser.cookies["csrftoken"].value
    response = browser.patch(ME, {"gender": "f"}, content_type="application/json",
                             HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200, response.content
    assert response.json()["gender"] == "f"
