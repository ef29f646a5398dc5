"""`rebuild_affinities`: aggregate events into a new ranking version.

The database aggregates the events (one INSERT ... SELECT ... GROUP BY per
chunk of shoppers), so what reaches Python is one row per (shopper, item)
pair of interest, never the raw events; NumPy/SciPy then do the lattice and
the neighbours on those pairs (personalization/lattice.py), with memory
bounded by the pairs. The SQL is portable between SQLite and PostgreSQL
except for one expression, an event's age in days, which each vendor spells
differently.

Before the build, unless disabled, the mixture weights are fitted on the most
recent FIT_HOLDOUT_DAYS (personalization/fitting.py, which builds its own
scratch version first).

Steps, all into rows tagged with the new version id:
1. shopper items: decayed, type-weighted sum per (shopper, product), from the
   interest events of consenting shoppers in the window (no hides, no feed
   impressions);
2. load: those pairs into arrays;
3. segment lattice: every usable combination of profile dimensions, with
   shrunk item and category scores packed onto its Segment row, the item
   scores scaled by the ratings' quality prior (personalization/quality.py);
4. trending: distinct shoppers per item over the last few days;
5. item neighbours: damped cosine item-kNN, top N per item;
then the scratch rows go, distinct interested shoppers per item are copied
onto `Product.popularity` (served versions only: category pages sort by it),
the fitted weights are stored on the global segment, the active pointer flips
in one short transaction, old versions are deleted and lifecycle stages
refreshed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from catalog.models import Product, Region
from catalog.services import products_popularity_set

from .affinity import ItemNeighbour, RankingVersion, Segment, ShopperItemStage
from .conf import get_config
from .lattice import Interactions, item_neighbours, segment_lattice
from .models import Event, ShopperProfile
from .quality import quality_factors, quality_ratings
from .ranking import TREND_KEY, RankingParams

# Cache key of the active version id (selectors read it; a flip deletes it).
ACTIVE_VERSION_CACHE_KEY = "personalization:ranking:active"
# "No version is active" (a new shop), remembered as briefly as the active id.
NO_ACTIVE_VERSION_CACHE_KEY = "personalization:ranking:none"
# A rebuild still "building" after this long was killed; its rows are dropped.
STALE_BUILD_AFTER = timedelta(hours=6)
# Shoppers per INSERT of the first step: keeps each write transaction short,
# so on SQLite the shop's own writes never queue behind one huge statement.
SHOPPER_CHUNK = 20_000
# A feed impression: the page records a `view` with context `feed` for every
# card it shows. It is exposure, never interest: counted as interest, every
# card shown would raise its own popularity (a feedback loop).
IMPRESSION = ("view", "feed")

Progress = Callable[[str], None]


class RebuildError(Exception):
    """A rebuild could not start or finish; nothing was flipped."""


def _q(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _tables() -> dict[str, str]:
    return {
        "event": _q(Event), "profile": _q(ShopperProfile), "product": _q(Product),
        "region": _q(Region), "si": _q(ShopperItemStage), "nb": _q(ItemNeighbour),
    }


def _age_days(column: str, as_of: datetime) -> tuple[str, list]:
    """Return SQL for the age in days of `column` at `as_of`, and its params."""
    if connection.vendor == "sqlite":
        # Django stores UTC datetimes as ISO text, which julianday() parses.
        julian = as_of.timestamp() / 86400.0 + 2440587.5
        return f"(%s - julianday({column}))", [julian]
    return f"((%s - EXTRACT(EPOCH FROM {column})) / 86400.0)", [as_of.timestamp()]


def _decayed_weight_sql(as_of: datetime, half_life_days: float,
                        weights: dict[str, float]) -> tuple[str, list]:
    """Return SQL for one event's weight: type weight x 2^(-age/half-life)."""
    age_sql, age_params = _age_days("e.created_at", as_of)
    types = ("view", "click", "cart", "purchase", "share")
    case = "CASE e.type " + " ".join("WHEN %s THEN %s" for _ in types) + " ELSE 0 END"
    case_params = [value for name in types for value in (name, float(weights[name]))]
    return (f"({case}) * EXP(%s * {age_sql})",
            [*case_params, -math.log(2) / half_life_days, *age_params])


