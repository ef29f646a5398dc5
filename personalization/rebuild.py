"""`rebuild_affinities`: aggregate events into a new ranking version, in SQL.

The database does the work: every step is one INSERT ... SELECT ... GROUP BY
(or a few, chunked), so memory stays flat however many events there are, and
Python only touches per-segment rows (bounded by regions x demographics, not
by events). The SQL is portable between SQLite and PostgreSQL except for one
expression, an event's age in days, which each vendor spells differently.

Steps, all into rows tagged with the new version id:
1. shopper items: decayed, type-weighted sum per (shopper, product), from the
   events of consenting shoppers in the window;
2. segment members: each active shopper's segments (global, every level of
   their region, region+gender, region+age band+gender);
3. segments: distinct shoppers and total weight per segment; `usable` when at
   or above the k threshold;
4. item scores per usable segment, level by level from the root, shrunk
   toward the parent's score: (n*share + m*parent) / (n + m);
5. category scores the same way (per leaf category: tastes are that fine);
6. trending: short half-life share minus long-run share;
7. item neighbours: cosine-normalised co-occurrence, top N per item;
8. candidate lists: the top items per segment packed onto the segment row;
then the scratch rows go, the active pointer flips in one short transaction,
old versions are deleted and lifecycle stages refreshed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from catalog.models import Product, Region

from .affinity import (
    ItemNeighbour,
    RankingVersion,
    Segment,
    SegmentCategoryScore,
    SegmentItemScore,
    SegmentMemberStage,
    ShopperItemStage,
)
from .conf import get_config
from .models import Event, ShopperProfile
from .ranking import TREND_KEY, RankingParams, segment_parent_key

# Cache key of the active version id (selectors read it; a flip deletes it).
ACTIVE_VERSION_CACHE_KEY = "personalization:ranking:active"
# A rebuild still "building" after this long was killed; its rows are dropped.
STALE_BUILD_AFTER = timedelta(hours=6)
# Shoppers per INSERT of the first step: keeps each write transaction short,
# so on SQLite the shop's own writes never queue behind one huge statement.
SHOPPER_CHUNK = 20_000
# Segments per candidate-packing round trip.
SEGMENT_CHUNK = 200

Progress = Callable[[str], None]


class RebuildError(Exception):
    """A rebuild could not start or finish; nothing was flipped."""


def _q(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _tables() -> dict[str, str]:
    return {
        "event": _q(Event), "profile": _q(ShopperProfile), "product": _q(Product),
        "region": _q(Region), "si": _q(ShopperItemStage),
        "member": _q(SegmentMemberStage), "segment": _q(Segment),
        "sis": _q(SegmentItemScore), "scs": _q(SegmentCategoryScore),
        "nb": _q(ItemNeighbour),
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
) -> RankingVersion:
    """Build a new ranking version from the events up to `as_of` and return it.

    With `activate` the new version becomes the one the feed serves and older
    ones beyond RANKING_VERSIONS_KEPT are deleted; without it the version is
    kept as an EVALUATION version for `evaluate_ranking` (never served).
    """
    config = get_config()
    params = RankingParams.from_config(config)
    as_of = as_of or timezone.now()
    say = progress or (lambda message: None)
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
        steps = [
            ("shopper items", lambda: _shopper_items(version, config, as_of)),
            ("segment members", lambda: _segment_members(version)),
            ("segments", lambda: _segments(version, params.k)),
            ("segment item scores", lambda: _segment_item_scores(version, params.smoothing)),
            ("segment category scores",
             lambda: _segment_category_scores(version, params.smoothing)),
            ("trending", lambda: _trending(version, config, params.k, as_of)),
            ("item neighbours", lambda: _neighbours(version, config)),
            ("candidate lists", lambda: _pack_segments(version, config)),
        ]
        for number, (name, step) in enumerate(steps, 1):
            step_started = time.monotonic()
            rows = step()
            seconds = time.monotonic() - step_started
            stats[name] = {"rows": rows, "seconds": round(seconds, 3)}
            say(f"[{number}/{len(steps) + 1}] {name}: {rows:,} rows in {seconds:.1f} s")
        ShopperItemStage.objects.filter(version=version).delete()
        SegmentMemberStage.objects.filter(version=version).delete()
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
    cache.delete(ACTIVE_VERSION_CACHE_KEY)


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
          AND e.type <> %s AND e.created_at >= %s AND e.created_at <= %s
        GROUP BY e.shopper_id, e.product_id, p.category_id
    """  # noqa: S608 (identifiers are our own table names; values are parameters)
    bounds = ShopperProfile.objects.order_by("pk").values_list("pk", flat=True)
    first, last = bounds.first(), bounds.last()
    if first is None:
        return 0
    rows = 0
    for low in range(first, last + 1, SHOPPER_CHUNK):
        rows += _execute(sql, [version.pk, *weight_params, low, low + SHOPPER_CHUNK, True,
                               "hide", _datetime_param(since), _datetime_param(as_of)])
    return rows


