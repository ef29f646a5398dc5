"""Product search: relevance-ranked full text on SQLite (FTS5) and PostgreSQL.

SQLite keeps an FTS5 index over the product titles and descriptions and their
translations (`title_hi`, `description_ar`, ...), kept in sync by triggers on
`catalog_product`; PostgreSQL searches a weighted tsvector expression that a
GIN index covers. Both rank titles above descriptions and match prefixes, so
"kurt" finds "kurta" while typing.

Shoppers type in their own words: "साड़ी" in Devanagari, "ساري" in Arabic
script, "saree", "sari" or the Hinglish "saadi" in Latin letters. Each word of
the query is searched together with its synonyms (`SearchSynonym` rows kept
by staff: every word of a concept, in every language), read as one cached
mapping, so the expansion costs no query.

Words are letters, digits and combining marks: Devanagari vowel signs and the
nukta are marks, and splitting at them (Python's word pattern, FTS5's default
tokenizer) cut "साड़ी" into "स" and "ड". Arabic short-vowel marks and the
tatweel are dropped from queries (shoppers rarely type them).

When nothing matches, a cheap typo-tolerant pass runs: trigram word
similarity on PostgreSQL (pg_trgm, when the extension could be installed),
or difflib against the FTS vocabulary on SQLite (cached, capped in size).
Each search is a constant number of queries, whatever the catalog size.
A search that finds nothing at all is counted for staff (`search_miss_record`).
"""

# ruff: noqa: S608 - the SQL below interpolates only this module's constants
# (table, trigger, index and column names); every user-supplied value is a bound parameter.
from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db import DatabaseError, connection, connections, router, transaction
from django.utils import timezone

from .models import SearchMiss, SearchSynonym
from .translations import translated_names
from .words import MAX_TERM_LENGTH, MAX_TERMS, search_terms, synonym_words_parse

__all__ = ["MAX_TERM_LENGTH", "MAX_TERMS", "SearchResult", "products_search", "search_index_drop",
           "search_index_ensure", "search_miss_record", "search_terms", "synonym_words_parse",
           "synonyms_build", "synonyms_forget", "synonyms_get"]

from .markets import Market

logger = logging.getLogger(__name__)

# Only this many of the most frequent words are compared for typo fixes, so a
# misspelt query costs a bounded amount of CPU whatever the catalog size.
VOCABULARY_CAP = 20_000
VOCABULARY_CACHE_SECONDS = 600
# A word searches at most this many synonyms: a concept listing dozens of
# spellings must not turn one word into a query the index struggles with.
MAX_SYNONYMS_PER_TERM = 16
# The mapping is dropped from the cache whenever staff change a synonym; in
# a process-local cache (the default) other processes see the change within
# this many seconds.
SYNONYMS_CACHE_SECONDS = 300
SYNONYMS_CACHE_KEY = "catalog.search.synonyms:v1"
MISS_QUERY_MAX = 200

FTS_TABLE = "shop_product_fts"
FTS_VOCAB_TABLE = "shop_product_fts_vocab"
FTS_TRIGGERS = ("shop_product_fts_ai", "shop_product_fts_ad", "shop_product_fts_au")

# Indexed columns, titles first: bm25 weighs every title ten times a description.
TITLE_COLUMNS = ("title", *translated_names("title"))
DESCRIPTION_COLUMNS = ("description", *translated_names("description"))
FTS_COLUMNS = TITLE_COLUMNS + DESCRIPTION_COLUMNS
_BM25_WEIGHTS = ", ".join(["10.0"] * len(TITLE_COLUMNS) + ["1.0"] * len(DESCRIPTION_COLUMNS))


def _pg_text(columns: tuple[str, ...]) -> str:
    # The columns are NOT NULL (blank is ''), so || needs no coalesce.
    return " || ' ' || ".join(f'"catalog_product"."{column}"' for column in columns)


# The 'simple' configuration (no stemming, no stop words) because listings are
# written in English, Hindi and Arabic, often mixed; prefix matching makes up
# for the missing stemmer. The GIN index is built on exactly this expression
# (see search_index_ensure), so the planner can use it.
PG_VECTOR_SQL = (
    f"(setweight(to_tsvector('simple'::regconfig, {_pg_text(TITLE_COLUMNS)}), 'A') || "
    f"setweight(to_tsvector('simple'::regconfig, {_pg_text(DESCRIPTION_COLUMNS)}), 'B'))"
)
PG_FTS_INDEX = "shop_product_search_gin"
PG_TRGM_INDEX = "shop_product_title_trgm"

