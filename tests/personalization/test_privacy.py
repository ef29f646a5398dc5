"""Export returns every row held about a shopper; erasure leaves nothing that identifies them."""

import json
from datetime import UTC, datetime

import pytest

from personalization import privacy
from personalization.models import Event, ShopperProfile, ShopperToken
from personalization.services import (
    events_record_batch,
    shopper_create_anonymous,
    shopper_erase,
    shopper_export,
    shopper_from_token,
    shopper_link_user,
    shopper_order_placed,
    shopper_profile_update,
    shopper_token_create,
)
from tests.factories import ProductFactory, RegionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def hooks(monkeypatch):
    """Give each test empty registries, so hooks never leak between tests."""
    monkeypatch.setattr(privacy, "_exporters", {})
    monkeypatch.setattr(privacy, "_erasers", [])
    monkeypatch.setattr(privacy, "_mergers", [])
    return privacy


@pytest.fixture
def busy_shopper():
    RegionFactory(code="IN", name="India")
    shopper, token = shopper_create_anonymous(user=UserFactory(username="asha"))
    shopper_token_create(shopper=shopper)
    shopper_profile_update(shopper=shopper, region_code="IN", age_band="18-24", gender="f")
    product = ProductFactory(title="Steel tiffin")
    events_record_batch(shopper=shopper, events=[
        {"product_id": product.pk, "type": "view", "client_event_id": "c-1"},
        {"product_id": product.pk, "type": "cart", "client_event_id": "c-2"},
    ])
    shopper_order_placed(shopper=shopper, order_id=42, product_ids=[product.pk],
                         placed_at=datetime(2026, 11, 1, 15, 30, 12, tzinfo=UTC))
    return shopper, token, product


def test_export_holds_every_row_and_is_json(busy_shopper, hooks):
    shopper, token, product = busy_shopper
    hooks.register_exporter("orders", lambda s: [{"id": 42, "shopper": str(s.public_id)}])

    data = shopper_export(shopper=shopper)

    text = json.dumps(data)  # raises if anything is not serialisable
    assert data["profile"]["id"] == str(shopper.public_id)
    assert data["profile"]["account"] == "asha"
    assert (data["profile"]["region"], data["profile"]["age_band"], data["profile"]["gender"]) == (
        "IN", "18-24", "f"
    )
    assert data["profile"]["orders_count"] == 1
    assert len(data["tokens"]) == ShopperToken.objects.filter(shopper=shopper).count() == 2
    assert sorted(e["type"] for e in data["events"]) == ["cart", "purchase", "view"]
    assert len(data["events"]) == Event.objects.filter(shopper=shopper).count()
    assert {e["product"] for e in data["events"]} == {"Steel tiffin"}
    assert data["orders"] == [{"id": 42, "shopper": str(shopper.public_id)}]
    # Credentials are not data about the shopper: no token or hash leaks out.
    assert token not in text
    for key_hash in ShopperToken.objects.values_list("key_hash", flat=True):
        assert key_hash not in text


def test_export_section_names_cannot_shadow_ours(hooks):
    with pytest.raises(ValueError, match="reserved"):
        hooks.register_exporter("events", lambda s: [])


def test_after_erasure_nothing_identifies_the_shopper(busy_shopper, hooks):
    shopper, token, product = busy_shopper
    erased = []
    hooks.register_eraser(lambda s: erased.append(s.public_id))
    bystander = shopper_create_anonymous()[0]
    events_record_batch(shopper=bystander, events=[
        {"product_id": product.pk, "type": "view", "client_event_id": "c-1"}
    ])

    shopper_erase(shopper=shopper)

    assert erased == [shopper.public_id]
    assert not ShopperProfile.objects.filter(pk=shopper.pk).exists()
    assert not ShopperToken.objects.filter(shopper_id=shopper.pk).exists()
    assert not Event.objects.filter(shopper_id=shopper.pk).exists()
    assert not Event.objects.filter(client_event_id__in=["c-2", f"order:42:{product.pk}"]).exists()
    # The events stay for aggregate popularity, unlinked and cut to the day.
    anonymous = Event.objects.filter(shopper__isnull=True)
    assert sorted(anonymous.values_list("type", flat=True)) == ["cart", "purchase", "view"]
    assert set(anonymous.values_list("client_event_id", flat=True)) == {None}
    purchase = anonymous.get(type="purchase")
    assert purchase.created_at == datetime(2026, 11, 1, tzinfo=UTC)
    # Other shoppers keep everything.
    assert Event.objects.get(shopper=bystander).client_event_id == "c-1"
    assert shopper_from_token(token) is None


def test_erasing_twice_is_harmless(busy_shopper, hooks):
    shopper = busy_shopper[0]
    shopper_erase(shopper=shopper)

    shopper_erase(shopper=shopper)

    assert not ShopperProfile.objects.filter(pk=shopper.pk).exists()


