"""Markets: where a shopper buys, as the region chain and the currency paid there.

A listing is shown to a shopper only when it is *sold* in their region (no
regions = everywhere; otherwise a listed region is the shopper's region or
one above it) **and** priced in the currency of that region: cash on delivery
is paid in the local currency, so a listing in rupees cannot be bought at a
door in Dubai even when its seller says "everywhere". One rule, one place:
`Market.products_q()` is the filter every list applies (feed candidates,
category, search, "more like this", the API, the cart's marks).

The region table is small and changes rarely, so every region is kept as a
`Market` in one cached index (`markets_index()`), dropped whenever a region
is saved or deleted: resolving a shopper's market costs no query per request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, OuterRef, Q
from django.db.models.signals import post_delete, post_save
from django.utils.translation.trans_real import parse_accept_lang_header

from .models import Product, Region

INDEX_CACHE_KEY = "catalog.markets.index"
# Only bounds how long a missed invalidation (another process's local cache)
# could last; saves and deletes drop the entry at once.
INDEX_CACHE_SECONDS = 600


@dataclass(frozen=True)
class Market:
    region_id: int
    code: str
    name: str
    # From the country down to this region: ("IN", "IN-MH", "IN-MH-PUN").
    codes: tuple[str, ...]
    # Blank when the region (and its ancestors) has none: then any currency goes.
    currency: str
    language: str

    @classmethod
    def of_region(cls, region: Region) -> Market:
        """Return the market of a loaded Region row (no query)."""
        return cls(region_id=region.pk, code=region.code, name=region.name,
                   codes=tuple(region.ancestor_codes()), currency=region.currency,
                   language=region.language)

    @property
    def country(self) -> str:
        return self.codes[0]

    def products_q(self, prefix: str = "") -> Q:
        """Return the filter for products sold here and priced in this currency.

        `prefix` names the product from another model ("product__").
        """
        condition = sold_in_q(self.codes, prefix=prefix)
        if self.currency:
            condition &= Q(**{f"{prefix}currency": self.currency})
        return condition


def sold_in_q(codes: Sequence[str] | None, *, prefix: str = "") -> Q:
    """Return a filter for products sold in the region with these codes.

    `in_region()` joins and DISTINCTs, which cannot sit in a LIMITed subquery
    on PostgreSQL; EXISTS needs neither, and each EXISTS is one probe of the
    (product, region) index of the through table.
    """
    if not codes:
        return Q()
    through = Product.regions.through
    pk = OuterRef(f"{prefix}pk" if prefix else "pk")
    return ~Q(Exists(through.objects.filter(product_id=pk))) | Q(
        Exists(through.objects.filter(product_id=pk, region__code__in=list(codes)))
    )


@dataclass(frozen=True)
class MarketsIndex:
    by_code: dict[str, Market]
    by_id: dict[int, Market]

    def countries(self) -> list[Market]:
        return [market for market in self.by_code.values() if len(market.codes) == 1]


def markets_index() -> MarketsIndex:
    """Return every region as a Market (cached; one query when the cache is cold)."""
    index = cache.get(INDEX_CACHE_KEY)
    if index is None:
        markets = [
            Market(region_id=pk, code=code, name=name,
                   codes=tuple(part for part in path.split("/") if part),
                   currency=currency, language=language)
            for pk, code, name, path, currency, language in Region.objects.order_by("path")
            .values_list("pk", "code", "name", "path", "currency", "language")
        ]
        index = MarketsIndex(by_code={m.code: m for m in markets},
                             by_id={m.region_id: m for m in markets})
        cache.set(INDEX_CACHE_KEY, index, INDEX_CACHE_SECONDS)
    return index


def market_get(region) -> Market | None:
    """Return the market of a Region, a region id or a region code (None if unknown)."""
    if region is None or region == "":
        return None
    if isinstance(region, Region):
        return Market.of_region(region)
    index = markets_index()
    if isinstance(region, str):
        return index.by_code.get(region)
    return index.by_id.get(region)


def _accepted(accept_language: str) -> list[str]:
    try:
        return [tag for tag, _q in parse_accept_lang_header(accept_language or "")]
    except ValueError:
        return []


def _country_by_tag(index: MarketsIndex, tags: Iterable[str]) -> Market | None:
    for tag in tags:
        parts = tag.replace("_", "-").split("-")
        if len(parts) > 1:
            found = index.by_code.get(parts[1].upper())
            if found is not None and len(found.codes) == 1:
                return found
    return None


def _country_by_language(index: MarketsIndex, languages: Iterable[str]) -> Market | None:
    countries = index.countries()
    for language in languages:
        base = (language or "").split("-")[0].lower()
        if not base or base == settings.LANGUAGE_CODE.split("-")[0]:
            continue
        speaking = [m for m in countries if m.language.lower() == base]
        if len(speaking) == 1:
            return speaking[0]
    return None


def default_market(index: MarketsIndex | None = None) -> Market | None:
    """Return the shop's default market: SHOP_DEFAULT_REGION, else the country
    paying in SHOP_DEFAULT_CURRENCY, else None."""
    index = index or markets_index()
    code = getattr(settings, "SHOP_DEFAULT_REGION", "")
    if code and code in index.by_code:
        return index.by_code[code]
    currency = settings.SHOP_DEFAULT_CURRENCY
    return next((m for m in index.countries() if m.currency == currency), None)


def market_infer(*, cookie_code: str = "", languages: Iterable[str] = (),
                 accept_language: str = "") -> Market | None:
    """Return the guessed market: the region cookie, a country in Accept-Language,
    a language only one country speaks, the default (personalization.market
    puts the profile's region first)."""
    index = markets_index()
    if not index.by_code:
        return None
    if cookie_code and cookie_code in index.by_code:
        return index.by_code[cookie_code]
    tags = _accepted(accept_language)
    return (_country_by_tag(index, tags)
            or _country_by_language(index, [*languages, *tags])
            or default_market(index))


def market_from_headers(request) -> Market | None:
    """Return the market a request's headers suggest (`Accept-Language`), for
    views that read no cookie or profile (the public catalog API)."""
    return market_infer(accept_language=request.headers.get("Accept-Language", ""))


def _forget_index(**kwargs) -> None:
    cache.delete(INDEX_CACHE_KEY)


def connect_signals() -> None:
    """Drop the cached index whenever a region changes (CatalogConfig.ready)."""
    post_save.connect(_forget_index, sender=Region, dispatch_uid="catalog.markets.save")
    post_delete.connect(_forget_index, sender=Region, dispatch_uid="catalog.markets.delete")
