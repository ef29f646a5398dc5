"""Reads for the analytics pages and exports: the served snapshot only, scoped and k-suppressed.

Every function takes the snapshot and, for seller figures, the seller id the
caller is allowed to see (`analytics_seller_resolve` decides that, from the
catalog's one rule). Segment and cohort cells with fewer than k distinct
shoppers leave this module with no figures at all, so neither a page nor an
export can show them by mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum

from catalog.models import Seller
from catalog.services import actor_sees_all, actor_seller
from personalization.conf import get_config as personalization_config

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

STAFF_PERMISSION = "analytics.view_snapshot"


def actor_may_view(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """Return True for a seller (their own figures) or staff holding the view permission."""
    if actor_seller(user) is not None:
        return True
    return actor_sees_all(user) and user.has_perm(STAFF_PERMISSION)


def actor_sees_shop(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """Return True when `user` may see shop-wide figures and any seller's."""
    return actor_seller(user) is None and actor_sees_all(user) and user.has_perm(STAFF_PERMISSION)


def analytics_seller_resolve(
    *, actor: AbstractBaseUser | AnonymousUser | None, requested: int | None
) -> Seller | None:
    """Return the seller whose figures `actor` gets, or None (staff who picked nobody yet).

    A seller always gets themselves; asking for any other seller is refused,
    whether that seller exists or not (so ids cannot be probed). Staff get the
    seller they asked for; a login that is neither gets PermissionDenied.
    """
    own = actor_seller(actor)
    if own is not None:
        if requested is not None and requested != own.pk:
            raise PermissionDenied("Sellers see their own figures only.")
        return own
    if not actor_sees_shop(actor):
        raise PermissionDenied("No analytics for this login.")
    if requested is None:
        return None
    seller = Seller.objects.filter(pk=requested).first()
    if seller is None:
        raise Seller.DoesNotExist(f"There is no seller {requested}.")
    return seller


def sellers_for_picker() -> list[tuple[int, str]]:
    """Return (id, name) of every seller, for the staff seller picker."""
    return list(Seller.objects.order_by("display_name", "pk").values_list("pk", "display_name"))


def snapshot_active_get() -> Snapshot | None:
    """Return the served snapshot, or None before the first refresh."""
    return Snapshot.objects.filter(status=Snapshot.Status.ACTIVE).first()


def k_threshold() -> int:
    return personalization_config()["K_THRESHOLD"]


def _ratio(part: int, whole: int) -> Decimal | None:
    """Return part/whole as a percentage with one decimal, or None when whole is 0."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True)
class ListingRow:
    product_id: int
    title: str
    status: str
    currency: str
    impressions: int
    clicks: int
    carts: int
    orders: int
    units: int
    revenue_minor: int
    stock: int
    slow_mover: bool
    ctr_percent: Decimal | None  # clicks / impressions
    cart_percent: Decimal | None  # carts / clicks
    conversion_percent: Decimal | None  # orders / impressions
    days_of_cover: Decimal | None  # None: nothing sold in the window, so no rate


def _listing_row(stat: ListingStat, window_days: int) -> ListingRow:
    if stat.stock <= 0:
        cover = Decimal(0)
    elif stat.units:
        cover = (Decimal(stat.stock) * window_days / stat.units).quantize(
            Decimal("0.1"), ROUND_HALF_UP
        )
    else:
        cover = None
    return ListingRow(
        product_id=stat.product_id, title=stat.title, status=stat.status,
        currency=stat.currency, impressions=stat.impressions, clicks=stat.clicks,
        carts=stat.carts, orders=stat.orders, units=stat.units,
        revenue_minor=stat.revenue_minor, stock=stat.stock, slow_mover=stat.slow_mover,
        ctr_percent=_ratio(stat.clicks, stat.impressions),
        cart_percent=_ratio(stat.carts, stat.clicks),
        conversion_percent=_ratio(stat.orders, stat.impressions),
        days_of_cover=cover,
    )


@dataclass(frozen=True)
class Funnel:
    impressions: int = 0
    clicks: int = 0
    carts: int = 0
    orders: int = 0
    units: int = 0
    listings: int = 0
    # Revenue per currency, minor units: sums across currencies are meaningless.
    revenue_minor: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ListingsPage:
    rows: list[ListingRow]
    page: int
    pages: int
    funnel: Funnel


def _listing_stats(snapshot: Snapshot, seller_id: int):
    return ListingStat.objects.filter(snapshot=snapshot, seller_id=seller_id)


def seller_funnel_get(*, snapshot: Snapshot, seller_id: int) -> Funnel:
    """Return one seller's totals over the window (one grouped query)."""
    per_currency = list(
        _listing_stats(snapshot, seller_id).order_by().values("currency").annotate(
            impressions=Sum("impressions"), clicks=Sum("clicks"), carts=Sum("carts"),
            orders=Sum("orders"), units=Sum("units"), revenue=Sum("revenue_minor"),
            listings=Count("id"),
        )
    )
    totals = {name: sum(row[name] for row in per_currency)
              for name in ("impressions", "clicks", "carts", "orders", "units", "listings")}
    return Funnel(**totals, revenue_minor={row["currency"]: row["revenue"]
                                           for row in per_currency if row["revenue"]})


