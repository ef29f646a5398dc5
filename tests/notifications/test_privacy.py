"""Export, erasure and sign-in merge include notifications (personalization.privacy hooks)."""

from __future__ import annotations

import json

import pytest

from notifications import services
from notifications.models import (
    Kind,
    Notification,
    NotificationEvent,
    Preference,
    PushSubscription,
)
from personalization.services import (
    shopper_create,
    shopper_erase,
    shopper_export,
    shopper_link_user,
)
from tests.factories import UserFactory

from .conftest import NOON_IST
from .test_api import AUTH, P256DH

pytestmark = pytest.mark.django_db


def given_a_shopper_with_everything(shopper, key="k"):
    note = services.notification_send(shopper=shopper, kind=Kind.ORDER_SHIPPED, title="Shipped",
                                      body="Keep ₹499 ready", link="/orders/", dedupe_key=key,
                                      now=NOON_IST)
    services.notification_mark_read(shopper=shopper, notification_id=note.pk)
    services.kind_stop(shopper=shopper, kind=Kind.CAMPAIGN)
    services.push_subscribe(shopper=shopper, endpoint=f"https://push.example.net/{key}",
                            p256dh=P256DH, auth=AUTH)
    return note


def test_export_includes_messages_preferences_subscriptions_and_events(shopper):
    given_a_shopper_with_everything(shopper)
    data = json.loads(json.dumps(shopper_export(shopper=shopper)))["notifications"]
    assert [(n["title"], n["body"], n["status"]) for n in data["notifications"]] == [
        ("Shipped", "Keep ₹499 ready", "sent")]
    assert data["notifications"][0]["read_at"] is not None
    assert data["preferences"] == {"webpush": True, "sms": False, "muted_kinds": ["campaign"]}
    assert data["push_subscriptions"][0]["endpoint"] == "https://push.example.net/k"
    assert "p256dh" not in data["push_subscriptions"][0]
    assert {e["type"] for e in data["events"]} == {"sent", "opened", "opted_out"}


def test_erasure_deletes_the_rows_and_unlinks_the_events(shopper):
    given_a_shopper_with_everything(shopper)
    events = NotificationEvent.objects.count()
    shopper_erase(shopper=shopper)
    assert not Notification.objects.exists()
    assert not Preference.objects.exists()
    assert not PushSubscription.objects.exists()
    assert NotificationEvent.objects.count() == events
    assert not NotificationEvent.objects.filter(shopper__isnull=False).exists()


def test_signing_in_merges_the_anonymous_inbox_into_the_accounts(db):
    user = UserFactory()
    account = shopper_link_user(shopper=shopper_create(), user=user)
    services.preference_update(shopper=account, sms=True)
    services.notification_send(shopper=account, kind=Kind.ORDER_SHIPPED, title="Same key",
                               body="b", dedupe_key="shared", now=NOON_IST)
    anonymous = shopper_create()
    given_a_shopper_with_everything(anonymous, key="anon")
    services.notification_send(shopper=anonymous, kind=Kind.ORDER_SHIPPED, title="Dup",
                               body="b", dedupe_key="shared", now=NOON_IST)
    merged = shopper_link_user(shopper=anonymous, user=user)
    assert merged.pk == account.pk
    assert sorted(Notification.objects.filter(shopper=account).values_list("title", flat=True)) \
        == ["Same key", "Shipped"]
    assert PushSubscription.objects.get().shopper_id == account.pk
    assert Preference.objects.get().sms is True  # the account's choices win
