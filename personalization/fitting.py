"""Mixture weights fitted per shop at the rebuild, on a held-out recent slice.

Which signal predicts what a shopper takes next depends on the shop: on
grocery data what is popular this week beats any segment, on a fashion shop
region and age may. So at each rebuild the most recent FIT_HOLDOUT_DAYS of
events are held out, a scratch version is built from the events before them,
and the weights of the components (segment, prior, category, co-occurrence,
revisit, trending, fresh) are fitted to maximise NDCG@10 on the held-out
shoppers, for cold shoppers (no history before the slice) and warm ones
separately: a coordinate search over a small grid, a few rounds, from the
configured weights. Shoppers are a seeded sample, the search visits the
components in a fixed order and keeps the incumbent on ties, so the same
data and seed give the same weights.

With fewer than FIT_MIN_SHOPPERS held-out shoppers in a cohort, that cohort
keeps the configured weights and the result says so.

Cost: one extra build at the cut plus, per sampled shopper, one ranking input
(the feed's own reads) and cheap array scoring per grid point.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np

from .affinity import RankingVersion
from .conf import get_config
from .models import ShopperProfile
from .ranking import COMPONENTS, MIXED, RankingParams, components_compute

GRID = (0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0)
# The configured weights a cohort starts from (and falls back to).
START_STAGE = {"cold": "new", "warm": "forming"}
K = 10

Progress = Callable[[str], None]


def _sample(ids: list[int], limit: int, seed: int) -> list[int]:
    ids = sorted(ids)
    if len(ids) <= limit:
        return ids
    return sorted(random.Random(seed).sample(ids, limit))  # noqa: S311 (not a secret)


class _Case:
    """One held-out shopper's component matrix and relevant rows."""

    __slots__ = ("fresh", "ideal", "relevant", "stock", "x")

    def __init__(self, table, relevant: set[int], out_of_stock: float) -> None:
        self.x = np.array([table.parts[name] for name in MIXED], dtype=float).T.reshape(
            -1, len(MIXED))
        self.fresh = np.array(table.fresh, dtype=float)
        self.stock = np.array([1.0 if lst.in_stock else out_of_stock for lst in table.listings])
        self.relevant = np.array([lst.product_id in relevant for lst in table.listings])
        self.ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), K)))

    def ndcg(self, weights: np.ndarray, fresh_weight: float) -> float:
        if not self.relevant.any():
            return 0.0
        score = (self.x @ weights + 1e-9 * self.fresh) * (1 + fresh_weight * self.fresh)
        score *= self.stock
        n = min(K, len(score))
        top = np.argpartition(-score, n - 1)[:n] if len(score) > n else np.arange(len(score))
        top = top[np.argsort(-score[top], kind="stable")]
        hits = self.relevant[top]
        return float(sum(1 / math.log2(i + 2) for i in np.flatnonzero(hits))) / self.ideal


def _mean_ndcg(cases: list[_Case], w: dict[str, float]) -> float:
    vector = np.array([w[name] for name in MIXED])
    return sum(case.ndcg(vector, w["fresh"]) for case in cases) / len(cases)


def coordinate_search(cases: list[_Case], start: dict[str, float], rounds: int
                      ) -> tuple[dict[str, float], float]:
    """Return the best weights found and their mean NDCG (deterministic)."""
    best = dict(start)
    best_score = _mean_ndcg(cases, best)
    for _round in range(rounds):
        improved = False
        for name in COMPONENTS:
            for value in GRID:
                if value == best[name]:
                    continue
                trial = {**best, name: value}
                if sum(trial[n] for n in MIXED) <= 0:
                    continue
                score = _mean_ndcg(cases, trial)
                if score > best_score + 1e-12:
                    best, best_score, improved = trial, score, True
        if not improved:
            break
    return best, best_score


def weights_fit(*, as_of: datetime, progress: Progress | None = None) -> dict:
    """Return the fitted weights per cohort with their validation scores, or
    a result saying why the configured weights are kept."""
    from .evaluation import holdout_get
    from .rebuild import affinities_rebuild
    from .selectors import feed_ranking_compute

    say = progress or (lambda message: None)
    config = get_config()
    params = RankingParams.from_config(config)
    days, seed = config["FIT_HOLDOUT_DAYS"], config["FIT_SEED"]
    minimum = config["FIT_MIN_SHOPPERS"]
    cut = as_of - timedelta(days=days)
    relevant, _never, warm = holdout_get(cut=cut, end=as_of)
    cohorts = {"cold": _sample(list(set(relevant) - warm), config["FIT_SHOPPERS"], seed),
               "warm": _sample(list(warm), config["FIT_SHOPPERS"], seed)}
    result: dict = {"holdout_days": days, "seed": seed, "cut": cut.isoformat(),
                    "shoppers": {name: len(ids) for name, ids in cohorts.items()}}
    if all(len(ids) < minimum for ids in cohorts.values()):
        result.update(status="configured", message=(
            f"too little data to fit: {len(cohorts['cold'])} cold and {len(cohorts['warm'])} "
            f"warm shoppers in the last {days} days (need {minimum}); configured weights used"))
        return result
    say(f"fitting weights: scratch version up to {cut:%Y-%m-%d %H:%M}, "
        f"{len(cohorts['cold'])} cold and {len(cohorts['warm'])} warm shoppers")
    version = affinities_rebuild(as_of=cut, activate=False, refresh_lifecycle=False, fit=False)
    try:
        shoppers = ShopperProfile.objects.select_related("region").in_bulk(
            [pk for ids in cohorts.values() for pk in ids])
        cases: dict[str, list[_Case]] = {"cold": [], "warm": []}
        for name, ids in cohorts.items():
            for pk in ids:
                found = feed_ranking_compute(shopper=shoppers[pk], as_of=cut,
                                             version_id=version.pk, pinned=True,
                                             inputs_only=True)
                if found is None or not found[1].listings:
                    continue
                table = components_compute(found[1], params)
                cases[name].append(_Case(table, relevant[pk], params.out_of_stock_factor))
    finally:
        RankingVersion.objects.filter(pk=version.pk).delete()
    result.update(status="fitted", weights={}, validation={}, messages=[])
    for name, group in cases.items():
        stage_weights = params.weights[START_STAGE[name]]
        start = {component: getattr(stage_weights, component) for component in COMPONENTS}
        if len(group) < minimum:
            result["messages"].append(
                f"{name}: {len(group)} held-out shoppers (need {minimum}); configured weights")
            continue
        configured = _mean_ndcg(group, start)
        fitted, score = coordinate_search(group, start, config["FIT_ROUNDS"])
        result["weights"][name] = fitted
        result["validation"][name] = {"configured": round(configured, 5),
                                      "fitted": round(score, 5), "shoppers": len(group)}
        say(f"fitted {name} weights on {len(group)} shoppers: NDCG@{K} {configured:.4f} "
            f"(configured) -> {score:.4f}: " + ", ".join(
                f"{component} {value:g}" for component, value in fitted.items()))
    return result
