"""Hot-path reads compiled once and re-run with new values.

Django builds and compiles a queryset on every call; for the few small reads
behind every feed page (the card rows with their first photo as a JSON
subquery, the shopper's history) that cost several times what running the
SQL does. A `CompiledValues` builds its values_list queryset once per shape
(database, number of ids, settings that change the SQL) with stand-in values,
remembers where those land among the parameters, and afterwards only swaps
in the real values and runs the SQL through Django's cursor, applying the
same converters Django would. The ORM stays the one definition of the query:
a test compares both paths.

Supported values: int, a list of ints (its length is part of the shape) and
aware datetimes. If a stand-in cannot be found exactly once among the
compiled parameters, that shape simply runs through the ORM every time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import ValuesListIterable

# Two sets of stand-ins, both inside a 32-bit column's range: Django drops a
# comparison with an out-of-range integer from the SQL (5.0+), and a positive-
# only column drops negatives. The statement is kept only if both sets compile
# to the same SQL with every stand-in in the same single place.
_INT_BASES = (-2_000_000_000, 2_000_000_000)
_MOMENT_BASES = (datetime(1901, 1, 1, tzinfo=UTC), datetime(1902, 2, 2, tzinfo=UTC))
_FALLBACK = object()


class _Stand:
    """Hands out distinct stand-in values."""

    def __init__(self, variant: int):
        self.count = 0
        self.variant = variant

    def __call__(self, value: Any) -> Any:
        if isinstance(value, bool):
            raise TypeError("booleans are not supported")
        if isinstance(value, int):
            self.count += 1
            return _INT_BASES[self.variant] + self.count
        if isinstance(value, datetime):
            self.count += 1
            return _MOMENT_BASES[self.variant] + timedelta(microseconds=self.count)
        if isinstance(value, list | tuple):
            return [self(item) for item in value]
        raise TypeError(f"unsupported value {type(value).__name__}")


class CompiledValues:
    """A values_list queryset, compiled once per shape."""

    def __init__(self, build: Callable[..., QuerySet]):
        """`build(shape, **values)` returns the values_list queryset."""
        self.build = build
        # Per thread: converters are bound to a connection object, and each
        # thread has its own connections.
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
        slots: list[tuple[int, str, int | None, bool]] = []  # (index, name, item, is moment)
        for name, value in stand_ins.items():
            items = value if isinstance(value, list) else [value]
            for item_index, item in enumerate(items):
                moment = isinstance(item, datetime)
                wanted = connection.ops.adapt_datetimefield_value(item) if moment else item
                found = [i for i, param in enumerate(params) if param == wanted]
                if len(found) != 1:
                    return None
                slots.append((found[0], name, item_index if isinstance(value, list) else None,
                              moment))
        return sql, list(params), slots, compiler

    def _compile(self, alias: str, shape: Hashable, values: dict[str, Any]):
        first = self._compile_one(alias, shape, values, 0)
        second = self._compile_one(alias, shape, values, 1)
        if first is None or second is None or first[0] != second[0] or first[2] != second[2]:
            return _FALLBACK
        sql, params, slots, compiler = first
        expressions = [column for column, _sql, _alias in compiler.select]
        converters = compiler.get_converters(expressions)
        return sql, params, slots, sorted(converters.items())

    def rows(self, *, alias: str, shape: Hashable = (), **values: Any) -> list[tuple]:
        """Return the rows for these values; `shape` names whatever else the
        built query depends on (a setting, a limit)."""
        key = (alias, shape, tuple(
            (name, len(value) if isinstance(value, list | tuple) else type(value).__name__)
            for name, value in values.items()
        ))
        statements = self._statements()
        statement = statements.get(key)
        if statement is None:
            statement = statements[key] = self._compile(alias, shape, values)
        if statement is _FALLBACK:
            return list(self.build(shape, **values).using(alias))
        sql, template, slots, converters = statement
        connection = connections[alias]
        params = list(template)
        for index, name, item, moment in slots:
            value = values[name] if item is None else values[name][item]
            params[index] = connection.ops.adapt_datetimefield_value(value) if moment else value
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
