"""API shapes of carts and orders. Money is integer minor units plus a currency code."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers

from core.api.errors import ErrorDetailSerializer

from .. import payments
from ..models import Order, OrderLine, orders_setting


class CartLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product = serializers.IntegerField(source="product_id")
    title = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price_minor = serializers.IntegerField(help_text="What checkout charges now.")
    unit_price_seen_minor = serializers.IntegerField(
        help_text="The price when the shopper added the item; differs when the price moved."
    )
    price_changed = serializers.BooleanField()
    currency = serializers.CharField()
    line_total_minor = serializers.IntegerField()
    stock = serializers.IntegerField(help_text="Units left now.")
    available = serializers.BooleanField(help_text="False when the listing is no longer sold.")
    sold_here = serializers.BooleanField(
        help_text="False when the listing cannot be bought in the shopper's profile region: "
                  "another currency or not delivered there (true without a region). Such "
                  "lines keep `can_check_out` false.")


class CartSerializer(serializers.Serializer):
    lines = CartLineSerializer(many=True)
    count = serializers.IntegerField(help_text="Units in the cart.")
    currency = serializers.CharField(allow_null=True,
                                     help_text="Null when empty or when currencies are mixed.")
    total_minor = serializers.IntegerField()
    price_changed = serializers.BooleanField()
    can_check_out = serializers.BooleanField()
    signature = serializers.CharField(
        help_text="Send it back as `cart_signature` when checking out: if the cart or a price "
                  "changed since, checkout answers 409 `cart_changed` instead of charging it."
    )


class CartLineCreateSerializer(serializers.Serializer):
    product = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(
        min_value=1, default=1, help_text="Added to what is already in the cart."
    )

    def validate_quantity(self, value: int) -> int:
        if value > orders_setting("ORDERS_MAX_LINE_QUANTITY"):
            raise serializers.ValidationError(
                _("You can order at most %(n)d of one item.")
                % {"n": orders_setting("ORDERS_MAX_LINE_QUANTITY")}
            )
        return value


class CartLineUpdateSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=0, help_text="0 removes the line.")


class CheckoutSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    phone = serializers.CharField(max_length=24, help_text="A mobile number, e.g. +919876543210.")
    address = serializers.CharField(max_length=500)
    postal_code = serializers.CharField(max_length=12, required=False, allow_blank=True,
                                        default="")
    region = serializers.CharField(max_length=32, help_text="A region code, e.g. IN-MH-PUN.")
    payment_method = serializers.ChoiceField(choices=(), default="cod")
    cart_signature = serializers.CharField(max_length=64,
                                           help_text="`signature` from GET /api/v1/cart/.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payment_method"].choices = payments.payment_method_choices()


class OrderLineSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display")
    line_total_minor = serializers.IntegerField()

    class Meta:
        model = OrderLine
        fields = ("product", "title", "quantity", "unit_price_minor", "currency",
                  "line_total_minor", "status", "status_label")


class OrderSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    status = serializers.CharField(
        source="status_summary",
        help_text="confirmed, shipped, out_for_delivery, delivered, cancelled or returned",
    )
    status_label = serializers.CharField(source="status_summary_label")
    region = serializers.CharField(source="region.code")
    lines = OrderLineSerializer(many=True)
    url = serializers.CharField(source="get_absolute_url", help_text="The order's web page.")

    class Meta:
        model = Order
        fields = ("id", "url", "status", "status_label", "placed_at", "currency", "total_minor",
                  "payment_method", "payment_status", "name", "phone", "address", "postal_code",
                  "region", "lines")


class RefusedItemSerializer(serializers.Serializer):
    product = serializers.IntegerField(source="product_id")
    title = serializers.CharField()
    available = serializers.IntegerField(help_text="Units left (for `out_of_stock`).")


class CheckoutErrorDetailSerializer(ErrorDetailSerializer):
    items = RefusedItemSerializer(many=True, help_text="The cart lines concerned.")


class CheckoutErrorSerializer(serializers.Serializer):
    error = CheckoutErrorDetailSerializer()
