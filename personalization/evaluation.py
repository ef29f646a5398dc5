"""Offline evaluation of the ranking on a temporal hold-out.

The last `test_days` of events are the test set; a ranking version is built
from the events before the cut only (an EVALUATION version, never served and
deleted afterwards), so no method sees the future. For each test shopper,
each method ranks as of the cut and is scored against the items the shopper
went on to click, cart, share or buy:

- global popularity: the global segment's list;
- region popularity: the shopper's most specific usable region segment;
- segment popularity: the most specific usable segment of the full chain
  (region + gender + age band), backing off like the feed does;
- full ranker: exactly the feed's ranking (`feed_ranking_compute`).

Cold shoppers had no events before the cut (profile only); warm ones did.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Max

from catalog.models import Product

from .affinity import RankingVersion
from .conf import get_config
from .models import Event, ShopperProfile
from .ranking import RankingParams, segment_affinity, segment_chain_keys, usable_segments
from .rebuild import affinities_rebuild
from .selectors import feed_ranking_compute, listings_get, region_info_get, segments_get

METHODS = ("global popularity", "region popularity", "segment popularity", "full ranker")
COHORTS = ("cold", "warm")
RELEVANT_TYPES = ("click", "cart", "share", "purchase")

Progress = Callable[[str], None]


class EvaluationError(Exception):
    """There is not enough data to evaluate."""


@dataclass(frozen=True)
class EvaluationRow:
    method: str
    cohort: str
    shoppers: int
    ndcg: float
    hit_rate: float
    coverage: float


def ndcg_at_k(ranked: Sequence[int], relevant: set[int], k: int) -> float:
    """Return the binary-relevance NDCG@k of `ranked` against `relevant`."""
    if not relevant:
        return 0.0
    dcg = sum(1 / math.log2(i + 2) for i, pid in enumerate(ranked[:k]) if pid in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / ideal


def hit_at_k(ranked: Sequence[int], relevant: set[int], k: int) -> float:
    """Return 1.0 if any of the first k items is relevant, else 0.0."""
    return 1.0 if any(pid in relevant for pid in ranked[:k]) else 0.0


def _sample(ids: list[int], limit: int) -> list[int]:
    """Return at most `limit` ids spread evenly over `ids` (deterministic)."""
    if len(ids) <= limit:
        return ids
    step = len(ids) / limit
    return [ids[int(i * step)] for i in range(limit)]


def ranking_evaluate(*, k: int = 10, test_days: int = 14, max_shoppers: int = 1000,
                     progress: Progress | None = None) -> list[EvaluationRow]:
    """Return one row per (method, cohort) on a temporal hold-out of the events."""
    say = progress or (lambda message: None)
    end = Event.objects.aggregate(last=Max("created_at"))["last"]
    if end is None:
        raise EvaluationError("There are no events to evaluate on.")
    cut = end - timedelta(days=test_days)
    relevant: dict[int, set[int]] = {}
    for shopper_id, product_id in (
        Event.objects.filter(created_at__gt=cut, type__in=RELEVANT_TYPES,
                             shopper__isnull=False, shopper__consent_personalization=True)
        .values_list("shopper_id", "product_id").iterator(chunk_size=5000)
    ):
        relevant.setdefault(shopper_id, set()).add(product_id)
    # What a shopper bought or hid before the cut is never shown to them again
    # (the shop's rule, for every method alike), so it is no target either.
    shown_never: dict[int, set[int]] = {}
    for shopper_id, product_id in (
        Event.objects.filter(created_at__lte=cut, type__in=("purchase", "hide"),
                             shopper__isnull=False)
        .values_list("shopper_id", "product_id").iterator(chunk_size=5000)
    ):
        if shopper_id in relevant:
            shown_never.setdefault(shopper_id, set()).add(product_id)
    for shopper_id, excluded in shown_never.items():
        relevant[shopper_id] -= excluded
    relevant = {shopper_id: items for shopper_id, items in relevant.items() if items}
    if not relevant:
        raise EvaluationError(f"No clicks, carts, shares or purchases after {cut:%Y-%m-%d}.")
    warm_ids: set[int] = set()
    test_shoppers = sorted(relevant)
    for start in range(0, len(test_shoppers), 5000):
        warm_ids.update(
            Event.objects.filter(created_at__lte=cut,
                                 shopper_id__in=test_shoppers[start:start + 5000])
            .values_list("shopper_id", flat=True).distinct()
        )
    cohorts = {
        "cold": _sample(sorted(set(relevant) - warm_ids), max_shoppers),
        "warm": _sample(sorted(set(relevant) & warm_ids), max_shoppers),
    }
    say(f"hold-out after {cut:%Y-%m-%d %H:%M}: {len(cohorts['cold'])} cold and "
        f"{len(cohorts['warm'])} warm shoppers evaluated")
    say("building an evaluation version from the events before the cut")
    version = affinities_rebuild(as_of=cut, activate=False, refresh_lifecycle=False,
                                 progress=lambda message: say(f"  {message}"))
    try:
        catalogue = Product.objects.published().count() or 1
        rows = []
        for cohort in COHORTS:
            rows += _evaluate_cohort(cohort, cohorts[cohort], relevant, shown_never,
                                     version.pk, cut, k, catalogue, say)
        return rows
    finally:
        RankingVersion.objects.filter(pk=version.pk).delete()


def _evaluate_cohort(cohort: str, shopper_ids: list[int], relevant: dict[int, set[int]],
                     shown_never: dict[int, set[int]], version_id: int, cut: datetime, k: int,
                     catalogue: int, say: Progress) -> list[EvaluationRow]:
    params = RankingParams.from_config(get_config())
    totals = {method: [0.0, 0.0, set()] for method in METHODS}
    eligible_cache: dict[tuple, list[int]] = {}
    shoppers = ShopperProfile.objects.select_related("region").in_bulk(shopper_ids)
    for done, shopper_id in enumerate(shopper_ids, 1):
        shopper = shoppers[shopper_id]
        region = region_info_get(shopper.region_id, shopper.region)
        codes = region.codes if region else ()
        keys = segment_chain_keys(region_codes=codes, age_band=shopper.age_band,
                                  gender=shopper.gender)
        _version, chain, _trending = segments_get(keys=keys, version_id=version_id)
        chain = usable_segments(chain, params.k)
        region_chain = [s for s in chain if s.key.startswith("r:") or s.key == "g"]
        lists = {
            "global popularity": [s for s in chain if s.key == "g"],
            "region popularity": region_chain[:1] + [s for s in chain if s.key == "g"],
            "segment popularity": chain,
        }
        for method, segments in lists.items():
            cache_key = (method, tuple(s.key for s in segments))
            if cache_key not in eligible_cache:
                eligible_cache[cache_key] = _popularity_order(segments, codes, cut, params)
            excluded = shown_never.get(shopper_id, set())
            ranked = [pid for pid in eligible_cache[cache_key] if pid not in excluded]
            _score(totals[method], ranked, relevant[shopper_id], k)
        result = feed_ranking_compute(shopper=shopper, as_of=cut, version_id=version_id,
                                      pinned=True, limit=k)
        ranked = [item.product_id for item in result[1]] if result else []
        _score(totals["full ranker"], ranked, relevant[shopper_id], k)
        if done % 250 == 0:
            say(f"  {cohort}: {done}/{len(shopper_ids)} shoppers")
    n = max(len(shopper_ids), 1)
    return [
        EvaluationRow(method=method, cohort=cohort, shoppers=len(shopper_ids),
                      ndcg=ndcg / n, hit_rate=hits / n, coverage=len(items) / catalogue)
        for method, (ndcg, hits, items) in totals.items()
    ]


def _popularity_order(segments, codes, cut: datetime, params: RankingParams) -> list[int]:
    """Return the published items sold in the region, by segment score."""
    if not segments:
        return []
    candidates = {pid for segment in segments for pid in segment.items}
    scored = sorted(
        ((segment_affinity(pid, segments, params.smoothing)[0], pid) for pid in candidates),
        key=lambda pair: (-pair[0], pair[1]),
    )
    eligible = listings_get(candidate_ids=candidates, codes=codes or None, fresh=0, as_of=cut)
    return [pid for _score, pid in scored if pid in eligible]


def _score(total: list, ranked: list[int], relevant: set[int], k: int) -> None:
    total[0] += ndcg_at_k(ranked, relevant, k)
    total[1] += hit_at_k(ranked, relevant, k)
    total[2].update(ranked[:k])


def format_table(rows: Sequence[EvaluationRow], k: int) -> str:
    """Return the rows as a Markdown table."""
    lines = [
        f"| cohort | method | shoppers | NDCG@{k} | HitRate@{k} | coverage |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(f"| {row.cohort} | {row.method} | {row.shoppers} | {row.ndcg:.4f} | "
                     f"{row.hit_rate:.4f} | {row.coverage:.2%} |")
    return "\n".join(lines)
