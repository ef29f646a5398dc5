"""Carts, orders and order lines.

A cart belongs to a shopper profile (not to a browser session), so it follows
the shopper across devices once the profile is linked to an account. An order
keeps a snapshot of what was bought (title, unit price, seller) because the
listing may change or disappear later while the seller still has to ship,
collect cash and account for it. Money is integer minor units, never floats.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

# Crockford's base32 without I, L, O and U: an order id read out over the
# phone to a courier or a seller cannot be misheard as another.
_PUBLIC_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PUBLIC_ID_LENGTH = 12


def new_public_id() -> str:
    """Return a random order id: 60 bits, so ids cannot be guessed or enumerated."""
    return "".join(secrets.choice(_PUBLIC_ID_ALPHABET) for _ in range(PUBLIC_ID_LENGTH))


class Cart(models.Model):
    shopper = models.OneToOneField(
        "personalization.ShopperProfile", on_delete=models.CASCADE, related_name="cart"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("cart")
        verbose_name_plural = _("carts")

    def __str__(self) -> str:
        return f"cart of {self.shopper_id}"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))
    # The price the shopper saw when adding: when the listing's price moves,
    # the cart and checkout say so instead of silently charging the new one.
    unit_price_minor_seen = models.BigIntegerField(_("unit price seen (minor units)"))
    added_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        ordering = ["added_at", "id"]
        verbose_name = _("cart line")
        verbose_name_plural = _("cart lines")
        constraints = [
            models.UniqueConstraint(fields=["cart", "product"], name="cartline_unique_product"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="cartline_quantity_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}"


class PaymentStatus(models.TextChoices):
    # Cash on delivery: nothing is owed until the courier hands the parcel over.
    # The order row exists but the method has not answered yet (inside the
    # placement transaction only, for COD; a gateway's callback for others).
    PENDING = "pending", _("Awaiting payment")
    PENDING_COLLECTION = "pending_collection", _("Pay on delivery")
    AUTHORIZED = "authorized", _("Authorized")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")


class Order(models.Model):
    public_id = models.CharField(
        _("order number"), max_length=PUBLIC_ID_LENGTH, unique=True, default=new_public_id,
        editable=False,
    )
    # SET_NULL: erasing a shopper must not delete the sellers' accounting.
    shopper = models.ForeignKey(
        "personalization.ShopperProfile", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="orders",
    )
    # The client's key for "this one checkout": a retried or double-tapped
    # placement finds the order made by the first attempt (see services).
    idempotency_key = models.CharField(max_length=64, editable=False)
    # SHA-256 of the placement request; the same key with a different request
    # is refused rather than answered with an order the client did not ask for.
    request_fingerprint = models.CharField(max_length=64, editable=False)
    name = models.CharField(_("name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=20)
    address = models.TextField(_("address"), max_length=500)
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)
    region = models.ForeignKey(
        "catalog.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    currency = models.CharField(_("currency"), max_length=3)
    total_minor = models.BigIntegerField(_("total (minor units)"))
    payment_method = models.CharField(_("payment method"), max_length=20)
    payment_status = models.CharField(
        _("payment status"), max_length=20, choices=PaymentStatus.choices,
        default=PaymentStatus.PENDING,
    )
    placed_at = models.DateTimeField(_("placed"), db_index=True)
    # Set when the shopper was erased: name, phone and address are blanked but
    # the order stays, since sellers must keep it for their accounts.
    anonymised_at = models.DateTimeField(_("anonymised"), null=True, blank=True, editable=False)
    # Set when the shopper asked to be erased while the order was still open
    # (not delivered, or cash not collected): the seller still needs name,
    # phone and address to deliver, so they are blanked once it settles
    # (orders.privacy.orders_anonymise_due, run by purge_shoppers).
    erasure_requested_at = models.DateTimeField(
        _("erasure requested"), null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["-placed_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [models.Index(fields=["shopper", "-placed_at"], name="order_shopper_placed")]
        constraints = [
            models.UniqueConstraint(
                fields=["shopper", "idempotency_key"], name="order_unique_idempotency_key"
            ),
            models.CheckConstraint(condition=Q(total_minor__gte=0), name="order_total_gte_0"),
        ]

    def __str__(self) -> str:
        return self.public_id

    def get_absolute_url(self) -> str:
        return reverse("orders:order-detail", kwargs={"public_id": self.public_id})

    def status_summary(self) -> str:
        """Return one LineStatus value for the whole order, from its (prefetched) lines."""
        statuses = {line.status for line in self.lines.all()}
        live = statuses - {LineStatus.CANCELLED, LineStatus.RETURNED}
        if not live:
            return LineStatus.RETURNED if LineStatus.RETURNED in statuses else LineStatus.CANCELLED
        if live == {LineStatus.DELIVERED}:
            return LineStatus.DELIVERED
        if live & {LineStatus.SHIPPED, LineStatus.DELIVERED}:
            return LineStatus.SHIPPED
        return LineStatus.CONFIRMED

    def status_summary_label(self) -> str:
        return LineStatus(self.status_summary()).label


class LineStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    RETURNED = "returned", _("Returned")


# Which status may follow which. Cancelled and returned are final: their stock
# went back to the shelf once, and must never go back twice.
LINE_TRANSITIONS: dict[str, frozenset[str]] = {
    LineStatus.CONFIRMED: frozenset({LineStatus.SHIPPED, LineStatus.CANCELLED}),
    LineStatus.SHIPPED: frozenset({LineStatus.DELIVERED, LineStatus.RETURNED}),
    LineStatus.DELIVERED: frozenset({LineStatus.RETURNED}),
    LineStatus.CANCELLED: frozenset(),
    LineStatus.RETURNED: frozenset(),
}
RESTOCKING_STATUSES = frozenset({LineStatus.CANCELLED, LineStatus.RETURNED})


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    seller = models.ForeignKey(
        "catalog.Seller", on_delete=models.PROTECT, related_name="order_lines",
        verbose_name=_("seller"),
    )
    # SET_NULL: the snapshot below is what was sold; a deleted listing must not
    # take the seller's order history with it.
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    title = models.CharField(_("title"), max_length=140)
    unit_price_minor = models.BigIntegerField(_("unit price (minor units)"))
    quantity = models.PositiveIntegerField(_("quantity"))
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"), max_length=10, choices=LineStatus.choices, default=LineStatus.CONFIRMED
    )
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    # Cash on delivery bookkeeping: the seller (or courier) records the cash
    # taken at the door; staff reconcile it against the remittance.
    cod_collected_minor = models.BigIntegerField(
        _("cash collected (minor units)"), null=True, blank=True
    )
    cod_collected_at = models.DateTimeField(_("cash collected at"), null=True, blank=True)
    cod_reconciled_at = models.DateTimeField(_("reconciled at"), null=True, blank=True)

    class Meta:
        ordering = ["order_id", "id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        indexes = [models.Index(fields=["seller", "status"], name="orderline_seller_status")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orderline_quantity_gte_1"),
            models.CheckConstraint(
                condition=Q(unit_price_minor__gte=0), name="orderline_price_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(status__in=LineStatus.values), name="orderline_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(cod_collected_minor__isnull=True) | Q(cod_collected_minor__gte=0),
                name="orderline_cod_collected_gte_0",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.title}"

    @property
    def line_total_minor(self) -> int:
        return self.unit_price_minor * self.quantity

    @property
    def cod_collected(self) -> bool:
        return self.cod_collected_at is not None

    @property
    def cod_reconciled(self) -> bool:
        return self.cod_reconciled_at is not None


def orders_setting(name: str):
    """Return one of the orders app's settings (read at call time, so tests can override)."""
    defaults = {
        # A budget shopper ordering 11 of one thing is almost always a mis-tap.
        "ORDERS_MAX_LINE_QUANTITY": 10,
        "ORDERS_MAX_CART_LINES": 30,
        # Days an erased shopper's open order keeps its delivery details at most.
        "ORDERS_ERASURE_MAX_HOLD_DAYS": 90,
    }
    return getattr(settings, name, defaults[name])
