"""How many non-order messages a shopper may get, and when: caps and quiet hours.

- Caps per local day and per rolling 7 days: `get_config()` defaults, overridden
  by the most specific `SegmentCap` among the shopper's segment lattice keys
  (personalization.lattice: region at each level, age band, gender, language).
- Quiet hours in the time zone of the shopper's region (or the nearest region
  above it that has one; else DEFAULT_TIME_ZONE).
- Order updates are exempt from both: they are what the shopper asked for.

`decide(...)` is the one place the rules meet; it reads two small queries
(the caps and the counts) and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.db.models import Count, Q

from catalog.models import Region
from personalization.lattice import lattice_keys

from .conf import get_config
from .models import ORDER_KINDS, Notification, SegmentCap


@dataclass(frozen=True)
class Decision:
    status: str  # Notification.Status
    reason: str = ""
    send_after: dt.datetime | None = None


def shopper_time_zone(shopper) -> zoneinfo.ZoneInfo:
    """Return the shopper's local zone: their region's, inherited up the tree."""
    fallback = zoneinfo.ZoneInfo(get_config()["DEFAULT_TIME_ZONE"])
    if shopper.region_id is None:
        return fallback
    region = shopper.region
    if region.time_zone:
        return zoneinfo.ZoneInfo(region.time_zone)
    # Regions made before time zones existed (catalog 0004) have none of their own.
    names = dict(Region.objects.filter(code__in=region.ancestor_codes()).exclude(time_zone="")
                 .values_list("code", "time_zone"))
    for code in reversed(region.ancestor_codes()):
        if code in names:
            return zoneinfo.ZoneInfo(names[code])
    return fallback


def quiet_hours_end(now: dt.datetime, tz: zoneinfo.ZoneInfo,
                    hours: tuple[int, int]) -> dt.datetime | None:
    """Return when the quiet hours `now` falls in end (aware, UTC), or None outside them."""
    start, end = hours
    local = now.astimezone(tz)
    hour = local.hour
    quiet = (start <= hour < end) if start < end else (hour >= start or hour < end)
    if start == end or not quiet:
        return None
    day = local.date() if hour < end else local.date() + dt.timedelta(days=1)
    ends = dt.datetime.combine(day, dt.time(end), tzinfo=tz)
    return ends.astimezone(dt.UTC)


def caps_for(shopper) -> tuple[int, int]:
    """Return the shopper's (daily, weekly) caps: the most specific segment's, else defaults."""
    config = get_config()
    region_codes = shopper.region.ancestor_codes() if shopper.region_id else []
    keys = lattice_keys(region_codes=region_codes, age_band=shopper.age_band,
                        gender=shopper.gender, language=shopper.language)
    overrides = {cap.segment_key: cap for cap in SegmentCap.objects.filter(segment_key__in=keys)}
    for key in keys:
        if key in overrides:
            return overrides[key].daily_cap, overrides[key].weekly_cap
    return int(config["DAILY_CAP"]), int(config["WEEKLY_CAP"])


def sent_counts(shopper, *, now: dt.datetime, tz: zoneinfo.ZoneInfo) -> tuple[int, int]:
    """Return the non-order messages sent today (local day) and in the last 7 days."""
    day_start = dt.datetime.combine(now.astimezone(tz).date(), dt.time(), tzinfo=tz)
    week_start = now - dt.timedelta(days=7)
    counts = (
        Notification.objects.filter(shopper=shopper, status=Notification.Status.SENT,
                                    sent_at__gte=min(day_start, week_start))
        .exclude(kind__in=ORDER_KINDS)
        .aggregate(day=Count("pk", filter=Q(sent_at__gte=day_start)),
                   week=Count("pk", filter=Q(sent_at__gte=week_start)))
    )
    return counts["day"], counts["week"]


def decide(*, shopper, kind: str, now: dt.datetime, muted: bool) -> Decision:
    """Return whether a message of `kind` goes out now, waits (until when) or is dropped; why."""
    Status, Reason = Notification.Status, Notification.Reason
    if kind in ORDER_KINDS:
        return Decision(Status.SENT)
    if muted:
        return Decision(Status.DROPPED, Reason.OPTED_OUT)
    config = get_config()
    tz = shopper_time_zone(shopper)
    if (ends := quiet_hours_end(now, tz, tuple(config["QUIET_HOURS"]))) is not None:
        return Decision(Status.DEFERRED, Reason.QUIET_HOURS, ends)
    daily, weekly = caps_for(shopper)
    today, week = sent_counts(shopper, now=now, tz=tz)
    if week >= weekly:
        return Decision(Status.DROPPED, Reason.WEEKLY_CAP)
    if today >= daily:
        if kind not in config["DEFERRABLE_KINDS"]:
            return Decision(Status.DROPPED, Reason.DAILY_CAP)
        tomorrow = now.astimezone(tz).date() + dt.timedelta(days=1)
        # The first hour after the night's quiet hours end, local time.
        wake = dt.datetime.combine(tomorrow, dt.time(config["QUIET_HOURS"][1]), tzinfo=tz)
        return Decision(Status.DEFERRED, Reason.DAILY_CAP, wake.astimezone(dt.UTC))
    return Decision(Status.SENT)
