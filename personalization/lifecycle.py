"""Lifecycle stage of a shopper: new, first order, forming, habit, dormant.

An *order* is the set of purchase events of one shopper that share one
timestamp: `shopper_order_placed` writes every line of an order at the order's
`placed_at`, and an imported CSV has no order ids, so purchases at the same
second are the best reading of "one order" there too. Counting orders this way
needs no extra table and works the same for site orders and imports.

`lifecycle_stage_for` is pure; `shopper_stats_get` and
`refresh_lifecycle_stages` read the events and write the stage.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, F, Min, Q
from django.utils import timezone

from .conf import get_config
from .models import Event, EventType, LifecycleStage, ShopperProfile

# Profiles are read and written in chunks of this size, so a refresh of a
# million shoppers keeps bounded memory.
_CHUNK = 2000


@dataclass(frozen=True)
class OrderStats:
    orders_count: int = 0
    window_orders: int = 0  # orders within the habit window from the first visit
    first_order_at: datetime | None = None


def lifecycle_stage_for(
    *,
    orders_count: int,
    window_orders: int,
    last_seen_at: datetime | None,
    now: datetime,
    habit_orders: int,
    dormant_after_days: int,
) -> str:
    """Return the stage for these figures (a LifecycleStage value).

    Dormancy wins over everything: a habit shopper who stopped coming needs to
    be won back, not shown the same personal feed. Habit, once formed within
    the window, stays until dormancy: later orders outside the window do not
    undo it. Shoppers with 2+ orders who never reached the habit threshold
    inside the window stay "forming".
    """
    if last_seen_at is not None and now - last_seen_at >= timedelta(days=dormant_after_days):
        return LifecycleStage.DORMANT
    if window_orders >= habit_orders:
        return LifecycleStage.HABIT
    if orders_count == 0:
        return LifecycleStage.NEW
    if orders_count == 1:
        return LifecycleStage.FIRST_ORDER
    return LifecycleStage.FORMING


def _stats_queryset(window_days: int):
    window = timedelta(days=window_days)
    purchases = Event.objects.filter(type=EventType.PURCHASE, shopper__isnull=False)
    return purchases.values("shopper_id").annotate(
        orders=Count("created_at", distinct=True),
        # The window starts at the first visit; for an imported shopper never
        # "seen" it starts at their first order.
        window_orders=Count(
            "created_at", distinct=True,
            filter=Q(created_at__lte=F("shopper__first_seen_at") + window)
            | Q(shopper__first_seen_at__isnull=True),
        ),
        first_order=Min("created_at"),
    )


def shopper_stats_get(*, shopper: ShopperProfile) -> OrderStats:
    """Return the order figures of one shopper from their purchase events."""
    rows = _stats_queryset(get_config()["HABIT_WINDOW_DAYS"]).filter(shopper=shopper)
    row = next(iter(rows), None)
    if row is None:
        return OrderStats()
    return OrderStats(row["orders"], row["window_orders"], row["first_order"])


def _apply(profile: ShopperProfile, stats: OrderStats, now: datetime, config: dict) -> bool:
    """Set the figures and stage on `profile`; return whether anything changed."""
    stage = lifecycle_stage_for(
        orders_count=stats.orders_count,
        window_orders=stats.window_orders,
        last_seen_at=profile.last_seen_at,
        now=now,
        habit_orders=config["HABIT_ORDERS"],
        dormant_after_days=config["DORMANT_AFTER_DAYS"],
    )
    new = (stats.orders_count, stats.first_order_at, stage)
    old = (profile.orders_count, profile.first_order_at, profile.lifecycle_stage)
    if new == old:
        return False
    profile.orders_count, profile.first_order_at, profile.lifecycle_stage = new
    return True


_FIELDS = ["orders_count", "first_order_at", "lifecycle_stage"]


@transaction.atomic
def shopper_lifecycle_refresh(*, shopper: ShopperProfile, now: datetime | None = None) -> str:
    """Recompute one shopper's order figures and stage; return the stage."""
    config = get_config()
    if _apply(shopper, shopper_stats_get(shopper=shopper), now or timezone.now(), config):
        shopper.save(update_fields=_FIELDS)
    return shopper.lifecycle_stage


def refresh_lifecycle_stages(
    *, now: datetime | None = None, shopper_ids: Iterable[int] | None = None
) -> int:
    """Recompute order figures and stages of all (or the given) shoppers; return how many changed.

    Called by `rebuild_affinities` and after an events import. One aggregate
    query over purchase events, then profiles in chunks with bulk_update of the
    changed ones only.
    """
    config = get_config()
    now = now or timezone.now()
    stats_qs = _stats_queryset(config["HABIT_WINDOW_DAYS"])
    wanted = sorted(set(shopper_ids)) if shopper_ids is not None else None
    changed = 0
    with transaction.atomic():
        for chunk in _chunks(wanted):
            stats = {
                row["shopper_id"]: OrderStats(row["orders"], row["window_orders"],
                                              row["first_order"])
                for row in stats_qs.filter(shopper_id__in=[p.pk for p in chunk])
            }
            dirty = [p for p in chunk if _apply(p, stats.get(p.pk, OrderStats()), now, config)]
            if dirty:
                _write(dirty)
                changed += len(dirty)
    return changed


def _write(profiles: list[ShopperProfile]) -> None:
    """UPDATE the figures of these profiles: one executemany.

    bulk_update() builds a CASE WHEN per column and spends most of its time
    resolving expressions; after an import of 100k shoppers that was seconds
    of pure Python.
    """
    quote = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    sets = ", ".join(f"{quote(name)} = %s" for name in _FIELDS)
    # Only quoted names from our own model are interpolated; values are parameters.
    table, pk = quote(ShopperProfile._meta.db_table), quote(ShopperProfile._meta.pk.column)
    sql = f"UPDATE {table} SET {sets} WHERE {pk} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, [
            (p.orders_count, adapt(p.first_order_at), p.lifecycle_stage, p.pk) for p in profiles
        ])


def _chunks(wanted: list[int] | None) -> Iterator[list[ShopperProfile]]:
    """Yield profiles in pk order, a chunk at a time.

    Keyset pagination rather than a cursor left open: SQLite gives no isolation
    between a running SELECT and writes on the same connection.
    """
    profiles = ShopperProfile.objects.only("pk", "last_seen_at", *_FIELDS).order_by("pk")
    if wanted is not None:
        for i in range(0, len(wanted), _CHUNK):
            yield list(profiles.filter(pk__in=wanted[i:i + _CHUNK]))
        return
    last = 0
    while chunk := list(profiles.filter(pk__gt=last)[:_CHUNK]):
        yield chunk
        last = chunk[-1].pk
