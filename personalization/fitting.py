"""Mixture weights fitted per shop at the rebuild, on recent held-out windows.

Which signal predicts what a shopper takes next depends on the shop: on
grocery data what is popular this week beats any segment, on a fashion shop
region and age may. So at each rebuild the most recent FIT_FOLDS windows of
FIT_HOLDOUT_DAYS each are held out in turn (for each, a scratch version is
built from the events before it), and the weights of the components
(segment, demographic, factored, prior, category, co-occurrence, revisit,
trending, fresh) are fitted for cold shoppers (no history before the window)
and warm ones separately: a coordinate search over a small grid, a few rounds, from
the configured weights, maximising the mean log gain in NDCG@10 over the
configured weights across the windows, each window's gain capped
(`folds_objective`). One window alone let a holiday fortnight decide: on
Ta-Feng, weights fitted on the Chinese New Year weeks leaned on what was
popular that week and lost to plain age-band popularity in February
(docs/BENCHMARKS.md, "Ta-Feng"). Shoppers are a seeded sample, the search
visits the components in a fixed order and keeps the incumbent on ties, so
the same data and seed give the same weights.

With fewer than FIT_MIN_SHOPPERS held-out shoppers of a cohort in a window,
that window is left out for the cohort; with none left, the cohort keeps the
configured weights and the result says so.

Cost: one extra build per window plus, per sampled shopper, one ranking input
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
# A validation window's gain over the configured weights counts up to +50% (folds_objective).
GAIN_CAP = 1.5

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


# One validation window's held-out shoppers of a cohort, with the NDCG the
# starting weights reach on them (what a weighting's gain is measured against).
Fold = tuple[list[_Case], float]


def folds_objective(folds: list[Fold], w: dict[str, float]) -> float:
    """Return the mean log gain of `w` over the starting weights across the windows,
    each window's gain capped at GAIN_CAP.

    The cap is what keeps one unusual fortnight (a holiday week's rush on a few
    items) from deciding the weights for the months after it: past +50% a
    window's gain counts no more, so a weighting that doubles one window and
    loses in the other no longer beats one that does well in both. The log
    (a geometric mean) weighs a loss in one window against gains in the others
    by ratio, whatever each window's NDCG level. A plain minimum over windows
    did the same on paper but stalled the coordinate search, which moves one
    weight at a time: on a 10% sample of Ta-Feng no single step improved both
    windows and the configured weights stayed (docs/BENCHMARKS.md, "Ta-Feng").
    Windows where the starting weights score nothing say nothing about a gain;
    when all do, the plain mean NDCG decides.
    """
    gains = [_mean_ndcg(cases, w) / reference for cases, reference in folds if reference > 0]
    if gains:
        return sum(math.log(min(max(gain, 1e-6), GAIN_CAP)) for gain in gains) / len(gains)
    return sum(_mean_ndcg(cases, w) for cases, _reference in folds) / len(folds)


def coordinate_search(folds: list[Fold], start: dict[str, float], rounds: int
                      ) -> tuple[dict[str, float], float]:
    """Return the best weights found and their objective (deterministic)."""
    best = dict(start)
    best_score = folds_objective(folds, best)
    for _round in range(rounds):
        improved = False
        for name in COMPONENTS:
            for value in GRID:
                if value == best[name]:
                    continue
                trial = {**best, name: value}
                if sum(trial[n] for n in MIXED) <= 0:
                    continue
                score = folds_objective(folds, trial)
                if score > best_score + 1e-12:
                    best, best_score, improved = trial, score, True
        if not improved:
            break
    return best, best_score


def _fold_cases(*, cut: datetime, end: datetime, config: dict, params: RankingParams,
                seed: int) -> dict[str, list[_Case]]:
    """Return the held-out cases per cohort of the window (cut, end]."""
    from .evaluation import holdout_get
    from .rebuild import affinities_rebuild
    from .selectors import feed_ranking_compute

    relevant, _never, warm = holdout_get(cut=cut, end=end)
    cohorts = {"cold": _sample(list(set(relevant) - warm), config["FIT_SHOPPERS"], seed),
               "warm": _sample(list(warm), config["FIT_SHOPPERS"], seed)}
    cases: dict[str, list[_Case]] = {"cold": [], "warm": []}
    if all(len(ids) < config["FIT_MIN_SHOPPERS"] for ids in cohorts.values()):
        return cases
    version = affinities_rebuild(as_of=cut, activate=False, refresh_lifecycle=False, fit=False)
    try:
        shoppers = ShopperProfile.objects.select_related("region").in_bulk(
            [pk for ids in cohorts.values() for pk in ids])
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
    return cases


def weights_fit(*, as_of: datetime, progress: Progress | None = None) -> dict:
    """Return the fitted weights per cohort with their validation scores, or
    a result saying why the configured weights are kept."""
    say = progress or (lambda message: None)
    config = get_config()
    params = RankingParams.from_config(config)
    days, seed = config["FIT_HOLDOUT_DAYS"], config["FIT_SEED"]
    minimum, windows = config["FIT_MIN_SHOPPERS"], config["FIT_FOLDS"]
    # Consecutive windows of `days`, the most recent first: window i holds out
    # (as_of - (i + 1) * days, as_of - i * days] and trains on what came before.
    cuts = [(as_of - timedelta(days=days * (i + 1)), as_of - timedelta(days=days * i))
            for i in range(windows)]
    result: dict = {"holdout_days": days, "folds": windows, "seed": seed,
                    "cut": cuts[0][0].isoformat()}
    per_window: list[dict[str, list[_Case]]] = []
    for cut, end in cuts:
        say(f"fitting weights: scratch version up to {cut:%Y-%m-%d %H:%M}, "
            f"validated on the {days} days after it")
        per_window.append(_fold_cases(cut=cut, end=end, config=config, params=params,
                                      seed=seed))
    result["shoppers"] = {name: len(per_window[0][name]) for name in ("cold", "warm")}
    if all(len(cases[name]) < minimum for cases in per_window for name in ("cold", "warm")):
        result.update(status="configured", message=(
            f"too little data to fit: fewer than {minimum} cold or warm held-out shoppers in "
            f"each of the last {windows} windows of {days} days; configured weights used"))
        return result
    result.update(status="fitted", weights={}, validation={}, messages=[])
    for name in ("cold", "warm"):
        stage_weights = params.weights[START_STAGE[name]]
        start = {component: getattr(stage_weights, component) for component in COMPONENTS}
        usable = [(cut, cases[name]) for (cut, _end), cases in zip(cuts, per_window, strict=True)
                  if len(cases[name]) >= minimum]
        if not usable:
            result["messages"].append(
                f"{name}: fewer than {minimum} held-out shoppers in every window; "
                "configured weights")
            continue
        folds = [(cases, _mean_ndcg(cases, start)) for _cut, cases in usable]
        fitted, _gain = coordinate_search(folds, start, config["FIT_ROUNDS"])
        scores = [{"cut": cut.isoformat(), "shoppers": len(cases),
                   "configured": round(reference, 5),
                   "fitted": round(_mean_ndcg(cases, fitted), 5)}
                  for (cut, cases), (_cases, reference) in zip(usable, folds, strict=True)]
        result["weights"][name] = fitted
        result["validation"][name] = {
            "configured": round(sum(f["configured"] for f in scores) / len(scores), 5),
            "fitted": round(sum(f["fitted"] for f in scores) / len(scores), 5),
            "shoppers": sum(f["shoppers"] for f in scores), "windows": scores}
        say(f"fitted {name} weights on {len(usable)} windows ("
            + ", ".join(f"{f['shoppers']} shoppers: NDCG@{K} {f['configured']:.4f} -> "
                        f"{f['fitted']:.4f}" for f in scores) + "): "
            + ", ".join(f"{component} {value:g}" for component, value in fitted.items()))
    return result
