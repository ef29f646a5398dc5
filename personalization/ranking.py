"""Ranking: pure scoring and re-ranking on plain data (no ORM, no I/O).

The feed selector and `evaluate_ranking` load plain dataclasses (segments with
their candidate lists, the shopper's recent history, item neighbours, listing
metadata) and call `rank()`. Everything here is deterministic: the same inputs
give the same order, ties broken by product id, and the exploration draw is
seeded by shopper and ranking version.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ImproperlyConfigured

from .lattice import lattice_keys

GLOBAL_KEY = "g"
TREND_KEY = "trend"
STAGES = ("new", "first_order", "forming", "habit", "dormant")
# In order of precedence when two explain an item equally: most personal first.
COMPONENTS = ("co_occurrence", "revisit", "category", "segment", "demographic", "factored",
              "trending", "fresh", "prior")
# Components a configured weighting may leave out (weight 0): added later.
OPTIONAL_COMPONENTS = ("demographic", "factored")
# Dimension letters of the one-dimension segments the factored component
# multiplies (personalization/lattice.py): region, age band, gender, language.
FACTOR_DIMENSIONS = ("r", "a", "g", "l")
# How much more popular an item must be in the shopper's region segment than in
# the same segment without region before the cue names the region.
REGION_LIFT = 1.25
# Event types that express interest (a hide is the opposite; a view is weak).
POSITIVE_TYPES = ("view", "click", "cart", "purchase", "share")


class Reason:
    """Why an item is in the feed; the page turns these into a small cue."""

    POPULAR_REGION = "popular_region"  # arg: the region's name
    POPULAR = "popular"
    NEW = "new"
    BECAUSE_VIEWED = "because_viewed"  # arg: the title of the product the shopper looked at
    FOR_YOU = "for_you"
    TRENDING = "trending"


@dataclass(frozen=True)
class FeedItem:
    product_id: int
    reason: str
    reason_arg: str = ""


@dataclass(frozen=True)
class ComponentWeights:
    co_occurrence: float  # neighbours of the shopper's own recent items
    revisit: float  # the shopper's own recent items (viewed, carted, not bought)
    category: float  # segment and personal category affinity
    segment: float  # popularity in the most specific usable segment
    trending: float
    fresh: float  # listing age
    prior: float  # global popularity
    # Popularity in the most specific usable segment without region (age band,
    # gender, language): where the region says little, the profile still may.
    demographic: float = 0.0
    # Global popularity times its category's lift in each profile dimension's
    # own segment (region, age band, gender), the one-dimension segments
    # combined as independent evidence: see factored_affinity.
    factored: float = 0.0


@dataclass(frozen=True)
class RankingParams:
    k: int = 20
    smoothing: float = 30.0
    event_weights: Mapping[str, float] = field(default_factory=lambda: {
        "view": 1.0, "click": 2.0, "cart": 4.0, "share": 6.0, "purchase": 10.0})
    half_life_days: float = 21.0
    weights: Mapping[str, ComponentWeights] = field(default_factory=lambda: {
        stage: ComponentWeights(0.25, 0.1, 0.15, 0.3, 0.05, 0.05, 0.1) for stage in STAGES})
    exploration_share: Mapping[str, float] = field(
        default_factory=lambda: dict.fromkeys(STAGES, 0.1))
    new_listing_days: int = 14
    new_seller_days: int = 30
    freshness_half_life_days: float = 10.0
    max_run: int = 2
    out_of_stock_factor: float = 0.2
    snapshot_size: int = 400

    @classmethod
    def from_config(cls, config: Mapping) -> RankingParams:
        """Return the params in the PERSONALIZATION config; raise ImproperlyConfigured if bad."""
        def positive(key: str) -> float:
            value = config[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ImproperlyConfigured(f"PERSONALIZATION[{key!r}] must be a positive number.")
            return value

        weights = {}
        for stage in STAGES:
            raw = config["RANKING_WEIGHTS"].get(stage)
            if not isinstance(raw, Mapping) or not (
                set(COMPONENTS) - set(OPTIONAL_COMPONENTS) <= set(raw) <= set(COMPONENTS)
            ) or any(
                isinstance(v, bool) or not isinstance(v, int | float) or v < 0
                for v in raw.values()
            ):
                raise ImproperlyConfigured(
                    f"PERSONALIZATION['RANKING_WEIGHTS'][{stage!r}] must map each of "
                    f"{', '.join(COMPONENTS)} to a number >= 0."
                )
            weights[stage] = ComponentWeights(**{name: float(raw.get(name, 0.0))
                                                 for name in COMPONENTS})
        shares = {}
        for stage in STAGES:
            share = config["EXPLORATION_SHARE"].get(stage)
            if isinstance(share, bool) or not isinstance(share, int | float) \
                    or not 0 <= share <= 0.5:
                raise ImproperlyConfigured(
                    f"PERSONALIZATION['EXPLORATION_SHARE'][{stage!r}] must be between 0 and 0.5."
                )
            shares[stage] = float(share)
        max_run = config["DIVERSITY_MAX_RUN"]
        if isinstance(max_run, bool) or not isinstance(max_run, int) or max_run < 1:
            raise ImproperlyConfigured("PERSONALIZATION['DIVERSITY_MAX_RUN'] must be >= 1.")
        factor = config["OUT_OF_STOCK_FACTOR"]
        if isinstance(factor, bool) or not isinstance(factor, int | float) \
                or not 0 <= factor <= 1:
            raise ImproperlyConfigured("PERSONALIZATION['OUT_OF_STOCK_FACTOR'] must be in [0, 1].")
        window = positive("REBUILD_WINDOW_DAYS")
        if window / positive("HALF_LIFE_DAYS") > 500 or config["TRENDING_WINDOW_DAYS"] / positive(
            "TRENDING_HALF_LIFE_DAYS"
        ) > 500:
            # 2^-500 is about 1e-151; PostgreSQL's EXP() raises on underflow
            # far below that, so keep the decayed weights representable.
            raise ImproperlyConfigured(
                "PERSONALIZATION: a window of more than 500 half-lives makes weights underflow."
            )
        for key in ("CANDIDATES_PER_SEGMENT", "NEIGHBOURS_PER_ITEM", "NEIGHBOUR_MIN_SHOPPERS",
                    "TRENDING_WINDOW_DAYS", "NEW_LISTING_DAYS",
                    "NEW_SELLER_DAYS", "HISTORY_EVENTS", "HISTORY_DAYS", "FRESH_CANDIDATES",
                    "FEED_SNAPSHOT_SIZE", "FEED_SNAPSHOT_TTL_SECONDS",
                    "FEED_CURSOR_MAX_AGE_SECONDS", "FEED_MAX_PAGE_SIZE", "RANKING_CACHE_SECONDS",
                    "FEED_SNAPSHOT_REUSE_SECONDS",
                    "RANKING_VERSIONS_KEPT"):
            value = config[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ImproperlyConfigured(f"PERSONALIZATION[{key!r}] must be a positive integer.")
        return cls(
            k=config["K_THRESHOLD"],
            smoothing=float(positive("SMOOTHING_STRENGTH")),
            event_weights=dict(config["EVENT_WEIGHTS"]),
            half_life_days=float(config["HALF_LIFE_DAYS"]),
            weights=weights,
            exploration_share=shares,
            new_listing_days=config["NEW_LISTING_DAYS"],
            new_seller_days=config["NEW_SELLER_DAYS"],
            freshness_half_life_days=float(positive("FRESHNESS_HALF_LIFE_DAYS")),
            max_run=max_run,
            out_of_stock_factor=float(factor),
            snapshot_size=config["FEED_SNAPSHOT_SIZE"],
        )


@dataclass(frozen=True)
class SegmentScores:
    """One segment of the shopper's chain, as precomputed by the rebuild."""

    key: str
    shoppers: int
    items: Mapping[int, float]  # product id -> smoothed score (its candidate list)
    categories: Mapping[int, float] = field(default_factory=dict)
    label: str = ""  # the region's name ("" for global)
    # Only on the global segment: the mixture weights fitted at the rebuild,
    # {"cold": {component: weight}, "warm": {...}} (empty: use the configured ones).
    weights: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Listing:
    """What the ranking needs to know about a candidate product."""

    product_id: int
    category_id: int  # the listing's own (leaf) category: tastes are that fine
    seller_id: int
    created_at: datetime
    in_stock: bool = True
    seller_created_at: datetime | None = None
    # Its top-level category, for diversity: three sarees of three
    # subcategories in a row are still three sarees. 0: same as category_id.
    top_category_id: int = 0


