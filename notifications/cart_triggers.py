"""Messages about what the shopper carted: back in stock, price drop, cart left behind.

- Back in stock / price drop: catalog's `product_changed` signal (sent after
  commit by `product_update`) queues `product_change_notify_task`, which tells
  every shopper with the listing in their cart (the shop has no wish list
  yet: the cart is what "saved" means here). A price drop is told only to
  shoppers who carted it at a higher price.
- Abandoned cart: the scheduled `carts_abandoned_notify_task` finds carts whose
  newest line is between ABANDONED_CART_AFTER_HOURS and
  ABANDONED_CART_MAX_AGE_HOURS old with no order since, one message per cart
  and episode (a line added later starts a new episode).

All are non-order kinds: caps, quiet hours and the shopper's stops apply.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, OuterRef, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from catalog.models import Product
from catalog.money import format_money
from orders.models import Cart, CartLine, Order

from .conf import get_config
from .models import Kind, Notification
from .services import notification_create

Status = Notification.Status


def _language(shopper) -> str:
    region_language = shopper.region.language if shopper.region_id else ""
    return shopper.language or region_language or translation.get_language()


def product_change_notify(*, product_id: int, kind: str, new: int,
                          now: dt.datetime | None = None) -> list[int]:
    """Tell the shoppers who carted the listing it is back or cheaper; return the ids sent now."""
    product = Product.objects.published().filter(pk=product_id).first()
    if product is None:
        return []
    now = now or timezone.now()
    lines = CartLine.objects.filter(product_id=product_id).select_related(
        "cart__shopper", "cart__shopper__region")
    if kind == Kind.PRICE_DROP:
        lines = lines.filter(unit_price_minor_seen__gt=new)
        key = f"price_drop:{product_id}:{new}"
    else:
        key = f"back_in_stock:{product_id}:{now.date().isoformat()}"
    told = []
    for line in lines.order_by("id"):
        shopper = line.cart.shopper
        with translation.override(_language(shopper)):
            if kind == Kind.PRICE_DROP:
                title = _("Price drop: %(title)s") % {"title": product.title}
                body = _("Now %(price)s, was %(old)s when you added it. Pay cash on delivery.") % {
                    "price": format_money(new, product.currency),
                    "old": format_money(line.unit_price_minor_seen, product.currency)}
            else:
                title = _("%(title)s is back in stock") % {"title": product.title}
                body = _("It is in your cart. Order it before it sells out again.")
        note, created = notification_create(shopper=shopper, kind=kind, title=title, body=body,
                                            link=product.get_absolute_url(), dedupe_key=key,
                                            now=now, product_id=product.pk)
        if created and note.status == Status.SENT:
            told.append(note.pk)
    return told


def carts_abandoned_notify(*, now: dt.datetime | None = None, limit: int = 1000) -> list[int]:
    """Remind shoppers of carts left behind; return the ids of the reminders sent."""
    config = get_config()
    now = now or timezone.now()
    ordered_since = Order.objects.filter(shopper=OuterRef("shopper"),
                                         placed_at__gte=OuterRef("last_added"))
    lines = CartLine.objects.filter(cart=OuterRef("pk"))
    carts = (
        Cart.objects.annotate(
            last_added=Subquery(lines.order_by("-added_at").values("added_at")[:1]),
            items=Subquery(lines.values("cart").annotate(n=Count("pk")).values("n")))
        .filter(last_added__lte=now - dt.timedelta(hours=config["ABANDONED_CART_AFTER_HOURS"]),
                last_added__gte=now - dt.timedelta(
                    hours=config["ABANDONED_CART_MAX_AGE_HOURS"]))
        .exclude(Exists(ordered_since))
        .select_related("shopper", "shopper__region")
        .order_by("last_added", "id")[:limit]
    )
    sent = []
    for cart in carts:
        with translation.override(_language(cart.shopper)):
            title = _("Your cart is waiting")
            body = ngettext("%(n)d item is still in your cart. Pay cash on delivery.",
                            "%(n)d items are still in your cart. Pay cash on delivery.",
                            cart.items) % {"n": cart.items}
        note, created = notification_create(
            shopper=cart.shopper, kind=Kind.CART_ABANDONED, title=title, body=body,
            link="/cart/", dedupe_key=f"cart:{cart.pk}:{int(cart.last_added.timestamp())}",
            now=now)
        if created and note.status == Status.SENT:
            sent.append(note.pk)
    return sent
