"""Cache headers and conditional GET for API views.

Shoppers pay for every byte, so a repeated GET whose answer has not changed
costs them a 304 with no body. The ETag is a hash of the rendered body: exact
whatever the data source (no "last modified" column covers a category tree or
a ranked feed), at the price of rendering the answer on the server, which is
cheap next to sending it over a 2G link.

Two policies:
- public catalog answers (products, categories, regions) hold nothing personal;
  any cache may keep them briefly, and they never read the session or shopper
  cookie, so they carry no `Vary: Cookie`.
- per-shopper answers are `private`: the feed may be revalidated by the
  shopper's own browser (`no-cache` + ETag), the profile and the export hold
  personal data and are `no-store`.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import quote_etag

PUBLIC_MAX_AGE = 60

PUBLIC = f"public, max-age={PUBLIC_MAX_AGE}"
PRIVATE_REVALIDATE = "private, no-cache"
PRIVATE_NO_STORE = "private, no-store"

PER_CALLER_VARY = ("Authorization", "Cookie")


class CachePolicyMixin:
    """Set Cache-Control/Vary on successful answers and answer conditional GETs with 304.

    Views set `cache_control` (one of the constants above) and `vary`.
    """

    cache_control: str = PRIVATE_NO_STORE
    vary: tuple[str, ...] = PER_CALLER_VARY

    def etag_source(self, response) -> bytes:
        """Return the bytes the ETag is computed from: the body, unless a view knows better."""
        return response.content

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400:
            return response  # the error handler set no-store already
        response["Cache-Control"] = self.cache_control
        patch_vary_headers(response, ("Accept-Encoding", *self.vary))
        if (
            request.method in ("GET", "HEAD")
            and response.status_code == 200
            and "no-store" not in self.cache_control
        ):
            response.render()
            digest = hashlib.md5(self.etag_source(response), usedforsecurity=False).hexdigest()
            response["ETag"] = quote_etag(digest)
            # Returns a 304 carrying ETag, Cache-Control and Vary when
            # If-None-Match matches (weak comparison, so gzip's W/ is fine).
            return get_conditional_response(request, etag=response["ETag"], response=response)
        return response


def microcache_seconds() -> int:
    """Return how long public answers are kept server-side (0: not at all)."""
    return int(getattr(settings, "SHOP_API_MICROCACHE_SECONDS", 15))


class MicroCacheMixin:
    """Keep rendered public GET answers in the shared cache for a few seconds.

    Public catalog answers already tell every cache on the way to keep them
    for PUBLIC_MAX_AGE; keeping them here for less than that adds no
    staleness anyone could not already see, and a burst of shoppers opening
    the same list costs one rendering instead of hundreds (the key is the full
    path with its query string, and the language the answer is in). Errors and
    304s are never stored.
    """

    def micro_cache_variant(self, request) -> str:
        """Return what besides the URL the answer depends on ("" for nothing)."""
        return ""

    def dispatch(self, request, *args, **kwargs):
        seconds = microcache_seconds()
        if request.method != "GET" or seconds <= 0:
            return super().dispatch(request, *args, **kwargs)
        # A view whose answer also depends on a header (its `vary`) names
        # the variant, so two callers of one URL never share an entry; the
        # language too: the same path answers in the Accept-Language's language.
        path = (f"{translation.get_language()}\x00{request.get_full_path()}\x00"
                f"{self.micro_cache_variant(request)}")
        key = "api:micro:" + hashlib.sha256(path.encode()).hexdigest()
        hit = cache.get(key)
        if hit is not None:
            body, etag = hit
            response = HttpResponse(body, content_type="application/json")
            response["ETag"] = etag
            response["Cache-Control"] = self.cache_control
            patch_vary_headers(response, ("Accept-Encoding", *self.vary))
            return get_conditional_response(request, etag=etag, response=response)
        response = super().dispatch(request, *args, **kwargs)
        if response.status_code == 200 and response.has_header("ETag"):
            cache.set(key, (response.content, response["ETag"]), seconds)
        return response