@dataclass(frozen=True)
class HistoryEvent:
    product_id: int
    type: str
    at: datetime
    category_id: int = 0
    title: str = ""


@dataclass(frozen=True)
class RankingInput:
    listings: Mapping[int, Listing]  # every eligible candidate (published, sold here)
    segments: Sequence[SegmentScores]  # most specific first, global last
    now: datetime
    seed: str
    lifecycle_stage: str = "new"
    history: Sequence[HistoryEvent] = ()  # newest first
    neighbours: Mapping[int, Sequence[tuple[int, float]]] = field(default_factory=dict)
    trending: Mapping[int, float] = field(default_factory=dict)


# --- Segments ---------------------------------------------------------------------


def segment_chain_keys(*, region_codes: Sequence[str], age_band: str, gender: str,
                       language: str = "") -> list[str]:
    """Return the shopper's segment keys in the lattice, most specific first, global last.

    `region_codes` runs from the country down to the shopper's own region.
    Every combination of the dimensions the profile has is a key (see
    personalization/lattice.py), so an age x gender segment serves a shopper
    whose region is unknown or too small.
    """
    return lattice_keys(region_codes=region_codes, age_band=age_band, gender=gender,
                        language=language)


def usable_segments(segments: Sequence[SegmentScores], k: int) -> list[SegmentScores]:
    """Return the segments with at least `k` shoppers, in order.

    A smaller segment is never used on its own: its statistics are noise and
    could single people out. The rebuild never stores their scores either;
    this is the second lock on the same door.
    """
    return [segment for segment in segments if segment.shoppers >= k]