def _segment_members(version: RankingVersion) -> int:
    """Insert one row per (active shopper, segment) for every level of the tree."""
    t = _tables()
    # Regions have three levels at most (country > state > city): two parent
    # joins reach the country without recursion.
    base = f"""
        FROM (SELECT DISTINCT shopper_id FROM {t['si']} WHERE version_id = %s) a
        JOIN {t['profile']} sp ON sp.id = a.shopper_id
        LEFT JOIN {t['region']} r0 ON r0.id = sp.region_id
        LEFT JOIN {t['region']} r1 ON r1.id = r0.parent_id
        LEFT JOIN {t['region']} r2 ON r2.id = r1.parent_id
    """  # noqa: S608
    depth = "(CASE WHEN r2.id IS NOT NULL THEN 3 WHEN r1.id IS NOT NULL THEN 2 ELSE 1 END)"
    selects = [
        ("'g'", "0", "1 = 1"),
        ("'r:' || r0.code", depth, "r0.id IS NOT NULL"),
        ("'r:' || r1.code", f"{depth} - 1", "r1.id IS NOT NULL"),
        ("'r:' || r2.code", f"{depth} - 2", "r2.id IS NOT NULL"),
        ("'rg:' || r0.code || ':' || sp.gender", f"{depth} + 1",
         "r0.id IS NOT NULL AND sp.gender <> ''"),
        ("'rag:' || r0.code || ':' || sp.age_band || ':' || sp.gender", f"{depth} + 2",
         "r0.id IS NOT NULL AND sp.gender <> '' AND sp.age_band <> ''"),
    ]
    rows = 0
    for key_sql, level_sql, condition in selects:
        rows += _execute(
            f"INSERT INTO {t['member']} (version_id, key, shopper_id, level) "  # noqa: S608
            f"SELECT %s, {key_sql}, a.shopper_id, {level_sql} {base} WHERE {condition}",
            [version.pk, version.pk],
        )
    return rows


def _segments(version: RankingVersion, k: int) -> int:
    t = _tables()
    rows = _execute(
        f"""
        INSERT INTO {t['segment']} (version_id, key, level, label, distinct_shoppers,
                                    total_weight, usable, candidates, categories)
        SELECT %s, m.key, MIN(m.level), '', COUNT(*), SUM(w.weight), COUNT(*) >= %s, '[]', '{{}}'
        FROM {t['member']} m
        JOIN (SELECT shopper_id, SUM(weight) AS weight FROM {t['si']}
              WHERE version_id = %s GROUP BY shopper_id) w ON w.shopper_id = m.shopper_id
        WHERE m.version_id = %s
        GROUP BY m.key
        """,  # noqa: S608
        [version.pk, k, version.pk, version.pk],
    )
    # Parents and labels: a Python pass over the segment rows, which number
    # regions x demographics (thousands), never events.
    regions = {code: (parent, name) for code, parent, name in
               Region.objects.values_list("code", "parent__code", "name")}
    parents = {code: parent for code, (parent, _name) in regions.items()}
    segments = list(Segment.objects.filter(version=version).only("id", "key"))
    ids = {segment.key: segment.pk for segment in segments}
    for segment in segments:
        parent_key = segment_parent_key(segment.key, parents)
        segment.parent_id = ids.get(parent_key) if parent_key else None
        code = segment.key.split(":")[1] if ":" in segment.key else ""
        segment.label = regions.get(code, (None, ""))[1][:100]
    Segment.objects.bulk_update(segments, ["parent_id", "label"], batch_size=500)
    return rows


def _levels(version: RankingVersion) -> list[int]:
    return sorted(set(
        Segment.objects.filter(version=version, usable=True).values_list("level", flat=True)
    ))


