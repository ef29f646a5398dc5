"""Shopper profiles: anonymous creation, tokens, validated updates, settings."""

import io
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management import call_command
from django.utils import timezone

from personalization.conf import get_config
from personalization.models import Event, ShopperProfile, ShopperToken
from personalization.selectors_profiles import shopper_get, shoppers_by_ref
from personalization.services import (
    shopper_create_anonymous,
    shopper_from_token,
    shopper_profile_update,
)
from tests.factories import ProductFactory, RegionFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_anonymous_profile_holds_no_personal_data_and_a_token_stored_hashed():
    shopper, token = shopper_create_anonymous()

    assert (shopper.region, shopper.age_band, shopper.gender, shopper.language) == (
        None, "", "", ""
    )
    assert shopper.consent_personalization is True
    assert shopper.consent_analytics is False
    assert shopper.lifecycle_stage == "new"
    stored = ShopperToken.objects.get(shopper=shopper)
    assert token not in stored.key_hash and len(stored.key_hash) == 64
    assert shopper_from_token(token) == shopper


@pytest.mark.parametrize("token", ["", "nope", "x" * 500])
def test_unknown_token_finds_nobody(token):
    shopper_create_anonymous()

    assert shopper_from_token(token) is None


def test_update_sets_the_given_fields_and_leaves_the_others():
    region = RegionFactory(code="IN")
    shopper, _token = shopper_create_anonymous()
    shopper_profile_update(shopper=shopper, gender="f", language="hi")

    shopper_profile_update(shopper=shopper, region_code="IN", age_band="25-34")

    stored = ShopperProfile.objects.get(pk=shopper.pk)
    assert (stored.region, stored.age_band, stored.gender, stored.language) == (
        region, "25-34", "f", "hi"
    )


def test_update_with_none_or_empty_clears_a_field():
    RegionFactory(code="IN")
    shopper, _token = shopper_create_anonymous()
    shopper_profile_update(shopper=shopper, region_code="IN", gender="m")

    shopper_profile_update(shopper=shopper, region_code=None, gender="")

    stored = ShopperProfile.objects.get(pk=shopper.pk)
    assert (stored.region, stored.gender) == (None, "")


def test_invalid_update_reports_every_field_and_writes_nothing():
    RegionFactory(code="IN")
    shopper, _token = shopper_create_anonymous()
    shopper_profile_update(shopper=shopper, gender="f")

    with pytest.raises(ValidationError) as raised:
        shopper_profile_update(
            shopper=shopper, region_code="ZZ", age_band="30", gender="q", language="xx",
            consent_personalization="yes", consent_analytics=1,
        )

    assert set(raised.value.message_dict) == {
        "region_code", "age_band", "gender", "language", "consent_personalization",
        "consent_analytics",
    }
    assert "ZZ" in raised.value.message_dict["region_code"][0]
    stored = ShopperProfile.objects.get(pk=shopper.pk)
    assert (stored.region, stored.age_band, stored.gender, stored.language) == (None, "", "f", "")


def test_consent_can_be_withdrawn():
    shopper, _token = shopper_create_anonymous()

    shopper_profile_update(shopper=shopper, consent_personalization=False)

    assert ShopperProfile.objects.get(pk=shopper.pk).consent_personalization is False


def test_shoppers_are_found_by_csv_id_or_public_id():
    imported = ShopperProfile.objects.create(external_id="S1")
    site, _token = shopper_create_anonymous()

    found = shoppers_by_ref(refs=["S1", str(site.public_id), "nobody", "not-a-uuid"])

    assert found == {"S1": imported, str(site.public_id): site}
    assert shopper_get(public_id="not-a-uuid") is None
    assert shopper_get(public_id=site.public_id) == site


def test_settings_override_and_typos_are_caught(settings):
    settings.PERSONALIZATION = {"HABIT_ORDERS": 5}
    assert get_config()["HABIT_ORDERS"] == 5
    assert get_config()["DORMANT_AFTER_DAYS"] == 30

    settings.PERSONALIZATION = {"HABBIT_ORDERS": 5}
    with pytest.raises(ImproperlyConfigured, match="HABBIT_ORDERS"):
        get_config()

    settings.PERSONALIZATION = {"EVENT_WEIGHTS": {"view": 1, "click": 1, "cart": 2, "share": 3,
                                                  "purchase": 4}}
    with pytest.raises(ImproperlyConfigured, match="increase"):
        get_config()


def test_abandoned_anonymous_profiles_are_purged_and_their_events_unlinked():
    long_ago = timezone.now() - timedelta(days=181)
    crawler = ShopperProfile.objects.create(last_seen_at=long_ago)
    product = ProductFactory()
    Event.objects.create(shopper=crawler, product=product, type="view", client_event_id="c1")
    recent = ShopperProfile.objects.create(last_seen_at=timezone.now() - timedelta(days=179))
    customer = ShopperProfile.objects.create(last_seen_at=long_ago, orders_count=1)
    member = ShopperProfile.objects.create(last_seen_at=long_ago, user=UserFactory())
    imported = ShopperProfile.objects.create(last_seen_at=long_ago, external_id="S1")
    out = io.StringIO()

    call_command("purge_shoppers", stdout=out)

    assert "1 abandoned" in out.getvalue()
    remaining = set(ShopperProfile.objects.values_list("pk", flat=True))
    assert remaining == {recent.pk, customer.pk, member.pk, imported.pk}
    event = Event.objects.get()
    assert (event.shopper_id, event.client_event_id) == (None, None)
