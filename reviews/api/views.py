"""Reviews API: a product's reviews (public, cursor-paged), a verified buyer's review,
the seller's answer.

GET is public and reads no credentials (so listing reviews never makes a
shopper profile); POST needs a shopper (token or storefront cookie + CSRF)
with a delivered order line of the product. The seller answers from their
admin session (CSRF checked), as they do everything else.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import caching
from core.api.errors import api_exception_handler, error_responses
from core.api.json_limits import JSONParser
from core.api.pagination import CURSOR_PARAM, LIMIT_PARAM, KeysetPagination
from core.api.params import reject_unknown_params
from core.api.permissions import HasShopper
from core.api.throttling import IpWriteThrottle, ShopperWriteThrottle
from personalization.api.authentication import (
    ShopperCookieAuthentication,
    ShopperTokenAuthentication,
)

from ..models import Review
from ..selectors import product_rating_get, product_reviews_queryset
from ..services import ReviewNotAllowed, review_create, review_reply
from .serializers import (
    RatingSerializer,
    ReviewCreateSerializer,
    ReviewReplySerializer,
    ReviewSerializer,
    SellerReplySerializer,
)

RATING_SCHEMA = {
    "type": "object",
    "required": ["average", "count"],
    "description": "The product's precomputed rating (hidden reviews do not count).",
    "properties": {
        "average": {"type": "number", "nullable": True,
                    "description": "Average to one decimal; null when nobody rated yet."},
        "count": {"type": "integer"},
    },
}


class ReviewPagination(KeysetPagination):
    page_size = 10
    max_page_size = 50

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data = {"rating": self.rating, **response.data}
        return response

    def get_paginated_response_schema(self, schema):
        answer = super().get_paginated_response_schema(schema)
        answer["required"] = ["rating", *answer["required"]]
        answer["properties"] = {"rating": RATING_SCHEMA, **answer["properties"]}
        return answer


class ProductReviewsApi(caching.CachePolicyMixin, APIView):
    """A product's shown reviews (GET, public) and a verified buyer's new review (POST)."""

    parser_classes = (JSONParser, MultiPartParser)
    pagination_class = ReviewPagination

    def initialize_request(self, request, *args, **kwargs):
        # Chosen per method before authentication runs: a public GET must not
        # read the shopper cookie (resolving it creates a profile).
        self._reading = request.method in ("GET", "HEAD", "OPTIONS")
        self.cache_control = caching.PUBLIC if self._reading else caching.PRIVATE_NO_STORE
        return super().initialize_request(request, *args, **kwargs)

    def get_authenticators(self):
        if getattr(self, "_reading", True):
            return []
        return [ShopperTokenAuthentication(), ShopperCookieAuthentication()]

    def get_permissions(self):
        return [AllowAny()] if self._reading else [HasShopper()]

    def get_throttles(self):
        return [] if self._reading else [ShopperWriteThrottle(), IpWriteThrottle()]

    def get_exception_handler(self):
        return api_exception_handler

    @extend_schema(
        operation_id="product_reviews_list", tags=["reviews"],
        summary="A product's reviews, newest first (hidden ones left out), with its rating.",
        responses={200: ReviewSerializer(many=True), **error_responses(400, 404)},
    )
    def get(self, request, pk: int):
        reject_unknown_params(request, {CURSOR_PARAM, LIMIT_PARAM})
        paginator = self.pagination_class()
        paginator.rating = RatingSerializer(product_rating_get(product_id=pk)).data
        page = paginator.paginate_queryset(product_reviews_queryset(product_id=pk), request, self)
        return paginator.get_paginated_response(ReviewSerializer(page, many=True).data)

    @extend_schema(
        operation_id="product_reviews_create", tags=["reviews"],
        summary="Review a product the shopper received (rating 1-5, text, up to 3 photos).",
        request={"application/json": ReviewCreateSerializer,
                 "multipart/form-data": ReviewCreateSerializer},
        responses={201: ReviewSerializer, **error_responses(400, 401, 403, 404, 429)},
    )
    def post(self, request, pk: int):
        product_rating_get(product_id=pk)  # 404 for a product that is not listed
        serializer = ReviewCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            review = review_create(shopper=request.auth, product_id=pk, **serializer.validated_data)
        except ReviewNotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        review = product_reviews_queryset(product_id=pk).get(pk=review.pk)
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)


class ReviewReplyApi(APIView):
    """The seller's one answer to a review of their product (admin session + CSRF)."""

    authentication_classes = (SessionAuthentication,)
    permission_classes = (IsAuthenticated,)
    throttle_classes = (IpWriteThrottle,)

    def get_exception_handler(self):
        return api_exception_handler

    @extend_schema(
        operation_id="review_reply", tags=["reviews"],
        summary="Answer a review of one of your products (once).",
        request=ReviewReplySerializer,
        responses={200: inline_serializer("ReviewReplied",
                                          {"seller_reply": SellerReplySerializer()}),
                   **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, review_id: int):
        serializer = ReviewReplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        review = get_object_or_404(Review.objects.select_related("product"), pk=review_id)
        try:
            review = review_reply(review=review, actor=request.user,
                                  text=serializer.validated_data["text"])
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        return Response({"seller_reply": {"text": review.seller_reply,
                                          "replied_at": review.replied_at.isoformat()}})
