"""HTTP behaviour of the storefront pages: data saver, language, caching.

- `request.save_data`: the `Save-Data: on` client hint or the in-page switch
  (cookie); pages then send smaller pictures and fewer cards.
- Language: the shopper's profile first, then Django's cookie/Accept-Language.
- `?ref=<code>` on any page (a shared link) is noted on the shopper's profile
  so the sharer is credited for their orders (first touch wins; unknown codes
  and the shopper's own are ignored, the page shows as usual). Pages without
  it cost nothing more: the parameter is looked at before any query.
- Pages are per shopper: `Cache-Control: private, no-cache` (a shared cache
  never stores one shopper's page; the browser and service worker revalidate
  cheaply) and an ETag that is stable for identical content. Django's CSRF
  token is re-masked on every render, which would change the ETag each time,
  so the ETag is computed with the masked tokens blanked out and the
  (unmasked) CSRF secret mixed in: same secret + same page = same ETag.
- `X-Shopper`: on a private page rendered for a known shopper, a keyed hash of
  that shopper (`offline_key`). The service worker keeps such pages (cart,
  orders, the rest) only under that key and deletes every other key's copies
  when a page arrives with a new one, so offline copies never cross from one
  shopper to another on a shared phone (templates/storefront/sw.js). It
  names nothing: an HMAC of the profile's public id under its own salt, so it
  matches no referral code, cookie or id elsewhere.
"""

from __future__ import annotations

import hashlib
import re

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.crypto import salted_hmac
from django.utils.http import quote_etag

from personalization.conf import get_config
from personalization.resolve import request_shopper, resolved_shopper
from personalization.services import shopper_referral_arrive

_CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')
# The CSP nonce is new on every response too. A 304 carries no CSP header
# (CSPMiddleware sits inside ConditionalGetMiddleware), so the browser keeps
# the stored page with the policy it came with: the nonce must not move the ETag.
_CSP_NONCE = re.compile(rb' nonce="[^"]*"')
# Paths whose responses are not storefront pages (they set their own headers).
_NOT_PAGES = ("/api/", "/admin/", "/static/", "/media/", "/healthz", "/readyz")
SAVE_DATA_COOKIE = "save_data"
# The query parameter share links carry (storefront.views._product_page).
REF_PARAM = "ref"


def offline_key(shopper) -> str:
    """Return the shopper's key for the service worker's offline copies (hex, no dashes)."""
    return salted_hmac("storefront.offline-copies", str(shopper.public_id)).hexdigest()[:20]


def _is_page(request) -> bool:
    return not request.path.startswith(_NOT_PAGES)


def _is_html(response) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


class StorefrontMiddleware:
    """Data saver flag, profile language, cache headers and stable ETags for pages.

    Goes after ShopperMiddleware (it reads the profile language) and after
    ConditionalGetMiddleware (which then answers If-None-Match with a 304
    using the ETag set here).
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        request.save_data = (
            request.headers.get("Save-Data", "").strip().lower() == "on"
            or request.COOKIES.get(SAVE_DATA_COOKIE) == "1"
        )
        if (REF_PARAM in request.GET and request.method in ("GET", "HEAD")
                and _is_page(request)):
            shopper_referral_arrive(shopper=request_shopper(request),
                                    code=request.GET.get(REF_PARAM))
        profile_language = self._activate_profile_language(request) if _is_page(request) else None
        response = self.get_response(request)
        if profile_language:
            # Later requests read the cookie and need not consult the profile.
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, profile_language,
                                max_age=365 * 24 * 3600, samesite="Lax",
                                secure=request.is_secure())
        if _is_page(request) and _is_html(response):
            patch_vary_headers(response, ("Save-Data", "Cookie", "Accept-Language"))
            if not response.has_header("Cache-Control"):
                patch_cache_control(response, private=True, no_cache=True)
            shopper = resolved_shopper(request)
            if shopper is not None and "public" not in response["Cache-Control"]:
                response["X-Shopper"] = offline_key(shopper)
            if (request.method in ("GET", "HEAD") and response.status_code == 200
                    and not response.streaming and not response.has_header("ETag")):
                response["ETag"] = self._etag(request, response.content)
        return response

    @staticmethod
    def _activate_profile_language(request) -> str | None:
        """Use the profile's language when the shopper has no language cookie yet."""
        if settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
            return None
        if get_config()["COOKIE_NAME"] not in request.COOKIES or not hasattr(request, "shopper"):
            return None  # a first visit: no profile language to honour yet
        language = request.shopper.language
        if not language or language not in dict(settings.LANGUAGES):
            return None
        translation.activate(language)
        request.LANGUAGE_CODE = language
        return language

    @staticmethod
    def _etag(request, content: bytes) -> str:
        digest = hashlib.blake2b(_CSP_NONCE.sub(b"", _CSRF_INPUT.sub(b"", content)),
                                 digest_size=16)
        digest.update(request.META.get("CSRF_COOKIE", "").encode())
        return quote_etag(digest.hexdigest())
