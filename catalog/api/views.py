"""Catalog API views: read-only, public, cacheable.

The catalog is written through the admin only (see docs/API.md, "Sellers"):
every view here answers GET/HEAD, so any write is a 405 in the error format.
These views read no cookie and no session (no authentication classes): the
answer is the same for everyone, so shared caches may keep it and no
`Vary: Cookie` splits their entries.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import caching
from core.api.errors import NOT_MODIFIED, error_responses
from core.api.fields import FIELDS_PARAM, fields_parameter, sparse_fields_parse
from core.api.pagination import CURSOR_PARAM, LIMIT_PARAM, KeysetPagination
from personalization.selectors import similar_products_get

from .filters import ProductFilter
from .queries import (
    category_tree_get,
    product_cards_get,
    product_cards_queryset,
    product_detail_get,
    region_tree_get,
)
from .serializers import (
    CategoryNodeSerializer,
    ProductCardSerializer,
    ProductDetailSerializer,
    RegionNodeSerializer,
)

MORE_LIKE_THIS_LIMIT = 8
# What the price filters accept: a decimal string with at most 2 decimals.
PRICE_PATTERN = r"^([0-9]{1,10}(\.[0-9]{1,2})?)?$"  # empty: no bound


class PublicCatalogApi(caching.MicroCacheMixin, caching.CachePolicyMixin, APIView):
    """Base of the public catalog views: no credentials read, shared-cacheable."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()
    cache_control = caching.PUBLIC
    vary = ()


def reject_unknown_params(request, allowed: set[str]) -> None:
    """Raise a 400 naming query parameters this endpoint does not know (typos, mostly)."""
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise ValidationError({name: [_("Unknown parameter.")] for name in unknown})


class ProductListApi(PublicCatalogApi, GenericAPIView):
    """List published products as cards; every filter value is validated (400 if bad)."""

    serializer_class = ProductCardSerializer
    filter_backends = (DjangoFilterBackend,)
    filterset_class = ProductFilter
    pagination_class = KeysetPagination

    def get_queryset(self):
        return product_cards_queryset()

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
        data = ProductCardSerializer(page, many=True, context={"fields": fields}).data
        return self.get_paginated_response(data)


class ProductDetailApi(PublicCatalogApi):
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
            similar = product_cards_get(
                product_ids=similar_products_get(product_id=product.pk,
                                                 limit=MORE_LIKE_THIS_LIMIT)
            )
        context = {"fields": fields, "more_like_this": similar}
        return Response(ProductDetailSerializer(product, context=context).data)


class CategoryTreeApi(PublicCatalogApi):
    """Return the category tree (two levels)."""

    @extend_schema(
        operation_id="categories_list",
        summary="All categories as a tree (top categories with their subcategories).",
        responses={200: CategoryNodeSerializer(many=True), **NOT_MODIFIED,
                   **error_responses(400)},
    )
    def get(self, request):
        reject_unknown_params(request, set())
        return Response(CategoryNodeSerializer(category_tree_get(), many=True).data)


class RegionTreeApi(PublicCatalogApi):
    """Return the region tree (country, state, city)."""

    @extend_schema(
        operation_id="regions_list",
        summary="All regions as a tree: countries, their states, their cities.",
        responses={200: RegionNodeSerializer(many=True), **NOT_MODIFIED,
                   **error_responses(400)},
    )
    def get(self, request):
        reject_unknown_params(request, set())
        return Response(RegionNodeSerializer(region_tree_get(), many=True).data)