def _datetime_param(value: datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _execute(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def _begin(as_of: datetime, status_after: str) -> RankingVersion:
    stale = RankingVersion.objects.filter(
        status=RankingVersion.Status.BUILDING, created_at__lt=timezone.now() - STALE_BUILD_AFTER
    )
    for version in stale:
        version.delete()
    try:
        with transaction.atomic():
            return RankingVersion.objects.create(
                as_of=as_of, status=RankingVersion.Status.BUILDING,
                stats={"purpose": status_after},
            )
    except IntegrityError as exc:
        running = RankingVersion.objects.filter(status=RankingVersion.Status.BUILDING).first()
        started = f" (version {running.pk}, started {running.created_at:%Y-%m-%d %H:%M} UTC)" \
            if running else ""
        raise RebuildError(f"Another rebuild is running{started}; try again later.") from exc


def affinities_rebuild(
    *,
    as_of: datetime | None = None,
    activate: bool = True,
    refresh_lifecycle: bool = True,
    progress: Progress | None = None,
    fit: bool | None = None,
) -> RankingVersion:
    """Build a new ranking version from the events up to `as_of` and return it.

    With `activate` the new version becomes the one the feed serves and older
    ones beyond RANKING_VERSIONS_KEPT are deleted; without it the version is
    kept as an EVALUATION version for `evaluate_ranking` (never served).

    With `fit` (default: the FIT_WEIGHTS setting) the mixture weights are
    first fitted on the most recent FIT_HOLDOUT_DAYS (personalization/fitting.py)
    and stored on the new version's global segment and in its stats.
    """
    config = get_config()
    params = RankingParams.from_config(config)
    as_of = as_of or timezone.now()
    say = progress or (lambda message: None)
    fitted: dict | None = None
    if activate and connection.vendor == "postgresql":
        # Fresh statistics for the tables every step reads: after a bulk
        # import autovacuum may not have analysed them yet, and the planner's
        # guesses then made this rebuild (the fit's scratch builds included)
        # 2.3x slower at 100k listings / 1M events (docs/BENCHMARKS.md). A
        # sampled ANALYZE of a million rows takes about a second and blocks
        # neither reads nor writes.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE " + ", ".join(_q(model) for model in (
                Event, ShopperProfile, Product)))
    if config["FIT_WEIGHTS"] if fit is None else fit:
        from .fitting import weights_fit

        fit_started = time.monotonic()
        fitted = weights_fit(as_of=as_of, progress=lambda message: say(f"  {message}"))
        fitted["seconds"] = round(time.monotonic() - fit_started, 3)
        if fitted["status"] != "fitted":
            say(f"weights: {fitted['message']}")
        for message in fitted.get("messages", []):
            say(f"weights: {message}")
    version = _begin(as_of, "active" if activate else "evaluation")
    stats: dict[str, object] = {}
    started = time.monotonic()
    # Only outside a transaction (SQLite refuses the pragma inside one; tests
    # and callers that wrap the rebuild in atomic() keep the memory setting).
    sqlite = connection.vendor == "sqlite" and not connection.in_atomic_block
    try:
        if sqlite:
            # Sorts and temporary b-trees of the big GROUP BYs go to disk, not
            # to RAM (settings keep temp_store=MEMORY for the request path).
            _execute("PRAGMA temp_store=FILE", [])
        loaded: dict[str, Interactions] = {}
        popularity: dict[int, int] = {}
        steps = [
            ("shopper items", lambda: _shopper_items(version, config, as_of)),
            ("load", lambda: _load(version, loaded)),
            ("segment lattice", lambda: _segments(version, loaded, params, config, stats)),
            ("trending", lambda: _trending(version, config, params.k, as_of)),
            ("item neighbours", lambda: _neighbours(version, loaded, config)),
        ]
        for number, (name, step) in enumerate(steps, 1):
            step_started = time.monotonic()
            rows = step()
            seconds = time.monotonic() - step_started
            stats[name] = {"rows": rows, "seconds": round(seconds, 3)}
            say(f"[{number}/{len(steps) + 1}] {name}: {rows:,} rows in {seconds:.1f} s")
            if name == "load" and activate:
                # Counted now: the neighbours step frees the arrays when done.
                popularity = _shoppers_per_item(loaded["data"])
        ShopperItemStage.objects.filter(version=version).delete()
        if activate:
            # An evaluation version is never served, so it must not move what
            # shoppers see sorted by popularity either.
            step_started = time.monotonic()
            changed = products_popularity_set(counts=popularity)
            stats["popularity"] = {"rows": changed,
                                   "seconds": round(time.monotonic() - step_started, 3)}
            say(f"popularity: {changed:,} listings changed")
        if fitted is not None:
            stats["fit"] = fitted
            if fitted.get("weights"):
                Segment.objects.filter(version=version, key="g").update(
                    weights=fitted["weights"])
        stats["seconds"] = round(time.monotonic() - started, 3)
        version.stats = {**version.stats, **stats}
        version.built_at = timezone.now()
        if activate:
            _flip(version)
            removed = _delete_old_versions(config["RANKING_VERSIONS_KEPT"])
            say(f"[{len(steps) + 1}/{len(steps) + 1}] version {version.pk} is active; "
                f"{removed} old version(s) deleted")
        else:
            version.status = RankingVersion.Status.EVALUATION
            version.save(update_fields=["status", "stats", "built_at"])
    except BaseException:
        # Leave nothing half-built behind; the active version never changed.
        version.delete()
        raise
    finally:
        if sqlite:
            _execute("PRAGMA temp_store=MEMORY", [])
    if activate and refresh_lifecycle:
        from .lifecycle import refresh_lifecycle_stages

        changed = refresh_lifecycle_stages(now=as_of)
        say(f"lifecycle stages refreshed: {changed:,} changed")
    return version


