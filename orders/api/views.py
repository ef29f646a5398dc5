"""Cart, checkout and orders API for the PWA and app clients.

The caller is always a shopper (token or storefront cookie, see
personalization.api.authentication); errors use the one shape of core.api.errors, with
`items` added to checkout refusals so the app can mark the lines concerned.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.markets import market_get
from catalog.models import Region
from core.api.errors import api_exception_handler, error_body, error_responses
from core.api.pagination import KeysetPagination
from core.api.permissions import HasShopper
from core.api.throttling import IpWriteThrottle, ShopperWriteThrottle
from personalization.api.authentication import (
    ShopperCookieAuthentication,
    ShopperTokenAuthentication,
)

from .. import selectors, services
from ..models import CartLine, Order
from .serializers import (
    CartLineCreateSerializer,
    CartLineUpdateSerializer,
    CartSerializer,
    CheckoutErrorSerializer,
    CheckoutSerializer,
    OrderSerializer,
)

IDEMPOTENCY_HEADER = "Idempotency-Key"


class ShopperApi(APIView):
    authentication_classes = [ShopperTokenAuthentication, ShopperCookieAuthentication]
    permission_classes = [HasShopper]
    # Per shopper, and per IP so one client cannot flood with fresh tokens.
    throttle_classes = [ShopperWriteThrottle, IpWriteThrottle]

    def get_exception_handler(self):
        return api_exception_handler

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # Carts and orders are one shopper's personal data.
        response["Cache-Control"] = "private, no-store"
        return response

    @property
    def shopper(self):
        return self.request.auth


def _cart_response(shopper, status_code: int = status.HTTP_200_OK) -> Response:
    # Lines are checked against the profile's region, the one an app sets
    # (PATCH /api/v1/shoppers/me/); without one nothing is marked here (the
    # pages mark against their guess) and order placement still refuses
    # what cannot be delivered. No query when there is no region.
    market = market_get(shopper.region_id) if shopper.region_id else None
    cart = selectors.cart_get(shopper=shopper, market=market)
    return Response(CartSerializer(cart).data, status=status_code)


class CartApi(ShopperApi):
    @extend_schema(operation_id="cart_get", tags=["cart"], responses={
        200: CartSerializer, **error_responses(401)})
    def get(self, request):
        """Return the shopper's cart with current prices and stock."""
        return _cart_response(self.shopper)


class CartLineCreateApi(ShopperApi):
    @extend_schema(operation_id="cart_line_add", tags=["cart"], request=CartLineCreateSerializer,
                   responses={201: CartSerializer, **error_responses(400, 401, 403, 429)})
    def post(self, request):
        """Add an item to the cart (on top of any already there); return the whole cart."""
        serializer = CartLineCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.cart_line_add(shopper=self.shopper,
                               product_id=serializer.validated_data["product"],
                               quantity=serializer.validated_data["quantity"])
        return _cart_response(self.shopper, status.HTTP_201_CREATED)


def _line_pk(line_id: str) -> int:
    """Return the line id as an integer; a malformed one is simply not found."""
    if not (line_id.isascii() and line_id.isdigit()) or len(line_id) > 18:
        raise Http404
    return int(line_id)


LINE_ID = OpenApiParameter("line_id", OpenApiTypes.INT, OpenApiParameter.PATH,
                           description="`id` of a line of GET /api/v1/cart/.")


