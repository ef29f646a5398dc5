"""Keyset ("cursor") pagination, for the API's lists and the storefront's pages.

Offset pagination repeats or skips rows when listings are added while someone
scrolls, and gets slower with every page; a keyset cursor ("after the row with
price 499.00 and id 812") does neither: every page is one indexed range query.
The ordering must end with the primary key so the position is unique. The
cursor is signed, so a client cannot hand us a value of the wrong type, and it
records the ordering it was made for: a cursor from `?ordering=price` used with
`?ordering=-price` is refused, not a silently wrong page.

(The feed pages through a ranking snapshot instead: personalization/cursor.py.)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core import signing
from django.db import models
from django.db.models import Q, Subquery
from django.db.models.functions import Coalesce

# The salt predates the move to core/: cursors issued before it stay valid.
SALT = "shop.api.keyset"
MAX_CURSOR_LENGTH = 512


class InvalidCursor(ValueError):
    """The cursor was not issued by us for this ordering (or was tampered with)."""


@dataclass(frozen=True)
class OrderKey:
    field: str
    descending: bool


def ordering_of(queryset: models.QuerySet) -> list[OrderKey]:
    """Return the queryset's ordering as keys; it must end with the primary key."""
    terms = list(queryset.query.order_by) or list(queryset.model._meta.ordering)
    keys = [OrderKey(term.lstrip("-"), term.startswith("-")) for term in terms]
    pk_names = {"pk", queryset.model._meta.pk.name}
    if not keys or keys[-1].field not in pk_names:
        raise ValueError("keyset pagination needs an ordering that ends with the primary key")
    return keys


def _signature(keys: list[OrderKey]) -> str:
    return ",".join(("-" if key.descending else "") + key.field for key in keys)

def _encode(row: models.Model, keys: list[OrderKey]) -> str:
    values = []
    for key in keys:
        value = getattr(row, "pk" if key.field == "pk" else key.field)
        values.append(value.isoformat() if isinstance(value, dt.datetime) else value)
    return signing.dumps([_signature(keys), values], salt=SALT, compress=True)

def _decode(token: str, keys: list[OrderKey]) -> list:
    if len(token) > MAX_CURSOR_LENGTH:
        raise InvalidCursor("too long")
    try:
        signature, values = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise InvalidCursor(str(exc)) from None
    if signature != _signature(keys) or len(values) != len(keys):
        raise InvalidCursor("made for another ordering")
    return values

def _after(model, keys: list[OrderKey], values: list) -> Q:
    """Return the filter for rows strictly after `values` in the `keys` ordering."""
    pk_value = values[-1]
    operands = []
    for key, value in zip(keys, values, strict=True):
        field = model._meta.pk if key.field == "pk" else model._meta.get_field(key.field)
        if isinstance(field, models.DateTimeField):
            # Compare against the row's own stored value when it still
            # exists: SQLite keeps datetimes as text in more than one
            # format ("...:00.123" from Now(), "...:00.123000" from Python),
            # so a Python-side value could compare unequal to itself.
            operands.append(
                Coalesce(
                    Subquery(model._default_manager.filter(pk=pk_value)
                             .values(key.field)[:1]),
                    dt.datetime.fromisoformat(value),
                    output_field=field,
                )
            )
        else:
            operands.append(field.to_python(value))
    condition = Q()
    equal_so_far = Q()
    for key, operand in zip(keys, operands, strict=True):
        lookup = f"{key.field}__{'lt' if key.descending else 'gt'}"
        condition |= equal_so_far & Q(**{lookup: operand})
        equal_so_far &= Q(**{key.field: operand})
    return condition


def keyset_page(queryset: models.QuerySet, *, cursor: str | None,
                limit: int) -> tuple[list, str | None]:
    """Return (rows, next cursor or None) of the page after `cursor` in the queryset's order.

    One query: limit + 1 rows tell whether another page follows. Raise
    InvalidCursor for a cursor we did not issue for this ordering.
    """
    keys = ordering_of(queryset)
    if cursor:
        values = _decode(cursor, keys)
        queryset = queryset.filter(_after(queryset.model, keys, values))
    rows = list(queryset[: limit + 1])
    has_next = len(rows) > limit
    rows = rows[:limit]
    return rows, (_encode(rows[-1], keys) if has_next and rows else None)
