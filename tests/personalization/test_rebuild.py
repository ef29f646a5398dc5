"""rebuild_affinities on a small hand-built dataset: scores computed by hand."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from catalog.models import Product, Region
from personalization.models import (
    Event,
    ItemNeighbour,
    RankingVersion,
    Segment,
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
    return dict(segment.candidates)


def test_rebuild_computes_distinct_shopper_popularity_shrunk_through_the_lattice(world):
    a, b, c = world["a"].pk, world["b"].pk, world["c"].pk

    version = affinities_rebuild(as_of=AS_OF)

    # Global: A had 2 shoppers, B 1, C 1 (votes: 4). A purchase and a click
    # are one vote each: on real data repeat counts drown the signal.
    assert _scores(version, "g") == pytest.approx({a: 0.5, b: 0.25, c: 0.25})
    # India (all three; n = 3, m = 2) has global's shares: unchanged.
    assert _scores(version, "r:IN") == pytest.approx({a: 0.5, b: 0.25, c: 0.25})
    # Maharashtra (s1, s2): A 2/3, B 1/3, shrunk halfway-ish toward India.
    state = _scores(version, "r:IN-MH")
    assert state == pytest.approx({a: (2 * 2 / 3 + 2 * 0.5) / 4, b: (2 * 1 / 3 + 2 * 0.25) / 4,
                                   c: (2 * 0.25) / 4})
    # The age x gender segment without any region: parents a:25-34 and g:f.
    both = Segment.objects.get(version=version, key="ag:25-34:f")
    assert (both.distinct_shoppers, both.usable, both.label) == (2, True, "")
    segment = Segment.objects.get(version=version, key="rag:IN-MH-PUN:25-34:f")
    assert (segment.distinct_shoppers, segment.usable, segment.label) == (2, True, "Pune")
    assert [pid for pid, _score in segment.candidates] == [a, b, c]


def test_segments_below_k_are_not_written_at_all(world):
    version = affinities_rebuild(as_of=AS_OF)

    # s3 is the only man: no segment of his gender reaches k = 2.
    assert not Segment.objects.filter(version=version, key__in=["rg:IN:m", "g:m"]).exists()
    assert not Segment.objects.filter(version=version, usable=False).exclude(
        candidates=[]).exists()


def test_category_scores_are_per_leaf_category(world):
    version = affinities_rebuild(as_of=AS_OF)

    segment = Segment.objects.get(version=version, key="g")
    shirts, clothes, kitchen = (str(world[name].pk) for name in ("shirts", "clothes", "kitchen"))
    assert segment.categories == pytest.approx({shirts: 0.5, clothes: 0.25, kitchen: 0.25})


def test_neighbours_are_damped_cosine_co_occurrence(world):
    a, b = world["a"].pk, world["b"].pk

    version = affinities_rebuild(as_of=AS_OF)

    rows = ItemNeighbour.objects.filter(version=version)
    # One shopper (s1) had both; A was had by 2 shoppers, B by 1; the cosine
    # is damped by co / (co + 10): one shopper in common is weak evidence.
    assert {(n.product_id, n.neighbour_id, n.shoppers) for n in rows} == {(a, b, 1), (b, a, 1)}
    assert [n.score for n in rows] == pytest.approx([1 / 2**0.5 / 11] * 2)


def test_an_impression_never_raises_a_products_score(world):
    # Given product C shown in the feed (a "view" with context "feed") to
    # everyone many times, and product B opened once from a product page
    c, b = world["c"], world["b"]
    before = affinities_rebuild(as_of=AS_OF)
    shoppers = list(ShopperProfile.objects.all())
    Event.objects.bulk_create([
        Event(shopper=s, product=c, type="view", context="feed",
              created_at=AS_OF - timedelta(minutes=i))
        for s in shoppers for i in range(20)])

    # When the affinities are rebuilt
    after = affinities_rebuild(as_of=AS_OF)

    # Then nothing about C moved: not its popularity in any segment, not the
    # trend list, not its neighbours
    for segment in Segment.objects.filter(version=before):
        again = Segment.objects.get(version=after, key=segment.key)
        assert dict(again.candidates).get(c.pk) == dict(segment.candidates).get(c.pk)
    def pairs(version):
        return set(ItemNeighbour.objects.filter(version=version).values_list(
            "product_id", "neighbour_id", "score"))

    assert pairs(after) == pairs(before)
    assert not ItemNeighbour.objects.filter(version=after, neighbour=c).exclude(
        product=b).exists()


def test_rebuild_flips_the_active_version_and_drops_old_ones(world):
    first = affinities_rebuild(as_of=AS_OF)
    second = affinities_rebuild(as_of=AS_OF)
    third = affinities_rebuild(as_of=AS_OF)

    statuses = dict(RankingVersion.objects.values_list("id", "status"))
    # The active one and its predecessor are kept (RANKING_VERSIONS_KEPT = 2).
    assert statuses == {third.pk: "active", second.pk: "retired"}
    assert not Segment.objects.filter(version=first).exists()
    assert not ShopperItemStage.objects.exists()


def test_readers_during_a_rebuild_see_the_old_generation(world):
    old = affinities_rebuild(as_of=AS_OF)
    seen = []

    def progress(message):
        # Called after each step; all but the last two (the flip, the
        # lifecycle refresh) run while the new version is half built.
        seen.append(RankingVersion.objects.get(status="active").pk)

    new = affinities_rebuild(as_of=AS_OF, progress=progress)

    assert len(seen) > 4
    assert seen[:-2] == [old.pk] * (len(seen) - 2)
    assert seen[-2:] == [new.pk] * 2
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
    assert "[1/6] shopper items: 4 rows" in text
    assert "is active" in text
    assert RankingVersion.objects.filter(status="active").count() == 1


def test_rebuild_copies_distinct_shoppers_per_item_onto_the_listings(world):
    # Given a listing that was popular in an older window
    a, b, c = world["a"], world["b"], world["c"]
    stale = ProductFactory(popularity=7)

    # When the affinities are rebuilt
    version = affinities_rebuild(as_of=AS_OF)

    # Then each listing carries its distinct interested shoppers in the window
    # (A: s1 and s2; B: s1; C: s3; the hide and the old view count for nothing),
    # and a listing nobody wanted lately goes back to 0
    popularity = dict(Product.objects.values_list("pk", "popularity"))
    assert popularity == {a.pk: 2, b.pk: 1, c.pk: 1, stale.pk: 0}
    assert version.stats["popularity"]["rows"] == 4


def test_an_evaluation_build_leaves_the_listings_popularity_alone(world):
    affinities_rebuild(as_of=AS_OF)
    before = dict(Product.objects.values_list("pk", "popularity"))
    Event.objects.bulk_create([Event(shopper=s, product=world["c"], type="purchase",
                                     created_at=AS_OF) for s in ShopperProfile.objects.all()])

    affinities_rebuild(as_of=AS_OF, activate=False, refresh_lifecycle=False)

    assert dict(Product.objects.values_list("pk", "popularity")) == before