def _flip(version: RankingVersion) -> None:
    """Make `version` the served one in one short transaction."""
    with transaction.atomic():
        RankingVersion.objects.filter(status=RankingVersion.Status.ACTIVE).update(
            status=RankingVersion.Status.RETIRED
        )
        version.status = RankingVersion.Status.ACTIVE
        version.save(update_fields=["status", "stats", "built_at"])
    cache.delete_many([ACTIVE_VERSION_CACHE_KEY, NO_ACTIVE_VERSION_CACHE_KEY])


def _delete_old_versions(keep: int) -> int:
    retired = list(
        RankingVersion.objects.filter(status=RankingVersion.Status.RETIRED)
        .order_by("-id").values_list("id", flat=True)
    )
    old = retired[max(keep - 1, 0):]
    if old:
        # Each related table goes in one fast DELETE ... WHERE version_id IN.
        RankingVersion.objects.filter(id__in=old).delete()
    return len(old)


def _shopper_items(version: RankingVersion, config: dict, as_of: datetime) -> int:
    t = _tables()
    weight_sql, weight_params = _decayed_weight_sql(
        as_of, config["HALF_LIFE_DAYS"], config["EVENT_WEIGHTS"]
    )
    since = as_of - timedelta(days=config["REBUILD_WINDOW_DAYS"])
    sql = f"""
        INSERT INTO {t['si']} (version_id, shopper_id, product_id, category_id, weight)
        SELECT %s, e.shopper_id, e.product_id, p.category_id, SUM({weight_sql})
        FROM {t['event']} e
        JOIN {t['profile']} sp ON sp.id = e.shopper_id
        JOIN {t['product']} p ON p.id = e.product_id
        WHERE e.shopper_id >= %s AND e.shopper_id < %s
          AND sp.consent_personalization = %s
          AND e.type <> %s AND NOT (e.type = %s AND e.context = %s)
          AND e.created_at >= %s AND e.created_at <= %s
        GROUP BY e.shopper_id, e.product_id, p.category_id
    """  # noqa: S608 (identifiers are our own table names; values are parameters)
    bounds = ShopperProfile.objects.order_by("pk").values_list("pk", flat=True)
    first, last = bounds.first(), bounds.last()
    if first is None:
        return 0
    rows = 0
    for low in range(first, last + 1, SHOPPER_CHUNK):
        rows += _execute(sql, [version.pk, *weight_params, low, low + SHOPPER_CHUNK, True,
                               "hide", *IMPRESSION, _datetime_param(since),
                               _datetime_param(as_of)])
    return rows


