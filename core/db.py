"""A hot-path read compiled once and re-run with new values.

Django builds and compiles a queryset on every call. For the card rows
behind every list of cards (storefront/cards.py: a JSON subquery for the
first photo per row) that cost five times what running the SQL does, so that
one read is a `CompiledQuery`: its queryset is built once per shape
(database, number of ids) with stand-in values, the positions of those among
the parameters are remembered, and afterwards only the real values are
swapped in and the SQL run through Django's cursor, applying the converters
Django would. The ORM stays the one definition of the query: tests compare
both paths on SQLite and PostgreSQL.

Only values_list() rows. Where a hot read needs model instances (the
shopper behind a cookie or a token, on every page and API call), it reads
the model's columns as a row and builds the instance with the documented
`Model.from_db` (`instances_from_row`), instead of re-implementing Django's
ModelIterable on private APIs as an earlier version of this module did.
Measured: through the ORM those two one-row lookups cost about 1.5 ms of CPU
a request (queryset building and compiling), a third of a feed API call.

Supported values: int, str, UUID, aware datetimes and lists of ints (a list's
length is part of the shape). Each shape is compiled twice with two different
sets of stand-ins and kept only if both give the same SQL with every stand-in
in exactly one place; otherwise (Django folded a value into the SQL, dropped
a comparison, ...) that shape simply runs through the ORM every time.
"""

from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Callable, Hashable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import OperationalError, connections
from django.db.models import Model, QuerySet
from django.db.models.query import ValuesListIterable

# Inside a 32-bit column's range: Django leaves a comparison with an
# out-of-range integer out of the SQL (5.0+).
_INT_BASES = (-2_000_000_000, 2_000_000_000)
_MOMENT_BASES = (datetime(1901, 1, 1, tzinfo=UTC), datetime(1902, 2, 2, tzinfo=UTC))
_FALLBACK = object()


class _Stand:
    """Hands out distinct stand-in values of the same types as the real ones."""

    def __init__(self, variant: int):
        self.count = 0
        self.variant = variant

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [self(item) for item in value]
        self.count += 1
        if isinstance(value, bool):
            raise TypeError("booleans are not supported")
        if isinstance(value, int):
            return _INT_BASES[self.variant] + self.count
        if isinstance(value, datetime):
            return _MOMENT_BASES[self.variant] + timedelta(microseconds=self.count)
        if isinstance(value, uuid.UUID):
            return uuid.UUID(int=(self.variant + 1) << 64 | self.count)
        if isinstance(value, str):
            return f"\x1estand-in {self.variant}.{self.count}\x1e"
        raise TypeError(f"unsupported value {type(value).__name__}")


def _adapters(connection, value: Any) -> list[tuple[str, Any]]:
    """Return the ways Django may have put `value` among the parameters."""
    if isinstance(value, datetime):
        return [("moment", connection.ops.adapt_datetimefield_value(value))]
    if isinstance(value, uuid.UUID):
        return [("same", value), ("hex", value.hex)]
    return [("same", value)]


def _adapt(connection, how: str, value: Any) -> Any:
    if how == "moment":
        return connection.ops.adapt_datetimefield_value(value)
    if how == "hex":
        return value.hex
    return value


