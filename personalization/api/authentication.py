"""Who is calling: a shopper by token (apps) or by cookie (the same-origin PWA).

Both resolve to the same `request.shopper` that personalization's
ShopperMiddleware puts on every request, so pages and API agree on who the
shopper is. DRF sees the shopper as `request.auth`; `request.user` stays the
Django user (anonymous for most shoppers).

- `Authorization: Shopper <token>`: the middleware has already checked the
  token (a bad one never reaches a view: it answers 401 itself). Tokens are
  not sent by browsers on their own, so no CSRF check is needed.
- the signed `sid` cookie (or a signed-in session): browsers send cookies with
  cross-site requests too, so unsafe methods need Django's CSRF token, exactly
  as DRF's SessionAuthentication does. The one exception is the events beacon
  (sendBeacon cannot add headers); that view sets `same_origin_check = True`
  and the request must then prove it came from our own pages (Sec-Fetch-Site,
  else Origin, else Referer).

A request with neither is anonymous: it may read the catalog and an
unpersonalised feed, and it creates no profile row (a client polling the API
must not add a row per request; `POST /api/v1/shoppers/` creates one on purpose).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication

from personalization.conf import get_config
from personalization.resolve import request_shopper
from personalization.services import shopper_from_token

TOKEN_SCHEME = "Shopper"  # noqa: S105 (an auth scheme name, not a secret)


def _has_token_header(request) -> bool:
    scheme, _sep, _token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return scheme.lower() == TOKEN_SCHEME.lower()


class ShopperTokenAuthentication(BaseAuthentication):
    """`Authorization: Shopper <token>` as issued by POST /api/v1/shoppers/."""

    def authenticate(self, request):
        if not _has_token_header(request):
            return None
        django_request = request._request
        shopper = request_shopper(django_request)
        if shopper is None:
            # Only without ShopperMiddleware (it answers bad tokens itself).
            _scheme, _sep, token = request.META["HTTP_AUTHORIZATION"].partition(" ")
            shopper = shopper_from_token(token.strip())
            if shopper is None:
                raise exceptions.AuthenticationFailed(_("Invalid or revoked shopper token."))
        return (django_request.user, shopper)

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) to unauthenticated calls, as it should.
        return f'{TOKEN_SCHEME} realm="api"'


def request_is_same_origin(request) -> bool:
    """Return whether a browser request comes from a page of our own origin.

    Sec-Fetch-Site is set by the browser and cannot be forged by a page;
    older browsers send Origin on POST, and failing that a Referer (our
    Referrer-Policy is same-origin, so our own pages always send one).
    """
    fetch_site = request.META.get("HTTP_SEC_FETCH_SITE")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    own = f"{request.scheme}://{request.get_host()}"
    trusted = {own, *getattr(settings, "CSRF_TRUSTED_ORIGINS", [])}
    origin = request.META.get("HTTP_ORIGIN")
    if origin is not None:
        return origin in trusted
    referer = request.META.get("HTTP_REFERER")
    if referer:
        parts = urlsplit(referer)
        return f"{parts.scheme}://{parts.netloc}" in trusted
    return False


class ShopperCookieAuthentication(SessionAuthentication):
    """The `sid` cookie of the storefront, or a signed-in session; CSRF on unsafe methods."""

    def authenticate(self, request):
        if _has_token_header(request):
            return None
        django_request = request._request
        user = getattr(django_request, "user", None)
        has_cookie = get_config()["COOKIE_NAME"] in request.COOKIES
        signed_in = user is not None and user.is_authenticated
        if not (has_cookie or signed_in) or not hasattr(django_request, "shopper"):
            return None
        if has_cookie:
            config = get_config()
            try:
                django_request.get_signed_cookie(config["COOKIE_NAME"], salt=config["COOKIE_SALT"],
                                                 max_age=config["COOKIE_MAX_AGE_SECONDS"])
            except signing.BadSignature:
                # Pages treat a bad cookie as a first visit; the API says so
                # instead of quietly answering for a brand-new shopper.
                raise exceptions.AuthenticationFailed(
                    _("Invalid or expired shopper cookie: reload the shop to get a new one.")
                ) from None
        view = request.parser_context.get("view") if request.parser_context else None
        if getattr(view, "same_origin_check", False) and request.method not in (
            "GET", "HEAD", "OPTIONS"
        ):
            if not request_is_same_origin(django_request):
                raise exceptions.PermissionDenied(
                    _("Cross-site requests may not record events for this shopper.")
                )
        else:
            self.enforce_csrf(request)
        return (user, request_shopper(django_request))

    def authenticate_header(self, request) -> None:
        # The token scheme (listed first) names the challenge.
        return None


class ShopperTokenScheme(OpenApiAuthenticationExtension):
    target_class = ShopperTokenAuthentication
    name = "shopperToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Shopper <token>`, the token returned by `POST /api/v1/shoppers/`.",
        }


class ShopperCookieScheme(OpenApiAuthenticationExtension):
    target_class = ShopperCookieAuthentication
    name = "shopperCookie"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sid",
            "description": "The storefront's signed shopper cookie (same-origin PWA). "
                           "Unsafe methods need the `X-CSRFToken` header, except the "
                           "events beacon, which must come from our own origin.",
        }