def test_failing_eraser_rolls_everything_back(busy_shopper, hooks):
    shopper = busy_shopper[0]

    def broken(s):
        raise RuntimeError("orders table is locked")

    hooks.register_eraser(broken)

    with pytest.raises(RuntimeError):
        shopper_erase(shopper=shopper)

    assert ShopperProfile.objects.filter(pk=shopper.pk).exists()
    assert Event.objects.filter(shopper=shopper).count() == 3


def test_merging_calls_other_apps_and_keeps_the_stricter_consent(hooks):
    user = UserFactory()
    own = ShopperProfile.objects.create(user=user)
    anonymous = shopper_create_anonymous()[0]
    shopper_profile_update(shopper=anonymous, consent_personalization=False, gender="x")
    moved = []
    hooks.register_merger(lambda source, target: moved.append((source.pk, target.pk)))

    result = shopper_link_user(shopper=anonymous, user=user)

    assert result == own
    assert moved == [(anonymous.pk, own.pk)]
    own.refresh_from_db()
    assert (own.consent_personalization, own.gender) == (False, "x")
    assert own.tokens.count() == 1  # the app's token now opens the merged profile


# --- Admin: staff only, read-only, privacy actions --------------------------------------

CHANGELIST = "/admin/personalization/shopperprofile/"


@pytest.fixture
def staff_client(client):
    from django.contrib.auth.models import Permission

    user = UserFactory(is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(
        codename__in=["view_shopperprofile", "delete_shopperprofile", "view_event"]))
    client.force_login(user)
    return client


def test_sellers_never_see_shoppers_in_the_admin(client, busy_shopper):
    from django.contrib.auth.models import Permission

    from tests.factories import SellerFactory

    seller = SellerFactory()
    # Even a seller wrongly given the permission is refused.
    seller.user.user_permissions.add(Permission.objects.get(codename="view_shopperprofile"))
    client.force_login(seller.user)

    assert client.get(CHANGELIST).status_code == 403
    assert client.get("/admin/personalization/event/").status_code == 403
    assert b"personalization" not in client.get("/admin/").content.lower()


def test_staff_see_shoppers_read_only(staff_client, busy_shopper):
    shopper = busy_shopper[0]

    listing = staff_client.get(CHANGELIST)
    detail = staff_client.get(f"{CHANGELIST}{shopper.pk}/change/")
    posted = staff_client.post(f"{CHANGELIST}{shopper.pk}/change/", {"gender": "m"})

    assert listing.status_code == 200 and str(shopper.public_id) in listing.content.decode()
    assert detail.status_code == 200
    assert posted.status_code == 403
    assert staff_client.get(f"{CHANGELIST}add/").status_code == 403
    assert ShopperProfile.objects.get(pk=shopper.pk).gender == "f"
    assert "key_hash" not in detail.content.decode()


@pytest.mark.parametrize("n", [2, 20])
def test_admin_shopper_list_query_count_is_flat(staff_client, django_assert_max_num_queries, n):
    RegionFactory(code="IN")
    for _ in range(n):
        shopper_profile_update(shopper=shopper_create_anonymous()[0], region_code="IN")

    # session, user, seller?, Sellers group?, user perms, group perms, count, profiles+regions
    with django_assert_max_num_queries(8):
        assert staff_client.get(CHANGELIST).status_code == 200


def test_admin_export_and_erase_actions_use_the_services(staff_client, busy_shopper, hooks):
    shopper = busy_shopper[0]

    exported = staff_client.post(CHANGELIST, {"action": "export_json",
                                              "_selected_action": [shopper.pk]})
    erased = staff_client.post(CHANGELIST, {"action": "erase",
                                            "_selected_action": [shopper.pk]})

    assert exported["Content-Type"].startswith("application/json")
    data = json.loads(exported.content)
    assert len(data[str(shopper.public_id)]["events"]) == 3
    assert erased.status_code == 302
    assert not ShopperProfile.objects.filter(pk=shopper.pk).exists()
    assert Event.objects.filter(shopper__isnull=True).count() == 3


def test_after_erasure_no_table_of_any_app_points_at_the_shopper(busy_shopper):
    # Every app's real hooks stay registered here (no `hooks` fixture): a table
    # added later with a shopper foreign key is checked too.
    shopper = busy_shopper[0]
    pk = shopper.pk
    relations = [rel for rel in ShopperProfile._meta.related_objects if rel.field.concrete]

    shopper_erase(shopper=shopper)

    assert relations  # events, tokens, and whatever other apps added
    for rel in relations:
        model = rel.related_model
        assert not model._base_manager.filter(**{rel.field.attname: pk}).exists(), model
