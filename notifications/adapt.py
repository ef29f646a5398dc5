"""Adaptive caps: a micro-segment's daily cap follows its opt-out and click-through rates.

Meesho's observation (issue 16): tolerant segments take 15-16 messages a day,
low-tolerance ones uninstall past 5-6, and they tune the volume per
micro-segment. So once a day (scheduled task `segment_caps_adapt_task`) each
segment of the shopper's own region - the region alone (`r:<code>`), with
the age band (`ra:`), with the gender (`rg:`), with both (`rag:`) - is judged
on the last ADAPT_WINDOW_DAYS of NotificationEvent rows: opt-outs (a kind
stopped, a channel turned off, a push subscription the browser dropped) per
non-order message sent above ADAPT_OPT_OUT_HIGH lower its daily cap by one;
clicks per message above ADAPT_CTR_HIGH with opt-outs below ADAPT_OPT_OUT_LOW
raise it by one; always within [ADAPT_DAILY_MIN, ADAPT_DAILY_MAX], weekly =
daily x ADAPT_WEEKLY_PER_DAILY. A segment that reached fewer than
K_THRESHOLD distinct shoppers is not judged, and a staff override
(SegmentCap.source "staff") always wins.

A finer segment is judged from the cap its shoppers had before the run (its
own row, else the most specific coarser row, as `volume.caps_for` reads
them); it gets a row of its own only where its verdict differs from what it
would now inherit. So a tolerant age band inside a region whose cap fell keeps
its cap, and one that behaves like its region simply follows the region.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from catalog.models import Region
from personalization.conf import get_config as personalization_config
from personalization.lattice import lattice_keys

from .conf import get_config
from .models import ORDER_KINDS, NotificationEvent, SegmentCap


@dataclass(frozen=True)
class Adaptation:
    segment_key: str
    sent: int
    opted_out: int
    clicked: int
    old_daily: int
    new_daily: int


def next_daily_cap(*, current: int, sent: int, opted_out: int, clicked: int,
                   config: dict) -> int:
    """Return the new daily cap for a segment's figures (pure)."""
    if sent <= 0:
        return current
    opt_out_rate, ctr = opted_out / sent, clicked / sent
    low, high = int(config["ADAPT_DAILY_MIN"]), int(config["ADAPT_DAILY_MAX"])
    if opt_out_rate > config["ADAPT_OPT_OUT_HIGH"]:
        return max(low, current - 1)
    if ctr > config["ADAPT_CTR_HIGH"] and opt_out_rate < config["ADAPT_OPT_OUT_LOW"]:
        return min(high, current + 1)
    return current


def segment_figures(*, since: dt.datetime) -> list[dict]:
    """Return per (region code, age band, gender): non-order sends, opt-outs, clicks, shoppers.

    One grouped query; a shopper is in exactly one group, so the distinct
    shoppers of groups add up to those of any segment made of them.
    """
    non_order = ~Q(kind__in=ORDER_KINDS)
    sent = Q(type=NotificationEvent.Type.SENT) & non_order
    return list(
        NotificationEvent.objects.filter(occurred_at__gte=since,
                                         shopper__region__isnull=False)
        .values("shopper__region__code", "shopper__age_band", "shopper__gender")
        .annotate(
            sent=Count("pk", filter=sent),
            opted_out=Count("pk", filter=Q(type=NotificationEvent.Type.OPTED_OUT)),
            clicked=Count("pk", filter=Q(type=NotificationEvent.Type.CLICKED) & non_order),
            shoppers=Count("shopper", filter=sent, distinct=True),
        )
        .order_by("shopper__region__code", "shopper__age_band", "shopper__gender")
    )


@dataclass
class _Segment:
    key: str
    code: str
    age_band: str = ""
    gender: str = ""
    sent: int = 0
    opted_out: int = 0
    clicked: int = 0
    shoppers: int = 0


def _segments(rows: list[dict]) -> dict[str, _Segment]:
    """Roll the groups up into the region's segments: r, ra, rg, rag (coarsest first)."""
    segments: dict[str, _Segment] = {}
    for row in rows:
        code, age, gender = (row["shopper__region__code"], row["shopper__age_band"],
                             row["shopper__gender"])
        keys = [(f"r:{code}", "", "")]
        if age:
            keys.append((f"ra:{code}:{age}", age, ""))
        if gender:
            keys.append((f"rg:{code}:{gender}", "", gender))
        if age and gender:
            keys.append((f"rag:{code}:{age}:{gender}", age, gender))
        for key, key_age, key_gender in keys:
            segment = segments.setdefault(key, _Segment(key, code, key_age, key_gender))
            for name in ("sent", "opted_out", "clicked", "shoppers"):
                setattr(segment, name, getattr(segment, name) + row[name])
    return dict(sorted(segments.items(), key=lambda item: (item[0].index(":"), item[0])))


def _inherited(segment: _Segment, ancestry: dict[str, list[str]], caps: dict[str, int],
               default: int) -> int:
    """Return the daily cap the segment's shoppers get from coarser rows (as caps_for reads)."""
    keys = lattice_keys(region_codes=ancestry.get(segment.code, [segment.code]),
                        age_band=segment.age_band, gender=segment.gender)
    for key in keys[keys.index(segment.key) + 1:]:
        if key in caps:
            return caps[key]
    return default


@transaction.atomic
def segment_caps_adapt(*, now: dt.datetime | None = None) -> list[Adaptation]:
    """Move the adaptive caps of the judged segments; return every change made."""
    config = get_config()
    k = int(personalization_config()["K_THRESHOLD"])
    default = int(config["DAILY_CAP"])
    now = now or timezone.now()
    segments = {key: segment for key, segment in _segments(segment_figures(
        since=now - dt.timedelta(days=int(config["ADAPT_WINDOW_DAYS"])))).items()
        if segment.shoppers >= k}
    if not segments:
        return []
    codes = {segment.code for segment in segments.values()}
    ancestry = {code: [c for c in path.split("/") if c] for code, path in
                Region.objects.filter(code__in=codes).values_list("code", "path")}
    rows = {cap.segment_key: cap for cap in SegmentCap.objects.select_for_update()}
    before = {key: cap.daily_cap for key, cap in rows.items()}
    after = dict(before)
    changes = []
    for key, segment in segments.items():  # coarsest first: finer ones see their new parents
        cap = rows.get(key)
        if cap is not None and cap.source == SegmentCap.Source.STAFF:
            continue
        current = cap.daily_cap if cap else _inherited(segment, ancestry, before, default)
        new = next_daily_cap(current=current, sent=segment.sent, opted_out=segment.opted_out,
                             clicked=segment.clicked, config=config)
        if cap is not None and new == cap.daily_cap:
            continue
        if cap is None and new == _inherited(segment, ancestry, after, default):
            continue  # it behaves like the segment above it: follow that one
        weekly = new * int(config["ADAPT_WEEKLY_PER_DAILY"])
        note = (f"{segment.opted_out} opt-outs, {segment.clicked} clicks per {segment.sent} "
                f"sent ({segment.shoppers} shoppers) on {now.date().isoformat()}")
        SegmentCap.objects.update_or_create(segment_key=key, defaults={
            "daily_cap": new, "weekly_cap": weekly, "source": SegmentCap.Source.ADAPTIVE,
            "note": note[:200]})
        after[key] = new
        changes.append(Adaptation(key, segment.sent, segment.opted_out, segment.clicked,
                                  current, new))
    return changes