def shrink(*, n: float, share: float, parent: float, m: float) -> float:
    """Return the segment share shrunk toward the parent's: (n*share + m*parent)/(n + m)."""
    return (n * share + m * parent) / (n + m)


def decay(age_days: float, half_life_days: float) -> float:
    """Return the weight left after `age_days` with this half-life (1 at age 0)."""
    return 0.5 ** (max(age_days, 0.0) / half_life_days)


def segment_affinity(product_id: int, chain: Sequence[SegmentScores],
                     m: float) -> tuple[float, SegmentScores | None]:
    """Return the item's score in the most specific segment of `chain` and
    the segment it came from.

    The rebuild stored each segment's scores already shrunk toward all its
    parents, so the most specific usable segment speaks for the whole
    lattice above it. An item beyond its candidate list is taken to have a
    share near zero there: the global score shrunk by m/(n+m).
    """
    if not chain:
        return 0.0, None
    first = chain[0]
    if product_id in first.items:
        return first.items[product_id], first
    root = chain[-1] if chain[-1].key == GLOBAL_KEY else None
    if root is None or product_id not in root.items:
        return 0.0, None
    return shrink(n=first.shoppers if first is not root else 0, share=0.0,
                  parent=root.items[product_id], m=m), root


def factor_segments(chain: Sequence[SegmentScores]) -> list[SegmentScores]:
    """Return the one-dimension segments the factored component multiplies:
    per dimension the first of `chain` (for region, the deepest usable level).

    Language is left out when a region segment is there: where a shopper is
    largely decides the language they use, so counting both would count the
    same evidence twice. It stands in for region when region is unknown.
    """
    found: dict[str, SegmentScores] = {}
    for segment in chain:
        dims, _sep, _rest = segment.key.partition(":")
        if segment.key != GLOBAL_KEY and dims in FACTOR_DIMENSIONS and dims not in found:
            found[dims] = segment
    if "r" in found:
        found.pop("l", None)
    return [found[dim] for dim in FACTOR_DIMENSIONS if dim in found]


def _lift(segment: SegmentScores, root: SegmentScores, category_id: int, m: float,
          lowest: float) -> float:
    """Return how much more the segment's shoppers go for the category than
    everyone does: its category score over the global one (1: no evidence).

    A category beyond the segment's kept list (CATEGORIES_KEPT) gets the
    share-zero floor of `segment_affinity`, never more than the list's last
    score; one beyond the global list too says nothing either way.
    """
    overall = root.categories.get(category_id)
    if not overall or overall <= 0:
        return 1.0
    share = segment.categories.get(category_id)
    if share is None:
        share = min(shrink(n=segment.shoppers, share=0.0, parent=overall, m=m), lowest)
    return share / overall