def seller_listings_get(*, snapshot: Snapshot, seller_id: int, page: int = 1,
                        page_size: int | None = None) -> ListingsPage:
    """Return one page of a seller's listings, most seen first, with the seller's funnel.

    `page` past the end is a ValueError (the view answers 400).
    """
    page_size = page_size or get_config()["PAGE_SIZE"]
    funnel = seller_funnel_get(snapshot=snapshot, seller_id=seller_id)
    pages = max(1, -(-funnel.listings // page_size))
    if page < 1 or page > pages:
        raise ValueError(f"There are {pages} pages.")
    stats = _listing_stats(snapshot, seller_id).order_by("-impressions", "product_id")
    rows = [_listing_row(s, snapshot.window_days)
            for s in stats[(page - 1) * page_size: page * page_size]]
    return ListingsPage(rows=rows, page=page, pages=pages, funnel=funnel)


def seller_listings_all(*, snapshot: Snapshot, seller_id: int, slow_only: bool = False):
    """Yield every listing row of a seller (for the CSV export), most seen first."""
    stats = _listing_stats(snapshot, seller_id).order_by("-impressions", "product_id")
    if slow_only:
        stats = stats.filter(slow_mover=True)
    for stat in stats.iterator(chunk_size=2000):
        yield _listing_row(stat, snapshot.window_days)


def seller_slow_movers_get(*, snapshot: Snapshot, seller_id: int,
                           limit: int = 20) -> list[ListingRow]:
    """Return the seller's slow movers, most seen first."""
    stats = _listing_stats(snapshot, seller_id).filter(slow_mover=True).order_by(
        "-impressions", "product_id"
    )[:limit]
    return [_listing_row(s, snapshot.window_days) for s in stats]


@dataclass(frozen=True)
class ReferralRow:
    """One listing's orders brought by shoppers' shared links; no figures when suppressed."""

    product_id: int
    title: str
    suppressed: bool
    orders: int | None = None
    shoppers: int | None = None


def seller_referrals_get(*, snapshot: Snapshot, seller_id: int) -> list[ReferralRow]:
    """Return the seller's listings with orders by referral, most first (one query).

    A listing whose referred buyers number fewer than k keeps its title but no
    figures, and hidden_cells hides the smallest others alongside while the
    hidden ones add up to fewer than k buyers: knowing that a handful of
    friends of someone bought a listing could single those buyers out.
    """
    stats = list(
        _listing_stats(snapshot, seller_id).filter(referred_orders__gt=0)
        .order_by("-referred_orders", "product_id")
        .values_list("product_id", "title", "referred_orders", "referred_shoppers")
    )
    hidden = hidden_cells([shoppers for *_rest, shoppers in stats], k_threshold())
    return [
        ReferralRow(product_id=pk, title=title, suppressed=True) if i in hidden else
        ReferralRow(product_id=pk, title=title, suppressed=False, orders=orders,
                    shoppers=shoppers)
        for i, (pk, title, orders, shoppers) in enumerate(stats)
    ]


@dataclass(frozen=True)
class SegmentCell:
    label: str
    suppressed: bool
    shoppers: int | None = None
    views: int | None = None
    clicks: int | None = None
    carts: int | None = None
    purchases: int | None = None
    ctr_percent: Decimal | None = None


def hidden_cells(counts: list[int], k: int) -> set[int]:
    """Return the indexes of the cells to hide: those under k, and enough others with them.

    The cells of one dimension partition one population whose total another
    dimension can give away (when all its cells are shown). A lone hidden
    cell would then be that total minus the shown ones; so while the hidden
    cells add up to fewer than k shoppers, the smallest shown cell is hidden
    too (complementary suppression), and what can be worked out by
    subtraction always describes k shoppers or more.
    """
    hidden = {i for i, n in enumerate(counts) if n < k}
    if not hidden:
        return hidden
    total = sum(counts[i] for i in hidden)
    shown = sorted((n, i) for i, n in enumerate(counts) if i not in hidden)
    while total < k and shown:
        n, i = shown.pop(0)
        hidden.add(i)
        total += n
    return hidden


def seller_segments_get(*, snapshot: Snapshot, seller_id: int) -> dict[str, list[SegmentCell]]:
    """Return {dimension: cells} for one seller; hidden cells (hidden_cells) carry no figures."""
    k = k_threshold()
    stats: dict[str, list[SegmentStat]] = {d: [] for d in SegmentStat.Dimension.values}
    for stat in SegmentStat.objects.filter(snapshot=snapshot, seller_id=seller_id):
        stats[stat.dimension].append(stat)
    return {dimension: _segment_cells(rows, k) for dimension, rows in stats.items()}


def _segment_cells(stats: list[SegmentStat], k: int) -> list[SegmentCell]:
    hidden = hidden_cells([s.shoppers for s in stats], k)
    result = []
    for i, stat in enumerate(stats):
        if i in hidden:
            cell = SegmentCell(label=stat.label, suppressed=True)
        else:
            cell = SegmentCell(
                label=stat.label, suppressed=False, shoppers=stat.shoppers, views=stat.views,
                clicks=stat.clicks, carts=stat.carts, purchases=stat.purchases,
                ctr_percent=_ratio(stat.clicks, stat.views),
            )
        result.append(cell)
    return result


@dataclass(frozen=True)
class CohortRow:
    label: str
    suppressed: bool
    still_open: bool
    shoppers: int | None = None
    # Percent of the cohort reaching 1, 2, ... HABIT_ORDERS orders.
    reached_percent: list[Decimal | None] = field(default_factory=list)


def cohorts_get(*, snapshot: Snapshot) -> dict[str, list[CohortRow]]:
    """Return {dimension: rows}; week cohorts newest first, hidden cohorts without figures."""
    k = k_threshold()
    stats: dict[str, list[CohortStat]] = {d: [] for d in CohortStat.Dimension.values}
    for stat in CohortStat.objects.filter(snapshot=snapshot):
        stats[stat.dimension].append(stat)
    result = {dimension: _cohort_rows(rows, k) for dimension, rows in stats.items()}
    result[CohortStat.Dimension.WEEK].reverse()
    return result


def _cohort_rows(stats: list[CohortStat], k: int) -> list[CohortRow]:
    hidden = hidden_cells([s.shoppers for s in stats], k)
    result = []
    for i, stat in enumerate(stats):
        if i in hidden:
            row = CohortRow(label=stat.label, suppressed=True, still_open=stat.still_open)
        else:
            row = CohortRow(
                label=stat.label, suppressed=False, still_open=stat.still_open,
                shoppers=stat.shoppers,
                reached_percent=[_ratio(n, stat.shoppers) for n in stat.reached],
            )
        result.append(row)
    return result


def habit_thresholds() -> list[int]:
    return list(range(1, personalization_config()["HABIT_ORDERS"] + 1))


def stages_get(*, snapshot: Snapshot) -> list[StageCount]:
    return list(StageCount.objects.filter(snapshot=snapshot))


@dataclass(frozen=True)
class ContextRow:
    context: str
    views: int
    clicks: int
    ctr_percent: Decimal | None


def contexts_get(*, snapshot: Snapshot) -> list[ContextRow]:
    """Return views and clicks per context, leaving out contexts with neither.

    Checkout, for one, only ever holds purchases.
    """
    return [
        ContextRow(c.context, c.views, c.clicks, _ratio(c.clicks, c.views))
        for c in ContextFunnel.objects.filter(snapshot=snapshot)
        if c.views or c.clicks
    ]


@dataclass(frozen=True)
class RankingHealth:
    active_listings: int
    covered_listings: int
    coverage_percent: Decimal | None
    feed_impressions: int
    new_listing_percent: Decimal | None
    new_seller_percent: Decimal | None


def ranking_health_get(*, snapshot: Snapshot) -> RankingHealth:
    return RankingHealth(
        active_listings=snapshot.active_listings, covered_listings=snapshot.covered_listings,
        coverage_percent=_ratio(snapshot.covered_listings, snapshot.active_listings),
        feed_impressions=snapshot.feed_impressions,
        new_listing_percent=_ratio(snapshot.new_listing_impressions, snapshot.feed_impressions),
        new_seller_percent=_ratio(snapshot.new_seller_impressions, snapshot.feed_impressions),
    )


def volumes_get(*, snapshot: Snapshot) -> dict[str, list[EventVolume]]:
    """Return {"day": [...], "hour": [...]} in time order (one query)."""
    result: dict[str, list[EventVolume]] = {g: [] for g in EventVolume.Granularity.values}
    for row in EventVolume.objects.filter(snapshot=snapshot).order_by("granularity", "bucket"):
        result[row.granularity].append(row)
    return result


@dataclass(frozen=True)
class NotificationRow:
    label: str
    suppressed: bool
    shoppers: int | None = None
    sent: int | None = None
    delivered: int | None = None
    opened: int | None = None
    clicked: int | None = None
    opted_out: int | None = None
    orders_after_click: int | None = None
    open_percent: Decimal | None = None  # opened / sent
    click_percent: Decimal | None = None  # clicked / sent
    opt_out_percent: Decimal | None = None  # opted out / sent


def notification_stats_get(*, snapshot: Snapshot) -> dict[str, list[NotificationRow]]:
    """Return {dimension: rows} (campaigns newest first); hidden cells carry no figures.

    Each dimension (campaign, region, kind) is suppressed on its own with
    `hidden_cells`, as the audience and cohort tables are.
    """
    k = k_threshold()
    stats: dict[str, list[NotificationStat]] = {d: [] for d in NotificationStat.Dimension.values}
    for stat in NotificationStat.objects.filter(snapshot=snapshot):
        stats[stat.dimension].append(stat)
    result = {}
    for dimension, rows in stats.items():
        hidden = hidden_cells([s.shoppers for s in rows], k)
        result[dimension] = [
            NotificationRow(label=s.label, suppressed=True) if i in hidden else NotificationRow(
                label=s.label, suppressed=False, shoppers=s.shoppers, sent=s.sent,
                delivered=s.delivered, opened=s.opened, clicked=s.clicked,
                opted_out=s.opted_out, orders_after_click=s.orders_after_click,
                open_percent=_ratio(s.opened, s.sent), click_percent=_ratio(s.clicked, s.sent),
                opt_out_percent=_ratio(s.opted_out, s.sent),
            )
            for i, s in enumerate(rows)
        ]
    return result
