"""Refuse requests no endpoint can serve before any view, form or database sees them.

- Bodies: each endpoint has a ceiling (`SHOP_BODY_LIMITS`, first matching
  path pattern wins), checked against Content-Length before anything reads
  the body, answered 413 `request_too_large`. Creating a shopper takes no
  body at all, so a 10 MB one is refused rather than read and ignored; an
  event batch of 100 events fits in 128 KB; admin forms carry photos.
- URLs longer than `SHOP_MAX_URL_LENGTH` (path + query): 414 `uri_too_long`,
  in our own page or error shape. Gunicorn's `limit_request_line` is set
  above this (shop/gunicorn.conf.py) so its raw "URI Too Long" page is only
  seen beyond 8 KB, where no client of ours ever goes.
- A NUL byte in the path is a 404 (no address contains one) and in the query
  string a 400: PostgreSQL text cannot hold NUL, so it would otherwise reach
  a lookup and fail there as a 500.

Answers use core/errors.py: the API's JSON error shape under /api/, the
shop's error page elsewhere.
"""

from __future__ import annotations

import re
from functools import lru_cache

from django.conf import settings
from django.utils.translation import gettext as _

from core import errors

KB = 1024
MB = 1024 * KB
DEFAULT_BODY_LIMITS: tuple[tuple[str, int], ...] = (
    (r"^/api/v1/shoppers/$", 1 * KB),           # POST creates a shopper: at most {"ref": code}
    (r"^/api/v1/events/$", 128 * KB),           # up to BATCH_MAX_EVENTS (100) events
    (r"^/api/v1/products/\d+/reviews/$", 48 * MB),  # a review with up to 3 photos
    (r"^/api/", 16 * KB),                       # profile, cart lines, checkout
    (r"^/admin/", 64 * MB),                     # product forms with several photos
    (r"^/p/\d+/review/$", 48 * MB),             # the product page's review form (3 photos)
    (r"", 64 * KB),                             # storefront forms
)
DEFAULT_MAX_URL_LENGTH = 4096


@lru_cache(maxsize=8)
def _compiled(limits: tuple[tuple[str, int], ...]) -> tuple[tuple[re.Pattern, int], ...]:
    return tuple((re.compile(pattern), limit) for pattern, limit in limits)


def body_limit(path: str) -> int:
    """Return the most bytes a request body to `path` may have."""
    limits = tuple(getattr(settings, "SHOP_BODY_LIMITS", DEFAULT_BODY_LIMITS))
    for pattern, limit in _compiled(limits):
        if pattern.search(path):
            return limit
    return DEFAULT_BODY_LIMITS[-1][1]


class RequestLimitsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        max_url = int(getattr(settings, "SHOP_MAX_URL_LENGTH", DEFAULT_MAX_URL_LENGTH))
        if len(request.path) + len(query) > max_url:
            return errors.render_error(request, 414, "uri_too_long", _(
                "This address is too long (at most %(n)d characters).") % {"n": max_url})
        if "\x00" in request.path:
            return errors.page_not_found(request)
        if "%00" in query or "\x00" in query:
            return errors.render_error(request, 400, "bad_request", _(
                "The address may not contain NUL characters."))
        declared = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(declared)
        except ValueError:
            length = -1
        if length < 0:
            return errors.render_error(request, 400, "bad_request", _(
                "Content-Length is not a number of bytes."))
        limit = body_limit(request.path)
        if length > limit:
            response = errors.render_error(request, 413, "request_too_large", _(
                "The request body is too large for this address (at most %(n)d bytes).")
                % {"n": limit})
            # The body was not read: the connection cannot be reused for another request.
            response["Connection"] = "close"
            return response
        return self.get_response(request)
