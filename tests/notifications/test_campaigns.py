"""Staff campaigns: lattice audiences, refused under k, sent at each local hour."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from notifications import sendtime, services
from notifications.campaigns import (
    campaign_audience,
    campaign_audience_size,
    campaign_plan,
    campaign_schedule,
)
from notifications.models import Campaign, Notification
from personalization.models import Event
from personalization.services import shopper_create
from tests.factories import CategoryFactory, ProductFactory, SellerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def zoned(regions, settings):
    settings.PERSONALIZATION = {"K_THRESHOLD": 3}
    for code, zone in (("IN", "Asia/Kolkata"), ("AE", "Asia/Dubai")):
        regions[code].time_zone = zone
        regions[code].save()
    return regions


def shoppers(region, n, **fields):
    made = []
    for _ in range(n):
        profile = shopper_create()
        profile.region = region
        for name, value in fields.items():
            setattr(profile, name, value)
        profile.save()
        made.append(profile)
    return made


def campaign(**fields):
    defaults = {"name": "Diwali", "title": "Lamps from ₹99", "body": "Cash on delivery.",
                "link": "/c/home/", "send_on": dt.date(2026, 12, 10), "send_hour": 11}
    return Campaign.objects.create(**{**defaults, **fields})


def test_an_audience_under_k_is_refused_and_nothing_is_planned(zoned, staff):
    shoppers(zoned["IN-MH-PUN"], 2, gender="f")
    shoppers(zoned["IN-KA"], 5, gender="f")
    small = campaign(region=zoned["IN-MH"], gender="f")
    assert campaign_audience_size(small) == 2
    with pytest.raises(ValidationError) as exc:
        campaign_schedule(campaign=small, actor=staff)
    assert "campaigns need at least 3" in exc.value.messages[0]
    small.refresh_from_db()
    assert small.status == "draft" and not Notification.objects.exists()


def test_only_staff_schedule(zoned):
    shoppers(zoned["IN-KA"], 3)
    with pytest.raises(PermissionDenied):
        campaign_schedule(campaign=campaign(), actor=SellerFactory().user)


def test_a_campaign_goes_out_at_the_same_local_hour_in_each_zone(zoned, staff):
    india = shoppers(zoned["IN-MH-PUN"], 2)
    dubai = shoppers(zoned["AE-DU"], 2)
    planned = campaign()
    assert campaign_schedule(campaign=planned, actor=staff) == 4  # the task ran (immediate)
    planned.refresh_from_db()
    assert (planned.status, planned.planned_count) == ("planned", 4)
    due = dict(Notification.objects.values_list("shopper_id", "send_after"))
    # 11:00 in Kolkata is 05:30 UTC; in Dubai 07:00 UTC.
    assert {due[p.pk] for p in india} == {dt.datetime(2026, 12, 10, 5, 30, tzinfo=dt.UTC)}
    assert {due[p.pk] for p in dubai} == {dt.datetime(2026, 12, 10, 7, 0, tzinfo=dt.UTC)}
    # Planning again (a retried task) adds nothing.
    assert campaign_plan(campaign_id=planned.pk) == 4
    assert Notification.objects.count() == 4
    # At 06:00 UTC only India's are due.
    sent = services.notifications_deferred_release(
        now=dt.datetime(2026, 12, 10, 6, 0, tzinfo=dt.UTC))
    assert set(Notification.objects.filter(pk__in=sent).values_list("shopper_id", flat=True)) \
        == {p.pk for p in india}


def test_the_release_applies_the_shoppers_stop(zoned, staff):
    people = shoppers(zoned["IN-KA"], 3)
    services.kind_stop(shopper=people[0], kind="campaign")
    campaign_schedule(campaign=campaign(), actor=staff)
    services.notifications_deferred_release(now=dt.datetime(2026, 12, 10, 6, 0, tzinfo=dt.UTC))
    assert dict(Notification.objects.values_list("shopper_id", "reason"))[people[0].pk] \
        == "opted_out"


def test_admin_previews_the_audience_and_schedules(client, zoned, staff):
    shoppers(zoned["IN-KA"], 3, lifecycle_stage="dormant")
    draft = campaign(lifecycle_stage="dormant")
    client.force_login(staff)
    page = client.get(f"/admin/notifications/campaign/{draft.pk}/change/").content.decode()
    assert "3 shoppers" in page
    response = client.post("/admin/notifications/campaign/", {
        "action": "schedule", "_selected_action": [draft.pk]}, follow=True)
    assert "scheduled for 3 shoppers" in response.content.decode()
    assert Notification.objects.filter(dedupe_key=f"campaign:{draft.pk}").count() == 3
    tiny = campaign(name="Tiny", lifecycle_stage="habit")
    response = client.post("/admin/notifications/campaign/", {
        "action": "schedule", "_selected_action": [tiny.pk]}, follow=True)
    assert "campaigns need at least 3" in response.content.decode()


def activity(people, utc_hour: int, n: int = 1, day: dt.date = dt.date(2026, 12, 5)):
    """`n` events per shopper at `utc_hour`:15 UTC on `day` (within the last 28 days)."""
    product = ProductFactory()
    at = dt.datetime.combine(day, dt.time(utc_hour, 15), tzinfo=dt.UTC)
    Event.objects.bulk_create(Event(shopper=p, product=product, type="view", context="feed",
                                    created_at=at) for p in people for _ in range(n))


PLAN_NOW = dt.datetime(2026, 12, 8, 6, 0, tzinfo=dt.UTC)


def planned_hours(draft) -> dict[int, dt.datetime]:
    Campaign.objects.filter(pk=draft.pk).update(status="scheduled")
    campaign_plan(campaign_id=draft.pk, now=PLAN_NOW)
    return dict(Notification.objects.values_list("shopper_id", "send_after"))


def test_active_hour_sends_at_the_segments_busiest_local_hour_outside_quiet_hours(zoned):
    pune = shoppers(zoned["IN-MH-PUN"], 3)
    # 14:xx UTC is counted at its middle, 14:30 UTC = 20:00 in Kolkata.
    activity(pune, 14, n=2)
    # Busier still at 16:xx UTC = 22:00 IST, but that is in the quiet hours.
    activity(pune, 16, n=5)
    due = planned_hours(campaign(active_hour=True))
    # 20:00 in Kolkata on the 10th is 14:30 UTC.
    assert set(due.values()) == {dt.datetime(2026, 12, 10, 14, 30, tzinfo=dt.UTC)}


def test_a_segment_under_k_backs_off_to_the_whole_shops_hour(zoned):
    pune = shoppers(zoned["IN-MH-PUN"], 3)
    dubai = shoppers(zoned["AE-DU"], 2)  # under k = 3
    activity(pune, 2)  # 02:xx UTC is 08:00 IST: the shop's busiest local hour is 8
    activity(dubai, 14)  # 18:30 in Dubai: 18, but only two shoppers
    due = planned_hours(campaign(active_hour=True))
    # Pune: 08:00 IST = 02:30 UTC; Dubai backs off to the shop's hour, 08:00 Dubai = 04:00 UTC.
    assert {due[p.pk] for p in pune} == {dt.datetime(2026, 12, 10, 2, 30, tzinfo=dt.UTC)}
    assert {due[p.pk] for p in dubai} == {dt.datetime(2026, 12, 10, 4, 0, tzinfo=dt.UTC)}


def test_active_hour_with_too_few_active_shoppers_uses_the_campaigns_hour(zoned):
    pune = shoppers(zoned["IN-MH-PUN"], 3)
    activity(pune[:2], 14)  # two active shoppers in the whole shop: under k
    old = shoppers(zoned["IN-MH-PUN"], 3)
    activity(old, 14, day=dt.date(2026, 10, 1))  # older than ACTIVE_HOURS_DAYS
    due = planned_hours(campaign(active_hour=True, send_hour=11))
    assert set(due.values()) == {dt.datetime(2026, 12, 10, 5, 30, tzinfo=dt.UTC)}


def test_shoppers_who_refused_personalisation_do_not_set_the_hour(zoned):
    pune = shoppers(zoned["IN-MH-PUN"], 3, consent_personalization=False)
    activity(pune, 14)
    due = planned_hours(campaign(active_hour=True, send_hour=11))
    assert set(due.values()) == {dt.datetime(2026, 12, 10, 5, 30, tzinfo=dt.UTC)}


@pytest.mark.parametrize(("hour", "quiet"), [(22, True), (7, True), (8, False), (20, False)])
def test_quiet_hours_wrap_midnight(hour, quiet):
    assert sendtime.is_quiet(hour, (21, 8)) is quiet


def test_category_affinity_picks_shoppers_who_engaged_with_it_or_a_category_under_it(
        zoned, staff):
    home = CategoryFactory(name="Home", slug="home")
    lamps = CategoryFactory(name="Lamps", slug="lamps", parent=home)
    phones = CategoryFactory(name="Phones", slug="phones")
    carted, bought, viewed, hid, other, old, refused = shoppers(zoned["IN-KA"], 7)
    refused.consent_personalization = False
    refused.save()
    recent = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    lamp, phone = ProductFactory(category=lamps), ProductFactory(category=phones)
    Event.objects.bulk_create([
        Event(shopper=carted, product=lamp, type="cart", created_at=recent),
        Event(shopper=bought, product=ProductFactory(category=home), type="purchase",
              created_at=recent),
        # A feed card scrolled past, or "not interested", is no affinity.
        Event(shopper=viewed, product=lamp, type="view", created_at=recent),
        Event(shopper=hid, product=lamp, type="hide", created_at=recent),
        Event(shopper=other, product=phone, type="click", created_at=recent),
        # Older than AUDIENCE_AFFINITY_DAYS (90).
        Event(shopper=old, product=lamp, type="click", created_at=recent - dt.timedelta(days=100)),
        Event(shopper=refused, product=lamp, type="click", created_at=recent),
    ])
    draft = campaign(category=home)
    now = dt.datetime(2026, 12, 8, tzinfo=dt.UTC)
    assert set(campaign_audience(draft, now=now)) == {carted, bought}
    # Two shoppers are under k = 3: the category's campaign is refused.
    with pytest.raises(ValidationError):
        campaign_schedule(campaign=draft, actor=staff)
    assert set(campaign_audience(campaign(category=lamps), now=now)) == {carted}
