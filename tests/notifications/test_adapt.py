"""Adaptive caps: a segment's cap drops when its opt-out rate crosses the threshold."""

from __future__ import annotations

import datetime as dt

import pytest

from notifications import adapt, volume
from notifications.conf import get_config
from notifications.models import NotificationEvent, SegmentCap
from notifications.tasks import segment_caps_adapt_task
from personalization.services import shopper_create

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 3, 6, 0, tzinfo=dt.UTC)


def reach(region, *, shoppers: int, sent_each: int, opted_out: int = 0, clicked: int = 0):
    """Record `sent_each` campaign sends to each of `shoppers` new shoppers in `region`."""
    people = []
    for _ in range(shoppers):
        profile = shopper_create()
        profile.region = region
        profile.save()
        people.append(profile)
    events = [NotificationEvent(shopper=p, type="sent", kind="campaign", channel="inbox",
                                occurred_at=NOW - dt.timedelta(days=1))
              for p in people for _ in range(sent_each)]
    events += [NotificationEvent(shopper=people[i % shoppers], type="opted_out",
                                 kind="campaign", occurred_at=NOW) for i in range(opted_out)]
    events += [NotificationEvent(shopper=people[i % shoppers], type="clicked", kind="campaign",
                                 channel="webpush", occurred_at=NOW) for i in range(clicked)]
    NotificationEvent.objects.bulk_create(events)
    return people


@pytest.fixture
def small_k(settings):
    settings.PERSONALIZATION = {"K_THRESHOLD": 5}


def test_a_segments_cap_drops_once_its_opt_out_rate_crosses_the_threshold(regions, small_k):
    pune = regions["IN-MH-PUN"]
    people = reach(pune, shoppers=5, sent_each=20, opted_out=1)  # 1 per 100: below 2%
    assert adapt.segment_caps_adapt(now=NOW) == []
    NotificationEvent.objects.bulk_create(
        NotificationEvent(shopper=people[0], type="opted_out", kind="campaign", occurred_at=NOW)
        for _ in range(2))  # 3 per 100: above
    [change] = adapt.segment_caps_adapt(now=NOW)
    assert (change.segment_key, change.old_daily, change.new_daily) == ("r:IN-MH-PUN", 5, 4)
    cap = SegmentCap.objects.get()
    assert (cap.daily_cap, cap.weekly_cap, cap.source) == (4, 16, "adaptive")
    assert volume.caps_for(people[1]) == (4, 16)
    # It keeps falling while the rate stays high, never below the floor.
    for _ in range(5):
        adapt.segment_caps_adapt(now=NOW)
    assert SegmentCap.objects.get().daily_cap == get_config()["ADAPT_DAILY_MIN"]


def test_a_segment_that_clicks_and_never_opts_out_may_rise_within_bounds(
        regions, small_k, settings):
    settings.NOTIFICATIONS = {"ADAPT_DAILY_MAX": 6}
    reach(regions["IN-KA"], shoppers=5, sent_each=20, clicked=30)
    for _ in range(3):
        adapt.segment_caps_adapt(now=NOW)
    assert SegmentCap.objects.get(segment_key="r:IN-KA").daily_cap == 6


def test_segments_under_k_and_staff_caps_are_left_alone(regions, small_k):
    reach(regions["IN-KA"], shoppers=4, sent_each=20, opted_out=10)
    SegmentCap.objects.create(segment_key="r:AE-DU", daily_cap=9, weekly_cap=30)
    reach(regions["AE-DU"], shoppers=5, sent_each=20, opted_out=10)
    assert segment_caps_adapt_task.call() == 0  # IN-KA under k, AE-DU set by staff
    assert adapt.segment_caps_adapt(now=NOW) == []
    assert list(SegmentCap.objects.values_list("segment_key", "daily_cap", "source")) == [
        ("r:AE-DU", 9, "staff")]


def test_order_updates_do_not_count_as_sends(regions, small_k):
    people = reach(regions["IN-KA"], shoppers=5, sent_each=0, opted_out=1)
    NotificationEvent.objects.bulk_create(
        NotificationEvent(shopper=p, type="sent", kind="order_shipped", occurred_at=NOW)
        for p in people for _ in range(20))
    assert adapt.segment_caps_adapt(now=NOW) == []


def test_next_daily_cap_is_pure_arithmetic():
    config = {"ADAPT_OPT_OUT_HIGH": 0.02, "ADAPT_OPT_OUT_LOW": 0.005, "ADAPT_CTR_HIGH": 0.1,
              "ADAPT_DAILY_MIN": 2, "ADAPT_DAILY_MAX": 16}
    assert adapt.next_daily_cap(current=5, sent=100, opted_out=3, clicked=50,
                                config=config) == 4
    assert adapt.next_daily_cap(current=5, sent=100, opted_out=0, clicked=11,
                                config=config) == 6
    assert adapt.next_daily_cap(current=5, sent=100, opted_out=1, clicked=11,
                                config=config) == 5
    assert adapt.next_daily_cap(current=5, sent=0, opted_out=0, clicked=0, config=config) == 5


def test_micro_segments_get_their_own_caps_where_they_differ_from_their_region(
        regions, small_k):
    pune = regions["IN-MH-PUN"]
    # Young women: 100 sent, 5 stops (5%); men 25-34: 100 sent, none, 15 taps (15%).
    women = reach(pune, shoppers=5, sent_each=20, opted_out=5)
    men = reach(pune, shoppers=5, sent_each=20, clicked=15)
    for person in women:
        person.age_band, person.gender = "18-24", "f"
        person.save()
    for person in men:
        person.age_band, person.gender = "25-34", "m"
        person.save()
    changes = {c.segment_key: (c.old_daily, c.new_daily) for c in
               adapt.segment_caps_adapt(now=NOW)}
    # The region as a whole stops 5 in 200 (2.5%): it falls. The women's
    # segments judge the same and simply follow it (no rows of their own);
    # the men's tolerate and tap, so theirs rise, against the region's fall.
    assert changes == {"r:IN-MH-PUN": (5, 4), "ra:IN-MH-PUN:25-34": (5, 6),
                       "rg:IN-MH-PUN:m": (5, 6)}
    assert volume.caps_for(women[0]) == (4, 16)
    assert volume.caps_for(men[0]) == (6, 24)
    # The next day the women's region keeps falling; the men's cap stays its own.
    adapt.segment_caps_adapt(now=NOW)
    assert volume.caps_for(women[0]) == (3, 12)
    assert volume.caps_for(men[0])[0] >= 6
