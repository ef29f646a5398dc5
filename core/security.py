"""Security headers Django does not send itself.

Permissions-Policy switches off browser features the shop never uses (camera,
microphone, geolocation, payment, USB, ad-targeting cohorts...), so script
that ever slipped into a page, or a page framed by someone else, could not
ask a shopper for them. The policy is one setting, `PERMISSIONS_POLICY`:
a dict of feature -> list of allowed origins ([] = nobody, "self" = us).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.middleware.csrf import get_token


def permissions_policy_header(policy: dict[str, list[str]]) -> str:
    """Return the header value for a feature -> allowlist mapping (structured-field syntax)."""
    parts = []
    for feature, origins in policy.items():
        if isinstance(origins, str):
            raise ImproperlyConfigured(
                f"PERMISSIONS_POLICY[{feature!r}] must be a list of origins, not a string"
            )
        items = []
        for origin in origins:
            # "self" and "*" are tokens; real origins are quoted strings.
            items.append(origin if origin in ("self", "*") else f'"{origin}"')
        parts.append(f"{feature}=({' '.join(items)})")
    return ", ".join(parts)


class PermissionsPolicyMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response
        # Built once: the policy is static and this runs on every response.
        self.header = permissions_policy_header(getattr(settings, "PERMISSIONS_POLICY", {}))

    def __call__(self, request):
        response = self.get_response(request)
        if self.header and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = self.header
        return response


def csrf_token_once(request) -> str:
    """Return the request's masked CSRF token, masked once however many forms ask.

    Django's get_token() draws a new 32-character mask from the system RNG on
    every call (one os.urandom per character); the feed page asks twice (the
    shell's forms and each card's "Not interested" form), and any masked form of
    the same secret validates, so one per request is enough.
    """
    token = getattr(request, "_shop_csrf_token", None)
    if token is None:
        token = get_token(request)
        request._shop_csrf_token = token
    return token
