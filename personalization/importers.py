"""CSV import of shoppers and events (`import_dataset --shoppers F --events F`).

Formats (DESIGN.md): shoppers `id,region,age,gender,language`; events
`shopper,product,type,timestamp`. A header row names the columns (any order).

- Atomic per file: rows are written in batches inside one transaction as the
  file streams by; the first bad row stops the writing (validation goes on to
  report every bad line) and DatasetError rolls the whole file back.
- Bounded memory: one csv row at a time, batches of IMPORT_BATCH_SIZE, and id
  maps (external id -> pk) built with values_list iterators.
- Re-import: shoppers are upserted by id, and the file wins (an empty field
  clears what an earlier import set). Events are idempotent: an event with the
  same (shopper, product, type, timestamp) as a stored one is skipped. The key
  is kept in `client_event_id` ("imp:..."), so the database's unique
  constraint does the skipping in the INSERT itself; a second identical row in
  one file is skipped the same way (two identical events at the same
  microsecond are one event for ranking).
- Raw ages are never stored: an age in years becomes its band.
- Events may name draft or archived products: they are history, and the
  ranking only ever serves published listings anyway.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from catalog.models import Product, Region
from core.datasets import DatasetError, RowError, RowErrors

from .conf import get_config
from .lifecycle import refresh_lifecycle_stages
from .models import AgeBand, Event, EventContext, EventType, Gender, ShopperProfile

SHOPPER_COLUMNS = ("id", "region", "age", "gender", "language")
EVENT_COLUMNS = ("shopper", "product", "type", "timestamp")
PROGRESS_EVERY = 100_000
_AGE_BANDS = [(17, AgeBand.TEENS), (24, AgeBand.YOUNG_ADULTS), (34, AgeBand.ADULTS_25),
              (44, AgeBand.ADULTS_35), (54, AgeBand.ADULTS_45)]
_UNIX_RE = re.compile(r"^\d{1,16}(\.\d{1,6})?$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)
_AMBIGUOUS = 0  # a product external id used by more than one seller


class UnderThirteen(ValueError):
    """An age below 13: such shoppers are not profiled (COPPA/GDPR-K)."""


def age_to_band(value: str) -> str:
    """Return the band for an age in years or a band label; raise ValueError if neither
    (UnderThirteen for an age below 13)."""
    value = value.strip()
    if value in AgeBand.values:
        return value
    if not value.isdigit():
        raise ValueError(f"age {value!r} is neither years nor one of {', '.join(AgeBand.values)}")
    years = int(value)
    if years < 13:
        raise UnderThirteen("shoppers under 13 are not profiled")
    if years > 120:
        raise ValueError(f"age {years} is not plausible")
    return next((band for top, band in _AGE_BANDS if years <= top), AgeBand.SENIORS)


def parse_timestamp(value: str, *, latest: datetime) -> datetime:
    """Return an aware UTC datetime from ISO 8601 or Unix seconds; raise ValueError."""
    value = value.strip()
    if _UNIX_RE.match(value):
        if float(value) > 1e11:  # beyond the year 5000 in seconds
            raise ValueError(f"timestamp {value} looks like milliseconds; send Unix seconds")
        moment = _EPOCH + timedelta(seconds=float(value))
        if moment < _EPOCH + timedelta(days=365 * 30):
            # Before 2000 as seconds: more likely a mistyped or truncated
            # number than a real date. An ISO date is explicit, so any year is
            # taken as written (public data sets go back to the 1990s).
            raise ValueError(f"timestamp {value} is before 2000; is it in milliseconds?")
    else:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"timestamp {value!r} is neither ISO 8601 nor Unix seconds"
            ) from None
        # A zone-less time is read as UTC, the only zone the shop stores.
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if moment > latest:
        raise ValueError(f"timestamp {value} is in the future")
    return moment


def _decoded(handle: IO[bytes]) -> Iterator[str]:
    """Yield the file's lines as text, decoding each on its own.

    Decoding line by line (not in 8 KB chunks) makes a bad byte fail on its
    own line, so the error names the line to fix.
    """
    for number, raw in enumerate(handle):
        # utf-8-sig on the first line: spreadsheets on Windows prefix a BOM.
        yield raw.decode("utf-8-sig" if number == 0 else "utf-8")


def _rows(path: str, handle: IO[bytes], columns: tuple[str, ...], errors: RowErrors
          ) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, {column: stripped value}) for each data row of a CSV."""
    reader = csv.reader(_decoded(handle))
    try:
        header = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(path, [RowError(1, f"unreadable header ({exc}); is the file "
                                              "UTF-8 CSV?")]) from None
    if header is None:
        raise DatasetError(path, [RowError(1, "the file is empty; expected a header row")])
    names = [name.strip().lower() for name in header]
    missing = [name for name in columns if name not in names]
    if missing:
        raise DatasetError(path, [RowError(1, f"missing column(s): {', '.join(missing)}; "
                                              f"expected {','.join(columns)}")])
    positions = [(name, names.index(name)) for name in columns]
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except (UnicodeDecodeError, csv.Error) as exc:
            errors.add(start, f"unreadable row ({exc}); is the file UTF-8 CSV?")
            return
        line = start
        if not row or row == [""]:
            continue
        if len(row) != len(names):
            errors.add(line, f"expected {len(names)} fields, found {len(row)}")
            continue
        yield line, {name: row[index].strip() for name, index in positions}


