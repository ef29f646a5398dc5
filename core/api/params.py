"""Query parameters an endpoint does not know are a 400, never silently ignored."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

# Understood by every endpoint (core/api/language.py checks and applies it).
COMMON_PARAMS = frozenset({"lang"})


def reject_unknown_params(request, allowed: set[str]) -> None:
    """Raise a 400 naming query parameters this endpoint does not know (typos, mostly)."""
    unknown = sorted(set(request.query_params) - allowed - COMMON_PARAMS)
    if unknown:
        raise ValidationError({name: [_("Unknown parameter.")] for name in unknown})