def factored_affinity(listings: Sequence[Listing], chain: Sequence[SegmentScores],
                      m: float) -> dict[int, float]:
    """Return each item's global popularity times its category's lift in each
    of the shopper's one-dimension segments (naive Bayes over the profile).

    score(item) = g(item) x prod_d s_d(c) / g(c), g the global scores, s_d
    the scores in the shopper's segment of dimension d, c the item's
    category. Where the most specific segment is too small or missing (a rare
    region x age x gender cell), the single dimensions each still have
    plenty of shoppers, and taste that leans by region, by age and by gender
    at once is their product. The lift is taken at the category level: a
    one-dimension segment has many votes per category but few per item (on
    the demo's 600 products, a handful per age band), and item-level lifts
    were noise that cost NDCG on every validation window; what a segment
    prefers within a category the `segment` and `demographic` components
    still say. Each s_d is stored shrunk toward its parent by the segment's
    shopper count, so a small segment's lift is already pulled toward 1;
    missing data lowers a score, never zeroes it (see _lift). Items beyond the
    global list take its last score as their g.
    """
    root = chain[-1] if chain and chain[-1].key == GLOBAL_KEY else None
    if root is None or not root.items:
        return {}
    factors = [segment for segment in factor_segments(chain) if segment.categories]
    global_floor = min(root.items.values())
    lowest = {segment.key: min(segment.categories.values()) for segment in factors}
    scores = {}
    for listing in listings:
        score = root.items.get(listing.product_id, global_floor)
        for segment in factors:
            score *= _lift(segment, root, listing.category_id, m, lowest[segment.key])
        if score > 0:
            scores[listing.product_id] = score
    return scores


# --- Personal signals -------------------------------------------------------------


def _event_weight(event: HistoryEvent, params: RankingParams, now: datetime) -> float:
    age_days = (now - event.at).total_seconds() / 86400.0
    return params.event_weights.get(event.type, 0.0) * decay(age_days, params.half_life_days)


def personal_category_affinity(history: Sequence[HistoryEvent], params: RankingParams,
                               now: datetime) -> dict[int, float]:
    """Return the shopper's decayed share of interest per category."""
    totals: dict[int, float] = {}
    for event in history:
        if event.type in POSITIVE_TYPES and event.category_id:
            totals[event.category_id] = totals.get(event.category_id, 0.0) + _event_weight(
                event, params, now)
    whole = sum(totals.values())
    return {category: value / whole for category, value in totals.items()} if whole else {}


def co_occurrence_scores(history: Sequence[HistoryEvent],
                         neighbours: Mapping[int, Sequence[tuple[int, float]]],
                         params: RankingParams, now: datetime) -> dict[int, tuple[float, str]]:
    """Return, per product, the summed neighbour score over the shopper's
    history and the title of the history item that contributed most."""
    weights: dict[int, float] = {}
    titles: dict[int, str] = {}
    for event in history:
        if event.type in POSITIVE_TYPES:
            weights[event.product_id] = weights.get(event.product_id, 0.0) + _event_weight(
                event, params, now)
            titles.setdefault(event.product_id, event.title)
    scores: dict[int, float] = {}
    best: dict[int, tuple[float, int]] = {}
    for source in sorted(weights):
        for neighbour, similarity in neighbours.get(source, ()):
            contribution = weights[source] * similarity
            scores[neighbour] = scores.get(neighbour, 0.0) + contribution
            if contribution > best.get(neighbour, (0.0, 0))[0]:
                best[neighbour] = (contribution, source)
    return {pid: (value, titles.get(best[pid][1], "")) for pid, value in scores.items()}


def revisit_scores(history: Sequence[HistoryEvent], excluded: set[int], params: RankingParams,
                   now: datetime) -> dict[int, float]:
    """Return the decayed interest in each item of the shopper's own history
    (shoppers come back to what they looked at; bought and hidden items never)."""
    scores: dict[int, float] = {}
    for event in history:
        if event.type in POSITIVE_TYPES and event.product_id not in excluded:
            scores[event.product_id] = scores.get(event.product_id, 0.0) + _event_weight(
                event, params, now)
    return scores


