"""Catalog API views: the category and region trees; read-only, public, cacheable.

(The product lists and pages are cards: storefront/api/ serves them.)

The catalog is written through the admin only (see docs/API.md, "Sellers"):
every view here answers GET/HEAD, so any write is a 405 in the error format.
These views read no cookie and no session (no authentication classes): the
answer is the same for everyone, so shared caches may keep it and no
`Vary: Cookie` splits their entries.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import caching
from core.api.errors import NOT_MODIFIED, error_responses
from core.api.params import reject_unknown_params

from .queries import category_tree_get, region_tree_get
from .serializers import CategoryNodeSerializer, RegionNodeSerializer


class PublicCatalogApi(caching.MicroCacheMixin, caching.CachePolicyMixin, APIView):
    """Base of the public catalog views: no credentials read, shared-cacheable."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()
    cache_control = caching.PUBLIC
    vary = ()


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