def _shrunk_scores(version: RankingVersion, smoothing: float, *, target: str, column: str,
                   select_column: str) -> int:
    """Insert smoothed shares per usable segment, root first, so each level
    finds its parent's scores already written."""
    t = _tables()
    rows = 0
    for level in _levels(version):
        rows += _execute(
            f"""
            INSERT INTO {t[target]} (version_id, segment_id, {column}, weight,
                                     {'shoppers, ' if target == 'sis' else ''}score)
            SELECT %s, a.segment_id, a.item, a.w, {'a.n, ' if target == 'sis' else ''}
                   CASE WHEN s.parent_id IS NULL THEN a.w / s.total_weight
                   ELSE (s.distinct_shoppers * a.w / s.total_weight
                         + %s * COALESCE(p.score, 0)) / (s.distinct_shoppers + %s) END
            FROM (SELECT s.id AS segment_id, si.{select_column} AS item,
                         SUM(si.weight) AS w, COUNT(*) AS n
                  FROM {t['member']} m
                  JOIN {t['segment']} s ON s.version_id = m.version_id AND s.key = m.key
                  JOIN {t['si']} si ON si.version_id = m.version_id
                                   AND si.shopper_id = m.shopper_id
                  WHERE m.version_id = %s AND m.level = %s AND s.usable = %s
                  GROUP BY s.id, si.{select_column}) a
            JOIN {t['segment']} s ON s.id = a.segment_id
            LEFT JOIN {t[target]} p ON p.segment_id = s.parent_id AND p.{column} = a.item
            """,  # noqa: S608
            [version.pk, smoothing, smoothing, version.pk, level, True],
        )
    return rows


def _segment_item_scores(version: RankingVersion, smoothing: float) -> int:
    return _shrunk_scores(version, smoothing, target="sis", column="product_id",
                          select_column="product_id")


def _segment_category_scores(version: RankingVersion, smoothing: float) -> int:
    return _shrunk_scores(version, smoothing, target="scs", column="category_id",
                          select_column="category_id")


def _trending(version: RankingVersion, config: dict, k: int, as_of: datetime) -> int:
    """Score items by how much their share of the last days exceeds their long-run share."""
    t = _tables()
    weight_sql, weight_params = _decayed_weight_sql(
        as_of, config["TRENDING_HALF_LIFE_DAYS"], config["EVENT_WEIGHTS"]
    )
    since = _datetime_param(as_of - timedelta(days=config["TRENDING_WINDOW_DAYS"]))
    window = f"""
        FROM {t['event']} e JOIN {t['profile']} sp ON sp.id = e.shopper_id
        WHERE sp.consent_personalization = %s AND e.type <> %s
          AND e.created_at >= %s AND e.created_at <= %s
    """  # noqa: S608
    window_params = [True, "hide", since, _datetime_param(as_of)]
    _execute(
        f"""
        INSERT INTO {t['segment']} (version_id, key, level, label, distinct_shoppers,
                                    total_weight, usable, candidates, categories)
        SELECT %s, %s, 0, '', COUNT(DISTINCT e.shopper_id), COALESCE(SUM({weight_sql}), 0),
               COUNT(DISTINCT e.shopper_id) >= %s, '[]', '{{}}'
        {window}
        """,  # noqa: S608
        [version.pk, TREND_KEY, *weight_params, k, *window_params],
    )
    trend = Segment.objects.get(version=version, key=TREND_KEY)
    if not trend.usable or trend.total_weight <= 0:
        return 0
    return _execute(
        f"""
        INSERT INTO {t['sis']} (version_id, segment_id, product_id, weight, shoppers, score)
        SELECT %s, %s, a.product_id, a.w, a.n, a.w / %s - COALESCE(g.score, 0)
        FROM (SELECT e.product_id, SUM({weight_sql}) AS w, COUNT(DISTINCT e.shopper_id) AS n
              {window} GROUP BY e.product_id) a
        LEFT JOIN {t['sis']} g ON g.product_id = a.product_id AND g.segment_id = (
            SELECT id FROM {t['segment']} WHERE version_id = %s AND key = 'g')
        WHERE a.n >= 2 AND a.w / %s > COALESCE(g.score, 0)
        """,  # noqa: S608
        [version.pk, trend.pk, trend.total_weight, *weight_params, *window_params, version.pk,
         trend.total_weight],
    )


