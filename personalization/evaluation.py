"""Offline evaluation of the ranking on a temporal hold-out, for any imported data.

The cut is a date (`cut`) or the last `test_days` of events. A ranking version
is built from the events up to the cut only (an EVALUATION version, never
served and deleted afterwards), so no method sees the future. For each test
shopper, each method ranks as of the cut and is scored against what the
shopper went on to click, cart, share or buy after it that they had not
bought (or hidden) before; what they bought before is removed from every
method's list before the top k is taken (the shop never shows it again).

Baselines, from the interest events before the cut (click, cart, share,
purchase; impressions never count), popularity being the number of distinct
shoppers per item:
- global popularity;
- popularity in the shopper's own value of each profile dimension (region,
  age band, gender, language) and of each pair of them; a value with fewer
  than k shoppers, or an empty one, backs off (a pair to the better-populated
  of its two single dimensions, then global);
- item-kNN: plain cosine item-item similarity over the shoppers' item sets,
  summed over the shopper's own items (global popularity fills the rest);
- full ranker: exactly the feed's ranking (`feed_ranking_compute`).

Cold shoppers had no events before the cut (profile only); warm ones did.
Warm shoppers are a seeded random sample when there are more than
`max_shoppers` (cold ones too).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from itertools import combinations

import numpy as np
from django.db.models import Max

from catalog.models import Product

from .affinity import RankingVersion
from .conf import get_config
from .models import Event, ShopperProfile
from .ranking import STAGES, RankingParams, rank
from .rebuild import affinities_rebuild
from .selectors import feed_ranking_compute

DIMENSIONS = ("region", "age band", "gender", "language")
COHORTS = ("cold", "warm")
RELEVANT_TYPES = ("click", "cart", "share", "purchase")
GLOBAL = "global popularity"
KNN = "item-kNN"
FULL = "full ranker"
NO_EXPLORATION = "full ranker without exploration"
KNN_NEIGHBOURS = 50
# "New" for the exposure figure: listed less than this many days before the cut.
NEW_DAYS = 7

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
    # Share of the top-k slots that went to listings younger than NEW_DAYS.
    new_share: float = 0.0


def methods() -> list[str]:
    """Return the method names in table order."""
    singles = [f"{dim} popularity" for dim in DIMENSIONS]
    pairs = [f"{a} x {b} popularity" for a, b in combinations(DIMENSIONS, 2)]
    return [GLOBAL, *singles, *pairs, KNN, FULL, NO_EXPLORATION]


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


def _sample(ids: list[int], limit: int, seed: int) -> list[int]:
    """Return at most `limit` of the ids, a seeded random sample, sorted."""
    if len(ids) <= limit:
        return ids
    return sorted(random.Random(seed).sample(ids, limit))  # noqa: S311 (not a secret)


def cut_resolve(*, cut: datetime | None, test_days: int) -> datetime:
    """Return the hold-out cut: `cut`, or `test_days` before the last event."""
    if cut is not None:
        return cut
    end = Event.objects.aggregate(last=Max("created_at"))["last"]
    if end is None:
        raise EvaluationError("There are no events to evaluate on.")
    return end - timedelta(days=test_days)


def holdout_get(*, cut: datetime, end: datetime | None = None
                ) -> tuple[dict[int, set[int]], dict[int, set[int]], set[int]]:
    """Return (relevant items per test shopper, items never to show them again,
    ids of the test shoppers who had events before the cut)."""
    after = Event.objects.filter(created_at__gt=cut, type__in=RELEVANT_TYPES,
                                 shopper__isnull=False, shopper__consent_personalization=True)
    if end is not None:
        after = after.filter(created_at__lte=end)
    relevant: dict[int, set[int]] = {}
    for shopper_id, product_id in after.values_list("shopper_id", "product_id").iterator(
            chunk_size=10_000):
        relevant.setdefault(shopper_id, set()).add(product_id)
    shown_never: dict[int, set[int]] = {}
    warm: set[int] = set()
    for shopper_id, product_id, kind in (
        Event.objects.filter(created_at__lte=cut, shopper__isnull=False)
        .exclude(type="view", context="feed")
        .values_list("shopper_id", "product_id", "type").iterator(chunk_size=10_000)
    ):
        if shopper_id in relevant:
            warm.add(shopper_id)
            if kind in ("purchase", "hide"):
                shown_never.setdefault(shopper_id, set()).add(product_id)
    for shopper_id, excluded in shown_never.items():
        relevant[shopper_id] -= excluded
    relevant = {shopper_id: items for shopper_id, items in relevant.items() if items}
    return relevant, shown_never, warm & set(relevant)


class Baselines:
    """Popularity lists and item-kNN from the interest events before a cut."""

    def __init__(self, *, cut: datetime, k_threshold: int) -> None:
        from scipy import sparse

        rows = list(
            Event.objects.filter(created_at__lte=cut, type__in=RELEVANT_TYPES,
                                 shopper__isnull=False, shopper__consent_personalization=True)
            .values_list("shopper_id", "product_id").distinct().iterator(chunk_size=20_000)
        )
        if not rows:
            raise EvaluationError(f"No clicks, carts, shares or purchases before {cut:%Y-%m-%d}.")
        pairs = np.array(rows, dtype=np.int64)
        self.shoppers, shopper_index = np.unique(pairs[:, 0], return_inverse=True)
        eligible = set(Product.objects.published().filter(created_at__lte=cut)
                       .values_list("pk", flat=True))
        self.items, item_index = np.unique(pairs[:, 1], return_inverse=True)
        self.item_ok = np.array([pid in eligible for pid in self.items.tolist()])
        self.matrix = sparse.csr_matrix(
            (np.ones(len(pairs)), (shopper_index, item_index)),
            shape=(len(self.shoppers), len(self.items)))
        self.matrix.data[:] = 1.0
        self.row_of = {int(sid): i for i, sid in enumerate(self.shoppers.tolist())}
        self.k = k_threshold
        profiles = {
            pk: (region or "", age or "", gender or "", language or "")
            for pk, region, age, gender, language in ShopperProfile.objects.filter(
                pk__in=self.shoppers.tolist()).values_list(
                "pk", "region__code", "age_band", "gender", "language").iterator(chunk_size=20_000)
        }
        self.profile_of = profiles
        self.counts = np.asarray(self.matrix.sum(axis=0)).ravel()
        self._global = self._order(self.counts)
        self._lists: dict[tuple, list[int]] = {}
        self._sizes: dict[tuple, int] = {}
        members: dict[tuple, list[int]] = {}
        for row, sid in enumerate(self.shoppers.tolist()):
            values = profiles.get(sid, ("", "", "", ""))
            for dims in self._dimension_sets():
                if all(values[d] for d in dims):
                    members.setdefault((dims, tuple(values[d] for d in dims)), []).append(row)
        for key, member_rows in members.items():
            self._sizes[key] = len(member_rows)
            if len(member_rows) >= self.k:
                counts = np.asarray(self.matrix[member_rows].sum(axis=0)).ravel()
                self._lists[key] = self._order(counts)
        self._knn = None

    @staticmethod
    def _dimension_sets() -> list[tuple[int, ...]]:
        return [(d,) for d in range(len(DIMENSIONS))] + list(combinations(range(len(DIMENSIONS)),
                                                                          2))

    def _order(self, counts: np.ndarray) -> list[int]:
        """Return eligible product ids by count (desc), ties by global count, then id."""
        keep = np.flatnonzero((counts > 0) & self.item_ok)
        order = np.lexsort((self.items[keep], -self.counts[keep], -counts[keep]))
        return self.items[keep][order].tolist()

    def popularity(self, dims: tuple[int, ...], profile: tuple[str, ...]) -> list[int]:
        """Return the popularity list for these dimension indexes of the profile."""
        if not dims:
            return self._global
        key = (dims, tuple(profile[d] for d in dims))
        if all(profile[d] for d in dims) and key in self._lists:
            return self._lists[key]
        if len(dims) == 2:
            singles = [((d,), (profile[d],)) for d in dims if profile[d]]
            singles = [key for key in singles if key in self._lists]
            if singles:
                return self._lists[max(singles, key=lambda key: self._sizes[key])]
        return self._global

    def knn(self, shopper_id: int, limit: int) -> list[int]:
        """Return the item-kNN list (cosine, summed over the shopper's items)."""
        if self._knn is None:
            self._knn = _cosine_neighbours(self.matrix, KNN_NEIGHBOURS)
        row = self.row_of.get(shopper_id)
        if row is None:
            return self._global
        own = self.matrix[row]
        scores = np.asarray((own @ self._knn).todense()).ravel()
        scores[~self.item_ok] = 0
        top = np.flatnonzero(scores > 0)
        top = top[np.lexsort((self.items[top], -scores[top]))][:limit]
        ranked = self.items[top].tolist()
        seen = set(ranked)
        return ranked + [pid for pid in self._global if pid not in seen]


def _cosine_neighbours(matrix, keep: int):
    """Return an item x item sparse matrix of each item's `keep` best cosine neighbours."""
    from scipy import sparse

    counts = np.asarray(matrix.sum(axis=0)).ravel()
    norms = np.sqrt(np.maximum(counts, 1))
    rows, cols, vals = [], [], []
    items = matrix.shape[1]
    by_item = matrix.T.tocsr()
    block = 2000
    for start in range(0, items, block):
        co = (by_item[start:start + block] @ matrix).tocsr()
        for offset in range(co.shape[0]):
            i = start + offset
            lo, hi = co.indptr[offset], co.indptr[offset + 1]
            cols_i, co_i = co.indices[lo:hi], co.data[lo:hi]
            mask = cols_i != i
            cols_i, co_i = cols_i[mask], co_i[mask]
            if not len(cols_i):
                continue
            sim = co_i / (norms[i] * norms[cols_i])
            if len(sim) > keep:
                best = np.argpartition(-sim, keep)[:keep]
                cols_i, sim = cols_i[best], sim[best]
            rows.append(np.full(len(cols_i), i))
            cols.append(cols_i)
            vals.append(sim)
    if not rows:
        return sparse.csr_matrix((items, items))
    return sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(items, items))