# --- Scoring ----------------------------------------------------------------------


@dataclass(frozen=True)
class Scored:
    product_id: int
    score: float
    reason: str
    reason_arg: str = ""


def _distribution(values: Mapping[int, float]) -> dict[int, float]:
    """Return `values` scaled to sum to 1 (empty if they sum to nothing)."""
    whole = sum(value for value in values.values() if value > 0)
    return {key: value / whole for key, value in values.items() if value > 0} if whole else {}


def _stage(stage: str) -> str:
    return stage if stage in STAGES else "new"


def cohort_of(history: Sequence[HistoryEvent]) -> str:
    """Return "warm" when the shopper showed interest in anything before, else "cold"."""
    return "warm" if any(event.type in POSITIVE_TYPES for event in history) else "cold"


def weights_for(data: RankingInput, params: RankingParams,
                root: SegmentScores | None) -> ComponentWeights:
    """Return the mixture weights for this shopper: the ones fitted for the
    shop at the rebuild (cold or warm), else the configured ones by stage."""
    fitted = (root.weights if root is not None else {}).get(cohort_of(data.history))
    if fitted and set(fitted) == set(COMPONENTS):
        return ComponentWeights(**{name: float(fitted[name]) for name in COMPONENTS})
    return params.weights[_stage(data.lifecycle_stage)]


def excluded_products(history: Sequence[HistoryEvent]) -> set[int]:
    """Return the products never to show again: hidden ("not interested") or bought."""
    return {event.product_id for event in history if event.type in ("hide", "purchase")}


@dataclass(frozen=True)
class Components:
    """Each eligible listing's unweighted components, in listing order.

    `parts[name][i]` is listing i's share under one explanation; the score is
    their mixture (see score_candidates). The weight fit at the rebuild reads
    these once per validation shopper and tries many weightings on them.
    """

    listings: list[Listing]
    parts: dict[str, list[float]]  # every COMPONENTS name except "fresh"
    fresh: list[float]
    personal_taste: list[bool]  # the shopper's own category taste outweighs the segment's
    co_titles: dict[int, str]
    sources: dict[int, SegmentScores | None]
    region_label: str
    # The item's popularity in the shopper's segment with region over the same
    # without region: how much the region itself lifts it (see REGION_LIFT).
    region_lift: dict[int, float] = field(default_factory=dict)


MIXED = tuple(name for name in COMPONENTS if name != "fresh")