def _neighbours(version: RankingVersion, config: dict) -> int:
    t = _tables()
    # Keep only each shopper's strongest items: this bounds the self-join
    # below at (items per shopper)^2 pairs per shopper, whatever a heavy user
    # did. The scratch rows are no longer needed by the earlier steps, and a
    # plain table keeps its index for the join (a CTE would not).
    _execute(
        f"""
        DELETE FROM {t['si']} WHERE id IN (
            SELECT id FROM (
                SELECT id, ROW_NUMBER() OVER (
                    PARTITION BY shopper_id ORDER BY weight DESC, product_id) AS rn
                FROM {t['si']} WHERE version_id = %s) ranked
            WHERE rn > %s)
        """,  # noqa: S608
        [version.pk, config["NEIGHBOUR_ITEMS_PER_SHOPPER"]],
    )
    pop = f"(SELECT product_id, COUNT(*) AS n FROM {t['si']} WHERE version_id = %s " \
          "GROUP BY product_id)"  # noqa: S608
    return _execute(
        f"""
        INSERT INTO {t['nb']} (version_id, product_id, neighbour_id, score, shoppers)
        SELECT %s, x.a, x.b, x.score, x.co FROM (
            SELECT pairs.a, pairs.b, pairs.co, pairs.co / SQRT(pa.n * pb.n) AS score,
                   ROW_NUMBER() OVER (PARTITION BY pairs.a
                                      ORDER BY pairs.co / SQRT(pa.n * pb.n) DESC, pairs.b) AS rn
            FROM (
                SELECT c1.product_id AS a, c2.product_id AS b, COUNT(*) AS co
                FROM {t['si']} c1 JOIN {t['si']} c2
                  ON c2.version_id = c1.version_id AND c2.shopper_id = c1.shopper_id
                 AND c2.product_id <> c1.product_id
                WHERE c1.version_id = %s
                GROUP BY c1.product_id, c2.product_id
                HAVING COUNT(*) >= %s) pairs
            JOIN {pop} pa ON pa.product_id = pairs.a
            JOIN {pop} pb ON pb.product_id = pairs.b) x
        WHERE x.rn <= %s
        """,  # noqa: S608
        [version.pk, version.pk, config["NEIGHBOUR_MIN_SHOPPERS"], version.pk, version.pk,
         config["NEIGHBOURS_PER_ITEM"]],
    )


def _pack_segments(version: RankingVersion, config: dict) -> int:
    """Copy each usable segment's top published items and its category scores
    onto the segment row, so the feed reads a segment in one row."""
    t = _tables()
    limit = config["CANDIDATES_PER_SEGMENT"]
    segment_ids = list(
        Segment.objects.filter(version=version, usable=True).order_by("pk")
        .values_list("pk", flat=True)
    )
    packed = 0
    for start in range(0, len(segment_ids), SEGMENT_CHUNK):
        chunk = segment_ids[start:start + SEGMENT_CHUNK]
        marks = ", ".join(["%s"] * len(chunk))
        candidates: dict[int, list[list]] = {pk: [] for pk in chunk}
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT segment_id, product_id, score FROM (
                    SELECT sis.segment_id, sis.product_id, sis.score, ROW_NUMBER() OVER (
                        PARTITION BY sis.segment_id ORDER BY sis.score DESC, sis.product_id) AS rn
                    FROM {t['sis']} sis JOIN {t['product']} p ON p.id = sis.product_id
                    WHERE sis.segment_id IN ({marks}) AND p.status = %s) ranked
                WHERE rn <= %s ORDER BY segment_id, rn
                """,  # noqa: S608
                [*chunk, Product.Status.ACTIVE, limit],
            )
            for segment_id, product_id, score in cursor.fetchall():
                candidates[segment_id].append([product_id, round(score, 9)])
        categories: dict[int, dict[str, float]] = {pk: {} for pk in chunk}
        for segment_id, category_id, score in SegmentCategoryScore.objects.filter(
            segment_id__in=chunk
        ).values_list("segment_id", "category_id", "score"):
            categories[segment_id][str(category_id)] = round(score, 9)
        rows = [Segment(pk=pk, candidates=candidates[pk], categories=categories[pk])
                for pk in chunk]
        Segment.objects.bulk_update(rows, ["candidates", "categories"], batch_size=100)
        packed += sum(len(items) for items in candidates.values())
    return packed
