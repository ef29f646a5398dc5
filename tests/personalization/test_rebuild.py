"""rebuild_affinities on a small hand-built dataset: scores computed by hand."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from catalog.models import Region
from personalization.models import (
    Event,
    ItemNeighbour,
    RankingVersion,
    Segment,
    SegmentCategoryScore,
    SegmentItemScore,
    SegmentMemberStage,
    ShopperItemStage,
    ShopperProfile,
)
from personalization.rebuild import RebuildError, affinities_rebuild
from tests.factories import CategoryFactory, ProductFactory, RegionFactory

pytestmark = pytest.mark.django_db

AS_OF = timezone.now().replace(microsecond=0)


@pytest.fixture
def small_config(settings):
    settings.PERSONALIZATION = {
        "K_THRESHOLD": 2,
        "SMOOTHING_STRENGTH": 2.0,
        "HALF_LIFE_DAYS": 1.0,
        "NEIGHBOUR_MIN_SHOPPERS": 1,
    }


@pytest.fixture
def world(small_config):
    india = RegionFactory(code="IN", name="India")
    maharashtra = RegionFactory(code="IN-MH", name="Maharashtra", kind=Region.Kind.STATE,
                                parent=india)
    pune = RegionFactory(code="IN-MH-PUN", name="Pune", kind=Region.Kind.CITY,
                         parent=maharashtra)
    clothes, kitchen = CategoryFactory(), CategoryFactory()
    shirts = CategoryFactory(parent=clothes)
    a = ProductFactory(category=shirts)
    b = ProductFactory(category=clothes)
    c = ProductFactory(category=kitchen)
    s1 = ShopperProfile.objects.create(region=pune, gender="f", age_band="25-34")
    s2 = ShopperProfile.objects.create(region=pune, gender="f", age_band="25-34")
    s3 = ShopperProfile.objects.create(region=india, gender="m")
    events = [
        (s1, a, "purchase", AS_OF),  # 10
        (s1, b, "view", AS_OF - timedelta(days=1)),  # 1 decayed by one half-life: 0.5
        (s2, a, "click", AS_OF),  # 2
        (s3, c, "view", AS_OF),  # 1
        (s3, a, "hide", AS_OF),  # not interested: never counts
        (s3, b, "view", AS_OF - timedelta(days=400)),  # outside the window
        (s2, c, "view", AS_OF + timedelta(days=1)),  # after as_of: ignored
    ]
    Event.objects.bulk_create(
        [Event(shopper=s, product=p, type=t, created_at=at) for s, p, t, at in events]
    )
    return {"a": a, "b": b, "c": c, "clothes": clothes, "kitchen": kitchen, "shirts": shirts}


def _scores(version, key):
    segment = Segment.objects.get(version=version, key=key)
    return {row.product_id: row.score
            for row in SegmentItemScore.objects.filter(segment=segment)}


def test_rebuild_computes_decayed_weighted_popularity_per_segment(world):
    a, b, c = world["a"].pk, world["b"].pk, world["c"].pk

    version = affinities_rebuild(as_of=AS_OF)

    # Global: A = 10 + 2, B = 0.5, C = 1 over a total of 13.5.
    glob = _scores(version, "g")
    assert glob == pytest.approx({a: 12 / 13.5, b: 0.5 / 13.5, c: 1 / 13.5})
    # Maharashtra (s1, s2; n = 2, m = 2): shares A 12/12.5, B 0.5/12.5, shrunk
    # halfway toward the parent India, which has the same shares as global.
    state = _scores(version, "r:IN-MH")
    expected_a = (2 * 12 / 12.5 + 2 * 12 / 13.5) / 4
    expected_b = (2 * 0.5 / 12.5 + 2 * 0.5 / 13.5) / 4
    assert state == pytest.approx({a: expected_a, b: expected_b})
    # Pune has the same shoppers, so it shrinks toward Maharashtra's scores.
    assert _scores(version, "r:IN-MH-PUN") == pytest.approx(
        {a: (2 * 12 / 12.5 + 2 * expected_a) / 4, b: (2 * 0.5 / 12.5 + 2 * expected_b) / 4}
    )
    segment = Segment.objects.get(version=version, key="rag:IN-MH-PUN:25-34:f")
    assert (segment.distinct_shoppers, segment.usable, segment.label) == (2, True, "Pune")
    assert segment.parent.key == "rg:IN-MH-PUN:f"
    assert [pid for pid, _score in segment.candidates] == [a, b]


def test_segments_below_k_keep_a_count_and_no_statistic(world):
    version = affinities_rebuild(as_of=AS_OF)

    small = Segment.objects.get(version=version, key="rg:IN:m")
    assert (small.distinct_shoppers, small.usable) == (1, False)
    assert small.candidates == [] and small.categories == {}
    assert not SegmentItemScore.objects.filter(segment=small).exists()
    assert not SegmentCategoryScore.objects.filter(segment=small).exists()
    assert not Segment.objects.filter(version=version, usable=False).exclude(
        candidates=[]).exists()


def test_category_scores_are_per_leaf_category(world):
    version = affinities_rebuild(as_of=AS_OF)

    segment = Segment.objects.get(version=version, key="g")
    shirts, clothes, kitchen = (str(world[name].pk) for name in ("shirts", "clothes", "kitchen"))
    assert segment.categories == pytest.approx(
        {shirts: 12 / 13.5, clothes: 0.5 / 13.5, kitchen: 1 / 13.5})


def test_neighbours_are_cosine_normalised_co_occurrence(world):
    a, b = world["a"].pk, world["b"].pk

    version = affinities_rebuild(as_of=AS_OF)

    rows = ItemNeighbour.objects.filter(version=version)
    # One shopper (s1) had both; A was had by 2 shoppers, B by 1.
    assert {(n.product_id, n.neighbour_id, n.shoppers) for n in rows} == {(a, b, 1), (b, a, 1)}
    assert [n.score for n in rows] == pytest.approx([1 / 2**0.5, 1 / 2**0.5])


def test_rebuild_flips_the_active_version_and_drops_old_ones(world):
    first = affinities_rebuild(as_of=AS_OF)
    second = affinities_rebuild(as_of=AS_OF)
    third = affinities_rebuild(as_of=AS_OF)

    statuses = dict(RankingVersion.objects.values_list("id", "status"))
    # The active one and its predecessor are kept (RANKING_VERSIONS_KEPT = 2).
    assert statuses == {third.pk: "active", second.pk: "retired"}
    assert not Segment.objects.filter(version=first).exists()
    assert not ShopperItemStage.objects.exists() and not SegmentMemberStage.objects.exists()


def test_readers_during_a_rebuild_see_the_old_generation(world):
    old = affinities_rebuild(as_of=AS_OF)
    seen = []

    def progress(message):
        # Called after each step; the first eight run while the new version
        # is half built.
        seen.append(RankingVersion.objects.get(status="active").pk)

    new = affinities_rebuild(as_of=AS_OF, progress=progress)

    assert seen[:8] == [old.pk] * 8
    assert seen[8] == new.pk
    assert RankingVersion.objects.get(status="active").pk == new.pk


def test_a_second_concurrent_rebuild_is_refused_and_changes_nothing(world):
    active = affinities_rebuild(as_of=AS_OF)
    RankingVersion.objects.create(as_of=AS_OF, status="building")

    with pytest.raises(RebuildError, match="Another rebuild is running"):
        affinities_rebuild(as_of=AS_OF)

    assert RankingVersion.objects.get(status="active").pk == active.pk


def test_a_failed_rebuild_leaves_the_active_version_and_no_rows(world, monkeypatch):
    active = affinities_rebuild(as_of=AS_OF)
    segments_before = Segment.objects.count()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("personalization.rebuild._neighbours", boom)
    with pytest.raises(RuntimeError):
        affinities_rebuild(as_of=AS_OF)

    assert list(RankingVersion.objects.values_list("id", "status")) == [(active.pk, "active")]
    assert Segment.objects.count() == segments_before
    assert not ShopperItemStage.objects.exists()


def test_command_prints_progress_and_is_idempotent(world):
    out = StringIO()

    call_command("rebuild_affinities", stdout=out)
    call_command("rebuild_affinities", stdout=out)

    text = out.getvalue()
    assert "[1/9] shopper items: 4 rows" in text
    assert "is active" in text
    assert RankingVersion.objects.filter(status="active").count() == 1
