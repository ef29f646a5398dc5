"""JSON bodies the API will read: bounded nesting, text the database can store.

DRF's JSONParser hands any valid JSON to the views. Three kinds of valid
JSON still broke requests with a 500:

- nesting ~1,000 deep raises RecursionError in the decoder (and anything that
  walks the result recursively afterwards, such as error flattening);
- a lone surrogate ("\\ud800") is valid JSON but not encodable UTF-8, so the
  database driver fails on it;
- a NUL character is valid JSON, but PostgreSQL text cannot hold one.

No request of this API nests deeper than a few levels (a batch of events is
three), so MAX_DEPTH is generous; the check walks the parsed value without
recursion, so it cannot itself overflow. Each failure is a ParseError: a 400
in the API's one error shape.
"""

from __future__ import annotations

import codecs

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.settings import api_settings
from rest_framework.utils import json

MAX_DEPTH = 32


def _check_text(value: str) -> None:
    if "\x00" in value:
        raise ParseError(_("JSON strings may not contain NUL characters."))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ParseError(_("JSON strings must be valid Unicode (no lone surrogates).")) from None


def check_json_value(data, *, max_depth: int = MAX_DEPTH) -> None:
    """Raise ParseError when `data` nests deeper than `max_depth` or holds unstorable text."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            _check_text(value)
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > max_depth:
            raise ParseError(
                _("JSON nested deeper than %(depth)d levels.") % {"depth": max_depth}
            )
        if isinstance(value, dict):
            for key, item in value.items():
                _check_text(key)
                stack.append((item, depth + 1))
        else:
            stack.extend((item, depth + 1) for item in value)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with bounded nesting and storable strings."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            decoded = codecs.getreader(encoding)(stream)
            parse_constant = json.strict_constant if api_settings.STRICT_JSON else None
            data = json.load(decoded, parse_constant=parse_constant)
        except RecursionError:
            raise ParseError(
                _("JSON nested deeper than %(depth)d levels.") % {"depth": MAX_DEPTH}
            ) from None
        except ValueError as exc:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": exc}) from None
        check_json_value(data)
        return data
