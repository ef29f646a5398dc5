"""Reads for the feed: ranked pages over a per-shopper snapshot, similar and popular items.

The feed's first page ranks a few hundred candidates in Python from
precomputed rows, in a constant number of queries whatever the catalogue size:

1. the shopper's segments with their candidate lists and category scores, in
   the active ranking version (one row per segment; cached per version, so
   usually no query at all),
2. the shopper's recent history (and hidden/purchased items),
3. the neighbours of the history items (cached per version and item),
4. the candidates' metadata, restricted to published listings sold in the
   shopper's region, plus the newest such listings (so new listings appear
   before the next rebuild).

The ranked ids go into the cache as a *snapshot* (key: shopper + snapshot id)
and the signed cursor points into it: later pages are one query (which of
these ids are still published) and never repeat or skip an item, even when a
rebuild flips versions mid-scroll.

When the snapshot has left the cache (TTL, eviction, or another worker's
local-memory cache), the cursor still says which version and which moment it
was computed from; the ranking is recomputed for that version with history and
listings as of that moment, which reproduces the same order, and the scroll
continues at its offset. Only stock changes since then can move an item, by
the out-of-stock factor. If that version has been deleted meanwhile (two
rebuilds later), the feed restarts at page 1 with a fresh snapshot.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import router
from django.db.models import Q, QuerySet, Subquery
from django.utils import timezone

from catalog.markets import Market, sold_in_q
from catalog.models import Product, Region
from core.db import CompiledQuery

from .affinity import ItemNeighbour, RankingVersion, Segment
from .conf import get_config
from .cursor import FeedCursor, cursor_decode, cursor_encode, snapshot_id_new
from .models import Event
from .ranking import (
    POSITIVE_TYPES,
    TREND_KEY,
    FeedItem,
    HistoryEvent,
    Listing,
    RankingInput,
    RankingParams,
    SegmentScores,
    rank,
    segment_chain_keys,
)
from .rebuild import ACTIVE_VERSION_CACHE_KEY, NO_ACTIVE_VERSION_CACHE_KEY

__all__ = [
    "FeedItem",
    "FeedPage",
    "feed_page_get",
    "popular_products_get",
    "similar_products_get",
]

_PREFIX = "personalization"
# History items whose neighbours are looked up (the most recent ones).
_NEIGHBOUR_SOURCES = 40
# Region rows change rarely; their chain of codes is cached this long.
_REGION_CACHE_SECONDS = 600


@dataclass(frozen=True)
class FeedPage:
    items: list[FeedItem]
    next_cursor: str | None
    # With `rows_get`: the row of each item, in the same order.
    rows: list[Any] = field(default_factory=list)


# Reads the published listings among some ids as rows with a `pk` (any order),
# called as rows_get(product_ids=ids): storefront.selectors.card_rows_get fits as it is.
RowsGet = Callable[..., Sequence[Any]]


@dataclass(frozen=True)
class RegionInfo:
    codes: tuple[str, ...]  # from the country down to the region
    name: str
    # The currency listings must be priced in; "" filters none (see feed_ranking_compute).
    currency: str = ""

    @classmethod
    def of_market(cls, market: Market) -> RegionInfo:
        return cls(market.codes, market.name, market.currency)


# --- Loading precomputed data ---------------------------------------------------


def region_info_get(region_id: int | None, region: Region | None = None) -> RegionInfo | None:
    """Return the region's chain of codes and its name (cached; no query when the
    region object is at hand)."""
    if region is not None:
        return RegionInfo(tuple(region.ancestor_codes()), region.name)
    if region_id is None:
        return None
    key = f"{_PREFIX}:region:{region_id}"
    info = cache.get(key)
    if info is None:
        row = Region.objects.filter(pk=region_id).values_list("path", "name").first()
        if row is None:
            return None
        info = RegionInfo(tuple(code for code in row[0].split("/") if code), row[1])
        cache.set(key, info, _REGION_CACHE_SECONDS)
    return info


def _segment_scores(row: dict) -> SegmentScores:
    return SegmentScores(
        key=row["key"],
        shoppers=row["distinct_shoppers"],
        items={int(pid): float(score) for pid, score in row["candidates"]},
        categories={int(cid): float(score) for cid, score in row["categories"].items()},
        label=row["label"],
        weights=row.get("weights") or {},
    )


_SEGMENT_FIELDS = ("version_id", "key", "distinct_shoppers", "usable", "label", "candidates",
                   "categories", "weights")


def _lattice_trim(rows: list[dict], keys: Sequence[str]) -> list[dict]:
    """Keep the rows the ranking uses: the most specific usable segment of the
    lattice (its scores are already shrunk toward every coarser one), the most
    specific one without region, the one-dimension ones, the global one and
    the trend. The lattice
    has up to 32 keys per profile; carrying all their lists would cost every
    request parsing time for nothing."""
    by_key = {row["key"]: row for row in rows}
    first = next((key for key in keys if key in by_key and key != "g"), None)
    # And the most specific one without region, for the demographic component.
    profile = next((key for key in keys if key in by_key and key != "g"
                    and not key.startswith("r")), None)
    # And per dimension the most specific one-dimension segment (the deepest
    # usable region, the age band, the gender, the language), for the
    # factored component: ranking.factor_segments picks among them.
    singles: dict[str, str] = {}
    for key in keys:
        dims = key.partition(":")[0]
        if key in by_key and len(dims) == 1 and key != "g":
            singles.setdefault(dims, key)
    wanted = {first, profile, "g", TREND_KEY, *singles.values()}
    return [row for row in rows if row["key"] in wanted]


def segments_get(*, keys: Sequence[str], version_id: int | None = None,
                 ) -> tuple[int | None, list[SegmentScores], dict[int, float]]:
    """Return (version id, usable segments in `keys` order, trending scores).

    Reads the active version unless `version_id` pins one. Segments below the
    k threshold are left out here already (their rows carry no scores anyway).
    """
    config = get_config()
    wanted = [*keys, TREND_KEY]
    digest = hashlib.sha256("|".join(wanted).encode()).hexdigest()[:24]
    from_active = version_id is None
    if from_active:
        version_id = cache.get(ACTIVE_VERSION_CACHE_KEY)
    rows = None
    if version_id is not None:
        rows = cache.get(f"{_PREFIX}:segments:{version_id}:{digest}")
    if rows is None:
        query = Segment.objects.filter(key__in=wanted, usable=True)
        if version_id is None:
            query = query.filter(version__status=RankingVersion.Status.ACTIVE)
        else:
            query = query.filter(version_id=version_id)
        rows = _lattice_trim(list(query.values(*_SEGMENT_FIELDS)), keys)
        if rows:
            version_id = rows[0]["version_id"]
            # A version's rows never change, so its cache entry never goes stale.
            cache.set(f"{_PREFIX}:segments:{version_id}:{digest}", rows,
                      config["RANKING_CACHE_SECONDS"] * 60)
            if from_active:
                cache.set(ACTIVE_VERSION_CACHE_KEY, version_id, config["RANKING_CACHE_SECONDS"])
    if not rows and from_active and version_id is not None:
        # The cached active id points at a version deleted since (two rebuilds
        # within the cache lifetime): forget it and read the active one.
        cache.delete(ACTIVE_VERSION_CACHE_KEY)
        return segments_get(keys=keys)
    by_key = {row["key"]: row for row in rows}
    segments = [_segment_scores(by_key[key]) for key in keys if key in by_key]
    trending = _segment_scores(by_key[TREND_KEY]).items if TREND_KEY in by_key else {}
    return (version_id if rows else None), segments, dict(trending)


def neighbours_get(*, version_id: int, product_ids: Iterable[int],
                   ) -> dict[int, list[tuple[int, float]]]:
    """Return the stored neighbours of each product (cached per version and product)."""
    config = get_config()
    wanted = list(dict.fromkeys(product_ids))
    keys = {pid: f"{_PREFIX}:nb:{version_id}:{pid}" for pid in wanted}
    cached = cache.get_many(list(keys.values()))
    found = {pid: cached[key] for pid, key in keys.items() if key in cached}
    missing = [pid for pid in wanted if pid not in found]
    if missing:
        fetched: dict[int, list[tuple[int, float]]] = {pid: [] for pid in missing}
        for pid, neighbour, score in (
            ItemNeighbour.objects.filter(version_id=version_id, product_id__in=missing)
            .order_by("product_id", "-score", "neighbour_id")
            .values_list("product_id", "neighbour_id", "score")
        ):
            fetched[pid].append((neighbour, score))
        cache.set_many({keys[pid]: value for pid, value in fetched.items()},
                       config["RANKING_CACHE_SECONDS"] * 60)
        found.update(fetched)
    return found


def _history_queryset(*, shopper_id: int, as_of: datetime, since: datetime,
                      limit: int) -> QuerySet:
    return (
        Event.objects.filter(shopper_id=shopper_id, created_at__lte=as_of)
        .filter(Q(type__in=("hide", "purchase")) | Q(created_at__gte=since))
        # Impressions (the feed page records a "view" per card it renders) say
        # what was shown, not what interested the shopper. The partial index
        # event_shopper_history has this very condition.
        .exclude(type="view", context="feed")
        .order_by("-created_at", "-id")
        .values_list("product_id", "type", "created_at", "product__title",
                     "product__category_id")
        [:limit]
    )


# Read on every feed page and API call (a list of rows, not one): compiled
# once per limit (core/db.py); through the ORM it cost 1.5 ms of CPU a call.
_history = CompiledQuery(lambda limit, **values: _history_queryset(limit=limit, **values))


def history_get(*, shopper_id: int, as_of: datetime, config: dict) -> list[HistoryEvent]:
    """Return the shopper's recent events up to `as_of`, newest first, plus
    every hide and purchase (those must never come back, however old), without
    feed impressions."""
    since = as_of - timedelta(days=config["HISTORY_DAYS"])
    limit = config["HISTORY_EVENTS"]
    rows = _history.rows(alias=router.db_for_read(Event), shape=limit,
                         shopper_id=shopper_id, as_of=as_of, since=since)
    return [
        HistoryEvent(product_id=pid, type=kind, at=at, category_id=category, title=title)
        for pid, kind, at, title, category in rows
    ]


def sold_in(codes: Sequence[str] | None) -> Q:
    """Return a filter for products sold in the region with these codes (catalog.markets)."""
    return sold_in_q(codes)


_LISTING_FIELDS = ("id", "category_id", "category__parent_id", "seller_id", "seller__created_at",
                   "created_at", "stock", "status")


def listing_from_row(row: Sequence) -> Listing:
    pid, category, parent, seller, seller_since, created_at, stock, _status = row
    return Listing(product_id=pid, category_id=category, seller_id=seller,
                   created_at=created_at, in_stock=stock > 0, seller_created_at=seller_since,
                   top_category_id=parent or category)


def listings_get(*, candidate_ids: Iterable[int], codes: Sequence[str] | None, fresh: int,
                 as_of: datetime, currency: str = "") -> dict[int, Listing]:
    """Return the published listings sold in the region (and priced in `currency`,
    when given) among the candidates, plus the `fresh` newest ones, in one query."""
    # Nothing listed after `as_of`: a reproduced snapshot or an evaluation
    # cut must not see the future.
    sold_here = Product.objects.filter(sold_in(codes), created_at__lte=as_of).order_by()
    if currency:
        # The segment lists are per region, not per currency: a list built
        # from Dubai's shoppers can still name a rupee listing sold
        # "everywhere". Filtering here, in the one query that reads the
        # candidates anyway, costs no query and keeps every page in one currency.
        sold_here = sold_here.filter(currency=currency)
    # The candidates are found by primary key and their status checked here:
    # with `status = 'active'` in the WHERE, SQLite walks the status index over
    # the whole catalogue instead of looking up a few hundred ids.
    rows = sold_here.filter(id__in=list(candidate_ids)).values_list(*_LISTING_FIELDS)
    if fresh > 0:
        # A UNION, not an OR: each half uses its own index (primary key;
        # status + created_at), so the cost follows the candidates, not the
        # catalogue.
        newest = (sold_here.filter(status=Product.Status.ACTIVE)
                  .order_by("-created_at", "-id").values("id")[:fresh])
        rows = rows.union(sold_here.filter(id__in=Subquery(newest))
                          .values_list(*_LISTING_FIELDS))
    return {row[0]: listing_from_row(row) for row in rows
            if row[-1] == Product.Status.ACTIVE}


# --- The feed -----------------------------------------------------------------------------


def _shopper_key(shopper, market: Market | None = None) -> object:
    key = getattr(shopper, "pk", None) or "anonymous"
    # The market is part of the key of snapshots and cursors: after the
    # shopper changes region, an old cursor is foreign (page 1 again) and an
    # old snapshot is never reused, so no page mixes two markets.
    return f"{key}@{market.code}" if market is not None else key


def _snapshot_cache_key(shopper_key: object, snapshot_id: str) -> str:
    return f"{_PREFIX}:feed:{shopper_key}:{snapshot_id}"


def _shopper_region(shopper) -> RegionInfo | None:
    if shopper is None:
        return None
    field = type(shopper)._meta.get_field("region")
    region = shopper.region if field.is_cached(shopper) else None
    return region_info_get(getattr(shopper, "region_id", None), region)


def _personal(shopper) -> bool:
    return shopper is not None and getattr(shopper, "consent_personalization", True)


def shopper_history_get(*, shopper, as_of: datetime) -> list[HistoryEvent]:
    """Return the history the ranking may use: none without consent or a saved profile."""
    shopper_id = getattr(shopper, "pk", None)
    if not (_personal(shopper) and shopper_id):
        return []
    return history_get(shopper_id=shopper_id, as_of=as_of, config=get_config())


def feed_ranking_compute(*, shopper, as_of: datetime, version_id: int | None = None,
                         pinned: bool = False, limit: int | None = None,
                         history: list[HistoryEvent] | None = None,
                         inputs_only: bool = False, market: Market | None = None,
                         ) -> tuple[int | None, list[FeedItem]] | None:
    """Return (version id, ranked items) for the shopper as of `as_of`.

    With `inputs_only`, return (version id, the RankingInput) instead, unranked:
    the rebuild's weight fit scores those inputs under many weightings.

    With `pinned`, use exactly `version_id` and return None if it no longer
    exists; otherwise use the active version (or, when there is none yet, an
    in-stock-first recency order). `history` may be passed when already read.

    Shoppers with no history (most first visits) share one ranking per
    segment chain and stage, cached for RANKING_CACHE_SECONDS: nothing about
    them could make their feeds differ, so a crowd of new visitors costs one
    ranking, not one each. Their exploration draw is seeded by the chain, so a
    reproduction gives the same order.

    With `market` (the storefront and the API always pass the request's),
    the region is the market's, known or guessed, and only listings priced
    in its currency are candidates. Without it (`recommend`, the offline
    evaluation) the profile's region filters as before and currency does not.
    """
    config = get_config()
    params = RankingParams.from_config(config)
    region = RegionInfo.of_market(market) if market is not None else _shopper_region(shopper)
    personal = _personal(shopper)
    keys = segment_chain_keys(
        region_codes=region.codes if region else (),
        # Without consent the feed uses only where the shopper is, nothing
        # about who they are or what they did.
        age_band=(getattr(shopper, "age_band", "") or "") if personal else "",
        gender=(getattr(shopper, "gender", "") or "") if personal else "",
        language=(getattr(shopper, "language", "") or "") if personal else "",
    )
    version, segments, trending = segments_get(keys=keys,
                                               version_id=version_id if pinned else None)
    if pinned and version is None and version_id is not None:
        return None
    if history is None:
        history = shopper_history_get(shopper=shopper, as_of=as_of)
    stage = getattr(shopper, "lifecycle_stage", "new") if personal else "new"
    seed = f"{_shopper_key(shopper)}:{version}"
    shared_key = None
    if not history:
        digest = hashlib.sha256("|".join(keys).encode()).hexdigest()[:24]
        seed = f"shared:{digest}:{version}"
        if not pinned:
            shared_key = f"{_PREFIX}:shared:{version}:{digest}:{stage}:{limit}"
            shared = cache.get(shared_key)
            if shared is not None:
                return version, shared
    neighbours: dict[int, list[tuple[int, float]]] = {}
    sources = list(dict.fromkeys(e.product_id for e in history if e.type in POSITIVE_TYPES))
    if version is not None and sources:
        neighbours = neighbours_get(version_id=version, product_ids=sources[:_NEIGHBOUR_SOURCES])
    candidates = {pid for segment in segments for pid in segment.items}
    candidates.update(trending)
    candidates.update(pid for items in neighbours.values() for pid, _score in items)
    candidates.update(sources)
    fresh = config["FRESH_CANDIDATES"] if version is not None else params.snapshot_size
    listings = listings_get(candidate_ids=candidates, codes=region.codes if region else None,
                            fresh=fresh, as_of=as_of, currency=region.currency if region else "")
    data = RankingInput(
        listings=listings,
        segments=segments,
        now=as_of,
        seed=seed,
        lifecycle_stage=stage,
        history=history,
        neighbours=neighbours,
        trending=trending,
    )
    if inputs_only:
        return version, data
    items = rank(data, params, limit)
    if shared_key is not None:
        cache.set(shared_key, items, config["RANKING_CACHE_SECONDS"])
    return version, items


def feed_page_get(*, shopper, cursor: str | None, page_size: int,
                  rows_get: RowsGet | None = None, market: Market | None = None) -> FeedPage:
    """Return one page of the shopper's feed and the cursor of the next page.

    A missing, forged, garbled, expired or foreign cursor starts again at
    page 1: a feed link must never turn into an error page.

    `rows_get` lets the caller read what it will show (cards) in the same
    query that checks the listings are still published: the page then costs
    one query for both, and FeedPage.rows holds the rows.

    `market` (personalization.market.request_market): only listings sold
    there in its currency; the snapshot and cursor belong to that market.
    """
    config = get_config()
    page_size = max(1, min(int(page_size), config["FEED_MAX_PAGE_SIZE"]))
    shopper_key = _shopper_key(shopper, market)
    ttl = config["FEED_SNAPSHOT_TTL_SECONDS"]
    decoded = cursor_decode(token=cursor, shopper_key=shopper_key,
                            max_age=config["FEED_CURSOR_MAX_AGE_SECONDS"])
    entries = None
    if decoded is not None:
        entries = cache.get(_snapshot_cache_key(shopper_key, decoded.snapshot_id))
        if entries is None:
            entries = _snapshot_reproduce(shopper=shopper, cursor=decoded, market=market)
            if entries is not None:
                cache.set(_snapshot_cache_key(shopper_key, decoded.snapshot_id), entries, ttl)
    if decoded is None or entries is None:
        decoded, entries, just_ranked = _first_page_snapshot(
            shopper=shopper, shopper_key=shopper_key, config=config, market=market)
        if just_ranked and rows_get is None:
            # Ranked from published listings a moment ago: no need to check again.
            window, end, rows = entries[:page_size], min(page_size, len(entries)), {}
        else:
            # (With rows_get, even a fresh ranking reads its rows through the
            # window: the same one query, and one listing archived meanwhile.)
            window, end, rows = _page_window(entries, 0, page_size, rows_get)
    else:
        window, end, rows = _page_window(entries, decoded.offset, page_size, rows_get)
    items = [FeedItem(product_id=pid, reason=reason, reason_arg=arg)
             for pid, reason, arg in window]
    next_cursor = None
    if end < len(entries):
        next_cursor = cursor_encode(
            cursor=FeedCursor(snapshot_id=decoded.snapshot_id, offset=end,
                              version=decoded.version, as_of=decoded.as_of),
            shopper_key=shopper_key,
        )
    return FeedPage(items=items, next_cursor=next_cursor,
                    rows=[rows[item.product_id] for item in items] if rows_get else [])


def _history_marker(history: Sequence[HistoryEvent]) -> tuple | None:
    """Return what changes whenever the shopper does something the ranking uses."""
    if not history:
        return None
    newest = history[0]
    return len(history), newest.product_id, newest.type, newest.at.timestamp()


def _first_page_snapshot(*, shopper, shopper_key: object, config: dict,
                         market: Market | None = None,
                         ) -> tuple[FeedCursor, list[tuple[int, str, str]], bool]:
    """Return a snapshot for page 1 and whether it was ranked just now: the
    shopper's latest one when they did nothing new since (a reload, or back
    from a product they only looked at), else a new one."""
    ttl = config["FEED_SNAPSHOT_TTL_SECONDS"]
    # Whole seconds, as the cursor stores them, rounded up so that what
    # happened in this very second is included now and on reproduction.
    now = timezone.now().replace(microsecond=0) + timedelta(seconds=1)
    history = shopper_history_get(shopper=shopper, as_of=now)
    marker = _history_marker(history)
    latest_key = f"{_PREFIX}:feed-latest:{shopper_key}"
    latest = cache.get(latest_key) if not str(shopper_key).startswith("anonymous") else None
    if latest is not None and latest[3] == marker:
        snapshot_id, version, as_of, _marker = latest
        entries = cache.get(_snapshot_cache_key(shopper_key, snapshot_id))
        if entries is not None:
            return FeedCursor(snapshot_id=snapshot_id, offset=0, version=version,
                              as_of=as_of), entries, False
    version, items = feed_ranking_compute(shopper=shopper, as_of=now, history=history,
                                          market=market)
    entries = [(item.product_id, item.reason, item.reason_arg) for item in items]
    cursor = FeedCursor(snapshot_id=snapshot_id_new(), offset=0, version=version,
                        as_of=int(now.timestamp()))
    cache.set(_snapshot_cache_key(shopper_key, cursor.snapshot_id), entries, ttl)
    cache.set(latest_key, (cursor.snapshot_id, version, cursor.as_of, marker),
              config["FEED_SNAPSHOT_REUSE_SECONDS"])
    return cursor, entries, True


def _snapshot_reproduce(*, shopper, cursor: FeedCursor, market: Market | None = None,
                        ) -> list[tuple[int, str, str]] | None:
    """Recompute a snapshot that left the cache; None if its version is gone."""
    as_of = datetime.fromtimestamp(cursor.as_of, tz=UTC)
    result = feed_ranking_compute(shopper=shopper, as_of=as_of, version_id=cursor.version,
                                  pinned=cursor.version is not None, market=market)
    if result is None:
        return None
    return [(item.product_id, item.reason, item.reason_arg) for item in result[1]]


def _published_ids(ids: list[int]) -> list[int]:
    return list(Product.objects.published_among(ids).values_list("id", flat=True))


def _page_window(entries: Sequence[tuple[int, str, str]], offset: int, page_size: int,
                 rows_get: RowsGet | None = None,
                 ) -> tuple[list[tuple[int, str, str]], int, dict[int, Any]]:
    """Return the next page of still-published entries from `offset`, the
    offset after the last entry looked at, and the rows read (by id)."""
    # Read half a page more so that listings unpublished since the snapshot
    # are dropped and the page usually stays full, still in one query (not
    # twice the page: with rows_get every extra row is a card read for nothing).
    scan = entries[offset:offset + page_size + max(4, page_size // 2)]
    ids = [entry[0] for entry in scan]
    if rows_get is None:
        live: dict[int, Any] = {pid: pid for pid in _published_ids(ids)}
    else:
        live = {row.pk: row for row in rows_get(product_ids=ids)}
    window: list[tuple[int, str, str]] = []
    end = offset
    for entry in scan:
        end += 1
        if entry[0] in live:
            window.append(entry)
            if len(window) == page_size:
                break
    return window, end, live


# --- Similar and popular --------------------------------------------------------------------


def _active_version_id() -> int | None:
    version = cache.get(ACTIVE_VERSION_CACHE_KEY)
    if version is None:
        # A shop that has never rebuilt would otherwise ask on every product page.
        if cache.get(NO_ACTIVE_VERSION_CACHE_KEY):
            return None
        version = (RankingVersion.objects.filter(status=RankingVersion.Status.ACTIVE)
                   .values_list("id", flat=True).first())
        seconds = get_config()["RANKING_CACHE_SECONDS"]
        if version is not None:
            cache.set(ACTIVE_VERSION_CACHE_KEY, version, seconds)
        else:
            cache.set(NO_ACTIVE_VERSION_CACHE_KEY, True, seconds)
    return version


def similar_products_get(*, product_id: int, limit: int,
                         market: Market | None = None) -> list[int]:
    """Return up to `limit` published products similar to this one: its
    co-occurrence neighbours first, then the newest of its category; with
    `market`, only those sold there in its currency."""
    limit = max(0, int(limit))
    if limit == 0:
        return []
    version = _active_version_id()
    neighbour_ids: list[int] = []
    if version is not None:
        neighbour_ids = [pid for pid, _score in
                         neighbours_get(version_id=version, product_ids=[product_id])[product_id]]
    eligible = Product.objects.published().for_market(market)
    same_category = (
        eligible
        .filter(category_id=Subquery(Product.objects.filter(pk=product_id).values("category_id")))
        .exclude(pk=product_id).order_by("-created_at", "-id").values("id")[:limit]
    )
    rows = list(
        eligible
        .filter(Q(id__in=neighbour_ids) | Q(id__in=Subquery(same_category)))
        .exclude(pk=product_id)
        .order_by("-created_at", "-id").values_list("id", flat=True)
    )
    live = set(rows)
    ordered = [pid for pid in neighbour_ids if pid in live]
    ordered += [pid for pid in rows if pid not in set(ordered)]
    return ordered[:limit]


def popular_products_get(*, region: Region | None = None, limit: int,
                         market: Market | None = None) -> list[int]:
    """Return up to `limit` ids of the most popular published products in the
    region (for empty search results and the like); newest first without data.
    `market` instead of `region` also keeps to its currency."""
    limit = max(0, int(limit))
    if limit == 0:
        return []
    info = (RegionInfo.of_market(market) if market is not None
            else region_info_get(getattr(region, "pk", None), region))
    codes = info.codes if info else ()
    keys = segment_chain_keys(region_codes=codes, age_band="", gender="")
    _version, segments, _trending = segments_get(keys=keys)
    ranked: list[int] = []
    if segments:
        # The most specific usable segment: its scores already lean on its parents.
        ranked = [pid for pid, _score in sorted(segments[0].items.items(),
                                                key=lambda item: (-item[1], item[0]))]
    eligible = Product.objects.published().filter(sold_in(codes or None))
    if info is not None and info.currency:
        eligible = eligible.filter(currency=info.currency)
    newest = eligible.order_by("-created_at", "-id").values("id")[:limit]
    rows = list(
        eligible.filter(Q(id__in=ranked[:limit * 3]) | Q(id__in=Subquery(newest)))
        .order_by("-created_at", "-id").values_list("id", "stock")
    )
    stocked = {pid for pid, stock in rows if stock > 0}
    live = {pid for pid, _stock in rows}
    order = [pid for pid in ranked if pid in live] + [pid for pid, _s in rows]
    order = list(dict.fromkeys(order))
    # In stock first; a stable sort keeps popularity order within each group.
    order.sort(key=lambda pid: pid not in stocked)
    return order[:limit]

