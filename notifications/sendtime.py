"""Send time from the segment's active hours: the local hour its shoppers use the shop most.

Issue 16: the same message does very differently at different times of day
per segment. So a campaign may ask to go out, for each shopper, at the hour
the shopper's region segment is most active, read from the last
ACTIVE_HOURS_DAYS of personalization events (shoppers who allowed
personalisation only).

- Hours are local: each event's hour is turned into its region's local hour
  (the region's time zone, inherited up the tree) before anything is added up,
  so "8 pm" pooled across zones means 8 pm for each shopper.
- A segment is a region with everything under it; one with fewer than
  K_THRESHOLD distinct active shoppers backs off to its parent, up to the
  whole shop (as the ranking's segments do): a small segment's hours are
  noise, and a send time could single a person out.
- Quiet-hour hours are never chosen; nothing active enough: the campaign's
  own hour (`None` here).

Two grouped queries (events per region and UTC hour; distinct shoppers per
region); the rest is arithmetic on at most 24 counters per region.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Callable

from django.db.models import Count
from django.db.models.functions import ExtractHour

from personalization.conf import get_config as personalization_config
from personalization.models import Event

from .conf import get_config

GLOBAL = ""


def is_quiet(hour: int, quiet: tuple[int, int]) -> bool:
    """Return whether the local `hour` lies in the quiet hours [start, end) (wrapping midnight)."""
    start, end = quiet
    if start == end:
        return False
    return start <= hour < end if start < end else (hour >= start or hour < end)


def busiest_hour(counts: list[int], quiet: tuple[int, int]) -> int | None:
    """Return the busiest hour outside the quiet hours (the earliest on a tie); None if all 0."""
    allowed = [hour for hour in range(24) if not is_quiet(hour, quiet)]
    if not allowed:
        return None
    best = max(allowed, key=lambda hour: (counts[hour], -hour))
    return best if counts[best] else None


def segment_active_hours(
    *, on: dt.date, now: dt.datetime, ancestry: dict[int, tuple[str, ...]],
    zone_for: Callable[[int | None], zoneinfo.ZoneInfo],
) -> dict[int | None, int | None]:
    """Return region id (None: no region) -> the local hour to send at on `on`, or None.

    `ancestry` maps every region id to its codes from the top down (its own
    last); `zone_for(region_id)` gives the region's zone.
    """
    config = get_config()
    k = int(personalization_config()["K_THRESHOLD"])
    quiet = tuple(config["QUIET_HOURS"])
    since = now - dt.timedelta(days=int(config["ACTIVE_HOURS_DAYS"]))
    events = Event.objects.filter(created_at__gte=since, created_at__lt=now,
                                  shopper__isnull=False,
                                  shopper__consent_personalization=True).order_by()

    def segments(region_id: int | None) -> tuple[str, ...]:
        """The shop, then each region from the top down to the shopper's own."""
        return (GLOBAL, *ancestry.get(region_id, ()))

    shoppers: dict[str, int] = defaultdict(int)
    for row in events.values("shopper__region_id").annotate(n=Count("shopper_id", distinct=True)):
        # A shopper has one region, so the distinct shoppers of regions add up.
        for segment in segments(row["shopper__region_id"]):
            shoppers[segment] += row["n"]
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * 24)
    for row in events.annotate(hour=ExtractHour("created_at", tzinfo=dt.UTC)).values(
            "shopper__region_id", "hour").annotate(n=Count("pk")):
        # The middle of the UTC hour, in the region's zone on the send date:
        # half-hour zones (India) land in the local hour most of it falls in.
        utc = dt.datetime.combine(on, dt.time(row["hour"], 30), tzinfo=dt.UTC)
        local = utc.astimezone(zone_for(row["shopper__region_id"])).hour
        for segment in segments(row["shopper__region_id"]):
            counts[segment][local] += row["n"]
    best = {segment: busiest_hour(hours, quiet) for segment, hours in counts.items()}
    result: dict[int | None, int | None] = {}
    for region_id in [*ancestry, None]:
        result[region_id] = next(
            (best[segment] for segment in reversed(segments(region_id))
             if shoppers[segment] >= k and best.get(segment) is not None), None)
    return result
