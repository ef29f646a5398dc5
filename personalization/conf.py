"""Personalization settings: one defaults dict, overridable by settings.PERSONALIZATION.

Read through `get_config()` inside functions, never at import time, so tests
that override settings see their values (the cache is dropped on
`setting_changed`).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

DEFAULTS: dict[str, Any] = {
    # Lifecycle (DESIGN.md): habit formed at >= 4 orders within 120 days of the
    # first visit; dormant after 30 days without a visit.
    "HABIT_ORDERS": 4,
    "HABIT_WINDOW_DAYS": 120,
    "DORMANT_AFTER_DAYS": 30,
    # A segment with fewer distinct shoppers is never used on its own: below
    # this, its statistics are noise and could single people out.
    "K_THRESHOLD": 20,
    # Must increase view < click < cart < share < purchase; checked below.
    "EVENT_WEIGHTS": {"view": 1.0, "click": 2.0, "cart": 4.0, "share": 6.0, "purchase": 10.0},
    # Time decay of event weights.
    "HALF_LIFE_DAYS": 21.0,
    # Largest batch the events API accepts; a beacon is a few KB at this size.
    "BATCH_MAX_EVENTS": 100,
    # Clients queue events while offline; older ones than this are refused
    # (and a timestamp in the future beyond the skew is a client bug).
    "CLIENT_EVENT_MAX_AGE_DAYS": 7,
    "CLIENT_CLOCK_SKEW_SECONDS": 300,
    # The shopper cookie: signed (not encrypted: it only holds a random UUID).
    "COOKIE_NAME": "sid",
    "COOKIE_SALT": "personalization.shopper.sid",
    "COOKIE_MAX_AGE_SECONDS": 365 * 24 * 3600,
    # last_seen_at is written at most this often per shopper: no write per request.
    "LAST_SEEN_RESOLUTION_SECONDS": 3600,
    # Rows per bulk INSERT in the CSV importers and the demo seeder.
    "IMPORT_BATCH_SIZE": 5000,
    # Anonymous profiles that never ordered, never signed in and have not been
    # seen for this long are purged (crawlers and one-off visits would
    # otherwise grow the table for ever); their events stay, unlinked.
    "ABANDONED_AFTER_DAYS": 180,
    # --- Ranking (personalization/ranking.py, rebuild.py, selectors.py) ---
    # Validated by personalization.ranking.RankingParams.from_config().
    # Pseudo-shoppers of shrinkage: a segment's item score is
    # (n*segment_share + m*parent_score) / (n + m), n its distinct shoppers.
    "SMOOTHING_STRENGTH": 30.0,
    # Events older than this do not count at all (their decayed weight is
    # below 1/300 at the default half-life anyway).
    "REBUILD_WINDOW_DAYS": 180,
    # The top items kept per segment: the candidate list the feed scores.
    "CANDIDATES_PER_SEGMENT": 300,
    # Item-to-item co-occurrence: neighbours kept per item and the fewest
    # shoppers a pair needs (one shopper's two clicks are not a pattern). The
    # sparse product runs in blocks of items, so no per-shopper cap is needed
    # to bound memory.
    "NEIGHBOURS_PER_ITEM": 20,
    "NEIGHBOUR_MIN_SHOPPERS": 2,
    # Item-kNN damping: a pair's cosine is multiplied by co / (co + this), so
    # two shoppers in common do not outrank two hundred (personalization/lattice.py).
    "NEIGHBOUR_SHRINKAGE": 10.0,
    # Trending: a short half-life over the last few days, compared with the
    # long-run share.
    "TRENDING_WINDOW_DAYS": 7,
    "TRENDING_HALF_LIFE_DAYS": 2.0,
    # Mixture weights per lifecycle stage (see ranking.score_candidates):
    # new shoppers lean on what is popular around them, habit-formed ones on
    # their own history and tastes. "fresh" is a multiplier (1 + w x freshness).
    # "demographic" (popularity in the most specific segment without region)
    # and "factored" (global popularity times the region's, age band's and
    # gender's own lifts, ranking.factored_affinity) may be left out: 0. The
    # rebuild's fit replaces all of these per shop.
    "RANKING_WEIGHTS": {
        # Tuned on the demo hold-out (evaluate_ranking): with segment 0.15 and
        # prior 0.40, cold shoppers gained only 2% NDCG@10 over global
        # popularity and lost to region popularity; 0.40/0.15 gives +14-20%
        # and beats region popularity, for -2% on warm shoppers without orders.
        "new": {"co_occurrence": 0.05, "revisit": 0.10, "category": 0.25, "segment": 0.40,
                "trending": 0.05, "fresh": 0.10, "prior": 0.15},
        "first_order": {"co_occurrence": 0.10, "revisit": 0.15, "category": 0.25,
                        "segment": 0.10, "trending": 0.05, "fresh": 0.10, "prior": 0.35},
        "forming": {"co_occurrence": 0.10, "revisit": 0.18, "category": 0.27, "segment": 0.10,
                    "trending": 0.05, "fresh": 0.10, "prior": 0.30},
        "habit": {"co_occurrence": 0.10, "revisit": 0.20, "category": 0.30, "segment": 0.10,
                  "trending": 0.05, "fresh": 0.10, "prior": 0.25},
        "dormant": {"co_occurrence": 0.05, "revisit": 0.15, "category": 0.20, "segment": 0.15,
                    "trending": 0.05, "fresh": 0.10, "prior": 0.40},
    },
    # Weights fitted per shop at each rebuild (personalization/fitting.py):
    # the last FIT_FOLDS windows of FIT_HOLDOUT_DAYS are held out in turn,
    # FIT_SHOPPERS cold and as many warm shoppers per window (a sample seeded
    # by FIT_SEED) score each weighting, FIT_ROUNDS rounds of coordinate search
    # for the best mean capped log gain over the windows. A cohort with fewer than
    # FIT_MIN_SHOPPERS held-out shoppers in every window keeps RANKING_WEIGHTS.
    "FIT_WEIGHTS": True,
    "FIT_HOLDOUT_DAYS": 14,
    "FIT_FOLDS": 2,
    "FIT_SHOPPERS": 300,
    "FIT_MIN_SHOPPERS": 30,
    "FIT_SEED": 13,
    "FIT_ROUNDS": 2,
    # Share of feed slots reserved for new listings and new sellers, so supply
    # gets seen; more for habit-formed shoppers, who tolerate exploration.
    "EXPLORATION_SHARE": {"new": 0.05, "first_order": 0.08, "forming": 0.08, "habit": 0.12,
                          "dormant": 0.05},
    "NEW_LISTING_DAYS": 14,
    "NEW_SELLER_DAYS": 30,
    "FRESHNESS_HALF_LIFE_DAYS": 10.0,
    # Never more than this many in a row from one category or one seller.
    "DIVERSITY_MAX_RUN": 2,
    # Out-of-stock items sink (their score is multiplied by this) but stay
    # findable: stock comes back and the shopper may wait.
    "OUT_OF_STOCK_FACTOR": 0.2,
    # The shopper's own history read per feed request.
    "HISTORY_EVENTS": 200,
    "HISTORY_DAYS": 90,
    # Newest listings added to the candidates on every request (new listings
    # appear before the next rebuild).
    "FRESH_CANDIDATES": 60,
    # Feed snapshots: ids kept per shopper, how long, and how long a cursor
    # stays valid (after that it restarts at page 1).
    "FEED_SNAPSHOT_SIZE": 400,
    "FEED_SNAPSHOT_TTL_SECONDS": 1800,
    "FEED_CURSOR_MAX_AGE_SECONDS": 6 * 3600,
    "FEED_MAX_PAGE_SIZE": 60,
    # Page 1 reuses the shopper's latest snapshot for this long when they did
    # nothing new since (a reload, coming back from a product page they only
    # looked at from the feed): no re-ranking per reload.
    "FEED_SNAPSHOT_REUSE_SECONDS": 120,
    # Cache lifetime of the precomputed segment lists read by the feed; a new
    # version is picked up within this many seconds.
    "RANKING_CACHE_SECONDS": 60,
    # Ranking versions kept: the active one and its predecessor, so snapshots
    # taken just before a rebuild can still be reproduced.
    "RANKING_VERSIONS_KEPT": 2,
    # Quality prior (personalization/quality.py): the rebuild scales each
    # product's precomputed segment popularity by a factor from its ratings'
    # Bayesian average, shrunk toward the shop's mean rating with this many
    # pseudo-ratings, mapped to [MIN, MAX] (the shop's mean and unrated
    # products: exactly 1.0). 1.0 / 1.0 turns it off.
    "QUALITY_PRIOR_WEIGHT": 10.0,
    "QUALITY_FACTOR_MIN": 0.85,
    "QUALITY_FACTOR_MAX": 1.15,
}

_WEIGHT_ORDER = ("view", "click", "cart", "share", "purchase")


@cache
def get_config() -> dict[str, Any]:
    """Return the defaults merged with settings.PERSONALIZATION, validated."""
    overrides = getattr(settings, "PERSONALIZATION", {}) or {}
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        # A typo would otherwise be silently ignored and the default used.
        raise ImproperlyConfigured(
            f"Unknown PERSONALIZATION setting(s): {', '.join(sorted(unknown))}"
        )
    config = {**DEFAULTS, **overrides}
    _validate(config)
    return config


def _validate(config: dict[str, Any]) -> None:
    for key in ("HABIT_ORDERS", "HABIT_WINDOW_DAYS", "DORMANT_AFTER_DAYS", "K_THRESHOLD",
                "BATCH_MAX_EVENTS", "IMPORT_BATCH_SIZE", "LAST_SEEN_RESOLUTION_SECONDS",
                "ABANDONED_AFTER_DAYS", "FIT_HOLDOUT_DAYS", "FIT_FOLDS", "FIT_SHOPPERS",
                "FIT_MIN_SHOPPERS", "FIT_ROUNDS"):
        value = config[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ImproperlyConfigured(f"PERSONALIZATION[{key!r}] must be a positive integer.")
    shrinkage = config["NEIGHBOUR_SHRINKAGE"]
    if isinstance(shrinkage, bool) or not isinstance(shrinkage, int | float) or shrinkage < 0:
        raise ImproperlyConfigured("PERSONALIZATION['NEIGHBOUR_SHRINKAGE'] must be a number >= 0.")
    if not isinstance(config["FIT_SEED"], int) or isinstance(config["FIT_SEED"], bool):
        raise ImproperlyConfigured("PERSONALIZATION['FIT_SEED'] must be a whole number.")
    if not config["HALF_LIFE_DAYS"] > 0:
        raise ImproperlyConfigured("PERSONALIZATION['HALF_LIFE_DAYS'] must be positive.")
    prior_weight = config["QUALITY_PRIOR_WEIGHT"]
    if isinstance(prior_weight, bool) or not isinstance(prior_weight, int | float) \
            or not prior_weight > 0:
        raise ImproperlyConfigured("PERSONALIZATION['QUALITY_PRIOR_WEIGHT'] must be a number > 0.")
    low, high = config["QUALITY_FACTOR_MIN"], config["QUALITY_FACTOR_MAX"]
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in (low, high)) \
            or not 0 < low <= 1.0 <= high:
        raise ImproperlyConfigured(
            "PERSONALIZATION['QUALITY_FACTOR_MIN'] and ['QUALITY_FACTOR_MAX'] must satisfy "
            "0 < MIN <= 1 <= MAX."
        )
    weights = config["EVENT_WEIGHTS"]
    missing = [name for name in _WEIGHT_ORDER if name not in weights]
    if missing:
        raise ImproperlyConfigured(f"PERSONALIZATION['EVENT_WEIGHTS'] lacks {', '.join(missing)}.")
    values = [weights[name] for name in _WEIGHT_ORDER]
    if any(b <= a for a, b in zip(values, values[1:], strict=False)) or values[0] <= 0:
        raise ImproperlyConfigured(
            "PERSONALIZATION['EVENT_WEIGHTS'] must be positive and increase "
            "view < click < cart < share < purchase."
        )


@receiver(setting_changed)
def _drop_cached_config(*, setting: str, **kwargs: Any) -> None:
    if setting == "PERSONALIZATION":
        get_config.cache_clear()