def _load(version: RankingVersion, loaded: dict[str, Interactions]) -> int:
    """Read the shopper items of this version into arrays (one row per pair)."""
    rows = ShopperItemStage.objects.filter(version=version).values_list(
        "shopper_id", "product_id", "category_id").iterator(chunk_size=50_000)
    loaded["data"] = Interactions.from_rows(rows)
    return len(loaded["data"].shopper)


def _segments(version: RankingVersion, loaded: dict[str, Interactions], params: RankingParams,
              config: dict, stats: dict) -> int:
    """Write one Segment row per usable lattice segment, candidates packed on it."""
    data = loaded["data"]
    if not len(data.shopper):
        return 0
    regions = {pk: (path, name, code, parent) for pk, path, name, code, parent in
               Region.objects.values_list("pk", "path", "name", "code", "parent__code")}
    region_parents = {code: parent for _path, _name, code, parent in regions.values()}
    names = {code: name for _path, name, code, _parent in regions.values()}
    profiles = {}
    for pk, region_id, age, gender, language in ShopperProfile.objects.filter(
        pk__in=data.shopper_ids.tolist()
    ).values_list("pk", "region_id", "age_band", "gender", "language").iterator(
            chunk_size=20_000):
        path = regions[region_id][0] if region_id in regions else ""
        profiles[pk] = (tuple(code for code in path.split("/") if code), age, gender, language)
    published = set(Product.objects.published().filter(
        pk__in=data.product_ids.tolist()).values_list("pk", flat=True)
    ) if len(data.product_ids) < 50_000 else set(
        Product.objects.published().values_list("pk", flat=True))
    publishable = np.array([pid in published for pid in data.product_ids.tolist()], dtype=bool)
    quality = _quality(data, config, version.as_of, stats)
    results = segment_lattice(data, profiles, region_parents, k=params.k, m=params.smoothing,
                              candidates=config["CANDIDATES_PER_SEGMENT"],
                              publishable=publishable, quality=quality)
    rows = []
    for result in results:
        dims, _sep, rest = result.key.partition(":")
        label = names.get(rest.split(":")[0], "") if dims.startswith("r") else ""
        rows.append(Segment(
            version=version, key=result.key, level=0 if result.key == "g" else len(dims),
            label=label[:100], distinct_shoppers=result.shoppers, total_weight=result.votes,
            usable=True, candidates=[list(item) for item in result.items],
            categories=result.categories,
        ))
    Segment.objects.bulk_create(rows, batch_size=200)
    return len(rows)


def _quality(data: Interactions, config: dict, as_of: datetime, stats: dict) -> np.ndarray | None:
    """Return the ratings' quality factor per item column, or None when nobody rated.

    Why the segment lists: they are the one precomputed per-product score
    (shrunk popularity) that every popularity component of the feed reads, the
    `segment`, `demographic` and `prior` components and the category-led one's
    P(item | category). A factor there moves all of them together, is written
    once per rebuild and costs the request path nothing. The trend (recency)
    and item-kNN (what goes together) are not about quality and stay as they
    are; so do `Product.popularity` and the region cue, whose lift is a ratio
    of two scaled scores and so unchanged.
    """
    ratings = quality_ratings(as_of=as_of)
    factors = quality_factors(ratings, prior_weight=config["QUALITY_PRIOR_WEIGHT"],
                              low=config["QUALITY_FACTOR_MIN"], high=config["QUALITY_FACTOR_MAX"])
    stats["quality"] = {"rated": len(ratings),
                        "ratings": sum(count for count, _total in ratings.values())}
    if not factors:
        # No ratings (Ta-Feng, the demo): the lists are exactly what they were.
        return None
    return np.array([factors.get(pid, 1.0) for pid in data.product_ids.tolist()])


