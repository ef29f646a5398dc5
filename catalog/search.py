"""Product search: relevance-ranked full text on SQLite (FTS5) and PostgreSQL.

SQLite keeps an FTS5 index over the product titles and descriptions, kept in
sync by triggers on `catalog_product`; PostgreSQL searches a weighted
tsvector expression that a GIN index covers. Both rank titles above
descriptions and match prefixes, so "kurt" finds "kurta" while typing.

When nothing matches, a cheap typo-tolerant pass runs: trigram word
similarity on PostgreSQL (pg_trgm, when the extension could be installed),
or difflib against the FTS vocabulary on SQLite (cached, capped in size).
Each search is a constant number of queries, whatever the catalog size.
"""

# ruff: noqa: S608 - the SQL below interpolates only this module's constants
# (table, trigger and index names); every user-supplied value is a bound parameter.
from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass

from django.core.cache import cache
from django.db import DatabaseError, connection, connections, transaction

logger = logging.getLogger(__name__)

MAX_TERMS = 8
MAX_TERM_LENGTH = 40
# Only this many of the most frequent words are compared for typo fixes, so a
# misspelt query costs a bounded amount of CPU whatever the catalog size.
VOCABULARY_CAP = 20_000
VOCABULARY_CACHE_SECONDS = 600

FTS_TABLE = "shop_product_fts"
FTS_VOCAB_TABLE = "shop_product_fts_vocab"
FTS_TRIGGERS = ("shop_product_fts_ai", "shop_product_fts_ad", "shop_product_fts_au")

# The 'simple' configuration (no stemming, no stop words) because listings are
# written in English, Hindi and Arabic, often mixed; prefix matching makes up
# for the missing stemmer. The GIN index is built on exactly this expression
# (see migration 0001), so the planner can use it.
PG_VECTOR_SQL = (
    "(setweight(to_tsvector('simple'::regconfig, \"catalog_product\".\"title\"), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, \"catalog_product\".\"description\"), 'B'))"
)
PG_FTS_INDEX = "shop_product_search_gin"
PG_TRGM_INDEX = "shop_product_title_trgm"

_SQLITE_SETUP = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "title, description, content='catalog_product', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_VOCAB_TABLE} USING fts5vocab({FTS_TABLE}, 'row')",
    f"CREATE TRIGGER IF NOT EXISTS shop_product_fts_ai AFTER INSERT ON catalog_product BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, title, description) "
    "VALUES (new.id, new.title, new.description); END",
    f"CREATE TRIGGER IF NOT EXISTS shop_product_fts_ad AFTER DELETE ON catalog_product BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, description) "
    "VALUES ('delete', old.id, old.title, old.description); END",
    f"CREATE TRIGGER IF NOT EXISTS shop_product_fts_au AFTER UPDATE OF title, description "
    f"ON catalog_product BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, description) "
    "VALUES ('delete', old.id, old.title, old.description); "
    f"INSERT INTO {FTS_TABLE}(rowid, title, description) "
    "VALUES (new.id, new.title, new.description); END",
]


@dataclass(frozen=True)
class SearchResult:
    product_ids: list[int]
    has_next: bool
    # The words actually searched when the typo pass replaced the shopper's.
    corrected_query: str = ""


def search_terms(query: str) -> list[str]:
    """Return the searchable words of `query`: lower-cased, punctuation dropped, capped."""
    words = re.findall(r"\w+", query.lower())
    return [word[:MAX_TERM_LENGTH] for word in words[:MAX_TERMS]]


