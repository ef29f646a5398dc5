"""The API's cards: product lists, a product with "more like this", the ranked feed.

Every one of them answers cards built by storefront.cards from the one row
type (`CardRow`), so a page and the API show the same card from the same
read, and both cache it under the same digest. URLs are mounted under
/api/v1/ as before (shop/api_urls.py).
"""

from __future__ import annotations

import json

from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from catalog.api.filters import ORDERINGS, ProductFilter
from catalog.api.views import PublicCatalogApi
from catalog.markets import market_from_headers
from catalog.models import Product
from core.api import caching
from core.api.errors import NOT_MODIFIED, error_responses
from core.api.fields import FIELDS_PARAM, fields_parameter, sparse_fields_parse
from core.api.pagination import CURSOR_PARAM, LIMIT_PARAM, KeysetPagination
from core.api.params import reject_unknown_params
from personalization.api.views import ShopperApi
from personalization.market import shopper_market_get
from personalization.selectors import feed_page_get, similar_products_get

from ..cards import card_dicts, card_rows_get
from ..selectors import product_detail_get
from .serializers import (
    FeedItemSerializer,
    FeedPageSerializer,
    ProductCardSerializer,
    ProductDetailSerializer,
)

CARD_FIELDS = tuple(ProductCardSerializer().fields)
MORE_LIKE_THIS_LIMIT = 8
# What the price filters accept: a decimal string with at most 2 decimals.
PRICE_PATTERN = r"^([0-9]{1,10}(\.[0-9]{1,2})?)?$"  # empty: no bound
# Only what any ordering and the cursor read: the cards come from card_rows_get.
_PAGE_COLUMNS = sorted({"pk", *(term.lstrip("-") for terms in ORDERINGS.values()
                                 for term in terms)} - {"id"})
FEED_PAGE_SIZE = 20
FEED_MAX_PAGE_SIZE = 50



class MarketVariantMixin:
    """The answer depends on the market Accept-Language suggests (catalog.markets):
    say so to caches, and keep one micro-cache entry per market."""

    vary = ("Accept-Language",)

    def micro_cache_variant(self, request) -> str:
        market = market_from_headers(request)
        return market.code if market else ""


class ProductListApi(MarketVariantMixin, PublicCatalogApi, GenericAPIView):
    """List published products as cards; every filter value is validated (400 if bad)."""

    serializer_class = ProductCardSerializer
    filter_backends = (DjangoFilterBackend,)
    filterset_class = ProductFilter
    pagination_class = KeysetPagination

    def get_queryset(self):
        return Product.objects.published().only(*_PAGE_COLUMNS)

    @extend_schema(
        operation_id="products_list",
        summary="Published products as compact cards, filtered, newest first by default.",
        parameters=[
            fields_parameter(ProductCardSerializer),
            *[
                OpenApiParameter(
                    name, {"type": "string", "pattern": PRICE_PATTERN}, description=text
                )
                for name, text in (
                    ("min_price", "Lowest price in major units, e.g. 199.50 (at most 2 decimals)."),
                    ("max_price", "Highest price in major units (at most 2 decimals)."),
                )
            ],
        ],
        responses={200: ProductCardSerializer(many=True), **NOT_MODIFIED, **error_responses(400)},
    )
    def get(self, request):
        reject_unknown_params(
            request,
            {*ProductFilter.base_filters, CURSOR_PARAM, LIMIT_PARAM, FIELDS_PARAM},
        )
        fields = sparse_fields_parse(request, ProductCardSerializer)
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        cards = card_dicts(card_rows_get(product_ids=[product.pk for product in page]))
        return self.get_paginated_response(_only(cards, fields))