_COLUMN_LIST = ", ".join(FTS_COLUMNS)
_NEW_VALUES = ", ".join(f"new.{column}" for column in FTS_COLUMNS)
_OLD_VALUES = ", ".join(f"old.{column}" for column in FTS_COLUMNS)
# Letters, digits and combining marks are word characters (the "M*" category:
# Devanagari vowel signs and nukta); the default "L* N* Co" splits Hindi words apart.
_SQLITE_TOKENIZER = "unicode61 remove_diacritics 2 categories 'L* N* Co M*'"

_SQLITE_SETUP = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    f"{_COLUMN_LIST}, content='catalog_product', content_rowid='id', "
    f'tokenize="{_SQLITE_TOKENIZER}")',
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_VOCAB_TABLE} USING fts5vocab({FTS_TABLE}, 'row')",
    f"CREATE TRIGGER IF NOT EXISTS shop_product_fts_ai AFTER INSERT ON catalog_product BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, {_COLUMN_LIST}) VALUES (new.id, {_NEW_VALUES}); END",
    f"CREATE TRIGGER IF NOT EXISTS shop_product_fts_ad AFTER DELETE ON catalog_product BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_COLUMN_LIST}) "
    f"VALUES ('delete', old.id, {_OLD_VALUES}); END",
    f"CREATE TRIGGER IF NOT EXISTS shop_product_fts_au AFTER UPDATE OF {_COLUMN_LIST} "
    f"ON catalog_product BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_COLUMN_LIST}) "
    f"VALUES ('delete', old.id, {_OLD_VALUES}); "
    f"INSERT INTO {FTS_TABLE}(rowid, {_COLUMN_LIST}) VALUES (new.id, {_NEW_VALUES}); END",
]


@dataclass(frozen=True)
class SearchResult:
    product_ids: list[int]
    has_next: bool
    # The words actually searched when the typo pass replaced the shopper's.
    corrected_query: str = ""