def search_index_ensure(using: str = "default") -> None:
    """Create the search structures if missing, and rebuild the SQLite index if it was.

    Idempotent. Runs from migration 0001 and after every `migrate`: Django's
    SQLite schema editor rebuilds a table to alter it, which drops the
    triggers on `catalog_product`, so they are recreated (and the index
    rebuilt) whenever the catalog app changes its product table.
    """
    conn = connections[using]
    with conn.cursor() as cursor:
        if conn.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE name IN (%s, %s, %s, %s)",
                [FTS_TABLE, *FTS_TRIGGERS],
            )
            present = {row[0] for row in cursor.fetchall()}
            if len(present) == 1 + len(FTS_TRIGGERS):
                return
            try:
                for statement in _SQLITE_SETUP:
                    cursor.execute(statement)
            except DatabaseError:
                # An SQLite built without FTS5: search falls back to LIKE.
                logger.warning("SQLite has no FTS5; product search uses LIKE", exc_info=True)
                return
            cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
        elif conn.vendor == "postgresql":
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {PG_FTS_INDEX} ON catalog_product "
                f"USING gin ({PG_VECTOR_SQL})"
            )
            try:
                # Needs the CREATE privilege on the database; without it the
                # typo pass is simply skipped. The savepoint keeps a refusal
                # from aborting the surrounding migration transaction.
                with transaction.atomic(using=using):
                    cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                    cursor.execute(
                        f"CREATE INDEX IF NOT EXISTS {PG_TRGM_INDEX} ON catalog_product "
                        "USING gin (title gin_trgm_ops)"
                    )
            except DatabaseError:
                logger.warning("pg_trgm unavailable; search has no typo tolerance", exc_info=True)


def search_index_drop(using: str = "default") -> None:
    """Remove what `search_index_ensure` created (migration 0001 backwards)."""
    conn = connections[using]
    with conn.cursor() as cursor:
        if conn.vendor == "sqlite":
            for trigger in FTS_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
            cursor.execute(f"DROP TABLE IF EXISTS {FTS_VOCAB_TABLE}")
            cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
        elif conn.vendor == "postgresql":
            cursor.execute(f"DROP INDEX IF EXISTS {PG_TRGM_INDEX}")
            cursor.execute(f"DROP INDEX IF EXISTS {PG_FTS_INDEX}")


def _published_filter() -> str:
    return "p.status = 'active'"


def _fetch_ids(sql: str, params: list, limit: int) -> tuple[list[int], bool]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    return ids[:limit], len(ids) > limit


# --- SQLite ----------------------------------------------------------------------


def _sqlite_has_fts() -> bool:
    key = f"catalog.search.fts:{connection.settings_dict['NAME']}"
    ready = cache.get(key)
    if ready is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM sqlite_master WHERE name = %s", [FTS_TABLE])
            ready = cursor.fetchone() is not None
        cache.set(key, ready, None)
    return ready


def _sqlite_match(terms: list[str], *, any_term: bool, offset: int, limit: int):
    # Each word quoted (so FTS5 operators in the input mean nothing) and
    # prefix-matched; titles weigh ten times the description in bm25.
    expression = (" OR " if any_term else " ").join(f'"{term}"*' for term in terms)
    sql = (
        f"SELECT p.id FROM {FTS_TABLE} f JOIN catalog_product p ON p.id = f.rowid "
        f"WHERE {FTS_TABLE} MATCH %s AND {_published_filter()} "
        f"ORDER BY bm25({FTS_TABLE}, 10.0, 1.0), p.id LIMIT %s OFFSET %s"
    )
    return _fetch_ids(sql, [expression, limit + 1, offset], limit)


def _sqlite_like(terms: list[str], *, offset: int, limit: int):
    clauses = " AND ".join(["(p.title LIKE %s OR p.description LIKE %s)"] * len(terms))
    params: list = []
    for term in terms:
        params += [f"%{term}%", f"%{term}%"]
    sql = (
        f"SELECT p.id FROM catalog_product p WHERE {clauses} AND {_published_filter()} "
        "ORDER BY p.created_at DESC, p.id DESC LIMIT %s OFFSET %s"
    )
    return _fetch_ids(sql, [*params, limit + 1, offset], limit)


def _sqlite_vocabulary() -> list[str]:
    key = f"catalog.search.vocab:{connection.settings_dict['NAME']}"
    vocabulary = cache.get(key)
    if vocabulary is None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT term FROM {FTS_VOCAB_TABLE} ORDER BY doc DESC LIMIT %s", [VOCABULARY_CAP]
            )
            vocabulary = [row[0] for row in cursor.fetchall()]
        cache.set(key, vocabulary, VOCABULARY_CACHE_SECONDS)
    return vocabulary


