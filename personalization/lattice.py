"""The rebuild's array steps: segment lattice popularity and item-kNN neighbours.

Both start from the rebuild's first step, the (shopper, product, category)
rows of interest in the window (impressions excluded), loaded once into NumPy
arrays: at 1M events that is a few tens of MB, and every later structure is
bounded by those rows, not by their square.

Segment lattice: every combination of profile dimensions (region at each
level of its tree, age band, gender, language) is a candidate segment; one
with at least k distinct shoppers is usable. Popularity is distinct
shoppers per item (a shopper buying the same thing ten times is one vote: on
real data repeat counts drown the signal), as a share of the segment's votes,
shrunk toward the mean of its usable parents (each parent drops one
dimension, or moves the region one level up): (n*share + m*parents)/(n + m).
Parents are computed first (fewer dimensions first), the global segment is
the root.

Item-kNN: co-occurrence of items in shoppers' sets, cosine-normalised and
damped by co/(co + shrink) so that a pair seen twice does not outrank one
seen two hundred times; computed in column blocks of the sparse matrix so
memory stays bounded by one block's products.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy import sparse

GLOBAL_KEY = "g"
# Dimension letters in key order: r region, a age band, s sex/gender, l language.
# Existing keys keep their shape: "r:<code>", "rg:<code>:<gender>" and
# "rag:<code>:<age>:<gender>" (g there is gender; the global key is the bare "g").
DIMENSIONS = ("r", "a", "g", "l")
CATEGORIES_KEPT = 100
ITEM_BLOCK = 2000


def lattice_keys(*, region_codes: Sequence[str], age_band: str = "", gender: str = "",
                 language: str = "") -> list[str]:
    """Return every segment key of a profile, most specific first, global last.

    Specificity: more dimensions first; among as many, a deeper region first.
    `region_codes` runs from the country down to the shopper's own region.
    """
    values = {"a": age_band, "g": gender, "l": language}
    present = [dim for dim in ("a", "g", "l") if values[dim]]
    keyed: list[tuple[tuple, str]] = []
    regions: list[tuple[int, str | None]] = [(0, None)] + [
        (depth, code) for depth, code in enumerate(region_codes, 1)]
    for depth, code in regions:
        for size in range(len(present) + 1):
            for chosen in combinations(present, size):
                dims = ("r" if code else "") + "".join(chosen)
                if not dims:
                    continue
                parts = ([code] if code else []) + [values[dim] for dim in chosen]
                keyed.append(((-len(dims), -depth), f"{dims}:{':'.join(parts)}"))
    keyed.sort(key=lambda pair: pair[0])
    return [key for _order, key in keyed] + [GLOBAL_KEY]


def parent_keys(key: str, region_parents: dict[str, str | None]) -> list[str]:
    """Return the keys one step coarser than `key` (global for a one-dimension key)."""
    if key == GLOBAL_KEY:
        return []
    dims, _sep, rest = key.partition(":")
    values = rest.split(":")
    parents = []
    for index, dim in enumerate(dims):
        others = dims[:index] + dims[index + 1:]
        other_values = values[:index] + values[index + 1:]
        parents.append(f"{others}:{':'.join(other_values)}" if others else GLOBAL_KEY)
        if dim == "r" and region_parents.get(values[index]):
            up = values[:index] + [region_parents[values[index]]] + values[index + 1:]
            parents.append(f"{dims}:{':'.join(up)}")
    return list(dict.fromkeys(parents))


@dataclass
class Interactions:
    """The window's interest rows as arrays (one per shopper-item pair)."""

    shopper: np.ndarray  # row index into shopper_ids
    item: np.ndarray  # column index into product_ids
    shopper_ids: np.ndarray
    product_ids: np.ndarray
    item_category: np.ndarray  # category index per column
    category_ids: np.ndarray

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[int, int, int]]) -> Interactions:
        data = np.array(list(rows), dtype=np.int64).reshape(-1, 3)
        shopper_ids, shopper = np.unique(data[:, 0], return_inverse=True)
        product_ids, item = np.unique(data[:, 1], return_inverse=True)
        item_category_raw = np.zeros(len(product_ids), dtype=np.int64)
        item_category_raw[item] = data[:, 2]
        category_ids, item_category = np.unique(item_category_raw, return_inverse=True)
        return cls(shopper, item, shopper_ids, product_ids, item_category, category_ids)

    def matrix(self):
        """Return the binary shopper x item matrix (CSR)."""
        m = sparse.csr_matrix((np.ones(len(self.shopper), dtype=np.float32),
                               (self.shopper, self.item)),
                              shape=(len(self.shopper_ids), len(self.product_ids)))
        m.data[:] = 1.0
        return m


@dataclass
class SegmentResult:
    key: str
    shoppers: int
    votes: float
    items: list[tuple[int, float]]  # (product id, score), best first, published only
    categories: dict[str, float]


