"""evaluate_ranking: metrics by hand, hold-out discipline, a table for both cohorts."""

from __future__ import annotations

import json
import math
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from catalog.models import Product
from personalization.evaluation import hit_at_k, ndcg_at_k, ranking_evaluate
from personalization.models import Event, RankingVersion, ShopperProfile
from personalization.rebuild import affinities_rebuild
from tests.factories import RegionFactory, make_products

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def test_ndcg_and_hit_rate_by_hand():
    ranked = [5, 1, 7, 2]

    assert ndcg_at_k(ranked, {1, 2}, k=4) == pytest.approx(
        (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3)))
    assert ndcg_at_k(ranked, {5}, k=4) == 1.0
    assert ndcg_at_k(ranked, {9}, k=4) == 0.0
    assert ndcg_at_k(ranked, {2}, k=3) == 0.0  # beyond the cut-off
    assert (hit_at_k(ranked, {7}, 3), hit_at_k(ranked, {2}, 3)) == (1.0, 0.0)


@pytest.fixture
def two_regions(settings):
    """Region A (many shoppers) loves items 0-4, region B (fewer) items 10-14."""
    # Weak smoothing: with six shoppers, region B must still speak for itself.
    settings.PERSONALIZATION = {"K_THRESHOLD": 3, "SMOOTHING_STRENGTH": 2.0}
    products = make_products(30)
    Product.objects.update(created_at=NOW - timedelta(days=90))
    a, b = RegionFactory(code="AA", name="Aland"), RegionFactory(code="BB", name="Bland")
    events = []
    for i in range(12):
        shopper = ShopperProfile.objects.create(region=a)
        events += [Event(shopper=shopper, product=products[i % 5], type="purchase",
                         created_at=NOW - timedelta(days=30))]
    for i in range(6):
        shopper = ShopperProfile.objects.create(region=b)
        events += [Event(shopper=shopper, product=products[10 + i % 5], type="purchase",
                         created_at=NOW - timedelta(days=30))]
    # Test period: cold shoppers of B click B's favourites; warm shoppers of A
    # come back for more of A's.
    for i in range(4):
        shopper = ShopperProfile.objects.create(region=b)
        events += [Event(shopper=shopper, product=products[10 + i], type="click",
                         created_at=NOW - timedelta(days=2))]
    warm = ShopperProfile.objects.filter(region=a).first()
    events += [Event(shopper=warm, product=products[3], type="cart",
                     created_at=NOW - timedelta(days=1))]
    Event.objects.bulk_create(events)
    return products


def test_evaluation_reports_each_method_for_cold_and_warm_shoppers(two_regions):
    active = affinities_rebuild()

    rows = ranking_evaluate(k=5, test_days=14)

    table = {(row.cohort, row.method): row for row in rows}
    # Global, four single dimensions, six pairs, item-kNN, full ranker with and
    # without exploration; two cohorts.
    assert len(rows) == 2 * 14
    assert {row.shoppers for row in rows if row.cohort == "cold"} == {4}
    assert {row.shoppers for row in rows if row.cohort == "warm"} == {1}
    # Region B's newcomers: their region's list finds what they click, the
    # global list (dominated by region A) does not.
    assert table["cold", "region popularity"].hit_rate == 1.0
    assert table["cold", "global popularity"].hit_rate == 0.0
    assert table["cold", "full ranker"].ndcg > table["cold", "global popularity"].ndcg
    assert all(0 <= row.ndcg <= 1 and 0 <= row.coverage <= 1 for row in rows)
    # The evaluation version is gone; the served one never changed.
    assert list(RankingVersion.objects.values_list("pk", "status")) == [(active.pk, "active")]


def test_evaluation_trains_only_on_events_before_the_cut(two_regions):
    # Every test-period click is on item 20, which nobody touched before.
    Event.objects.filter(created_at__gt=NOW - timedelta(days=14)).update(
        product=two_regions[20])

    rows = ranking_evaluate(k=5, test_days=14)

    popularity = [row for row in rows if row.method.endswith("popularity")]
    assert all(row.hit_rate == 0.0 for row in popularity)


def test_command_prints_a_table_and_refuses_bad_options(two_regions):
    out = StringIO()

    call_command("evaluate_ranking", k="5", stdout=out, stderr=StringIO())

    text = out.getvalue()
    assert "| cohort | method | shoppers | NDCG@5 | HitRate@5 | coverage |" in text
    assert text.count("\n| cold |") == 14 and text.count("\n| warm |") == 14
    with pytest.raises(CommandError, match="--k"):
        call_command("evaluate_ranking", k="0", stdout=StringIO())


def test_command_takes_a_cut_date_and_prints_json(two_regions):
    out = StringIO()
    cut = (NOW - timedelta(days=14)).date().isoformat()

    call_command("evaluate_ranking", k="5", cut=cut, json=True, stdout=out, stderr=StringIO())

    result = json.loads(out.getvalue())
    methods = {row["method"] for row in result["rows"]}
    assert {"global popularity", "region popularity", "age band x gender popularity",
            "item-kNN", "full ranker"} <= methods
    assert {row["cohort"] for row in result["rows"]} == {"cold", "warm"}
    with pytest.raises(CommandError, match="--cut"):
        call_command("evaluate_ranking", cut="yesterday", stdout=StringIO())


def test_command_without_events_is_a_command_error(db):
    with pytest.raises(CommandError, match="no events"):
        call_command("evaluate_ranking", stdout=StringIO(), stderr=StringIO())