def ranking_evaluate(*, k: int = 10, test_days: int = 14, cut: datetime | None = None,
                     max_shoppers: int = 1000, max_warm: int | None = None, seed: int = 1,
                     progress: Progress | None = None) -> list[EvaluationRow]:
    """Return one row per (method, cohort) on a temporal hold-out of the events."""
    say = progress or (lambda message: None)
    cut = cut_resolve(cut=cut, test_days=test_days)
    relevant, shown_never, warm_ids = holdout_get(cut=cut)
    if not relevant:
        raise EvaluationError(f"No clicks, carts, shares or purchases after {cut:%Y-%m-%d}.")
    cohorts = {
        "cold": _sample(sorted(set(relevant) - warm_ids), max_shoppers, seed),
        "warm": _sample(sorted(warm_ids), max_warm or max_shoppers, seed),
    }
    say(f"hold-out after {cut:%Y-%m-%d %H:%M}: {len(cohorts['cold'])} cold and "
        f"{len(cohorts['warm'])} warm shoppers evaluated")
    baselines = Baselines(cut=cut, k_threshold=get_config()["K_THRESHOLD"])
    say("building an evaluation version from the events before the cut")
    version = affinities_rebuild(as_of=cut, activate=False, refresh_lifecycle=False,
                                 progress=lambda message: say(f"  {message}"))
    try:
        catalogue = Product.objects.published().filter(created_at__lte=cut).count() or 1
        rows = []
        for cohort in COHORTS:
            rows += _evaluate_cohort(cohort, cohorts[cohort], relevant, shown_never,
                                     baselines, version.pk, cut, k, catalogue, say)
        return rows
    finally:
        RankingVersion.objects.filter(pk=version.pk).delete()


