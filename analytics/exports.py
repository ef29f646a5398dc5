"""CSV exports of every table the analytics pages show, from the same selectors.

Because the rows come from the selectors, an export carries exactly what the
page may show: one seller's listings, and only segment and cohort cells with
at least k shoppers (suppressed cells are left out entirely, not even
labelled). Text cells that a spreadsheet would run as a formula are defused
(`core.exports`, shared with the sellers' cash statements).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from catalog.money import minor_to_decimal
from core import exports as core_exports

from . import selectors
from .models import Snapshot

Row = list[object]


@dataclass(frozen=True)
class ExportTable:
    name: str
    staff_only: bool
    header: list[str]
    rows: Callable[..., Iterable[Row]]


def _pct(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def _listing_rows(*, snapshot: Snapshot, seller_id: int, slow_only: bool) -> Iterator[Row]:
    for r in selectors.seller_listings_all(snapshot=snapshot, seller_id=seller_id,
                                           slow_only=slow_only):
        yield [r.product_id, r.title, r.status, r.impressions, r.clicks, _pct(r.ctr_percent),
               r.carts, r.orders, _pct(r.conversion_percent), r.units,
               str(minor_to_decimal(r.revenue_minor, r.currency)), r.currency, r.stock,
               "" if r.days_of_cover is None else str(r.days_of_cover),
               "yes" if r.slow_mover else "no"]


def _funnel_rows(*, snapshot: Snapshot, seller_id: int) -> Iterator[Row]:
    f = selectors.seller_funnel_get(snapshot=snapshot, seller_id=seller_id)
    yield ["listings", f.listings, ""]
    yield ["impressions", f.impressions, ""]
    yield ["clicks", f.clicks, ""]
    yield ["add_to_cart", f.carts, ""]
    yield ["orders", f.orders, ""]
    yield ["units", f.units, ""]
    for currency, minor in sorted(f.revenue_minor.items()):
        yield ["revenue", str(minor_to_decimal(minor, currency)), currency]


_LISTING_HEADER = ["product_id", "title", "status", "impressions", "clicks", "ctr_percent",
                   "add_to_cart", "orders", "conversion_percent", "units", "revenue",
                   "currency", "stock", "days_of_cover", "slow_mover"]


def _referral_rows(*, snapshot: Snapshot, seller_id: int) -> Iterator[Row]:
    for r in selectors.seller_referrals_get(snapshot=snapshot, seller_id=seller_id):
        if not r.suppressed:
            yield [r.product_id, r.title, r.orders, r.shoppers]


def _segment_rows(dimension: str):
    def rows(*, snapshot: Snapshot, seller_id: int) -> Iterator[Row]:
        cells = selectors.seller_segments_get(snapshot=snapshot, seller_id=seller_id)
        for c in cells[dimension]:
            if not c.suppressed:
                yield [c.label, c.shoppers, c.views, c.clicks, _pct(c.ctr_percent), c.carts,
                       c.purchases]
    return rows


def _cohort_rows(dimension: str):
    def rows(*, snapshot: Snapshot, seller_id: int | None = None) -> Iterator[Row]:
        for c in selectors.cohorts_get(snapshot=snapshot)[dimension]:
            if not c.suppressed:
                yield [c.label, c.shoppers, *(_pct(p) for p in c.reached_percent),
                       "yes" if c.still_open else "no"]
    return rows


def _cohort_header(first: str) -> list[str]:
    return [first, "shoppers",
            *(f"reached_{n}_orders_percent" for n in selectors.habit_thresholds()), "still_open"]


def _stage_rows(*, snapshot: Snapshot, seller_id: int | None = None) -> Iterator[Row]:
    for s in selectors.stages_get(snapshot=snapshot):
        yield [s.stage, s.shoppers]


def _context_rows(*, snapshot: Snapshot, seller_id: int | None = None) -> Iterator[Row]:
    for c in selectors.contexts_get(snapshot=snapshot):
        yield [c.context, c.views, c.clicks, _pct(c.ctr_percent)]


def _health_rows(*, snapshot: Snapshot, seller_id: int | None = None) -> Iterator[Row]:
    h = selectors.ranking_health_get(snapshot=snapshot)
    yield ["active_listings", h.active_listings]
    yield ["listings_with_feed_impressions", h.covered_listings]
    yield ["coverage_percent", _pct(h.coverage_percent)]
    yield ["feed_impressions", h.feed_impressions]
    yield ["new_listing_impressions_percent", _pct(h.new_listing_percent)]
    yield ["new_seller_impressions_percent", _pct(h.new_seller_percent)]


def _volume_rows(granularity: str):
    def rows(*, snapshot: Snapshot, seller_id: int | None = None) -> Iterator[Row]:
        for v in selectors.volumes_get(snapshot=snapshot)[granularity]:
            yield [v.bucket.isoformat(), v.events]
    return rows


def _notification_rows(dimension: str):
    def rows(*, snapshot: Snapshot, seller_id: int | None = None) -> Iterator[Row]:
        for r in selectors.notification_stats_get(snapshot=snapshot)[dimension]:
            if not r.suppressed:
                yield [r.label, r.shoppers, r.sent, r.delivered, r.opened, r.clicked,
                       r.opted_out, r.orders_after_click, _pct(r.open_percent),
                       _pct(r.click_percent), _pct(r.opt_out_percent)]
    return rows


def _notification_header(first: str) -> list[str]:
    return [first, "shoppers", "sent", "delivered", "opened", "clicked", "opted_out",
            "orders_after_click", "open_percent", "click_percent", "opt_out_percent"]


def export_tables() -> dict[str, ExportTable]:
    """Return the exportable tables by name (headers read settings, so built per call)."""
    tables = [
        ExportTable("funnel", False, ["figure", "value", "currency"], _funnel_rows),
        ExportTable("listings", False, _LISTING_HEADER,
                    lambda **kw: _listing_rows(**kw, slow_only=False)),
        ExportTable("slow-movers", False, _LISTING_HEADER,
                    lambda **kw: _listing_rows(**kw, slow_only=True)),
        ExportTable("referrals", False,
                    ["product_id", "title", "orders_by_referral", "referred_buyers"],
                    _referral_rows),
        ExportTable("audience-region", False,
                    ["region", "shoppers", "views", "clicks", "ctr_percent", "add_to_cart",
                     "purchases"], _segment_rows("region")),
        ExportTable("audience-age-gender", False,
                    ["age_band_gender", "shoppers", "views", "clicks", "ctr_percent",
                     "add_to_cart", "purchases"], _segment_rows("demographic")),
        ExportTable("cohorts-week", True, _cohort_header("week_of_first_visit"),
                    _cohort_rows("week")),
        ExportTable("cohorts-region", True, _cohort_header("region"), _cohort_rows("region")),
        ExportTable("lifecycle", True, ["stage", "shoppers"], _stage_rows),
        ExportTable("ranking-health", True, ["figure", "value"], _health_rows),
        ExportTable("ctr-by-context", True, ["context", "views", "clicks", "ctr_percent"],
                    _context_rows),
        ExportTable("events-per-day", True, ["day", "events"], _volume_rows("day")),
        ExportTable("events-per-hour", True, ["hour", "events"], _volume_rows("hour")),
        ExportTable("notifications-campaign", True, _notification_header("campaign"),
                    _notification_rows("campaign")),
        ExportTable("notifications-region", True, _notification_header("region"),
                    _notification_rows("region")),
        ExportTable("notifications-demographic", True,
                    _notification_header("age_band_gender"),
                    _notification_rows("demographic")),
        ExportTable("notifications-kind", True, _notification_header("kind"),
                    _notification_rows("kind")),
    ]
    return {t.name: t for t in tables}


def csv_lines(table: ExportTable, rows: Iterable[Row]) -> Iterator[str]:
    """Yield the CSV text of `table`: header then rows, every text cell defused."""
    return core_exports.csv_lines(table.header, rows)
