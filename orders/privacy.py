"""Orders' part in a shopper's data export, erasure and sign-in merge.

Erasure keeps the orders: sellers must keep them for their accounts and tax
records, and the stock and cash figures depend on them. What identifies the
shopper (name, phone, address, postal code) is blanked instead, and the link
to the profile goes when the profile row is deleted (SET_NULL). The cart is
the shopper's alone and is deleted with the profile (CASCADE).
"""

from __future__ import annotations

from django.utils import timezone

from personalization import privacy as shopper_privacy

from .models import Cart, CartLine, Order, orders_setting


def orders_export(shopper) -> dict:
    """Return the shopper's orders and cart as JSON-serialisable data."""
    orders = Order.objects.filter(shopper=shopper).prefetch_related("lines").select_related(
        "region"
    )
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


def orders_erase(shopper) -> None:
    """Blank the delivery details of the shopper's orders; the orders themselves stay."""
    Order.objects.filter(shopper=shopper).update(
        name="", phone="", address="", postal_code="", anonymised_at=timezone.now()
    )


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
    shopper_privacy.register_merger(orders_merge)

