"""The request's shopper as the real profile, for code that needs the model itself.

Its own module (not the middleware's) so that API authentication can use it
without importing the middleware and, through it, the API's error module
while DRF is still loading its settings.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import LazyObject, empty

from .models import ShopperProfile


def request_shopper(request: HttpRequest) -> ShopperProfile | None:
    """Return the request's shopper profile itself, resolved from the lazy proxy.

    Selectors and services compare classes and read `_meta`, which a lazy
    proxy does not pass through, so they get the real instance. Touching it
    resolves the profile (one query, or a new row for a first visit). None
    without ShopperMiddleware.
    """
    shopper = getattr(request, "shopper", None)
    if isinstance(shopper, LazyObject):
        if shopper._wrapped is empty:
            shopper._setup()
        return shopper._wrapped
    return shopper


def resolved_shopper(request: HttpRequest) -> ShopperProfile | None:
    """Return the request's shopper if something already resolved it, else None.

    For code that must not create a profile (or spend a query) just to ask,
    such as response headers that only matter for pages about a shopper.
    """
    shopper = getattr(request, "shopper", None)
    if isinstance(shopper, LazyObject):
        return None if shopper._wrapped is empty else shopper._wrapped
    return shopper