class ProductDetailApi(MarketVariantMixin, PublicCatalogApi):
    """Return one published product with all its image variants and similar listings."""

    @extend_schema(
        operation_id="products_retrieve",
        summary="One published product: every image variant, seller, similar listings.",
        parameters=[
            fields_parameter(ProductDetailSerializer),
        ],
        responses={200: ProductDetailSerializer, **NOT_MODIFIED, **error_responses(400, 404)},
    )
    def get(self, request, pk: int):
        reject_unknown_params(request, {FIELDS_PARAM})
        fields = sparse_fields_parse(request, ProductDetailSerializer)
        product = product_detail_get(pk=pk)
        similar = []
        if fields is None or "more_like_this" in fields:
            similar = card_rows_get(
                product_ids=similar_products_get(product_id=product.pk,
                                                 limit=MORE_LIKE_THIS_LIMIT,
                                                 market=market_from_headers(request))
            )
        context = {"fields": fields, "more_like_this": similar}
        return Response(ProductDetailSerializer(product, context=context).data)


def _only(cards: list[dict], fields: frozenset[str] | None,
          names: tuple[str, ...] = CARD_FIELDS) -> list[dict]:
    """Return the cards with only the keys asked for by `?fields=`, in schema order."""
    wanted = [name for name in names if fields is None or name in fields]
    return [{name: card[name] for name in wanted} for card in cards]


def _feed_limit(request) -> int:
    raw = request.query_params.get(LIMIT_PARAM)
    if raw is None:
        return FEED_PAGE_SIZE
    if not raw.isdigit() or not 1 <= int(raw) <= FEED_MAX_PAGE_SIZE:
        raise ValidationError({LIMIT_PARAM: [_("Enter a whole number from 1 to %(max)d.")
                                             % {"max": FEED_MAX_PAGE_SIZE}]})
    return int(raw)


FEED_ITEM_FIELDS = tuple(FeedItemSerializer().fields)


class FeedApi(ShopperApi):
    """Return a page of the caller's ranked feed (the pages' ranking and snapshot)."""

    # Anyone may read a feed; without credentials it is the unpersonalised one
    # and no profile row is created.
    permission_classes = (AllowAny,)
    # Per shopper, but not secret: the shopper's own browser may keep it and
    # revalidate with If-None-Match (later pages of one snapshot do not change).
    cache_control = caching.PRIVATE_REVALIDATE
    # The market follows the profile's region, else Accept-Language.
    vary = (*ShopperApi.vary, "Accept-Language")

    def etag_source(self, response) -> bytes:
        # The signed next_cursor carries its signing time, so two identical
        # pages a second apart would never share an ETag. A client keeping its
        # cached body keeps a cursor to the same snapshot position, so the
        # items and whether more follow are what identify the page.
        data = response.data
        return json.dumps([data["results"], data["next_cursor"] is not None]).encode()

    @extend_schema(
        operation_id="feed_list",
        summary="The caller's ranked feed, one page of compact cards with the reason for each.",
        parameters=[
            OpenApiParameter(CURSOR_PARAM, str, description="`next_cursor` of the previous "
                             "page. An expired or foreign cursor starts again at page 1."),
            OpenApiParameter(
                LIMIT_PARAM, {"type": "integer", "minimum": 1, "maximum": FEED_MAX_PAGE_SIZE},
                description=f"Items per page, 1 to {FEED_MAX_PAGE_SIZE} "
                            f"(default {FEED_PAGE_SIZE}).",
            ),
            fields_parameter(FeedItemSerializer),
        ],
        responses={
            200: FeedPageSerializer,
            **NOT_MODIFIED,
            **error_responses(400, 401),
        },
    )
    def get(self, request):
        reject_unknown_params(request, {CURSOR_PARAM, LIMIT_PARAM, FIELDS_PARAM})
        fields = sparse_fields_parse(request, FeedItemSerializer)
        market = shopper_market_get(
            shopper=request.auth, languages=[get_language() or ""],
            accept_language=request.headers.get("Accept-Language", "")).market
        page = feed_page_get(shopper=request.auth, cursor=request.query_params.get(CURSOR_PARAM),
                             page_size=_feed_limit(request), rows_get=card_rows_get,
                             market=market)
        # Plain dicts, cached per card by content (storefront.cards):
        # FeedItemSerializer documents this shape and the tests hold the two equal.
        cards = [{**card, "reason": str(item.reason), "reason_arg": item.reason_arg}
                 for item, card in zip(page.items, card_dicts(page.rows), strict=True)]
        return Response({"next_cursor": page.next_cursor,
                         "results": _only(cards, fields, FEED_ITEM_FIELDS)})