def _shoppers_per_item(data: Interactions) -> dict[int, int]:
    """Return distinct shoppers per product id (the rows are one per shopper-item
    pair): what `Product.popularity` holds. A window with no interest gives {}."""
    shoppers = np.bincount(data.item, minlength=len(data.product_ids))
    return dict(zip(data.product_ids.tolist(), shoppers.tolist(), strict=True))


def _trending(version: RankingVersion, config: dict, k: int, as_of: datetime) -> int:
    """Store what is popular lately: distinct shoppers per item in the last
    TRENDING_WINDOW_DAYS as a share of the window's votes (the fit decides
    how much recency is worth in each shop)."""
    t = _tables()
    since = _datetime_param(as_of - timedelta(days=config["TRENDING_WINDOW_DAYS"]))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT e.product_id, COUNT(DISTINCT e.shopper_id)
            FROM {t['event']} e JOIN {t['profile']} sp ON sp.id = e.shopper_id
            JOIN {t['product']} p ON p.id = e.product_id
            WHERE sp.consent_personalization = %s AND e.type <> %s
              AND NOT (e.type = %s AND e.context = %s)
              AND e.created_at >= %s AND e.created_at <= %s AND p.status = %s
            GROUP BY e.product_id
            """,  # noqa: S608 (identifiers are our own table names; values are parameters)
            [True, "hide", *IMPRESSION, since, _datetime_param(as_of), Product.Status.ACTIVE],
        )
        counts = cursor.fetchall()
        cursor.execute(
            f"SELECT COUNT(DISTINCT e.shopper_id) FROM {t['event']} e "  # noqa: S608
            f"JOIN {t['profile']} sp ON sp.id = e.shopper_id WHERE sp.consent_personalization = %s "
            "AND e.type <> %s AND NOT (e.type = %s AND e.context = %s) "
            "AND e.created_at >= %s AND e.created_at <= %s",
            [True, "hide", *IMPRESSION, since, _datetime_param(as_of)])
        shoppers = cursor.fetchone()[0] or 0
    votes = sum(n for _pid, n in counts)
    listed = sorted(((pid, n / votes) for pid, n in counts if n >= 2),
                    key=lambda pair: (-pair[1], pair[0]))[:config["CANDIDATES_PER_SEGMENT"]]
    usable = shoppers >= k and bool(listed)
    Segment.objects.create(
        version=version, key=TREND_KEY, level=0, distinct_shoppers=shoppers,
        total_weight=float(votes), usable=usable,
        candidates=[[pid, round(score, 9)] for pid, score in listed] if usable else [],
    )
    return len(listed) if usable else 0


def _neighbours(version: RankingVersion, loaded: dict[str, Interactions], config: dict) -> int:
    """Write each item's nearest items (item-kNN over shoppers' item sets)."""
    data = loaded.pop("data")
    if not len(data.shopper):
        return 0
    t = _tables()
    sql = (f"INSERT INTO {t['nb']} (version_id, product_id, neighbour_id, score, shoppers) "  # noqa: S608
           "VALUES (%s, %s, %s, %s, %s)")
    written = 0
    for products, neighbours, scores, together in item_neighbours(
        data, keep=config["NEIGHBOURS_PER_ITEM"], min_shoppers=config["NEIGHBOUR_MIN_SHOPPERS"],
        shrink=config["NEIGHBOUR_SHRINKAGE"],
    ):
        rows = list(zip([version.pk] * len(products), products.tolist(), neighbours.tolist(),
                        scores.tolist(), together.tolist(), strict=True))
        with connection.cursor() as cursor:
            for start in range(0, len(rows), 10_000):
                cursor.executemany(sql, rows[start:start + 10_000])
        written += len(rows)
    return written