def _evaluate_cohort(cohort: str, shopper_ids: list[int], relevant: dict[int, set[int]],
                     shown_never: dict[int, set[int]], baselines: Baselines, version_id: int,
                     cut: datetime, k: int, catalogue: int, say: Progress) -> list[EvaluationRow]:
    names = methods()
    totals = {method: [0.0, 0.0, set(), 0] for method in names}
    params = RankingParams.from_config(get_config())
    # The cost of the exploration slots: the same inputs ranked without them.
    unexplored = replace(params, exploration_share=dict.fromkeys(STAGES, 0.0))
    new_since = cut - timedelta(days=NEW_DAYS)
    new_ids = set(Product.objects.filter(created_at__gt=new_since, created_at__lte=cut)
                  .values_list("pk", flat=True))
    dimension_sets = [(), *Baselines._dimension_sets()]
    shoppers = ShopperProfile.objects.select_related("region").in_bulk(shopper_ids)
    for done, shopper_id in enumerate(shopper_ids, 1):
        shopper = shoppers[shopper_id]
        profile = (shopper.region.code if shopper.region else "", shopper.age_band,
                   shopper.gender, shopper.language)
        excluded = shown_never.get(shopper_id, set())
        for method, dims in zip(names, dimension_sets, strict=False):
            ranked = _top(baselines.popularity(dims, profile), excluded, k)
            _score(totals[method], ranked, relevant[shopper_id], k, new_ids)
        _score(totals[KNN], _top(baselines.knn(shopper_id, k + len(excluded)), excluded, k),
               relevant[shopper_id], k, new_ids)
        found = feed_ranking_compute(shopper=shopper, as_of=cut, version_id=version_id,
                                     pinned=True, inputs_only=True)
        for method, method_params in ((FULL, params), (NO_EXPLORATION, unexplored)):
            ranked = [item.product_id for item in rank(found[1], method_params, k)] \
                if found else []
            _score(totals[method], ranked, relevant[shopper_id], k, new_ids)
        if done % 500 == 0:
            say(f"  {cohort}: {done}/{len(shopper_ids)} shoppers")
    n = max(len(shopper_ids), 1)
    return [
        EvaluationRow(method=method, cohort=cohort, shoppers=len(shopper_ids),
                      ndcg=ndcg / n, hit_rate=hits / n, coverage=len(items) / catalogue,
                      new_share=new / (n * k))
        for method, (ndcg, hits, items, new) in totals.items()
    ]


def _top(ranked: list[int], excluded: set[int], k: int) -> list[int]:
    out = []
    for pid in ranked:
        if pid not in excluded:
            out.append(pid)
            if len(out) == k:
                break
    return out


def _score(total: list, ranked: list[int], relevant: set[int], k: int,
           new_ids: set[int]) -> None:
    total[0] += ndcg_at_k(ranked, relevant, k)
    total[1] += hit_at_k(ranked, relevant, k)
    total[2].update(ranked[:k])
    total[3] += sum(1 for pid in ranked[:k] if pid in new_ids)


def rows_as_dicts(rows: Sequence[EvaluationRow]) -> list[dict]:
    return [asdict(row) for row in rows]


def format_table(rows: Sequence[EvaluationRow], k: int) -> str:
    """Return the rows as a Markdown table."""
    lines = [
        f"| cohort | method | shoppers | NDCG@{k} | HitRate@{k} | coverage | "
        f"new listings (<{NEW_DAYS} d) in top {k} |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(f"| {row.cohort} | {row.method} | {row.shoppers} | {row.ndcg:.4f} | "
                     f"{row.hit_rate:.4f} | {row.coverage:.2%} | {row.new_share:.1%} |")
    return "\n".join(lines)