def search_index_ensure(using: str = "default") -> None:
    """Create the search structures if missing, and rebuild the SQLite index if it was.

    Idempotent. Runs from the search migrations and after every `migrate`:
    Django's SQLite schema editor rebuilds a table to alter it, which drops
    the triggers on `catalog_product`, so they are recreated (and the index
    rebuilt) whenever an app changes the product table.
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
    """Remove what `search_index_ensure` created (the search migrations backwards)."""
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


# --- synonyms --------------------------------------------------------------------


def synonyms_build(groups: list[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    """Return word -> its synonyms from (concept, words) rows: every word of a concept
    (in every language) maps to the others; a word in two concepts gets both."""
    by_concept: dict[str, list[str]] = {}
    for concept, words in groups:
        try:
            parsed = synonym_words_parse(words)
        except ValueError:
            continue  # a row saved around the admin's check: ignored, never a 500
        members = by_concept.setdefault(concept, [])
        members.extend(word for word in parsed if word not in members)
    mapping: dict[str, list[str]] = {}
    for members in by_concept.values():
        for word in members:
            known = mapping.setdefault(word, [])
            known.extend(other for other in members if other != word and other not in known)
    return {word: tuple(others) for word, others in mapping.items() if others}


def synonyms_get() -> dict[str, tuple[str, ...]]:
    """Return the synonym mapping, from the cache (one query when it is not there)."""
    mapping = cache.get(SYNONYMS_CACHE_KEY)
    if mapping is None:
        mapping = synonyms_build(list(SearchSynonym.objects.values_list("concept", "words")))
        cache.set(SYNONYMS_CACHE_KEY, mapping, SYNONYMS_CACHE_SECONDS)
    return mapping


def synonyms_forget(**_kwargs) -> None:
    """Drop the cached mapping (staff changed a synonym); a signal receiver too."""
    cache.delete(SYNONYMS_CACHE_KEY)


def _expanded(terms: list[str]) -> list[list[str]]:
    """Return each term with its synonyms (the term first)."""
    mapping = synonyms_get() if terms else {}
    return [[term, *mapping.get(term, ())[:MAX_SYNONYMS_PER_TERM]] for term in terms]


# --- searches without results ------------------------------------------------------


def search_miss_record(*, query: str, language: str, now: datetime | None = None) -> None:
    """Count a search that found nothing: its words and language, never who searched.

    One statement (an upsert), so a popular miss is one row however often it
    is searched. A failure to count (a locked SQLite file) is logged, never
    shown to the shopper.
    """
    text = " ".join(search_terms(query))[:MISS_QUERY_MAX]
    if not text:
        return
    alias = router.db_for_write(SearchMiss)
    conn = connections[alias]
    moment = conn.ops.adapt_datetimefield_value(now or timezone.now())
    table = conn.ops.quote_name(SearchMiss._meta.db_table)
    sql = (
        f"INSERT INTO {table} (query, language, count, first_seen, last_seen) "
        "VALUES (%s, %s, 1, %s, %s) ON CONFLICT (query, language) "
        f"DO UPDATE SET count = {table}.count + 1, last_seen = excluded.last_seen"
    )
    params = [text, (language or "")[:8], moment, moment]
    try:
        if conn.in_atomic_block:
            # A savepoint, so a failure cannot abort the request's transaction.
            with transaction.atomic(using=alias), conn.cursor() as cursor:
                cursor.execute(sql, params)
        else:
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
    except DatabaseError:
        logger.warning("could not count a search without results", exc_info=True)


def _published_filter() -> str:
    return "p.status = 'active'"


def _market_filter(market: Market | None) -> tuple[str, list]:
    """Return (SQL, params) keeping the rows of `p` a shopper in `market` can buy.

    The SQL twin of `Market.products_q()`, inside each search statement so
    that a page of results is a full page of listings the shopper can buy.
    """
    if market is None:
        return "", []
    sql, params = "", []
    if market.currency:
        sql += " AND p.currency = %s"
        params.append(market.currency)
    marks = ", ".join(["%s"] * len(market.codes))
    sql += (
        " AND (NOT EXISTS (SELECT 1 FROM catalog_product_regions pr WHERE pr.product_id = p.id)"
        " OR EXISTS (SELECT 1 FROM catalog_product_regions pr"
        " JOIN catalog_region r ON r.id = pr.region_id"
        f" WHERE pr.product_id = p.id AND r.code IN ({marks})))"
    )
    return sql, [*params, *market.codes]


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


def _sqlite_expression(alternatives: list[list[str]], *, any_term: bool) -> str:
    # Each word quoted (so FTS5 operators in the input mean nothing) and
    # prefix-matched; a word's synonyms are alternatives to it.
    groups = ["(" + " OR ".join(f'"{word}"*' for word in words) + ")" for words in alternatives]
    return (" OR " if any_term else " AND ").join(groups)


def _sqlite_match(alternatives: list[list[str]], *, any_term: bool, offset: int, limit: int,
                  market: Market | None = None):
    # Titles (in every language) weigh ten times the descriptions in bm25.
    where, params = _market_filter(market)
    sql = (
        f"SELECT p.id FROM {FTS_TABLE} f JOIN catalog_product p ON p.id = f.rowid "
        f"WHERE {FTS_TABLE} MATCH %s AND {_published_filter()}{where} "
        f"ORDER BY bm25({FTS_TABLE}, {_BM25_WEIGHTS}), p.id LIMIT %s OFFSET %s"
    )
    expression = _sqlite_expression(alternatives, any_term=any_term)
    return _fetch_ids(sql, [expression, *params, limit + 1, offset], limit)


def _sqlite_like(terms: list[str], *, offset: int, limit: int, market: Market | None = None):
    per_term = "(" + " OR ".join(f"p.{column} LIKE %s" for column in FTS_COLUMNS) + ")"
    clauses = " AND ".join([per_term] * len(terms))
    params: list = []
    for term in terms:
        params += [f"%{term}%"] * len(FTS_COLUMNS)
    where, market_params = _market_filter(market)
    sql = (
        f"SELECT p.id FROM catalog_product p WHERE {clauses} AND {_published_filter()}{where} "
        "ORDER BY p.created_at DESC, p.id DESC LIMIT %s OFFSET %s"
    )
    return _fetch_ids(sql, [*params, *market_params, limit + 1, offset], limit)


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
    mapping = synonyms_get()
    corrected = []
    for term in terms:
        if len(term) < 3 or term in mapping:
            # A known synonym is a word of the shop's, not a typo.
            corrected.append(term)
            continue
        matches = difflib.get_close_matches(term, vocabulary, n=1, cutoff=0.7)
        corrected.append(matches[0] if matches else term)
    return corrected


def _search_sqlite(terms: list[str], *, offset: int, limit: int,
                   market: Market | None = None) -> SearchResult:
    if not _sqlite_has_fts():
        ids, more = _sqlite_like(terms, offset=offset, limit=limit, market=market)
        return SearchResult(ids, more)
    ids, more = _sqlite_match(_expanded(terms), any_term=False, offset=offset, limit=limit,
                              market=market)
    if ids or offset:
        return SearchResult(ids, more)
    corrected = _sqlite_corrected(terms)
    if corrected != terms:
        ids, more = _sqlite_match(_expanded(corrected), any_term=False, offset=0, limit=limit,
                                  market=market)
        if ids:
            return SearchResult(ids, more, corrected_query=" ".join(corrected))
    # Every word at once found nothing: any of the words, best matches first.
    ids, more = _sqlite_match(_expanded(corrected), any_term=True, offset=0, limit=limit,
                              market=market)
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


def _pg_tsquery(alternatives: list[list[str]], *, any_term: bool) -> str:
    # Words are letters, digits and marks only, so they cannot carry tsquery
    # operators; ":*" is a prefix match, a word's synonyms are alternatives.
    groups = ["(" + " | ".join(f"{word}:*" for word in words) + ")" for words in alternatives]
    return (" | " if any_term else " & ").join(groups)


def _pg_match(alternatives: list[list[str]], *, any_term: bool, offset: int, limit: int,
              market: Market | None = None):
    # ts_rank weighs the titles ('A') above the descriptions.
    vector = PG_VECTOR_SQL.replace('"catalog_product"', "p")
    where, params = _market_filter(market)
    sql = (
        f"SELECT p.id FROM catalog_product p, to_tsquery('simple', %s) query "
        f"WHERE {vector} @@ query AND {_published_filter()}{where} "
        f"ORDER BY ts_rank({vector}, query) DESC, p.id "
        "LIMIT %s OFFSET %s"
    )
    tsquery = _pg_tsquery(alternatives, any_term=any_term)
    return _fetch_ids(sql, [tsquery, *params, limit + 1, offset], limit)


def _pg_similar(query: str, *, limit: int, market: Market | None = None):
    # word_similarity: "kurtta" against "Blue cotton kurta" compares with the
    # best-matching word, not the whole title; <% uses the trigram GIN index.
    where, params = _market_filter(market)
    sql = (
        "SELECT p.id FROM catalog_product p "
        f"WHERE %s <%% p.title AND {_published_filter()}{where} "
        "ORDER BY word_similarity(%s, p.title) DESC, p.id LIMIT %s"
    )
    return _fetch_ids(sql, [query, *params, query, limit + 1], limit)


def _search_postgresql(terms: list[str], *, offset: int, limit: int,
                       market: Market | None = None) -> SearchResult:
    alternatives = _expanded(terms)
    ids, more = _pg_match(alternatives, any_term=False, offset=offset, limit=limit,
                          market=market)
    if ids or offset:
        return SearchResult(ids, more)
    if _pg_has_trigram():
        ids, more = _pg_similar(" ".join(terms), limit=limit, market=market)
        if ids:
            # Similar titles are one best-effort page, not an endless list.
            return SearchResult(ids, False)
    ids, more = _pg_match(alternatives, any_term=True, offset=0, limit=limit, market=market)
    return SearchResult(ids, more)


def products_search(*, query: str, page: int, page_size: int,
                    market: Market | None = None) -> SearchResult:
    """Return the ids of published listings matching `query`, best first, for page `page`;
    with `market`, only listings sold there in its currency (catalog.markets)."""
    terms = search_terms(query)
    if not terms:
        return SearchResult([], False)
    offset = (page - 1) * page_size
    if connection.vendor == "postgresql":
        return _search_postgresql(terms, offset=offset, limit=page_size, market=market)
    if connection.vendor == "sqlite":
        return _search_sqlite(terms, offset=offset, limit=page_size, market=market)
    ids, more = _sqlite_like(terms, offset=offset, limit=page_size, market=market)
    return SearchResult(ids, more)