def _open(path: str) -> IO[bytes]:
    try:
        return open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise DatasetError(path, [RowError(1, f"cannot open the file: {exc.strerror}")]) from None


def _progress(stdout: Any, message: str) -> None:
    if stdout is not None:
        stdout.write(message if message.endswith("\n") else message + "\n")


# --- Shoppers ------------------------------------------------------------------------


def import_shoppers(path: str, *, stdout: Any = None) -> int:
    """Import (upsert by id) the shoppers in a CSV; return how many rows were imported."""
    batch_size = get_config()["IMPORT_BATCH_SIZE"]
    errors = RowErrors(str(path))
    # Codes are matched case-insensitively: "in-mh" in a spreadsheet means IN-MH.
    regions = {code.upper(): pk for code, pk in Region.objects.values_list("code", "pk")}
    languages = {code for code, _name in settings.LANGUAGES}
    existing = dict(
        ShopperProfile.objects.exclude(external_id="").values_list("external_id", "pk")
        .iterator(chunk_size=batch_size)
    )
    seen: dict[str, int] = {}
    creates: list[ShopperProfile] = []
    updates: list[ShopperProfile] = []
    fields = ["region", "age_band", "gender", "language"]
    count = under_13 = 0

    def flush() -> None:
        if errors.total:  # the file will be rolled back: stop writing
            creates.clear()
            updates.clear()
            return
        if creates:
            ShopperProfile.objects.bulk_create(creates, batch_size=batch_size)
            creates.clear()
        if updates:
            ShopperProfile.objects.bulk_update(updates, fields, batch_size=1000)
            updates.clear()

    with _open(path) as handle, transaction.atomic():
        for line, row in _rows(str(path), handle, SHOPPER_COLUMNS, errors):
            values, problems = _shopper_values(row, regions, languages)
            external_id = row["id"]
            if external_id in seen:
                problems.append(f"shopper id {external_id!r} already on line {seen[external_id]}")
            for problem in problems:
                errors.add(line, problem)
            if problems:
                continue
            seen[external_id] = line
            if values["age_band"] is None:
                values["age_band"] = ""
                under_13 += 1
            if external_id in existing:
                updates.append(ShopperProfile(pk=existing[external_id], **values))
            else:
                creates.append(ShopperProfile(
                    external_id=external_id, first_seen_at=None, last_seen_at=None, **values
                ))
            count += 1
            if len(creates) + len(updates) >= batch_size:
                flush()
            if count % PROGRESS_EVERY == 0:
                _progress(stdout, f"shoppers: {count:,} rows")
        flush()
        errors.raise_if_any()
    if under_13:
        _progress(stdout, f"shoppers: {under_13:,} row(s) with an age under 13 imported "
                          "without an age (under-13s are not profiled)")
    _progress(stdout, f"shoppers: {count:,} imported from {path}")
    return count