class CartLineApi(ShopperApi):
    @extend_schema(operation_id="cart_line_update", tags=["cart"], parameters=[LINE_ID],
                   request=CartLineUpdateSerializer,
                   responses={200: CartSerializer, **error_responses(400, 401, 403, 404, 429)})
    def patch(self, request, line_id: str):
        """Set a line's quantity (0 removes it); return the whole cart."""
        serializer = CartLineUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.cart_line_update(shopper=self.shopper, line_id=_line_pk(line_id),
                                      quantity=serializer.validated_data["quantity"])
        except CartLine.DoesNotExist:
            raise Http404 from None
        return _cart_response(self.shopper)

    @extend_schema(operation_id="cart_line_remove", tags=["cart"], request=None,
                   parameters=[LINE_ID],
                   responses={204: None, **error_responses(401, 403, 404, 429)})
    def delete(self, request, line_id: str):
        """Remove a line from the cart."""
        try:
            services.cart_line_remove(shopper=self.shopper, line_id=_line_pk(line_id))
        except CartLine.DoesNotExist:
            raise Http404 from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class CheckoutApi(ShopperApi):
    @extend_schema(
        operation_id="checkout", tags=["orders"], request=CheckoutSerializer,
        parameters=[OpenApiParameter(
            IDEMPOTENCY_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=True,
            description="A fresh random key (8-64 of A-Z a-z 0-9 - _ : .) per checkout. "
                        "Resending the same request with the same key returns the same "
                        "order (200) instead of placing another.")],
        responses={
            201: OrderSerializer,
            200: OpenApiResponse(OrderSerializer,
                                 description="Replay: this key already placed this order."),
            409: OpenApiResponse(
                CheckoutErrorSerializer,
                description="Refused, nothing written. `error.code`: `cart_empty`, "
                            "`cart_changed` (GET the cart, show it, resend with its "
                            "signature), `out_of_stock`, `not_sold_in_region`, `unavailable`, "
                            "`mixed_currency`, `payment_refused`, or `idempotency_conflict` "
                            "(the key was used for a different request)."),
            **error_responses(400, 401, 403, 429),
        },
    )
    def post(self, request):
        """Place the cart as one cash-on-delivery order, all or nothing."""
        key = request.headers.get(IDEMPOTENCY_HEADER, "")
        serializer = CheckoutSerializer(data=request.data)
        errors = {}
        if not serializer.is_valid():
            errors.update(serializer.errors)
        if not key:
            errors[IDEMPOTENCY_HEADER] = [_("Send an Idempotency-Key header.")]
        if errors:
            raise ValidationError(errors)
        data = serializer.validated_data
        region = Region.objects.filter(code=data["region"]).first()
        if region is None:
            raise ValidationError({"region": [_("Unknown region code.")]})
        try:
            details = services.checkout_details_clean(
                name=data["name"], phone=data["phone"], address=data["address"],
                postal_code=data["postal_code"], region=region,
                payment_method=data["payment_method"],
            )
            placement = services.order_place(
                shopper=self.shopper, idempotency_key=key, details=details,
                cart_signature_seen=data["cart_signature"],
            )
        except DjangoValidationError as exc:
            if hasattr(exc, "error_dict") and "idempotency_key" in exc.error_dict:
                raise ValidationError({IDEMPOTENCY_HEADER: exc.messages}) from None
            raise
        except services.CheckoutRefused as refused:
            body = error_body(refused.code, refused.message)
            body["error"]["items"] = [
                {"product": item.product_id, "title": item.title, "available": item.available}
                for item in refused.items
            ]
            return Response(body, status=status.HTTP_409_CONFLICT)
        order = selectors.order_get_for_shopper(shopper=self.shopper,
                                                public_id=placement.order.public_id)
        response = Response(
            OrderSerializer(order).data,
            status=status.HTTP_200_OK if placement.replayed else status.HTTP_201_CREATED,
        )
        response["Location"] = f"/api/v1/orders/{order.public_id}/"
        if placement.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class OrderListApi(ShopperApi, generics.ListAPIView):
    serializer_class = OrderSerializer
    pagination_class = KeysetPagination
    filter_backends: list = []

    def get_queryset(self):
        return selectors.orders_for_shopper(shopper=self.shopper)

    @extend_schema(operation_id="orders_list", tags=["orders"],
                   responses={200: OrderSerializer(many=True), **error_responses(400, 401)})
    def get(self, request, *args, **kwargs):
        """Return the shopper's own orders, newest first."""
        return super().get(request, *args, **kwargs)


class OrderDetailApi(ShopperApi):
    @extend_schema(operation_id="order_get", tags=["orders"],
                   responses={200: OrderSerializer, **error_responses(401, 404)})
    def get(self, request, public_id: str):
        """Return one of the shopper's own orders (404 for anyone else's)."""
        try:
            order = selectors.order_get_for_shopper(shopper=self.shopper, public_id=public_id)
        except Order.DoesNotExist:
            raise Http404 from None
        return Response(OrderSerializer(order).data)
