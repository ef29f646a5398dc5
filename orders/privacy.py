"""Orders' part in a shopper's data export, erasure and sign-in merge.

Erasure keeps the orders: sellers must keep them for their accounts and tax
records, and the stock and cash figures depend on them. What identifies the
shopper (name, phone, address, postal code) is blanked instead, and the link
to the profile goes when the profile row is deleted (SET_NULL). The cart is
the shopper's alone and is deleted with the profile (CASCADE).

An order that is still open when the shopper asks (a line not yet delivered,
or delivered but the cash not yet collected) keeps its delivery details: the
seller needs them to hand the parcel over and collect the money, and blanking
them would strand a paid-for parcel. Such an order is marked
`erasure_requested_at`; `purge_shoppers` (daily) blanks it once it settles, or
after ORDERS_ERASURE_MAX_HOLD_DAYS whatever happens, so an order a seller
never closes cannot keep the details for ever. The shopper is told which
orders are kept, which fields and why (the erasure answer and the export).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from personalization import privacy as shopper_privacy

from .models import Cart, CartLine, LineStatus, Order, OrderLine, PaymentStatus, orders_setting
from .referrals import referrals_erase, referrals_export, referrals_merge

DELIVERY_FIELDS = ("name", "phone", "address", "postal_code")
_BLANK = dict.fromkeys(DELIVERY_FIELDS, "")


def _max_hold_days() -> int:
    # Long enough for a slow courier and a late cash remittance, short enough
    # that an order nobody closes does not keep an address indefinitely.
    return int(orders_setting("ORDERS_ERASURE_MAX_HOLD_DAYS"))


def orders_open(orders: QuerySet[Order]) -> QuerySet[Order]:
    """Return the orders of `orders` that still need their delivery details.

    Open: a line confirmed, shipped or out for delivery, or delivered while the money is still
    due (cash not collected and the order not paid by another method).
    Cancelled and returned lines are final.
    """
    open_lines = OrderLine.objects.filter(
        Q(status__in=[LineStatus.CONFIRMED, LineStatus.SHIPPED, LineStatus.OUT_FOR_DELIVERY])
        | (Q(status=LineStatus.DELIVERED, cod_collected_at__isnull=True)
           & ~Q(order__payment_status=PaymentStatus.PAID))
    )
    return orders.filter(pk__in=open_lines.values("order_id"))


def _retention_notice(order_id: str) -> dict:
    return {
        "order": order_id,
        "kept": list(DELIVERY_FIELDS),
        "reason": _("The order is not yet delivered and paid: the seller needs your name, "
                    "phone and address to deliver it and collect the cash."),
        "until": _("Erased once the order is delivered and paid, at the latest %(days)d days "
                   "after your request.") % {"days": _max_hold_days()},
    }


def orders_export(shopper) -> dict:
    """Return the shopper's orders and cart as JSON-serialisable data."""
    orders = Order.objects.filter(shopper=shopper).prefetch_related("lines").select_related(
        "region"
    )
    open_ids = set(orders_open(Order.objects.filter(shopper=shopper)).values_list("pk", flat=True))
    return {
        "orders": [
            {
                "order": order.public_id,
                "placed_at": order.placed_at.isoformat(),
                "name": order.name,
                "phone": order.phone,
                "address": order.address,
                "postal_code": order.postal_code,
                "region": order.region.code,
                "currency": order.currency,
                "total_minor": order.total_minor,
                "payment_method": order.payment_method,
                "payment_status": order.payment_status,
                # What erasing now would keep of this order, and why (None: nothing).
                "kept_on_erasure": _retention_notice(order.public_id)
                if order.pk in open_ids else None,
                "lines": [
                    {"title": line.title, "quantity": line.quantity,
                     "unit_price_minor": line.unit_price_minor, "status": line.status}
                    for line in order.lines.all()
                ],
            }
            for order in orders
        ],
        "cart": [
            {"product": line.product_id, "quantity": line.quantity}
            for line in CartLine.objects.filter(cart__shopper=shopper).order_by("id")
        ],
    }


def orders_erase(shopper) -> list[dict]:
    """Blank the delivery details of settled orders, hold those of open ones; say what is kept."""
    now = timezone.now()
    orders = Order.objects.filter(shopper=shopper, anonymised_at__isnull=True)
    held = list(orders_open(orders).values_list("pk", "public_id"))
    held_pks = [pk for pk, _public_id in held]
    orders.exclude(pk__in=held_pks).update(**_BLANK, anonymised_at=now,
                                           erasure_requested_at=now)
    Order.objects.filter(pk__in=held_pks).update(erasure_requested_at=now)
    return [_retention_notice(public_id) for _pk, public_id in held]


def orders_anonymise_due(*, now: datetime | None = None) -> int:
    """Blank held orders that have settled or waited the longest hold; return how many."""
    now = now or timezone.now()
    held = Order.objects.filter(erasure_requested_at__isnull=False, anonymised_at__isnull=True)
    expired = Q(erasure_requested_at__lt=now - timedelta(days=_max_hold_days()))
    due = held.filter(expired | ~Q(pk__in=orders_open(held).values("pk")))
    return due.update(**_BLANK, anonymised_at=now)


def orders_merge(source, target) -> None:
    """Move orders and cart lines of `source` (an anonymous profile) to `target` on sign-in."""
    # An idempotency key is only unique per shopper; in the (astronomically
    # unlikely) case both profiles used the same key, the moved order's key is
    # made distinct so the merge cannot fail on the unique constraint.
    taken = Order.objects.filter(shopper=target).values("idempotency_key")
    for order in Order.objects.filter(shopper=source, idempotency_key__in=taken):
        order.idempotency_key = f"merged-{order.pk}"
        order.save(update_fields=["idempotency_key"])
    Order.objects.filter(shopper=source).update(shopper=target)

    source_cart = Cart.objects.filter(shopper=source).first()
    if source_cart is None:
        return
    target_cart, _created = Cart.objects.get_or_create(shopper=target)
    limit = orders_setting("ORDERS_MAX_LINE_QUANTITY")
    existing = {line.product_id: line for line in target_cart.lines.all()}
    for line in source_cart.lines.all():
        if (kept := existing.get(line.product_id)) is not None:
            # The same item in both carts: keep one line, capped at the limit.
            CartLine.objects.filter(pk=kept.pk).update(
                quantity=min(limit, kept.quantity + line.quantity)
            )
            line.delete()
        else:
            CartLine.objects.filter(pk=line.pk).update(cart=target_cart)
    source_cart.delete()


def register() -> None:
    shopper_privacy.register_exporter("orders", orders_export)
    shopper_privacy.register_eraser(orders_erase)
    shopper_privacy.register_purger("orders anonymised after settling", orders_anonymise_due)
    shopper_privacy.register_merger(orders_merge)
    shopper_privacy.register_exporter("referrals", referrals_export)
    shopper_privacy.register_eraser(referrals_erase)
    shopper_privacy.register_merger(referrals_merge)