def _shopper_values(row: dict[str, str], regions: dict[str, int], languages: set[str]
                    ) -> tuple[dict, list[str]]:
    problems: list[str] = []
    values: dict[str, Any] = {"region_id": None, "age_band": "", "gender": "", "language": ""}
    if not row["id"]:
        problems.append("id is empty")
    elif len(row["id"]) > 64:
        problems.append("id is longer than 64 characters")
    if row["region"]:
        values["region_id"] = regions.get(row["region"].upper())
        if values["region_id"] is None:
            problems.append(f"unknown region {row['region']!r}")
    if row["age"]:
        try:
            values["age_band"] = age_to_band(row["age"])
        except UnderThirteen:
            # The shopper is imported without an age (no band, so never
            # profiled by it); the import reports how many. One such row must
            # not sink a file of a million.
            values["age_band"] = None
        except ValueError as exc:
            problems.append(str(exc))
    gender = row["gender"].lower()
    if gender:
        if gender in Gender.values:
            values["gender"] = gender
        else:
            problems.append(f"gender {row['gender']!r} is not f, m, x or empty")
    language = row["language"].lower()
    if language:
        if language in languages:
            values["language"] = language
        else:
            problems.append(f"language {row['language']!r} is not one of "
                            f"{', '.join(sorted(languages))}")
    return values, problems


# --- Events --------------------------------------------------------------------------


def _product_map(batch_size: int) -> dict[str, int]:
    products: dict[str, int] = {}
    rows = Product.objects.exclude(external_id="").values_list("external_id", "pk")
    for external_id, pk in rows.iterator(chunk_size=batch_size):
        products[external_id] = _AMBIGUOUS if external_id in products else pk
    return products


def datetime_adapter() -> Callable[[datetime], Any]:
    """Return a function turning an aware UTC datetime into the database's parameter.

    On SQLite that is the text Django itself stores; written directly because
    Django's generic adapter (time zone conversion, then str) is a third of
    the import time for a million events. Other backends take the datetime.
    """
    if connection.vendor == "sqlite":
        return lambda moment: moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    return connection.ops.adapt_datetimefield_value


# 6 parameters a row: 100 rows stay far below SQLite's 999-parameter default.
SINGLE_STATEMENT_ROWS = 100


def events_insert_rows(rows: list[tuple]) -> None:
    """INSERT the rows, skipping those the unique constraint already holds.

    Each row is (shopper_id, product_id, type, context, created_at adapted for
    the database, client_event_id).

    Raw executemany rather than bulk_create: no model instances for a million
    rows, and ON CONFLICT DO NOTHING (SQLite >= 3.24, PostgreSQL) skips a
    re-imported event in the database itself. Up to SINGLE_STATEMENT_ROWS
    rows go in one multi-row statement instead: one statement is one implicit
    transaction, so a feed page's impressions need no BEGIN/COMMIT around it.
    """
    quote = connection.ops.quote_name
    table = quote(Event._meta.db_table)
    columns = ", ".join(quote(Event._meta.get_field(name).column) for name in (
        "shopper", "product", "type", "context", "created_at", "client_event_id"
    ))
    # Only quoted names from our own model are interpolated; values are parameters.
    if not rows:
        return
    row_sql = "(%s, %s, %s, %s, %s, %s)"
    with connection.cursor() as cursor:
        if len(rows) <= SINGLE_STATEMENT_ROWS:
            values = ", ".join([row_sql] * len(rows))
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values} "  # noqa: S608
                           "ON CONFLICT DO NOTHING", [value for row in rows for value in row])
        else:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES {row_sql} "  # noqa: S608
                               "ON CONFLICT DO NOTHING", rows)


