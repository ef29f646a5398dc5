"""Which market a request shops in: the shopper's region, else a visible guess.

Every list a shopper sees is filtered to one market (catalog.markets): the
listings sold in a region and priced in its currency, so no page ever mixes
currencies. Where the region comes from, first match wins:

1. the profile's region (chosen in onboarding or the region chooser): *known*;
2. the `region` cookie the chooser sets (a new profile on the same phone,
   after "Your data" erased the old one, still delivers where it did);
3. a country named in Accept-Language (`en-AE` -> AE, `hi-IN` -> IN);
4. the page language (language cookie, profile, Accept-Language), when it is
   the default language of exactly one country (`ar` -> AE, `hi` -> IN); the
   shop's fallback language (LANGUAGE_CODE, English) says nothing about
   where someone lives and is skipped;
5. `SHOP_DEFAULT_REGION`, else the country paying in `SHOP_DEFAULT_CURRENCY`.

Steps 2-5 are a guess: pages say "Delivering to: India · change" and the
chooser (`/region/`, a plain form) makes it known. A shop without regions
has no market and filters nothing.

Reads no database: the region index is cached (catalog.markets), and the
profile is the one the request has already read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.http import HttpRequest
from django.utils.translation import get_language

from catalog.markets import Market, market_get, market_infer

from .resolve import request_shopper

REGION_COOKIE = "region"


@dataclass(frozen=True)
class ShopperMarket:
    market: Market | None
    # False while guessed: the page offers the chooser more prominently.
    known: bool

    @property
    def code(self) -> str:
        return self.market.code if self.market else ""


def shopper_market_get(*, shopper, cookie_code: str = "", languages: Iterable[str] = (),
                       accept_language: str = "") -> ShopperMarket:
    """Return the shopper's market: their profile's region, else the guess."""
    region_id = getattr(shopper, "region_id", None)
    if region_id is not None:
        market = market_get(region_id)
        if market is not None:
            return ShopperMarket(market, known=True)
    profile_language = getattr(shopper, "language", "") or ""
    return ShopperMarket(
        market_infer(cookie_code=cookie_code, languages=[profile_language, *languages],
                     accept_language=accept_language),
        known=False,
    )


def request_market(request: HttpRequest, *, shopper=None) -> ShopperMarket:
    """Return (and remember on the request) the market of this request's shopper.

    Pass `shopper` when the view has it; otherwise the request's is resolved
    (the public catalog API, which reads no profile, uses
    catalog.markets.market_from_headers instead).
    """
    found = getattr(request, "_shopper_market", None)
    if found is not None:
        return found
    if shopper is None:
        shopper = request_shopper(request)
    found = shopper_market_get(
        shopper=shopper,
        cookie_code=request.COOKIES.get(REGION_COOKIE, ""),
        languages=[get_language() or ""],
        accept_language=request.headers.get("Accept-Language", ""),
    )
    request._shopper_market = found
    return found
