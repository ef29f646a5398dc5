"""Pure ranking on plain data: no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from personalization.conf import DEFAULTS
from personalization.lattice import parent_keys
from personalization.ranking import (
    STAGES,
    ComponentWeights,
    HistoryEvent,
    Listing,
    RankingInput,
    RankingParams,
    SegmentScores,
    decay,
    exploration_slots,
    factor_segments,
    factored_affinity,
    rank,
    segment_affinity,
    segment_chain_keys,
    shrink,
    usable_segments,
)

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=200)
PARAMS = RankingParams.from_config(DEFAULTS)


def listing(pid, *, category=1, seller=1, created=OLD, stock=True, seller_since=OLD):
    return Listing(pid, category, seller, created, stock, seller_since)


def catalogue(n, categories=5, sellers=7):
    return {pid: listing(pid, category=pid % categories, seller=pid % sellers)
            for pid in range(1, n + 1)}


def global_segment(scores, shoppers=1000):
    return SegmentScores("g", shoppers, scores)


def data(listings, segments=(), **kwargs):
    return RankingInput(listings=listings, segments=list(segments), now=NOW, seed="s:1", **kwargs)


def ids(items):
    return [item.product_id for item in items]


# --- building blocks ----------------------------------------------------------------


def test_decay_halves_the_weight_every_half_life():
    assert decay(0, 21) == 1
    assert decay(21, 21) == pytest.approx(0.5)
    assert decay(63, 21) == pytest.approx(0.125)
    assert decay(-5, 21) == 1  # a clock skew never inflates a weight


def test_shrink_moves_small_segments_toward_the_parent():
    # 10 shoppers, m = 30: a quarter of the way from the parent to the segment.
    assert shrink(n=10, share=0.5, parent=0.1, m=30) == pytest.approx(0.2)
    assert shrink(n=10_000, share=0.5, parent=0.1, m=30) == pytest.approx(0.5, abs=0.002)


def test_segments_below_k_are_never_used_on_their_own():
    tiny = SegmentScores("rag:PUN:25-34:f", 19, {1: 0.9})
    city = SegmentScores("r:PUN", 20, {2: 0.5})

    assert usable_segments([tiny, city], k=20) == [city]


def test_a_below_k_segment_does_not_change_the_order():
    listings = catalogue(10)
    popular = global_segment({pid: 1 / pid for pid in listings})
    tiny = SegmentScores("rag:PUN:25-34:f", PARAMS.k - 1, {9: 10.0})

    with_tiny = rank(data(listings, [tiny, popular]), PARAMS)
    without = rank(data(listings, [popular]), PARAMS)

    assert ids(with_tiny) == ids(without)
    assert ids(with_tiny)[0] != 9


def test_item_missing_from_a_segment_list_backs_off_to_the_parent_shrunk():
    root = SegmentScores("g", 1000, {1: 0.4, 2: 0.2})
    city = SegmentScores("r:PUN", 30, {2: 0.6})

    score_1, source_1 = segment_affinity(1, [city, root], m=30)
    score_2, source_2 = segment_affinity(2, [city, root], m=30)

    assert score_1 == pytest.approx(0.4 * 30 / 60)
    assert source_1.key == "g"
    assert (score_2, source_2.key) == (0.6, "r:PUN")


def test_segment_lattice_holds_every_combination_most_specific_first():
    keys = segment_chain_keys(region_codes=["IN", "IN-MH", "IN-MH-PUN"], age_band="25-34",
                              gender="f")

    # Region at each of its three levels (or none) x every subset of age and gender.
    assert len(keys) == 4 * 4 - 1 + 1
    assert keys[0] == "rag:IN-MH-PUN:25-34:f"
    assert keys[-1] == "g"
    assert {"ag:25-34:f", "a:25-34", "g:f", "rg:IN-MH-PUN:f", "r:IN", "ra:IN-MH:25-34"} <= set(keys)
    sizes = [len(key.partition(":")[0]) for key in keys[:-1]]
    assert sizes == sorted(sizes, reverse=True)
    # Without a region, age x gender is still a segment.
    assert segment_chain_keys(region_codes=[], age_band="25-34", gender="f") == [
        "ag:25-34:f", "a:25-34", "g:f", "g"]


def test_lattice_parents_drop_one_dimension_or_move_the_region_up():
    parents = {"IN-MH-PUN": "IN-MH", "IN-MH": "IN", "IN": None}

    assert parent_keys("rag:IN-MH-PUN:25-34:f", parents) == [
        "ag:25-34:f", "rag:IN-MH:25-34:f", "rg:IN-MH-PUN:f", "ra:IN-MH-PUN:25-34"]
    assert parent_keys("r:IN", parents) == ["g"]
    assert parent_keys("a:25-34", parents) == ["g"]
    assert parent_keys("g", parents) == []


# --- rank() ---------------------------------------------------------------------------


def test_hidden_and_purchased_items_are_removed():
    listings = catalogue(6)
    history = [HistoryEvent(2, "hide", NOW), HistoryEvent(4, "purchase", OLD),
               HistoryEvent(5, "view", NOW)]

    ranked = rank(data(listings, [global_segment({1: 0.5, 2: 0.4, 4: 0.3})], history=history),
                  PARAMS)

    assert set(ids(ranked)) == {1, 3, 5, 6}


def test_order_is_deterministic_for_the_same_inputs():
    listings = {pid: replace(item, created_at=NOW - timedelta(days=pid % 20))
                for pid, item in catalogue(120).items()}
    segment = global_segment({pid: (pid * 7919 % 101) / 101 for pid in listings})
    inputs = data(listings, [segment], lifecycle_stage="habit")

    assert rank(inputs, PARAMS) == rank(inputs, PARAMS)
    assert ids(rank(replace(inputs, listings=dict(reversed(listings.items()))), PARAMS)) == ids(
        rank(inputs, PARAMS))


def test_never_three_in_a_row_from_one_category_or_one_seller():
    # The twenty best items share one category and one seller.
    listings = {pid: listing(pid, category=1 if pid <= 20 else pid % 4 + 2,
                             seller=1 if pid <= 20 else pid % 5 + 2) for pid in range(1, 61)}
    ranked = rank(data(listings, [global_segment({pid: 1 / pid for pid in listings})]), PARAMS)

    order = [listings[pid] for pid in ids(ranked)]
    assert len(order) == 60
    for a, b, c in zip(order, order[1:], order[2:], strict=False):
        assert not a.category_id == b.category_id == c.category_id
        assert not a.seller_id == b.seller_id == c.seller_id
    assert ids(ranked)[:2] == [1, 2]  # the best still lead


def test_a_fixed_share_of_slots_goes_to_new_listings():
    listings = catalogue(200)
    for pid in range(181, 201):  # twenty new listings, unpopular so far
        listings[pid] = replace(listings[pid], created_at=NOW - timedelta(days=1))
    segment = global_segment({pid: 1 / pid for pid in range(1, 181)})
    params = replace(PARAMS, exploration_share=dict.fromkeys(PARAMS.exploration_share, 0.1),
                     weights={stage: replace(w, fresh=0.0) for stage, w in PARAMS.weights.items()})

    ranked = rank(data(listings, [segment]), params, limit=100)

    explored = [item for item in ranked if item.reason == "new"]
    assert len(explored) == 10
    assert {item.product_id for item in explored} <= set(range(181, 201))
    # One per block of ten positions.
    positions = [i for i, item in enumerate(ranked) if item.reason == "new"]
    assert [p // 10 for p in positions] == list(range(10))


def test_new_sellers_are_explored_too():
    listings = catalogue(50)
    listings[50] = replace(listings[50], seller_id=99, seller_created_at=NOW - timedelta(days=3))
    params = replace(PARAMS, exploration_share=dict.fromkeys(PARAMS.exploration_share, 0.2))

    ranked = rank(data(listings, [global_segment({pid: 1 / pid for pid in range(1, 50)})]),
                  params, limit=50)

    assert [item.reason for item in ranked if item.product_id == 50] == ["new"]


def test_exploration_draw_depends_on_the_seed():
    import random

    slots = {frozenset(exploration_slots(length=100, share=0.1, rng=random.Random(seed)))
             for seed in ("a:1", "b:1", "c:1", "a:2")}

    assert len(slots) > 1
    assert all(len(s) == 10 for s in slots)
    assert exploration_slots(length=100, share=0, rng=random.Random(1)) == set()


def test_new_shoppers_get_popular_items_habit_shoppers_their_neighbours():
    listings = catalogue(40)
    popular = global_segment({pid: 1 / pid for pid in range(1, 41)})
    history = [HistoryEvent(30, "cart", NOW - timedelta(days=1), category_id=30 % 5,
                            title="Steel tiffin")]
    neighbours = {30: [(35, 0.9)]}
    inputs = data(listings, [popular], history=history, neighbours=neighbours)

    as_new = ids(rank(replace(inputs, lifecycle_stage="new"), PARAMS))
    as_habit = rank(replace(inputs, lifecycle_stage="habit"), PARAMS)

    assert ids(as_habit).index(35) < as_new.index(35)
    # The carted item itself comes back first, then its neighbour.
    assert [(item.product_id, item.reason, item.reason_arg) for item in as_habit[:2]] == [
        (30, "for_you", ""), (35, "because_viewed", "Steel tiffin")]
    assert as_new[0] == 1


def test_reasons_name_the_region_for_regional_popularity():
    listings = catalogue(10)
    root = global_segment({1: 0.3, 7: 0.05})
    # Pune loves item 7 and its category.
    city = SegmentScores("r:IN-MH-PUN", 500, {7: 0.9}, {listings[7].category_id: 0.6},
                         label="Pune")

    ranked = rank(data(listings, [city, root]), PARAMS)

    assert (ranked[0].product_id, ranked[0].reason, ranked[0].reason_arg) == (
        7, "popular_region", "Pune")
    assert ranked[1].product_id == 1 and ranked[1].reason == "popular"


def test_out_of_stock_items_sink():
    listings = catalogue(5)
    listings[1] = replace(listings[1], in_stock=False)

    ranked = rank(data(listings, [global_segment({1: 0.9, 2: 0.8})]), PARAMS)

    assert ids(ranked)[0] == 2 and 1 in ids(ranked)


def test_personal_category_affinity_lifts_the_shoppers_categories():
    listings = catalogue(30, categories=3)
    history = [HistoryEvent(pid, "click", NOW, category_id=2) for pid in (2, 5, 8)]

    ranked = rank(data(listings, [global_segment({})], history=history,
                       lifecycle_stage="habit"), PARAMS)

    assert listings[ids(ranked)[0]].category_id == 2
    assert ranked[0].reason == "for_you"


@pytest.mark.parametrize("override", [
    {"RANKING_WEIGHTS": {"new": {"segment": 1}}},
    {"EXPLORATION_SHARE": {**DEFAULTS["EXPLORATION_SHARE"], "habit": 0.9}},
    {"DIVERSITY_MAX_RUN": 0},
    {"SMOOTHING_STRENGTH": -1},
    {"REBUILD_WINDOW_DAYS": 100_000},
])
def test_bad_ranking_settings_are_refused(override):
    with pytest.raises(ImproperlyConfigured):
        RankingParams.from_config({**DEFAULTS, **override})


def test_the_cue_names_the_region_only_when_the_region_drove_the_pick():
    # given Pune, where item 7 sells far above its share everywhere, while item 1
    # sells in Pune about as it does everywhere
    listings = catalogue(10)
    root = global_segment({1: 0.5, 7: 0.02})
    city = SegmentScores("r:IN-MH-PUN", 500, {1: 0.5, 7: 0.4}, label="Pune")
    # when a Pune shopper's feed is ranked with the segment component alone
    params = replace(PARAMS, weights={stage: ComponentWeights(0, 0, 0, 1, 0, 0, 0)
                                      for stage in STAGES})
    reasons = {item.product_id: (item.reason, item.reason_arg)
               for item in rank(data(listings, [city, root]), params)}
    # then the region-driven pick says so, and the everywhere-popular one does not
    assert reasons[7] == ("popular_region", "Pune")
    assert reasons[1] == ("popular", "")


def test_a_pick_by_age_and_gender_never_claims_the_region():
    listings = catalogue(10)
    root = global_segment({1: 0.2, 4: 0.02})
    demographic = SegmentScores("ag:25-34:f", 300, {4: 0.5})
    city = SegmentScores("rag:IN-MH-PUN:25-34:f", 40, {4: 0.5}, label="Pune")
    reasons = {item.product_id: (item.reason, item.reason_arg)
               for item in rank(data(listings, [city, demographic, root]), PARAMS)}
    assert reasons[4] == ("popular", "")


# --- factored (naive Bayes) component -------------------------------------------------


def _factored_only():
    return replace(PARAMS, weights={stage: ComponentWeights(0, 0, 0, 0, 0, 0, 0, factored=1.0)
                                    for stage in STAGES},
                   exploration_share=dict.fromkeys(STAGES, 0.0))


def _four_categories():
    # one item per category, equally popular overall, distinct sellers
    listings = {pid: listing(pid, category=pid * 10, seller=pid) for pid in (1, 2, 3, 4)}
    root = SegmentScores("g", 1000, dict.fromkeys((1, 2, 3, 4), 0.1),
                         categories=dict.fromkeys((10, 20, 30, 40), 0.25))
    return listings, root


def test_the_factored_component_prefers_the_item_popular_in_both_age_band_and_gender():
    # given the shopper's age band going most for category 10, their gender
    # for 20, and both for 30 above average (no age x gender segment is big
    # enough to say so on its own)
    listings, root = _four_categories()
    age = SegmentScores("a:25-34", 400, {1: 0.1}, categories={10: 0.4, 20: 0.2, 30: 0.3, 40: 0.1})
    gender = SegmentScores("g:f", 900, {1: 0.1},
                           categories={10: 0.2, 20: 0.4, 30: 0.3, 40: 0.1})
    # when a cold shopper's feed is ranked on the factored component alone
    feed = ids(rank(data(listings, [age, gender, root]), _factored_only()))
    # then the item of the category liked by both comes first, though neither
    # segment alone puts it first, and the one neither likes comes last
    assert feed == [3, 1, 2, 4]


def test_a_segment_without_the_category_lowers_its_factored_score_but_never_zeroes_it():
    # given a gender segment whose kept categories do not include 20
    listings, root = _four_categories()
    age = SegmentScores("a:25-34", 400, {1: 0.1}, categories=dict.fromkeys((10, 20, 30, 40), 0.25))
    gender = SegmentScores("g:m", 500, {1: 0.1}, categories={10: 0.3, 30: 0.3, 40: 0.05})
    scores = factored_affinity(list(listings.values()), [age, gender, root], m=30)
    # then item 2 still scores, below the items of listed categories, and no
    # higher than if its category's share there were the list's last one
    assert 0 < scores[2] < scores[1]
    assert scores[2] <= 0.1 * 0.05 / 0.25 + 1e-12
    # and a category nobody's list carries, or an item beyond the global
    # list, still gets a score: never a zero product
    unknown = listing(9, category=90)
    assert factored_affinity([unknown], [age, gender, root], m=30)[9] > 0


def test_the_factored_component_is_global_popularity_when_the_profile_is_empty():
    listings, root = _four_categories()
    root = replace(root, items={1: 0.5, 2: 0.3, 3: 0.2})
    assert factored_affinity([listings[pid] for pid in (1, 2, 3)], [root], m=30) == {
        1: 0.5, 2: 0.3, 3: 0.2}
    assert factored_affinity([listings[1]], [], m=30) == {}


def test_the_factored_component_takes_the_deepest_region_and_leaves_language_to_it():
    # given a shopper's usable chain: a two-dimension segment, the city and
    # the country, age band, gender, language, global
    chain = [SegmentScores("ra:IN-MH-PUN:25-34", 50, {1: 0.1}),
             SegmentScores("r:IN-MH-PUN", 60, {1: 0.1}),
             SegmentScores("a:25-34", 300, {1: 0.1}),
             SegmentScores("g:f", 400, {1: 0.1}),
             SegmentScores("l:hi", 500, {1: 0.1}),
             SegmentScores("r:IN", 900, {1: 0.1}),
             global_segment({1: 0.1})]
    # then the factors are the city, the age band and the gender: language
    # says little more than the region it mostly follows
    assert [s.key for s in factor_segments(chain)] == ["r:IN-MH-PUN", "a:25-34", "g:f"]
    # and without a region, language stands in for it
    assert [s.key for s in factor_segments(chain[2:5] + chain[-1:])] == [
        "a:25-34", "g:f", "l:hi"]
