"""Keyset ("cursor") pagination for catalog lists.

Offset pagination repeats or skips rows when listings are added while someone
scrolls, and gets slower with every page; a keyset cursor ("after the row with
price 499.00 and id 812") does neither: every page is one indexed range query.

The ordering must end with the primary key so the position is unique. The
cursor is signed, so a client cannot hand us a value of the wrong type, and it
records the ordering it was made for: a cursor from `?ordering=price` used with
`?ordering=-price` is a 400, not a silently wrong page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core import signing
from django.db import models
from django.db.models import Q, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

SALT = "core.api.keyset"
CURSOR_PARAM = "cursor"
LIMIT_PARAM = "limit"


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


class KeysetPagination(BasePagination):
    page_size = 20
    max_page_size = 50

    def paginate_queryset(self, queryset, request, view=None):
        limit = self._limit(request)
        keys = ordering_of(queryset)
        token = request.query_params.get(CURSOR_PARAM)
        if token:
            values = self._decode(token, keys)
            queryset = queryset.filter(self._after(queryset.model, keys, values))
        rows = list(queryset[: limit + 1])
        has_next = len(rows) > limit
        rows = rows[:limit]
        self.next_cursor = self._encode(rows[-1], keys) if has_next and rows else None
        return rows

    def get_paginated_response(self, data):
        return Response({"next_cursor": self.next_cursor, "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next_cursor", "results"],
            "properties": {
                "next_cursor": {
                    "type": "string",
                    "nullable": True,
                    "description": "Pass as `cursor` for the next page; null on the last page.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": CURSOR_PARAM,
                "in": "query",
                "required": False,
                "description": "The `next_cursor` of the previous page.",
                "schema": {"type": "string"},
            },
            {
                "name": LIMIT_PARAM,
                "in": "query",
                "required": False,
                "description": f"Items per page, 1 to {self.max_page_size} "
                               f"(default {self.page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]

    # --- internals -----------------------------------------------------------------
    def _limit(self, request) -> int:
        raw = request.query_params.get(LIMIT_PARAM)
        if raw is None:
            return self.page_size
        try:
            limit = int(raw)
        except ValueError:
            limit = 0
        if not 1 <= limit <= self.max_page_size:
            raise ValidationError(
                {LIMIT_PARAM: [_("Enter a whole number from 1 to %(max)d.")
                               % {"max": self.max_page_size}]}
            )
        return limit

    @staticmethod
    def _signature(keys: list[OrderKey]) -> str:
        return ",".join(("-" if key.descending else "") + key.field for key in keys)

    def _encode(self, row: models.Model, keys: list[OrderKey]) -> str:
        values = []
        for key in keys:
            value = getattr(row, "pk" if key.field == "pk" else key.field)
            values.append(value.isoformat() if isinstance(value, dt.datetime) else value)
        return signing.dumps([self._signature(keys), values], salt=SALT, compress=True)

    def _decode(self, token: str, keys: list[OrderKey]) -> list:
        invalid = ValidationError({CURSOR_PARAM: [_("This cursor is not valid for this list.")]})
        if len(token) > 512:
            raise invalid
        try:
            signature, values = signing.loads(token, salt=SALT)
        except (signing.BadSignature, ValueError, TypeError):
            raise invalid from None
        if signature != self._signature(keys) or len(values) != len(keys):
            raise invalid
        return values

    @staticmethod
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
