"""Making and sending notifications: idempotency, caps, quiet hours, preferences, channels."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError

from notifications import services, volume
from notifications.channels import ChannelResult, MessageProvider
from notifications.models import (
    Delivery,
    Kind,
    Notification,
    NotificationEvent,
    SegmentCap,
)
from personalization.services import shopper_create
from tests.factories import RegionFactory

from .conftest import NOON_IST

pytestmark = pytest.mark.django_db

Status, Reason = Notification.Status, Notification.Reason


def send(shopper, kind=Kind.CAMPAIGN, key="k1", now=NOON_IST, **extra):
    return services.notification_send(shopper=shopper, kind=kind, title="Hello", body="Body",
                                      link="/", dedupe_key=key, now=now, **extra)


def test_the_same_dedupe_key_never_makes_a_second_notification(pune_shopper):
    first = send(pune_shopper)
    again = send(pune_shopper)
    assert again.pk == first.pk
    assert Notification.objects.count() == 1
    assert NotificationEvent.objects.filter(type="sent").count() == 1


def test_cap_of_5_a_day_sends_5_of_20_triggers_and_drops_the_rest(pune_shopper, settings):
    settings.NOTIFICATIONS = {"DAILY_CAP": 5, "WEEKLY_CAP": 100}
    for i in range(20):
        send(pune_shopper, key=f"campaign-{i}", now=NOON_IST + dt.timedelta(minutes=i))
    by_status = {s: Notification.objects.filter(status=s).count() for s in Status.values}
    assert by_status == {"sent": 5, "deferred": 0, "dropped": 15}
    assert set(Notification.objects.filter(status="dropped").values_list("reason", flat=True)) \
        == {"daily_cap"}
    assert NotificationEvent.objects.filter(type="dropped", detail="daily_cap").count() == 15


def test_cap_of_5_a_day_sends_5_of_20_back_in_stock_triggers_and_queues_the_rest(
        pune_shopper, settings):
    # Deferrable kinds (DEFERRABLE_KINDS, docs/OPERATIONS.md) wait instead of dropping.
    settings.NOTIFICATIONS = {"DAILY_CAP": 5, "WEEKLY_CAP": 100}
    for i in range(20):
        send(pune_shopper, kind=Kind.BACK_IN_STOCK, key=f"stock-{i}",
             now=NOON_IST + dt.timedelta(minutes=i))
    by_status = {s: Notification.objects.filter(status=s).count() for s in Status.values}
    assert by_status == {"sent": 5, "deferred": 15, "dropped": 0}
    # All 15 wait for 08:00 in Kolkata the next day (02:30 UTC), none sent before.
    assert set(Notification.objects.filter(status="deferred").values_list(
        "reason", "send_after")) == {("daily_cap", dt.datetime(2026, 12, 4, 2, 30, tzinfo=dt.UTC))}
    assert services.notifications_deferred_release(
        now=dt.datetime(2026, 12, 4, 2, 0, tzinfo=dt.UTC)) == []
    # Next morning the day's cap applies again: 5 more go, the rest wait a day more.
    released = services.notifications_deferred_release(
        now=dt.datetime(2026, 12, 4, 3, 0, tzinfo=dt.UTC))
    assert len(released) == 5
    assert Notification.objects.filter(status="deferred").count() == 10


def test_a_deferrable_kind_over_the_daily_cap_waits_for_the_next_local_morning(
        pune_shopper, settings):
    settings.NOTIFICATIONS = {"DAILY_CAP": 1}
    send(pune_shopper, key="a")
    held = send(pune_shopper, kind=Kind.BACK_IN_STOCK, key="b")
    assert (held.status, held.reason) == ("deferred", "daily_cap")
    # 08:00 in Kolkata on the next day is 02:30 UTC.
    assert held.send_after == dt.datetime(2026, 12, 4, 2, 30, tzinfo=dt.UTC)


def test_order_updates_are_never_capped(pune_shopper, settings):
    settings.NOTIFICATIONS = {"DAILY_CAP": 1}
    for i in range(4):
        send(pune_shopper, kind=Kind.ORDER_SHIPPED, key=f"o{i}")
    assert Notification.objects.filter(status="sent").count() == 4
    # And they do not use up the day's allowance of other messages.
    assert send(pune_shopper, key="c").status == "sent"


def test_weekly_cap_drops(pune_shopper, settings):
    settings.NOTIFICATIONS = {"DAILY_CAP": 10, "WEEKLY_CAP": 3}
    for day in range(4):
        send(pune_shopper, key=f"d{day}", now=NOON_IST - dt.timedelta(days=day))
    last = send(pune_shopper, key="late", now=NOON_IST + dt.timedelta(hours=1))
    assert (last.status, last.reason) == ("dropped", "weekly_cap")


def test_nothing_is_sent_in_quiet_hours_of_the_regions_time_zone(pune_shopper):
    late = dt.datetime(2026, 12, 3, 17, 0, tzinfo=dt.UTC)  # 22:30 in Kolkata
    held = send(pune_shopper, now=late)
    assert (held.status, held.reason, held.sent_at) == ("deferred", "quiet_hours", None)
    assert held.send_after == dt.datetime(2026, 12, 4, 2, 30, tzinfo=dt.UTC)
    assert not Delivery.objects.exists()
    # Released once the quiet hours are over, not before.
    assert services.notifications_deferred_release(now=late + dt.timedelta(hours=1)) == []
    assert services.notifications_deferred_release(
        now=dt.datetime(2026, 12, 4, 3, 0, tzinfo=dt.UTC)) == [held.pk]
    held.refresh_from_db()
    assert held.status == "sent"
    assert list(NotificationEvent.objects.order_by("id").values_list("type", flat=True)) == [
        "deferred", "sent"]


def test_quiet_hours_follow_the_shoppers_own_zone(regions, pune_shopper):
    dubai = regions["AE-DU"]
    dubai.time_zone = "Asia/Dubai"
    dubai.save()
    pune_shopper.region = dubai
    pune_shopper.save()
    at = dt.datetime(2026, 12, 3, 16, 30, tzinfo=dt.UTC)  # 20:30 Dubai, 22:00 Kolkata
    assert send(pune_shopper, now=at).status == "sent"


def test_a_region_without_a_zone_inherits_its_ancestors(regions):
    india = regions["IN"]
    india.time_zone = "Asia/Kolkata"
    india.save()
    goa = RegionFactory(code="IN-GA", kind="state", parent=india)
    assert goa.time_zone == "Asia/Kolkata"  # copied on save, like the currency
    # Regions saved before catalog 0004 have none: the nearest ancestor's is used.
    pune = regions["IN-MH-PUN"]
    assert pune.time_zone == ""
    profile = shopper_create()
    profile.region = pune
    assert str(volume.shopper_time_zone(profile)) == "Asia/Kolkata"


def test_region_refuses_an_unknown_time_zone(regions):
    region = regions["IN"]
    region.time_zone = "Mars/Olympus"
    with pytest.raises(ValidationError) as exc:
        region.full_clean()
    assert "time_zone" in exc.value.message_dict


def test_the_most_specific_segment_cap_wins(pune_shopper, settings):
    settings.NOTIFICATIONS = {"DAILY_CAP": 5}
    SegmentCap.objects.create(segment_key="r:IN", daily_cap=2, weekly_cap=10)
    SegmentCap.objects.create(segment_key="r:IN-MH-PUN", daily_cap=1, weekly_cap=10)
    assert volume.caps_for(pune_shopper) == (1, 10)
    send(pune_shopper, key="a")
    assert send(pune_shopper, key="b").reason == "daily_cap"


def test_a_stopped_kind_is_dropped_as_opted_out(pune_shopper):
    services.kind_stop(shopper=pune_shopper, kind=Kind.PRICE_DROP)
    dropped = send(pune_shopper, kind=Kind.PRICE_DROP)
    assert (dropped.status, dropped.reason) == ("dropped", "opted_out")
    assert NotificationEvent.objects.filter(type="opted_out", kind="price_drop").count() == 1


def test_stopped_order_updates_still_reach_the_inbox_but_nothing_else(pune_shopper, settings):
    settings.NOTIFICATIONS = {"SMS_PROVIDER": f"{__name__}.RecordingProvider"}
    services.preference_update(shopper=pune_shopper, sms=True)
    services.kind_stop(shopper=pune_shopper, kind=Kind.ORDER_SHIPPED)
    RecordingProvider.sent.clear()
    note = send(pune_shopper, kind=Kind.ORDER_SHIPPED)
    services.notification_deliver(notification_id=note.pk)
    assert note.status == "sent"
    assert list(note.deliveries.values_list("channel", flat=True)) == ["inbox"]
    assert RecordingProvider.sent == []


class RecordingProvider(MessageProvider):
    sent: list = []

    def send(self, *, notification):
        self.sent.append((notification.title, self.options))
        return ChannelResult("sent", "gateway ok", 1)


class NotAProvider:
    pass


def test_an_sms_provider_plugged_in_by_dotted_path_gets_opted_in_messages(
        pune_shopper, settings):
    settings.NOTIFICATIONS = {"SMS_PROVIDER": f"{__name__}.RecordingProvider",
                              "SMS_PROVIDER_OPTIONS": {"sender": "SHOP"}}
    RecordingProvider.sent.clear()
    first = send(pune_shopper, kind=Kind.ORDER_SHIPPED, key="before-opt-in")
    services.notification_deliver(notification_id=first.pk)
    assert RecordingProvider.sent == []  # SMS is opt-in
    services.preference_update(shopper=pune_shopper, sms=True)
    note = send(pune_shopper, kind=Kind.ORDER_SHIPPED, key="after")
    services.notification_deliver(notification_id=note.pk)
    services.notification_deliver(notification_id=note.pk)  # a retried task
    assert RecordingProvider.sent == [("Hello", {"sender": "SHOP"})]
    assert note.deliveries.get(channel="sms").detail == "gateway ok"


def test_a_bad_provider_path_is_a_configuration_error(pune_shopper, settings):
    note = send(pune_shopper)
    services.preference_update(shopper=pune_shopper, sms=True)
    for path in ("nowhere.Provider", f"{__name__}.NotAProvider"):
        settings.NOTIFICATIONS = {"SMS_PROVIDER": path}
        with pytest.raises(ImproperlyConfigured):
            services.notification_deliver(notification_id=note.pk)


def test_links_must_stay_on_the_shop(pune_shopper):
    for link in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        with pytest.raises(ValidationError):
            services.notification_send(shopper=pune_shopper, kind=Kind.CAMPAIGN, title="t",
                                       body="b", link=link, dedupe_key=link)
    assert not Notification.objects.exists()


def test_the_scheduled_task_releases_what_is_due(pune_shopper, settings):
    from notifications.tasks import notifications_deferred_send

    assert settings.SHOP_TASK_SCHEDULE["notifications_deferred_send"]["task"] == \
        "notifications.tasks.notifications_deferred_send"
    held = send(pune_shopper, now=dt.datetime(2026, 12, 3, 17, 0, tzinfo=dt.UTC))
    Notification.objects.filter(pk=held.pk).update(
        send_after=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    # The task decides at the real time: no quiet hours, whenever the suite runs.
    settings.NOTIFICATIONS = {"QUIET_HOURS": (0, 0)}
    assert notifications_deferred_send.call() == 1
    held.refresh_from_db()
    assert held.status == "sent"
    assert notifications_deferred_send.call() == 0