def components_compute(data: RankingInput, params: RankingParams) -> Components:
    """Return the unweighted components of every eligible listing."""
    chain = usable_segments(data.segments, params.k)
    root = next((segment for segment in chain if segment.key == GLOBAL_KEY), None)
    excluded = excluded_products(data.history)
    listings = [listing for pid, listing in sorted(data.listings.items()) if pid not in excluded]

    segment, segment_source = {}, {}
    for listing in listings:
        segment[listing.product_id], segment_source[listing.product_id] = segment_affinity(
            listing.product_id, chain, params.smoothing)
    profile_chain = [s for s in chain if s.key != GLOBAL_KEY and not s.key.startswith("r")]
    profile_chain += [root] if root else []
    regionless = {
        lst.product_id: segment_affinity(lst.product_id, profile_chain, params.smoothing)[0]
        for lst in listings}
    region_lift = {
        pid: (segment[pid] / regionless[pid] if regionless[pid] > 0 else
              (float("inf") if segment[pid] > 0 else 0.0))
        for pid in segment if segment_source[pid] is not None
        and segment_source[pid].key.startswith("r")}
    segment = _distribution(segment)
    demographic = _distribution(regionless)
    factored = _distribution(factored_affinity(listings, chain, params.smoothing))
    prior = _distribution({lst.product_id: root.items.get(lst.product_id, 0.0)
                           for lst in listings} if root else {})
    trending = _distribution({lst.product_id: data.trending.get(lst.product_id, 0.0)
                              for lst in listings})
    co = co_occurrence_scores(data.history, data.neighbours, params, data.now)
    co_share = _distribution({pid: value for pid, (value, _title) in co.items()
                              if pid not in excluded})
    revisit = _distribution(revisit_scores(data.history, excluded, params, data.now))

    # Category-led: P(category) x P(item | category). The category taste is
    # the segment's blended with the shopper's own, the more history the more
    # personal; P(item | category) is the item's share of its category's
    # segment popularity among the candidates.
    segment_categories = _distribution(next((s.categories for s in chain if s.categories), {}))
    personal = personal_category_affinity(data.history, params, data.now)
    interest = sum(1 for event in data.history if event.type in POSITIVE_TYPES)
    personal_share = interest / (interest + 5.0) if personal else 0.0
    category_mass: dict[int, float] = {}
    for listing in listings:
        category_mass[listing.category_id] = category_mass.get(listing.category_id, 0.0) + (
            segment.get(listing.product_id, 0.0))

    parts: dict[str, list[float]] = {name: [] for name in MIXED}
    fresh, personal_taste = [], []
    for listing in listings:
        pid, category = listing.product_id, listing.category_id
        taste_segment = (1 - personal_share) * segment_categories.get(category, 0.0)
        taste_personal = personal_share * personal.get(category, 0.0)
        within = (segment.get(pid, 0.0) / category_mass[category]
                  if category_mass[category] > 0 else 0.0)
        parts["co_occurrence"].append(co_share.get(pid, 0.0))
        parts["revisit"].append(revisit.get(pid, 0.0))
        parts["category"].append((taste_segment + taste_personal) * within)
        parts["segment"].append(segment.get(pid, 0.0))
        parts["demographic"].append(demographic.get(pid, 0.0))
        parts["factored"].append(factored.get(pid, 0.0))
        parts["trending"].append(trending.get(pid, 0.0))
        parts["prior"].append(prior.get(pid, 0.0))
        age_days = (data.now - listing.created_at).total_seconds() / 86400.0
        fresh.append(decay(age_days, params.freshness_half_life_days))
        personal_taste.append(taste_personal > taste_segment)
    return Components(
        listings=listings, parts=parts, fresh=fresh, personal_taste=personal_taste,
        co_titles={pid: title for pid, (_value, title) in co.items()},
        sources=segment_source,
        region_label=next((s.label for s in chain if s.key != GLOBAL_KEY and s.label), ""),
        region_lift=region_lift,
    )


def score_candidates(data: RankingInput, params: RankingParams) -> list[Scored]:
    """Return every eligible listing scored, best first, with its reason.

    Each component is a probability that the shopper's next interaction is
    this item, under one explanation: popular in their segment, popular
    everywhere, popular within the categories they like, something they
    looked at before, a neighbour of it, popular lately. The score is their
    mixture (weights fitted per shop at the rebuild, else configured by
    lifecycle stage), so the components are in the same units and a shopper
    with no history simply has zero personal components. Freshness
    multiplies, as does being out of stock.
    """
    chain = usable_segments(data.segments, params.k)
    root = next((segment for segment in chain if segment.key == GLOBAL_KEY), None)
    weights = weights_for(data, params, root)
    table = components_compute(data, params)
    scored = []
    for index, listing in enumerate(table.listings):
        pid = listing.product_id
        parts = {name: getattr(weights, name) * table.parts[name][index] for name in MIXED}
        fresh = table.fresh[index]
        # A small floor keeps fresh items with no data yet in a defined order.
        score = (sum(parts.values()) + 1e-9 * fresh) * (1 + weights.fresh * fresh)
        if not listing.in_stock:
            score *= params.out_of_stock_factor
        # The reason is the component that explains most of the score (ties:
        # the order of COMPONENTS, most personal first).
        parts["fresh"] = sum(parts.values()) * weights.fresh * fresh
        dominant = max(COMPONENTS, key=lambda name: parts[name])
        reason, arg = Reason.POPULAR, ""
        if parts[dominant] <= 0:
            reason = Reason.NEW if fresh > 0.5 else Reason.POPULAR
        elif dominant == "co_occurrence" and table.co_titles.get(pid):
            reason, arg = Reason.BECAUSE_VIEWED, table.co_titles[pid]
        elif dominant == "revisit" or (dominant == "category" and table.personal_taste[index]):
            reason = Reason.FOR_YOU
        elif dominant == "fresh":
            reason = Reason.NEW
        elif dominant == "trending":
            reason = Reason.TRENDING
        elif dominant in ("segment", "category"):
            # "Popular in Pune" only when the region drove the pick: the item is
            # clearly more popular among the shopper's segment with region than
            # without it. Segment shares are shrunk toward the parents, so an
            # item popular everywhere scores about the same in every region,
            # and calling it "popular in Pune" would be untrue (and, shown on
            # nearly every card, say nothing).
            source = table.sources.get(pid)
            label = source.label if source is not None and source.label else table.region_label
            if label and table.region_lift.get(pid, 0.0) >= REGION_LIFT:
                reason, arg = Reason.POPULAR_REGION, label
        # "demographic" leaves the region out by construction, and "factored"
        # mixes every dimension: plain "Popular".
        scored.append(Scored(pid, score, reason, arg))
    scored.sort(key=lambda item: (-item.score, item.product_id))
    return scored


