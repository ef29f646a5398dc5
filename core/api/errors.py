"""One error shape for every 4xx answer of the API.

    {"error": {"code": "invalid", "message": "...", "fields": {"price_min": ["..."]}}}

Clients on slow networks parse one shape and show `fields` next to the inputs;
`code` is stable and machine-readable, `message` is for people. Nested
serializer errors are flattened to dotted paths ("events.3.type") so `fields`
is always a flat map of lists of strings, which keeps the schema honest.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

NON_FIELD_KEY = "non_field_errors"

# Stable codes per exception class; DRF's own default codes are kept for the rest.
_CODES = {
    exceptions.ValidationError: "invalid",
    exceptions.ParseError: "parse_error",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Return DRF's nested error detail as {"dotted.path": [messages]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            for sub_path, messages in flatten_errors(value, path).items():
                flat.setdefault(sub_path, []).extend(messages)
    elif isinstance(detail, list | tuple):
        if all(not isinstance(item, dict | list | tuple) for item in detail):
            if detail:
                flat.setdefault(prefix or NON_FIELD_KEY, []).extend(str(item) for item in detail)
        else:
            # A list of per-item errors (ListField / many=True): index the path.
            for index, item in enumerate(detail):
                if item:
                    path = f"{prefix}.{index}" if prefix else str(index)
                    for sub_path, messages in flatten_errors(item, path).items():
                        flat.setdefault(sub_path, []).extend(messages)
    elif detail not in (None, ""):
        flat.setdefault(prefix or NON_FIELD_KEY, []).append(str(detail))
    return flat


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _from_django(exc: Exception) -> Exception:
    """Return the DRF exception for a Django one raised by a service or get_object_or_404."""
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return exceptions.ValidationError(
                {
                    (NON_FIELD_KEY if field == "__all__" else field): [str(m) for m in errs]
                    for field, errs in exc.message_dict.items()
                }
            )
        return exceptions.ValidationError({NON_FIELD_KEY: exc.messages})
    return exc


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """Answer every handled exception in the one error shape; leave 500s to Django."""
    exc = _from_django(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = flatten_errors(exc.detail)
        non_field = fields.get(NON_FIELD_KEY)
        message = non_field[0] if non_field else _("Some values are not valid; see fields.")
        response.data = error_body("invalid", message, fields)
    else:
        if isinstance(exc, Http404):
            code, message = "not_found", _("Not found.")
        elif isinstance(exc, DjangoPermissionDenied):
            code, message = "permission_denied", _("You do not have permission to do this.")
        else:
            code = next(
                (c for cls, c in _CODES.items() if isinstance(exc, cls)),
                getattr(exc, "default_code", "error"),
            )
            detail = getattr(exc, "detail", "")
            message = str(detail) if not isinstance(detail, dict | list) else str(exc)
        response.data = error_body(code, message)
    # Errors depend on who asked and when; never let a cache keep them.
    response["Cache-Control"] = "no-store"
    return response


def api_not_found(request, *args, **kwargs) -> JsonResponse:
    """Answer an unknown URL under /api/v1/ in the error shape instead of an HTML page."""
    message = _("No API endpoint at this address.")
    if not request.path.endswith("/"):
        message += " " + _("API addresses end with a slash: %(path)s/") % {"path": request.path}
    response = JsonResponse(error_body("not_found", message), status=404)
    response["Cache-Control"] = "no-store"
    return response


# --- Schema ---------------------------------------------------------------------------
class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. `invalid`, "
                                           "`not_found`, `throttled`.")
    message = serializers.CharField(help_text="A sentence for people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per input field (dotted paths for nested input; "
                  "`non_field_errors` for the input as a whole). Empty unless code is `invalid`.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


_DESCRIPTIONS = {
    400: "Invalid input: `error.fields` names each bad field.",
    401: "Missing or invalid credentials.",
    403: "Not allowed (also: a cross-site request, or a missing CSRF token for cookie callers).",
    404: "Not found.",
    405: "Method not allowed (the catalog is read-only through the API).",
    406: "The Accept header asks for something other than JSON.",
    415: "Unsupported request body type.",
    429: "Too many requests: wait `Retry-After` seconds.",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """Return drf-spectacular `responses` entries for these error statuses."""
    return {
        status: OpenApiResponse(ErrorSerializer, description=_DESCRIPTIONS[status])
        for status in statuses
    }


NOT_MODIFIED = {
    304: OpenApiResponse(
        description="Not modified: the `If-None-Match` ETag still matches (no body)."
    )
}
