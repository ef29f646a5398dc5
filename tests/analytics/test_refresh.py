"""refresh_analytics: the figures match the events and orders of the hand-built shop."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from analytics import selectors
from analytics.models import ListingStat, SegmentStat, Snapshot
from analytics.refresh import analytics_refresh
from personalization.models import Event, ShopperProfile

pytestmark = pytest.mark.django_db


def _listing(snapshot, product):
    return ListingStat.objects.get(snapshot=snapshot, product_id=product.pk)


def test_listing_funnel_sales_and_cover_match_the_events_and_orders(shop):
    snapshot = analytics_refresh(now=shop.now)

    a1 = _listing(snapshot, shop.a1)
    # 10 views in the window (the 40-day-old one is outside), clicks s1 s2 s4, carts s1 s5.
    assert (a1.impressions, a1.clicks, a1.carts) == (10, 3, 2)
    # Orders 2 days (2 units) and 3 days ago (1 unit) stand; the cancelled one and
    # the 40-day-old one do not count: 2 orders, 3 units, 3 x 500.00 = 150000 minor.
    assert (a1.orders, a1.units, a1.revenue_minor) == (2, 3, 150000)
    assert a1.seller_id == shop.seller_a.pk and not a1.slow_mover

    row = selectors.seller_listings_get(snapshot=snapshot, seller_id=shop.seller_a.pk).rows
    by_id = {r.product_id: r for r in row}
    # CTR 3/10, conversion 2/10; cover: 14 in stock at 3 units per 28 days = 130.7 days.
    assert by_id[shop.a1.pk].ctr_percent == Decimal("30.0")
    assert by_id[shop.a1.pk].conversion_percent == Decimal("20.0")
    assert by_id[shop.a1.pk].days_of_cover == Decimal("130.7")
    # a2: out of stock, so no cover; a4: nothing sold and no rate, so no figure.
    assert by_id[shop.a2.pk].days_of_cover == Decimal(0)
    assert by_id[shop.a4.pk].days_of_cover is None
    assert by_id[shop.a4.pk].ctr_percent is None

    b1 = _listing(snapshot, shop.b1)
    assert (b1.impressions, b1.clicks, b1.orders, b1.units, b1.revenue_minor) == (8, 1, 1, 1,
                                                                                  30000)


def test_slow_movers_are_old_often_seen_and_unsold(shop):
    snapshot = analytics_refresh(now=shop.now)
    # a2: listed 60 days, 60 impressions, no orders. a3 is 5 days old, a4 never seen,
    # a1 converts 2/10.
    slow = selectors.seller_slow_movers_get(snapshot=snapshot, seller_id=shop.seller_a.pk)
    assert [r.product_id for r in slow] == [shop.a2.pk]


def test_seller_funnel_totals(shop):
    snapshot = analytics_refresh(now=shop.now)
    funnel = selectors.seller_funnel_get(snapshot=snapshot, seller_id=shop.seller_a.pk)
    # Impressions a1 10 + a2 60 + a3 2 + a4 0; clicks and carts only on a1.
    assert (funnel.impressions, funnel.clicks, funnel.carts, funnel.orders, funnel.units,
            funnel.listings) == (72, 3, 2, 2, 3, 4)
    assert funnel.revenue_minor == {"INR": 150000}


def test_segments_count_only_consenting_shoppers_and_hide_cells_under_k(shop, k3):
    snapshot = analytics_refresh(now=shop.now)
    stored = {(s.dimension, s.label): s for s in
              SegmentStat.objects.filter(snapshot=snapshot, seller_id=shop.seller_a.pk)}
    # Maharashtra: s1 (Pune rolls up to its state), s2, s3; s6 did not allow analytics.
    mh = stored[("region", "Maharashtra")]
    # Their events on A: 3 views, clicks s1 s2, cart s1, purchases s1 x2 s2 x1 s3 x4.
    assert (mh.shoppers, mh.views, mh.clicks, mh.carts, mh.purchases) == (3, 3, 2, 1, 7)
    assert stored[("region", "Karnataka")].shoppers == 2
    assert stored[("region", "Delhi")].shoppers == 1  # s7's share

    cells = selectors.seller_segments_get(snapshot=snapshot, seller_id=shop.seller_a.pk)
    regions = {c.label: c for c in cells["region"]}
    assert regions["Maharashtra"].shoppers == 3 and not regions["Maharashtra"].suppressed
    # Karnataka (2) and Delhi (1) are under k = 3: they leave the selector without
    # a single figure (together they are 3 >= k, so no third cell must hide them).
    for name in ("Karnataka", "Delhi"):
        cell = regions[name]
        assert cell.suppressed
        assert (cell.shoppers, cell.views, cell.clicks, cell.carts, cell.purchases) == (None,) * 5
    demo = {c.label: c for c in cells["demographic"]}
    assert demo["25–34 · Female"].shoppers == 3
    assert demo["18–24 · Male"].suppressed and demo["35–44 · Female"].suppressed
    # Seller B: nobody engaged with b1 as a consenting, known shopper.
    assert selectors.seller_segments_get(snapshot=snapshot, seller_id=shop.seller_b.pk) == {
        "region": [], "demographic": []
    }


def test_shoppers_who_gave_nothing_form_their_own_cells(shop, settings):
    # Anyone may skip onboarding: no region, age band or gender. They are counted
    # under "not given", sorted last.
    settings.PERSONALIZATION = {"K_THRESHOLD": 1}
    quiet = ShopperProfile.objects.create(consent_analytics=True,
                                          first_seen_at=shop.now - timedelta(hours=1))
    Event.objects.create(product=shop.b1, type="view", context="feed", shopper=quiet,
                         created_at=shop.now - timedelta(hours=1))
    snapshot = analytics_refresh(now=shop.now)
    cells = selectors.seller_segments_get(snapshot=snapshot, seller_id=shop.seller_b.pk)
    assert [(c.label, c.shoppers) for c in cells["region"]] == [("not given", 1)]
    assert [(c.label, c.shoppers) for c in cells["demographic"]] == [
        ("age not given · gender not given", 1)]
    regions = [r.label for r in selectors.cohorts_get(snapshot=snapshot)["region"]]
    assert regions[-1] == "not given"


def test_a_lone_small_cell_takes_the_next_smallest_with_it(shop, k3):
    # Without s7, Karnataka (2) would be the only hidden region, and Maharashtra
    # (3) plus the shoppers total of the age x gender cells would give it away.
    Event.objects.filter(shopper=shop.shoppers["s7"]).delete()
    snapshot = analytics_refresh(now=shop.now)
    cells = selectors.seller_segments_get(snapshot=snapshot, seller_id=shop.seller_a.pk)
    assert all(c.suppressed for c in cells["region"])
    assert all(c.suppressed for c in cells["demographic"])


@pytest.mark.parametrize(("counts", "hidden"), [
    ([30, 25, 40], set()),           # nothing under k
    ([30, 5, 40], {0, 1}),           # 5 alone is too few: the smallest shown (30) goes too
    ([30, 5, 16, 40], {1, 2}),       # 5 + 16 = 21 >= k: enough
    ([5, 4], {0, 1}),
    ([19, 1, 40], {0, 1}),           # 20 >= k
])
def test_hidden_cells_hide_at_least_k_shoppers_together(counts, hidden):
    assert selectors.hidden_cells(counts, 20) == hidden


def test_cohorts_count_orders_within_the_habit_window(shop, k3):
    snapshot = analytics_refresh(now=shop.now)
    cohorts = selectors.cohorts_get(snapshot=snapshot)
    # All six shoppers were first seen at one moment 10 days ago: one weekly
    # cohort, still open (its 120-day habit window runs past now).
    (week,) = cohorts["week"]
    assert week.shoppers == 6 and week.still_open
    # >=1 order: s1 s2 s3 (3/6); >=2: s1 s3 (2/6); >=3 and >=4: s3 (1/6).
    assert week.reached_percent == [Decimal("50.0"), Decimal("33.3"), Decimal("16.7"),
                                    Decimal("16.7")]
    regions = {r.label: r for r in cohorts["region"]}
    # Cohorts count every shopper (s6 too): Maharashtra s1 s2 s3 s6; Karnataka s4 s5
    # and Delhi s7 are under k (3 together, so Maharashtra may show).
    assert regions["Maharashtra"].shoppers == 4
    assert regions["Maharashtra"].reached_percent[0] == Decimal("75.0")
    assert regions["Karnataka"].suppressed and regions["Karnataka"].shoppers is None
    assert regions["Delhi"].suppressed


def test_lifecycle_ranking_health_contexts_and_volumes(shop):
    snapshot = analytics_refresh(now=shop.now)
    stages = {s.stage: s.shoppers for s in selectors.stages_get(snapshot=snapshot)}
    assert stages["new"] == 7 and stages["habit"] == 0

    health = selectors.ranking_health_get(snapshot=snapshot)
    # Feed views: a1 10, a2 60, a3 2, b1 3 = 75; a3 is a new listing (2), b1 a new
    # seller's (3). Active listings a1..a4, b1 = 5, of which a4 had no impression.
    assert (health.active_listings, health.covered_listings, health.feed_impressions) == (
        5, 4, 75)
    assert health.coverage_percent == Decimal("80.0")
    assert health.new_listing_percent == Decimal("2.7")  # 2 / 75
    assert health.new_seller_percent == Decimal("4.0")  # 3 / 75

    contexts = {c.context: c for c in selectors.contexts_get(snapshot=snapshot)}
    assert (contexts["feed"].views, contexts["feed"].clicks) == (75, 3)
    assert (contexts["search"].views, contexts["search"].clicks) == (5, 1)
    assert contexts["search"].ctr_percent == Decimal("20.0")

    volumes = selectors.volumes_get(snapshot=snapshot)
    # Views 80 + clicks 4 + carts 2 + 1 share two hours ago; 7 purchases 3-9 days ago.
    assert sum(v.events for v in volumes["hour"]) == 87
    assert sum(v.events for v in volumes["day"]) == 94
    assert len(volumes["hour"]) in (48, 49)  # every hour, zeros included
    assert len(volumes["day"]) in (28, 29)


def test_refresh_is_idempotent_and_swaps_the_whole_snapshot(shop):
    first = analytics_refresh(now=shop.now)
    figures = list(ListingStat.objects.filter(snapshot=first).order_by("product_id").values_list(
        "product_id", "impressions", "orders", "revenue_minor"))
    second = analytics_refresh(now=shop.now)
    # One snapshot served, the old one gone with all its rows.
    assert list(Snapshot.objects.values_list("pk", "status")) == [(second.pk, "active")]
    assert not ListingStat.objects.filter(snapshot_id=first.pk).exists()
    assert list(ListingStat.objects.filter(snapshot=second).order_by("product_id").values_list(
        "product_id", "impressions", "orders", "revenue_minor")) == figures


def test_a_failed_refresh_leaves_the_served_snapshot_alone(shop, monkeypatch):
    served = analytics_refresh(now=shop.now)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("analytics.refresh._cohorts", boom)
    with pytest.raises(RuntimeError):
        analytics_refresh(now=shop.now)
    assert list(Snapshot.objects.values_list("pk", "status")) == [(served.pk, "active")]
    assert ListingStat.objects.filter(snapshot=served).count() == 5


def test_command_refuses_to_run_beside_a_running_refresh_and_force_clears_it(shop):
    Snapshot.objects.create(as_of=shop.now, window_days=28)  # left "building"
    with pytest.raises(CommandError, match="--force"):
        call_command("refresh_analytics", stdout=StringIO())
    out = StringIO()
    call_command("refresh_analytics", "--force", stdout=out)
    assert "served" in out.getvalue()
    assert list(Snapshot.objects.values_list("status", flat=True)) == ["active"]