def segment_lattice(data: Interactions, profiles: dict[int, tuple[tuple[str, ...], str, str, str]],
                    region_parents: dict[str, str | None], *, k: int, m: float,
                    candidates: int, publishable: np.ndarray,
                    quality: np.ndarray | None = None) -> list[SegmentResult]:
    """Return every usable segment with its shrunk item and category scores.

    `profiles`: shopper id -> (region codes country-first, age band, gender,
    language). `publishable`: per item column, whether it may be a candidate.
    `quality`: per item column, a multiplier of the listed scores (the ratings'
    quality prior, personalization/quality.py); None leaves them as they are.
    """
    matrix = data.matrix()
    n_items = len(data.product_ids)
    n_categories = len(data.category_ids)
    to_category = sparse.csr_matrix(
        (np.ones(n_items, dtype=np.float32), (np.arange(n_items), data.item_category)),
        shape=(n_items, n_categories))
    # Per shopper: every key of the lattice they belong to.
    members: dict[str, list[int]] = {}
    for row, shopper_id in enumerate(data.shopper_ids.tolist()):
        codes, age, gender, language = profiles.get(shopper_id, ((), "", "", ""))
        for key in lattice_keys(region_codes=codes, age_band=age, gender=gender,
                                language=language):
            members.setdefault(key, []).append(row)
    usable = {key: rows for key, rows in members.items() if len(rows) >= k}
    depth_cache: dict[str, int] = {}

    def depth(code: str) -> int:
        if code not in depth_cache:
            parent = region_parents.get(code)
            depth_cache[code] = 1 + (depth(parent) if parent else 0)
        return depth_cache[code]

    def rank(key: str) -> tuple:
        if key == GLOBAL_KEY:
            return (0, 0, key)
        dims, _sep, rest = key.partition(":")
        return (len(dims), depth(rest.split(":")[0]) if dims.startswith("r") else 0, key)

    # Parents first: fewer dimensions, then a region higher up the tree.
    order = sorted(usable, key=rank)
    keep = max(candidates * 3, 1000)
    stored: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    stored_categories: dict[str, np.ndarray] = {}
    results = []
    dense = np.zeros(n_items)
    for key in order:
        rows = usable[key]
        counts = np.asarray(matrix[rows].sum(axis=0)).ravel()
        votes = float(counts.sum())
        share = counts / votes if votes else counts
        category_share = np.asarray((matrix[rows] @ to_category).sum(axis=0)).ravel()
        category_share = category_share / category_share.sum() if votes else category_share
        n = len(rows)
        parents = [p for p in parent_keys(key, region_parents) if p in stored]
        if parents:
            dense[:] = 0.0
            for parent in parents:
                index, values = stored[parent]
                dense[index] += values / len(parents)
            parent_categories = sum(stored_categories[p] for p in parents) / len(parents)
            score = (n * share + m * dense) / (n + m)
            category_score = (n * category_share + m * parent_categories) / (n + m)
        else:
            score, category_score = share, category_share
        top = np.flatnonzero(score > 0)
        if len(top) > keep:
            top = top[np.argpartition(-score[top], keep)[:keep]]
        stored[key] = (top, score[top])
        stored_categories[key] = category_score
        # The quality prior scales only the listed scores, the ones the feed
        # reads, never `stored`: the children shrink toward their parents'
        # plain popularity, so the factor is applied once, not once per level
        # of the lattice. It is applied before the cut, so a well-rated item
        # just below it can enter the list; `keep` (3x) leaves room for that.
        listed_score = score if quality is None else score * quality
        listed = top[publishable[top]]
        listed = listed[np.lexsort((data.product_ids[listed],
                                    -listed_score[listed]))][:candidates]
        best_categories = np.flatnonzero(category_score > 0)
        best_categories = best_categories[np.argsort(-category_score[best_categories],
                                                     kind="stable")][:CATEGORIES_KEPT]
        results.append(SegmentResult(
            key=key, shoppers=n, votes=votes,
            items=[(int(data.product_ids[i]), round(float(listed_score[i]), 9))
                   for i in listed],
            categories={str(int(data.category_ids[c])): round(float(category_score[c]), 9)
                        for c in best_categories},
        ))
    return results


def item_neighbours(data: Interactions, *, keep: int, min_shoppers: int, shrink: float,
                    ) -> Iterable[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Yield blocks of (product ids, neighbour ids, scores, shoppers with both),
    the `keep` best neighbours per product, best first within a product."""
    matrix = data.matrix()
    by_item = matrix.T.tocsr()
    counts = np.asarray(matrix.sum(axis=0)).ravel()
    norms = np.sqrt(np.maximum(counts, 1.0))
    ids = data.product_ids
    for start in range(0, by_item.shape[0], ITEM_BLOCK):
        co = (by_item[start:start + ITEM_BLOCK] @ matrix).tocoo()
        rows, cols, both = co.row.astype(np.int64) + start, co.col.astype(np.int64), co.data
        mask = (rows != cols) & (both >= min_shoppers)
        rows, cols, both = rows[mask], cols[mask], both[mask]
        if not len(rows):
            continue
        score = both / (norms[rows] * norms[cols]) * (both / (both + shrink))
        order = np.lexsort((ids[cols], -score, rows))
        rows, cols, both, score = rows[order], cols[order], both[order], score[order]
        firsts = np.r_[0, np.flatnonzero(np.diff(rows)) + 1]
        lengths = np.diff(np.r_[firsts, len(rows)])
        rank = np.arange(len(rows)) - np.repeat(firsts, lengths)
        best = rank < keep
        yield (ids[rows[best]], ids[cols[best]], np.round(score[best], 9),
               both[best].astype(np.int64))