class CompiledQuery:
    """A values_list() queryset, compiled once per shape."""

    def __init__(self, build: Callable[..., QuerySet]):
        """`build(shape, **values)` returns the queryset."""
        self.build = build
        # Per thread: converters hold a connection, and each thread has its
        # own connections.
        self._local = threading.local()

    def _statements(self) -> dict:
        if not hasattr(self._local, "statements"):
            self._local.statements = {}
        return self._local.statements

    def _compile_one(self, alias: str, shape: Hashable, values: dict[str, Any], variant: int):
        connection = connections[alias]
        stand = _Stand(variant)
        stand_ins = {name: stand(value) for name, value in values.items()}
        queryset = self.build(shape, **stand_ins)
        if queryset._iterable_class is not ValuesListIterable:
            raise TypeError("build a values_list() queryset (not flat, not named)")
        compiler = queryset.query.get_compiler(using=alias)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return None
        slots: list[tuple[int, str, int | None, str]] = []  # (index, name, item, how)
        for name, value in stand_ins.items():
            items = value if isinstance(value, list) else [value]
            for item_index, item in enumerate(items):
                found = [(index, how) for how, wanted in _adapters(connection, item)
                         for index, param in enumerate(params) if param == wanted]
                if len(found) != 1:
                    return None
                index, how = found[0]
                slots.append((index, name, item_index if isinstance(value, list) else None, how))
        return sql, list(params), slots, compiler

    def _compile(self, alias: str, shape: Hashable, values: dict[str, Any]):
        first = self._compile_one(alias, shape, values, 0)
        second = self._compile_one(alias, shape, values, 1)
        if first is None or second is None or first[0] != second[0] or first[2] != second[2]:
            return _FALLBACK
        sql, params, slots, compiler = first
        expressions = [column for column, _sql, _alias in compiler.select]
        converters = sorted(compiler.get_converters(expressions).items())
        return sql, params, slots, converters

    def _statement(self, alias: str, shape: Hashable, values: dict[str, Any]):
        key = (alias, shape, tuple(
            (name, len(value) if isinstance(value, list | tuple) else type(value).__name__)
            for name, value in values.items()
        ))
        statements = self._statements()
        statement = statements.get(key)
        if statement is None:
            statement = statements[key] = self._compile(alias, shape, values)
        return statement

    def _execute(self, alias: str, statement, values: dict[str, Any]) -> list[tuple]:
        sql, template, slots, converters = statement
        connection = connections[alias]
        params = list(template)
        for index, name, item, how in slots:
            value = _adapt(connection, how, values[name] if item is None else values[name][item])
            wrapper = type(template[index])
            # psycopg's typed ints (Int4, Int8) as Django passed them.
            params[index] = wrapper(value) if wrapper is not int and isinstance(value, int) \
                and issubclass(wrapper, int) else value
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not converters:
            return rows
        converted = []
        for row in rows:
            row = list(row)
            for position, (functions, expression) in converters:
                value = row[position]
                for function in functions:
                    value = function(value, expression, connection)
                row[position] = value
            converted.append(tuple(row))
        return converted

    def rows(self, *, alias: str, shape: Hashable = (), **values: Any) -> list[tuple]:
        """Return what the values_list() queryset for these values returns. `shape`
        names whatever else the built query depends on (a setting, a limit)."""
        statement = self._statement(alias, shape, values)
        if statement is _FALLBACK:
            return list(self.build(shape, **values).using(alias))
        return self._execute(alias, statement, values)


@functools.cache
def model_columns(model: type[Model], prefix: str = "") -> tuple[str, ...]:
    """Return the column attnames of `model`'s concrete fields, for values_list().

    Cached: instances_from_row asks for them on every cookie or token lookup.
    """
    return tuple(prefix + field.attname for field in model._meta.concrete_fields)


def instances_from_row(alias: str, row: tuple, *models: type[Model]) -> list[Model]:
    """Return one instance per model from a row of their `model_columns`, in order."""
    instances, start = [], 0
    for model in models:
        names = model_columns(model)
        instances.append(model.from_db(alias, names, row[start:start + len(names)]))
        start += len(names)
    return instances


def sqlite_json_support_settle(sender, connection, **kwargs) -> None:
    """Decide SQLite's JSON support on a new connection without a write lock.

    Django probes it lazily inside transaction.atomic(), which with
    transaction_mode IMMEDIATE takes the write lock: when another connection
    holds it (a shared-cache test database answers "locked" at once, without
    busy_timeout), the probe fails, False is cached on that connection for its
    whole life, and every card query (JSONObject) on it is a 500. A plain
    SELECT needs no lock and gives the true answer.
    """
    if connection.vendor != "sqlite" or "supports_json_field" in connection.features.__dict__:
        return
    with connection.cursor() as cursor:
        try:
            cursor.execute("SELECT JSON('{\"a\": \"b\"}')")
        except OperationalError:
            return  # no JSON1 at all: let Django's own probe decide, as before
    connection.features.__dict__["supports_json_field"] = True
