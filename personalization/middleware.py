"""`request.shopper`: the shopper profile behind a request, resolved lazily.

Resolution order: `Authorization: Shopper <token>` (app clients), the signed
`sid` cookie (browsers), the logged-in user's profile; failing all three a new
anonymous profile is created (a first visit). Nothing is read or written until
a view touches `request.shopper`, so /healthz or static files cost nothing.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from core.api.errors import error_body

from .conf import get_config
from .models import ShopperProfile
from .selectors_profiles import shopper_get, shopper_get_for_user
from .services import shopper_create, shopper_from_token, shopper_link_user, shopper_seen

AUTH_SCHEME = "shopper"


class _Resolver:
    """Finds the shopper of one request and remembers whether the cookie must be set."""

    def __init__(self, request: HttpRequest, token_shopper: ShopperProfile | None) -> None:
        self.request = request
        self.via_token = token_shopper is not None
        self.shopper: ShopperProfile | None = token_shopper
        self.resolved = False
        self.set_cookie = False

    def __call__(self) -> ShopperProfile:
        config = get_config()
        request = self.request
        shopper = self.shopper
        if shopper is None:
            # A forged, garbled or expired cookie reads as no cookie: a new
            # profile, never an error page.
            public_id = request.get_signed_cookie(
                config["COOKIE_NAME"], default=None, salt=config["COOKIE_SALT"],
                max_age=config["COOKIE_MAX_AGE_SECONDS"],
            )
            shopper = shopper_get(public_id=public_id) if public_id else None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if shopper is None:
                shopper = shopper_get_for_user(user=user)
                self.set_cookie = shopper is not None
            elif shopper.user_id != user.pk:
                linked = shopper_link_user(shopper=shopper, user=user)
                self.set_cookie = linked.pk != shopper.pk
                shopper = linked
        if shopper is None:
            shopper = shopper_create(user=user if user is not None and user.is_authenticated
                                     else None)
            self.set_cookie = True
        elif shopper_seen(shopper=shopper):
            # Written at most hourly: re-sending the cookie then keeps a
            # returning shopper's cookie from ever expiring.
            self.set_cookie = True
        self.shopper = shopper
        self.resolved = True
        return shopper

    def finish(self, response: HttpResponse) -> None:
        if not self.resolved:
            return
        if self.via_token:
            patch_vary_headers(response, ("Authorization",))
            return
        patch_vary_headers(response, ("Cookie",))
        if self.set_cookie:
            config = get_config()
            response.set_signed_cookie(
                config["COOKIE_NAME"], str(self.shopper.public_id), salt=config["COOKIE_SALT"],
                max_age=config["COOKIE_MAX_AGE_SECONDS"], httponly=True, samesite="Lax",
                secure=self.request.is_secure(),
            )


class ShopperMiddleware:
    """Put a lazy `request.shopper` on every request; set the `sid` cookie when needed.

    Must come after AuthenticationMiddleware (it links the profile to the
    logged-in user).
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token_shopper = None
        scheme, _sep, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() == AUTH_SCHEME:
            token_shopper = shopper_from_token(token.strip())
            if token_shopper is None:
                # An app with a revoked token must learn it and re-register,
                # not silently become a different, empty shopper.
                response = JsonResponse(error_body("authentication_failed",
                                                   _("Invalid or revoked shopper token.")),
                                        status=401)
                response["WWW-Authenticate"] = 'Shopper realm="api"'
                response["Cache-Control"] = "no-store"
                return response
        resolver = _Resolver(request, token_shopper)
        request.shopper = SimpleLazyObject(resolver)
        response = self.get_response(request)
        resolver.finish(response)
        return response
