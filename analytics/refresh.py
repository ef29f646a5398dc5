"""Build a new analytics snapshot from events and orders, then serve it.

Each figure is one grouped query (GROUP BY in the database); Python only
merges the few grouped results per listing or segment, rolls cities up to
their state (distinct shoppers of disjoint regions add up exactly, since a
shopper has one region) and bulk-inserts the rows.

The snapshot is written beside the served one in autocommit (no long write
transaction that would hold up event ingest on SQLite), then made active in
one short transaction; the previous snapshot is deleted afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncDay, TruncHour, TruncWeek
from django.utils import timezone

from catalog.models import Product, Region
from notifications.models import Campaign, Kind, NotificationEvent
from orders.models import LineStatus, Order, OrderLine
from personalization.conf import get_config as personalization_config
from personalization.models import (
    AgeBand,
    Event,
    EventType,
    Gender,
    LifecycleStage,
    ShopperProfile,
)

from .conf import get_config
from .models import (
    CohortStat,
    ContextFunnel,
    EventVolume,
    ListingStat,
    NotificationStat,
    SegmentStat,
    Snapshot,
    StageCount,
)

# Lines that did not stand (cancelled before shipping, or sent back) earned
# nothing: they count in neither orders, units nor revenue.
_LOST_STATUSES = (LineStatus.CANCELLED, LineStatus.RETURNED)
_BATCH = 1000
# Sorts after every real position and still fits a 32-bit integer column.
_LAST = 2**31 - 1
NOT_GIVEN = "not given"


class RefreshError(Exception):
    """A refresh could not start or finish; nothing served was changed."""


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


def analytics_refresh(
    *, now: datetime | None = None, force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Snapshot:
    """Build the aggregate tables as of `now`, make them the served snapshot, drop the old one.

    Idempotent: the same data and `now` give the same figures. `force`
    discards a snapshot left "building" by a refresh that crashed.
    """
    say = progress or (lambda message: None)
    config = get_config()
    as_of = now or timezone.now()
    started = time.monotonic()
    if force:
        Snapshot.objects.filter(status=Snapshot.Status.BUILDING).delete()
    try:
        with transaction.atomic():
            snapshot = Snapshot.objects.create(as_of=as_of, window_days=config["WINDOW_DAYS"])
    except IntegrityError:
        raise RefreshError(
            "Another refresh_analytics is running. If it crashed, run again with --force."
        ) from None
    window = Window(as_of - timedelta(days=config["WINDOW_DAYS"]), as_of)
    try:
        regions = _RegionRollup()
        counts = {
            "listings": _listings(snapshot, window, config),
            "segments": _segments(snapshot, window, regions),
            "cohorts": _cohorts(snapshot, as_of, config, regions),
            "stages": _stages(snapshot),
            "contexts": _contexts(snapshot, window),
            "volumes": _volumes(snapshot, window, config),
            "notifications": _notifications(snapshot, window, config, regions),
        }
        say(", ".join(f"{name}: {n:,} rows" for name, n in counts.items()))
        _ranking_health(snapshot, window)
        snapshot.stats = {**counts, "seconds": round(time.monotonic() - started, 3)}
        snapshot.built_at = timezone.now()
        _flip(snapshot)
    except BaseException:
        # Nothing served was touched; take the half-built rows away again.
        Snapshot.objects.filter(pk=snapshot.pk).delete()
        raise
    deleted, _by_model = Snapshot.objects.filter(status=Snapshot.Status.RETIRED).delete()
    say(f"snapshot {snapshot.pk} active; old rows deleted: {deleted:,}")
    return snapshot


def _flip(snapshot: Snapshot) -> None:
    with transaction.atomic():
        Snapshot.objects.filter(status=Snapshot.Status.ACTIVE).update(
            status=Snapshot.Status.RETIRED
        )
        snapshot.status = Snapshot.Status.ACTIVE
        snapshot.save()


def _insert(rows: Iterable) -> int:
    rows = list(rows)
    if rows:
        rows[0].__class__.objects.bulk_create(rows, batch_size=_BATCH)
    return len(rows)


def _in_window(window: Window) -> Q:
    return Q(created_at__gte=window.start, created_at__lt=window.end)


def _listings(snapshot: Snapshot, window: Window, config: dict) -> int:
    funnel = {
        row["product_id"]: row
        for row in Event.objects.filter(_in_window(window)).order_by().values("product_id")
        .annotate(
            impressions=Count("id", filter=Q(type=EventType.VIEW)),
            clicks=Count("id", filter=Q(type=EventType.CLICK)),
            carts=Count("id", filter=Q(type=EventType.CART)),
        )
    }
    sales = {
        row["product_id"]: row
        for row in OrderLine.objects.filter(
            order__placed_at__gte=window.start, order__placed_at__lt=window.end,
            product_id__isnull=False,
        ).exclude(status__in=_LOST_STATUSES).order_by().values("product_id").annotate(
            orders=Count("order_id", distinct=True),
            units=Sum("quantity"),
            revenue=Sum(F("unit_price_minor") * F("quantity")),
        )
    }
    # The same lines, only those of orders a shared link brought (at most one
    # credit per order, so the join multiplies nothing). Erased friends are no
    # longer linked and drop out of the distinct count: k errs on the safe side.
    referred = {
        row["product_id"]: row
        for row in OrderLine.objects.filter(
            order__placed_at__gte=window.start, order__placed_at__lt=window.end,
            product_id__isnull=False, order__referral_credits__isnull=False,
        ).exclude(status__in=_LOST_STATUSES).order_by().values("product_id").annotate(
            orders=Count("order_id", distinct=True),
            shoppers=Count("order__referral_credits__referred", distinct=True),
        )
    }
    old_enough = window.end - timedelta(days=config["SLOW_MOVER_MIN_AGE_DAYS"])
    rows = []
    for product in Product.objects.order_by("pk").values(
        "pk", "seller_id", "title", "currency", "status", "created_at", "stock"
    ).iterator(chunk_size=_BATCH):
        seen = funnel.get(product["pk"], {})
        sold = sales.get(product["pk"], {})
        shared = referred.get(product["pk"], {})
        impressions, orders = seen.get("impressions", 0), sold.get("orders", 0)
        slow = (
            product["status"] == Product.Status.ACTIVE
            and product["created_at"] <= old_enough
            and impressions >= config["SLOW_MOVER_MIN_IMPRESSIONS"]
            # orders / impressions < max / 1000, in integers.
            and orders * 1000 < config["SLOW_MOVER_MAX_ORDERS_PER_1000"] * impressions
        )
        rows.append(ListingStat(
            snapshot=snapshot, product_id=product["pk"], seller_id=product["seller_id"],
            title=product["title"], currency=product["currency"], status=product["status"],
            listed_at=product["created_at"], stock=product["stock"],
            impressions=impressions, clicks=seen.get("clicks", 0), carts=seen.get("carts", 0),
            orders=orders, units=sold.get("units") or 0, revenue_minor=sold.get("revenue") or 0,
            slow_mover=slow, referred_orders=shared.get("orders", 0),
            referred_shoppers=shared.get("shoppers", 0),
        ))
    return _insert(rows)


class _RegionRollup:
    """Map a region id to the state (or country) it lies in: cities alone are too small."""

    def __init__(self) -> None:
        by_code = {code: (pk, name) for pk, code, name in
                   Region.objects.values_list("pk", "code", "name")}
        self._target: dict[int, tuple[int, str]] = {}
        for pk, path in Region.objects.values_list("pk", "path"):
            codes = [code for code in path.split("/") if code][:2]
            self._target[pk] = by_code.get(codes[-1], (pk, "?")) if codes else (pk, "?")

    def __call__(self, region_id: int | None) -> tuple[int, str]:
        """Return (sort key, label); shoppers without a region sort last."""
        if region_id is None or region_id not in self._target:
            return (_LAST, NOT_GIVEN)
        return self._target[region_id]


_AGE_ORDER = {value: i for i, value in enumerate(AgeBand.values)}
_GENDER_LABELS = dict(Gender.choices)


def _demographic_label(age_band: str, gender: str) -> tuple[int, str]:
    age = dict(AgeBand.choices).get(age_band, "age " + NOT_GIVEN)
    sex = str(_GENDER_LABELS.get(gender, "gender " + NOT_GIVEN))
    position = _AGE_ORDER.get(age_band, len(_AGE_ORDER)) * 10 + (
        Gender.values.index(gender) if gender in Gender.values else 9
    )
    return position, f"{age} · {sex}"


def _segments(snapshot: Snapshot, window: Window, regions: _RegionRollup) -> int:
    # Only shoppers who allowed analytics (aggregate reporting about them) are
    # counted; events of erased shoppers have no shopper and drop out too.
    events = Event.objects.filter(_in_window(window), shopper__consent_analytics=True).order_by()
    figures = {
        "shoppers": Count("shopper_id", distinct=True),
        "views": Count("id", filter=Q(type=EventType.VIEW)),
        "clicks": Count("id", filter=Q(type=EventType.CLICK)),
        "carts": Count("id", filter=Q(type=EventType.CART)),
        "purchases": Count("id", filter=Q(type=EventType.PURCHASE)),
    }
    cells: dict[tuple[int, str, str], dict] = {}

    def add(seller_id: int, dimension: str, position: int, label: str, row: dict) -> None:
        cell = cells.setdefault((seller_id, dimension, label),
                                {"position": position, **dict.fromkeys(figures, 0)})
        for name in figures:
            cell[name] += row[name]

    for row in events.values("product__seller_id", "shopper__region_id").annotate(**figures):
        position, label = regions(row["shopper__region_id"])
        add(row["product__seller_id"], SegmentStat.Dimension.REGION, position, label, row)
    for row in events.values("product__seller_id", "shopper__age_band",
                             "shopper__gender").annotate(**figures):
        position, label = _demographic_label(row["shopper__age_band"], row["shopper__gender"])
        add(row["product__seller_id"], SegmentStat.Dimension.DEMOGRAPHIC, position, label, row)
    return _insert(
        SegmentStat(snapshot=snapshot, seller_id=seller_id, dimension=dimension, label=label,
                    **cell)
        for (seller_id, dimension, label), cell in cells.items()
    )


def _cohorts(snapshot: Snapshot, as_of: datetime, config: dict,
             regions: _RegionRollup) -> int:
    pconf = personalization_config()
    habit_window = timedelta(days=pconf["HABIT_WINDOW_DAYS"])
    thresholds = range(1, pconf["HABIT_ORDERS"] + 1)
    # Orders as the lifecycle counts them: distinct purchase timestamps of a
    # shopper, within the habit window from their first visit.
    window_orders = (
        Event.objects.filter(
            Q(created_at__lte=OuterRef("first_seen_at") + habit_window),
            type=EventType.PURCHASE, shopper_id=OuterRef("pk"), created_at__lte=as_of,
        ).order_by().values("shopper_id").annotate(n=Count("created_at", distinct=True))
        .values("n")
    )
    profiles = ShopperProfile.objects.filter(
        first_seen_at__isnull=False, first_seen_at__lte=as_of
    ).annotate(habit_orders=Coalesce(Subquery(window_orders), Value(0))).order_by()
    figures = {"shoppers": Count("id")} | {
        f"r{n}": Count("id", filter=Q(habit_orders__gte=n)) for n in thresholds
    }
    rows = []
    first_week = _week_start(as_of) - timedelta(weeks=config["COHORT_WEEKS"] - 1)
    for row in profiles.filter(first_seen_at__gte=first_week).annotate(
        week=TruncWeek("first_seen_at")
    ).values("week").annotate(**figures):
        week = row["week"]
        rows.append(CohortStat(
            snapshot=snapshot, dimension=CohortStat.Dimension.WEEK,
            label=timezone.localtime(week).date().isoformat() if timezone.is_aware(week)
            else week.date().isoformat(),
            # ISO dates sort as text: the label orders the weeks.
            position=0, shoppers=row["shoppers"],
            reached=[row[f"r{n}"] for n in thresholds],
            still_open=week + timedelta(days=7) + habit_window > as_of,
        ))
    by_region: dict[str, dict] = {}
    for row in profiles.values("region_id").annotate(**figures):
        position, label = regions(row["region_id"])
        cell = by_region.setdefault(label, {"position": position, "shoppers": 0,
                                            "reached": [0] * len(thresholds)})
        cell["shoppers"] += row["shoppers"]
        cell["reached"] = [a + row[f"r{n}"] for a, n in zip(cell["reached"], thresholds,
                                                            strict=True)]
    rows += [
        CohortStat(snapshot=snapshot, dimension=CohortStat.Dimension.REGION, label=label, **cell)
        for label, cell in by_region.items()
    ]
    return _insert(rows)


def _week_start(moment: datetime) -> datetime:
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    monday = local - timedelta(days=local.weekday())
    return monday.replace(hour=0, minute=0, second=0, microsecond=0)


def _stages(snapshot: Snapshot) -> int:
    counts = dict(
        ShopperProfile.objects.order_by().values_list("lifecycle_stage")
        .annotate(n=Count("id")).values_list("lifecycle_stage", "n")
    )
    return _insert(
        StageCount(snapshot=snapshot, stage=stage, position=i, shoppers=counts.get(stage, 0))
        for i, stage in enumerate(LifecycleStage.values)
    )


def _contexts(snapshot: Snapshot, window: Window) -> int:
    return _insert(
        ContextFunnel(snapshot=snapshot, context=row["context"], views=row["views"],
                      clicks=row["clicks"])
        for row in Event.objects.filter(_in_window(window)).order_by().values("context")
        .annotate(views=Count("id", filter=Q(type=EventType.VIEW)),
                  clicks=Count("id", filter=Q(type=EventType.CLICK)))
    )


def _volumes(snapshot: Snapshot, window: Window, config: dict) -> int:
    rows = []
    hourly_start = window.end - timedelta(hours=config["HOURLY_HOURS"])
    for granularity, trunc, start, step in (
        (EventVolume.Granularity.DAY, TruncDay, window.start, timedelta(days=1)),
        (EventVolume.Granularity.HOUR, TruncHour, hourly_start, timedelta(hours=1)),
    ):
        counted = {
            row["bucket"]: row["n"]
            for row in Event.objects.filter(created_at__gte=start, created_at__lt=window.end)
            .order_by().annotate(bucket=trunc("created_at")).values("bucket")
            .annotate(n=Count("id"))
        }
        # Every bucket of the range, zeros included: a quiet hour is a figure too.
        bucket = trunc_python(start, granularity)
        while bucket < window.end:
            rows.append(EventVolume(snapshot=snapshot, granularity=granularity, bucket=bucket,
                                    events=counted.get(bucket, 0)))
            bucket += step
    return _insert(rows)


def trunc_python(moment: datetime, granularity: str) -> datetime:
    """Return the start of the hour or day (in the current time zone) holding `moment`."""
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    local = local.replace(minute=0, second=0, microsecond=0)
    if granularity == EventVolume.Granularity.DAY:
        local = local.replace(hour=0)
    return local


def _ranking_health(snapshot: Snapshot, window: Window) -> None:
    pconf = personalization_config()
    # Feed impressions: the cards the ranker chose to show.
    feed = Event.objects.filter(_in_window(window), type=EventType.VIEW, context="feed")
    figures = feed.order_by().aggregate(
        total=Count("id"),
        # "New" at the moment of the impression, not at refresh time.
        new_listing=Count("id", filter=Q(
            product__created_at__gt=F("created_at") - timedelta(days=pconf["NEW_LISTING_DAYS"])
        )),
        new_seller=Count("id", filter=Q(
            product__seller__created_at__gt=F("created_at")
            - timedelta(days=pconf["NEW_SELLER_DAYS"])
        )),
    )
    active = Product.objects.filter(status=Product.Status.ACTIVE)
    snapshot.active_listings = active.count()
    snapshot.covered_listings = active.filter(
        pk__in=feed.order_by().values("product_id")
    ).count()
    snapshot.feed_impressions = figures["total"]
    snapshot.new_listing_impressions = figures["new_listing"]
    snapshot.new_seller_impressions = figures["new_seller"]


_NOTIFICATION_FIGURES = {
    "sent": NotificationEvent.Type.SENT,
    "delivered": NotificationEvent.Type.DELIVERED,
    "opened": NotificationEvent.Type.OPENED,
    "clicked": NotificationEvent.Type.CLICKED,
    "opted_out": NotificationEvent.Type.OPTED_OUT,
}
_CAMPAIGN_PREFIX = "campaign:"


def _notifications(snapshot: Snapshot, window: Window, config: dict,
                   regions: _RegionRollup) -> int:
    """Per campaign, segment (region rolled up to the state; age band x gender) and kind.

    Counts the events and the orders after a click: four grouped queries over
    the window's NotificationEvent rows, one for the clicks and one for the
    orders of the shoppers who clicked. An order
    counts in every cell that had a click of its shopper in the days before
    it (so a shopper who tapped two campaigns credits both): the question is
    "did tapping lead to buying", not a share of the revenue.
    """
    events = NotificationEvent.objects.filter(occurred_at__gte=window.start,
                                              occurred_at__lt=window.end).order_by()
    figures = {"shoppers": Count("shopper_id", distinct=True)} | {
        name: Count("pk", filter=Q(type=type)) for name, type in _NOTIFICATION_FIGURES.items()
    }
    campaign_events = events.filter(kind=Kind.CAMPAIGN,
                                    notification__dedupe_key__startswith=_CAMPAIGN_PREFIX)
    campaigns = {
        f"{_CAMPAIGN_PREFIX}{pk}": (position, f"{name} · {send_on.isoformat()} · #{pk}")
        for position, (pk, name, send_on) in enumerate(
            Campaign.objects.order_by("-send_on", "-pk").values_list("pk", "name", "send_on"))
    }
    kind_positions = {kind: i for i, kind in enumerate(Kind.values)}
    kind_labels = dict(Kind.choices)

    def campaign_cell(key: str) -> tuple[int, str]:
        # A deleted campaign keeps its figures under its number.
        return campaigns.get(key, (_LAST, f"deleted · #{key.removeprefix(_CAMPAIGN_PREFIX)}"))

    def kind_cell(kind: str) -> tuple[int, str]:
        if not kind:
            return (_LAST, "all kinds (a channel turned off)")
        return (kind_positions.get(kind, _LAST - 1), str(kind_labels.get(kind, kind)))

    Dim = NotificationStat.Dimension
    cells: dict[tuple[str, str], dict] = {}

    def add(dimension: str, position: int, label: str, row: dict) -> None:
        cell = cells.setdefault((dimension, label), {"position": position, "orders": set(),
                                                     **dict.fromkeys(figures, 0)})
        for name in figures:
            cell[name] += row[name]

    for row in campaign_events.values("notification__dedupe_key").annotate(**figures):
        add(Dim.CAMPAIGN, *campaign_cell(row["notification__dedupe_key"]), row)
    # Regions by shopper: events of erased shoppers (no shopper) have no region.
    for row in events.filter(shopper__isnull=False).values("shopper__region_id").annotate(
            **figures):
        add(Dim.REGION, *regions(row["shopper__region_id"]), row)
    for row in events.filter(shopper__isnull=False).values(
            "shopper__age_band", "shopper__gender").annotate(**figures):
        add(Dim.DEMOGRAPHIC,
            *_demographic_label(row["shopper__age_band"], row["shopper__gender"]), row)
    for row in events.values("kind").annotate(**figures):
        add(Dim.KIND, *kind_cell(row["kind"]), row)

    # Orders within ORDERS_AFTER_CLICK_DAYS after each click, by the clicking shopper.
    after = timedelta(days=config["ORDERS_AFTER_CLICK_DAYS"])
    clicks = events.filter(type=NotificationEvent.Type.CLICKED, shopper__isnull=False)
    standing = OrderLine.objects.filter(order=OuterRef("pk")).exclude(status__in=_LOST_STATUSES)
    orders_by_shopper: dict[int, list[tuple[datetime, int]]] = {}
    for pk, shopper_id, placed_at in (
        Order.objects.filter(shopper_id__in=clicks.values("shopper_id"),
                             placed_at__gte=window.start, placed_at__lte=window.end)
        .filter(Exists(standing)).order_by().values_list("pk", "shopper_id", "placed_at")
    ):
        orders_by_shopper.setdefault(shopper_id, []).append((placed_at, pk))
    if orders_by_shopper:
        for shopper_id, clicked_at, kind, key, region_id, age_band, gender in clicks.filter(
                shopper_id__in=list(orders_by_shopper)).values_list(
                "shopper_id", "occurred_at", "kind", "notification__dedupe_key",
                "shopper__region_id", "shopper__age_band", "shopper__gender",
        ).iterator(chunk_size=_BATCH):
            won = {pk for placed_at, pk in orders_by_shopper[shopper_id]
                   if clicked_at <= placed_at <= clicked_at + after}
            if not won:
                continue
            targets = [(Dim.REGION, regions(region_id)[1]),
                       (Dim.DEMOGRAPHIC, _demographic_label(age_band, gender)[1]),
                       (Dim.KIND, kind_cell(kind)[1])]
            if kind == Kind.CAMPAIGN and key and key.startswith(_CAMPAIGN_PREFIX):
                targets.append((Dim.CAMPAIGN, campaign_cell(key)[1]))
            for target in targets:
                if target in cells:
                    cells[target]["orders"] |= won
    return _insert(
        NotificationStat(snapshot=snapshot, dimension=dimension, label=label,
                         orders_after_click=len(cell.pop("orders")), **cell)
        for (dimension, label), cell in cells.items()
    )