# --- Re-ranking -------------------------------------------------------------------


def exploration_slots(*, length: int, share: float, rng: random.Random) -> set[int]:
    """Return the positions reserved for exploration: one at a random place
    in every block of round(1/share) positions."""
    if share <= 0 or length <= 0:
        return set()
    block = max(2, round(1 / share))
    slots = (start + rng.randrange(block) for start in range(0, length, block))
    return {slot for slot in slots if slot < length}


def is_new(listing: Listing, params: RankingParams, now: datetime) -> bool:
    """Return whether the listing or its seller is new enough to be explored."""
    if 0 <= (now - listing.created_at).days < params.new_listing_days:
        return True
    seller_since = listing.seller_created_at
    # A seller "created" after `now` (an evaluation cut, or imported sellers
    # backdating their listings) is not known to be new.
    return seller_since is not None and 0 <= (now - seller_since).days < params.new_seller_days


def _fits(run: Sequence[Listing], listing: Listing, max_run: int) -> bool:
    if len(run) < max_run:
        return True
    tail = run[-max_run:]
    group = listing.top_category_id or listing.category_id
    return not (all((item.top_category_id or item.category_id) == group for item in tail)
                or all(item.seller_id == listing.seller_id for item in tail))


def rerank(scored: Sequence[Scored], data: RankingInput, params: RankingParams,
           limit: int) -> list[FeedItem]:
    """Return the final order: exploration slots filled with new listings and
    sellers, never more than `max_run` in a row from one category or seller."""
    rng = random.Random(data.seed)  # noqa: S311 (a reproducible shuffle, not a secret)
    share = params.exploration_share.get(_stage(data.lifecycle_stage), 0.0)
    length = min(limit, len(scored))
    slots = exploration_slots(length=length, share=share, rng=rng)
    # The exploration pool: new items in score order, lightly shuffled so the
    # same few new listings do not take every shopper's slots.
    pool = [item for item in scored if is_new(data.listings[item.product_id], params, data.now)]
    jitter = {item.product_id: rng.random() for item in pool}
    explore = sorted(pool, key=lambda item: (-item.score * (0.5 + jitter[item.product_id]),
                                             item.product_id))[:len(slots)]
    explore_ids = {item.product_id for item in explore}
    main = [item for item in scored if item.product_id not in explore_ids]
    explore = [Scored(item.product_id, item.score, Reason.NEW) for item in explore]

    chosen: list[Scored] = []
    run: list[Listing] = []
    for position in range(length):
        sources = [explore, main] if position in slots else [main, explore]
        picked = None
        for source in sources:
            for index, item in enumerate(source):
                if _fits(run, data.listings[item.product_id], params.max_run):
                    picked = source.pop(index)
                    break
            if picked:
                break
        if picked is None:
            # Nothing left satisfies the rule (a one-category catalogue): the
            # best remaining item is better than a shorter feed.
            source = next(source for source in sources if source)
            picked = source.pop(0)
        chosen.append(picked)
        run.append(data.listings[picked.product_id])
    return [FeedItem(item.product_id, item.reason, item.reason_arg) for item in chosen]


def rank(data: RankingInput, params: RankingParams, limit: int | None = None) -> list[FeedItem]:
    """Return the ranked feed for these inputs: at most `limit` (default the snapshot size)."""
    return rerank(score_candidates(data, params), data, params,
                  params.snapshot_size if limit is None else limit)