def _sqlite_corrected(terms: list[str]) -> list[str]:
    vocabulary = _sqlite_vocabulary()
    corrected = []
    for term in terms:
        if len(term) < 3:
            corrected.append(term)
            continue
        matches = difflib.get_close_matches(term, vocabulary, n=1, cutoff=0.7)
        corrected.append(matches[0] if matches else term)
    return corrected


def _search_sqlite(terms: list[str], *, offset: int, limit: int) -> SearchResult:
    if not _sqlite_has_fts():
        ids, more = _sqlite_like(terms, offset=offset, limit=limit)
        return SearchResult(ids, more)
    ids, more = _sqlite_match(terms, any_term=False, offset=offset, limit=limit)
    if ids or offset:
        return SearchResult(ids, more)
    corrected = _sqlite_corrected(terms)
    if corrected != terms:
        ids, more = _sqlite_match(corrected, any_term=False, offset=0, limit=limit)
        if ids:
            return SearchResult(ids, more, corrected_query=" ".join(corrected))
    # Every word at once found nothing: any of the words, best matches first.
    ids, more = _sqlite_match(corrected, any_term=True, offset=0, limit=limit)
    return SearchResult(ids, more)


# --- PostgreSQL ----------------------------------------------------------------------


def _pg_has_trigram() -> bool:
    key = f"catalog.search.trgm:{connection.settings_dict['NAME']}"
    ready = cache.get(key)
    if ready is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
            ready = cursor.fetchone() is not None
        cache.set(key, ready, 3600)
    return ready


def _pg_match(terms: list[str], *, any_term: bool, offset: int, limit: int):
    # Words are \w-only, so they cannot carry tsquery operators; ":*" is a
    # prefix match. ts_rank weighs the title ('A') above the description.
    tsquery = (" | " if any_term else " & ").join(f"{term}:*" for term in terms)
    sql = (
        f"SELECT p.id FROM catalog_product p, to_tsquery('simple', %s) query "
        f"WHERE {PG_VECTOR_SQL.replace('catalog_product', 'p')} @@ query "
        f"AND {_published_filter()} "
        f"ORDER BY ts_rank({PG_VECTOR_SQL.replace('catalog_product', 'p')}, query) DESC, p.id "
        "LIMIT %s OFFSET %s"
    )
    return _fetch_ids(sql, [tsquery, limit + 1, offset], limit)


def _pg_similar(query: str, *, limit: int):
    # word_similarity: "kurtta" against "Blue cotton kurta" compares with the
    # best-matching word, not the whole title; <% uses the trigram GIN index.
    sql = (
        "SELECT p.id FROM catalog_product p "
        f"WHERE %s <%% p.title AND {_published_filter()} "
        "ORDER BY word_similarity(%s, p.title) DESC, p.id LIMIT %s"
    )
    return _fetch_ids(sql, [query, query, limit + 1], limit)


def _search_postgresql(terms: list[str], *, offset: int, limit: int) -> SearchResult:
    ids, more = _pg_match(terms, any_term=False, offset=offset, limit=limit)
    if ids or offset:
        return SearchResult(ids, more)
    if _pg_has_trigram():
        ids, more = _pg_similar(" ".join(terms), limit=limit)
        if ids:
            # Similar titles are one best-effort page, not an endless list.
            return SearchResult(ids, False)
    ids, more = _pg_match(terms, any_term=True, offset=0, limit=limit)
    return SearchResult(ids, more)


def products_search(*, query: str, page: int, page_size: int) -> SearchResult:
    """Return the ids of published listings matching `query`, best first, for page `page`."""
    terms = search_terms(query)
    if not terms:
        return SearchResult([], False)
    offset = (page - 1) * page_size
    if connection.vendor == "postgresql":
        return _search_postgresql(terms, offset=offset, limit=page_size)
    if connection.vendor == "sqlite":
        return _search_sqlite(terms, offset=offset, limit=page_size)
    ids, more = _sqlite_like(terms, offset=offset, limit=page_size)
    return SearchResult(ids, more)
