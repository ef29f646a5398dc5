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
from django.utils import timezone
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
        # "Out for delivery" wins over "shipped": it is the day the shopper
        # must be home with the cash ready, even if another parcel is behind.
        if LineStatus.OUT_FOR_DELIVERY in live:
            return LineStatus.OUT_FOR_DELIVERY
        if live & {LineStatus.SHIPPED, LineStatus.DELIVERED}:
            return LineStatus.SHIPPED
        return LineStatus.CONFIRMED

    def status_summary_label(self) -> str:
        return LineStatus(self.status_summary()).label


class LineStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    SHIPPED = "shipped", _("Shipped")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    RETURNED = "returned", _("Returned")


# Which status may follow which. Cancelled and returned are final: their stock
# went back to the shelf once, and must never go back twice. Shipped may still
# go straight to delivered: sellers whose courier gives no "out for delivery"
# scan keep working as before, and so does every line shipped before it existed.
LINE_TRANSITIONS: dict[str, frozenset[str]] = {
    LineStatus.CONFIRMED: frozenset({LineStatus.SHIPPED, LineStatus.CANCELLED}),
    LineStatus.SHIPPED: frozenset(
        {LineStatus.OUT_FOR_DELIVERY, LineStatus.DELIVERED, LineStatus.RETURNED}
    ),
    # Refused at the door or nobody home: the parcel goes back as from shipped.
    LineStatus.OUT_FOR_DELIVERY: frozenset({LineStatus.DELIVERED, LineStatus.RETURNED}),
    LineStatus.DELIVERED: frozenset({LineStatus.RETURNED}),
    LineStatus.CANCELLED: frozenset(),
    LineStatus.RETURNED: frozenset(),
}
RESTOCKING_STATUSES = frozenset({LineStatus.CANCELLED, LineStatus.RETURNED})
# Cash may be recorded once the parcel has left: the courier takes it at the
# door and the seller often records it before marking the line delivered.
CASH_TAKING_STATUSES = frozenset(
    {LineStatus.SHIPPED, LineStatus.OUT_FOR_DELIVERY, LineStatus.DELIVERED}
)


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
        _("status"), max_length=20, choices=LineStatus.choices, default=LineStatus.CONFIRMED
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


class ReferralCredit(models.Model):
    """One order a shopper placed after arriving by another shopper's shared link.

    Made in the same transaction as the order (services._place), at most once
    per order: the unique constraint, not a check in Python, is what keeps a
    retried, replayed or concurrent placement from crediting the sharer twice.
    Both profiles are SET_NULL: when either is erased the order still counts
    as referred in the sellers' figures, but no longer points at anyone.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="referral_credits",
                              verbose_name=_("order"))
    # The sharer whose link the shopper arrived by.
    referrer = models.ForeignKey(
        "personalization.ShopperProfile", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("shared by"),
    )
    # The friend who ordered (the order's shopper at the time of the order).
    referred = models.ForeignKey(
        "personalization.ShopperProfile", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("friend"),
    )
    arrived_at = models.DateTimeField(_("arrived by the link"))
    created_at = models.DateTimeField(_("credited"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("referral credit")
        verbose_name_plural = _("referral credits")
        indexes = [models.Index(fields=["referrer", "referred"], name="referralcredit_referrer")]
        constraints = [
            models.UniqueConstraint(fields=["order"], name="referralcredit_once_per_order"),
        ]

    def __str__(self) -> str:
        return f"referral credit for order {self.order_id}"


def orders_setting(name: str):
    """Return one of the orders app's settings (read at call time, so tests can override)."""
    defaults = {
        # A budget shopper ordering 11 of one thing is almost always a mis-tap.
        "ORDERS_MAX_LINE_QUANTITY": 10,
        "ORDERS_MAX_CART_LINES": 30,
        # Days an erased shopper's open order keeps its delivery details at most.
        "ORDERS_ERASURE_MAX_HOLD_DAYS": 90,
        # A friend's order earns the sharer a credit when placed within this
        # many days of arriving by the shared link.
        "ORDERS_REFERRAL_WINDOW_DAYS": 7,
    }
    return getattr(settings, name, defaults[name])