def import_events(path: str, *, stdout: Any = None) -> int:
    """Import the events in a CSV; return how many were stored (re-imported ones are skipped)."""
    batch_size = get_config()["IMPORT_BATCH_SIZE"]
    errors = RowErrors(str(path))
    shoppers = dict(
        ShopperProfile.objects.exclude(external_id="").values_list("external_id", "pk")
        .iterator(chunk_size=batch_size)
    )
    products = _product_map(batch_size)
    # A day of slack: the exporting system's clock may run ahead of ours.
    latest = timezone.now() + timedelta(days=1)
    adapt = datetime_adapter()
    types = set(EventType.values)
    batch: list[tuple] = []
    read = 0

    with _open(path) as handle, transaction.atomic():
        # Event pks only grow (AUTOINCREMENT, sequences): rows of this import
        # are those above the current maximum with the import context, which
        # live traffic never uses.
        before = Event.objects.aggregate(last=Max("pk"))["last"] or 0
        for line, row in _rows(str(path), handle, EVENT_COLUMNS, errors):
            shopper_id = shoppers.get(row["shopper"])
            product_id = products.get(row["product"])
            event_type = row["type"].lower()
            problems = []
            if shopper_id is None:
                problems.append(f"unknown shopper {row['shopper']!r}")
            if product_id is None:
                problems.append(f"unknown product {row['product']!r}")
            elif product_id == _AMBIGUOUS:
                problems.append(f"product id {row['product']!r} is used by several sellers")
            if event_type not in types:
                problems.append(f"type {row['type']!r} is not one of {' '.join(EventType.values)}")
            try:
                moment = parse_timestamp(row["timestamp"], latest=latest)
            except ValueError as exc:
                problems.append(str(exc))
            for problem in problems:
                errors.add(line, problem)
            read += 1
            if problems or errors.total:
                # Once the file is known bad nothing more is written; the
                # rest is only validated so every bad line is reported.
                batch.clear()
                continue
            micros = (moment - _EPOCH) // _ONE_MICROSECOND
            batch.append((
                shopper_id, product_id, event_type, EventContext.IMPORT, adapt(moment),
                f"imp:{product_id}:{event_type}:{micros}",
            ))
            if len(batch) >= batch_size:
                events_insert_rows(batch)
                batch.clear()
            if read % PROGRESS_EVERY == 0:
                _progress(stdout, f"events: {read:,} rows")
        errors.raise_if_any()
        if batch:
            events_insert_rows(batch)
        new_events = Event.objects.filter(pk__gt=before, context=EventContext.IMPORT)
        stored = new_events.count()
        _progress(stdout, f"events: {stored:,} stored, {read - stored:,} already there")
        if stored:
            _mark_seen(after_pk=before)
            refresh_lifecycle_stages(
                shopper_ids=new_events.order_by().values_list("shopper_id", flat=True).distinct()
            )
    _progress(stdout, f"events: {stored:,} imported from {path}")
    return stored


def _mark_seen(*, after_pk: int) -> None:
    """Move first/last visit of the shoppers of this import to cover its events.

    Imported events are visits in the system they came from; without this an
    imported shopper would never turn dormant, or would look seen today. One
    set-based UPDATE ... FROM over the new events (SQLite >= 3.33, PostgreSQL):
    a correlated subquery per shopper took minutes for 100k shoppers.
    """
    quote = connection.ops.quote_name
    profiles, events = quote(ShopperProfile._meta.db_table), quote(Event._meta.db_table)
    # The two-argument MIN/MAX are SQLite's LEAST/GREATEST.
    least, greatest = ("MIN", "MAX") if connection.vendor == "sqlite" else ("LEAST", "GREATEST")
    # Only quoted names from our own models are interpolated; values are parameters.
    sql = f"""
        UPDATE {profiles}
        SET first_seen_at = {least}(COALESCE({profiles}.first_seen_at, span.first_at),
                                    span.first_at),
            last_seen_at = {greatest}(COALESCE({profiles}.last_seen_at, span.last_at),
                                      span.last_at)
        FROM (
            SELECT shopper_id, MIN(created_at) AS first_at, MAX(created_at) AS last_at
            FROM {events}
            WHERE id > %s AND context = %s AND shopper_id IS NOT NULL
            GROUP BY shopper_id
        ) AS span
        WHERE {profiles}.id = span.shopper_id
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [after_pk, EventContext.IMPORT])
