"""Keyset pagination for the API's lists (DRF's pagination hook over core/pagination.py)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from core.pagination import InvalidCursor, keyset_page

CURSOR_PARAM = "cursor"
LIMIT_PARAM = "limit"


class KeysetPagination(BasePagination):
    page_size = 20
    max_page_size = 50

    def paginate_queryset(self, queryset, request, view=None):
        limit = self._limit(request)
        try:
            rows, self.next_cursor = keyset_page(
                queryset, cursor=request.query_params.get(CURSOR_PARAM), limit=limit)
        except InvalidCursor:
            raise ValidationError(
                {CURSOR_PARAM: [_("This cursor is not valid for this list.")]}) from None
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
