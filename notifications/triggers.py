"""What makes a notification: order status changes (orders' `order_status_changed` signal).

Orders never imports this app; `NotificationsConfig.ready()` connects
`receivers.order_status_changed_received`, which only queues
`tasks.order_status_notify_task`, which calls `order_status_notify` here.
The task composes the message in the shopper's language and sends it.

One message per seller's parcel and status: lines of one seller move together
(the admin's bulk actions move them one by one), so the dedupe key is
`order:<public id>:<status>:<seller>` and the cash figure is that seller's
lines now in that status. Placing the order is one message for the whole order.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _

from catalog.money import format_money
from orders.models import LineStatus, Order, PaymentStatus

from .models import Kind, Notification
from .services import notification_send

STATUS_KINDS = {
    LineStatus.CONFIRMED: Kind.ORDER_CONFIRMED,
    LineStatus.SHIPPED: Kind.ORDER_SHIPPED,
    LineStatus.OUT_FOR_DELIVERY: Kind.ORDER_OUT_FOR_DELIVERY,
    LineStatus.DELIVERED: Kind.ORDER_DELIVERED,
}


def _cash_due(order: Order, lines) -> int | None:
    """Return the cash the courier collects for `lines`; None when nothing is paid at the door."""
    if order.payment_status != PaymentStatus.PENDING_COLLECTION:
        return None
    return sum(line.line_total_minor for line in lines if line.cod_collected_at is None)


def order_message(order: Order, *, status: str, line_ids: list[int]) -> tuple[str, str, str]:
    """Return (dedupe key, title, body) for `status` of `line_ids`, in the active language."""
    lines = [line for line in order.lines.all()]
    moved = [line for line in lines if line.pk in set(line_ids)]
    if status == LineStatus.CONFIRMED:
        parcel = [line for line in lines if line.status == LineStatus.CONFIRMED]
        key = f"order:{order.public_id}:{status}"
    else:
        sellers = {line.seller_id for line in moved}
        parcel = [line for line in lines if line.status == status and line.seller_id in sellers]
        key = f"order:{order.public_id}:{status}:{min(sellers) if sellers else 0}"
    cash = _cash_due(order, parcel)
    money = format_money(cash, order.currency) if cash else ""
    number = order.public_id
    if status == LineStatus.CONFIRMED:
        title = _("Order %(number)s confirmed") % {"number": number}
        body = (_("Thank you! Pay %(amount)s in cash when it arrives.") % {"amount": money}
                if money else _("Thank you! We will tell you when it ships."))
    elif status == LineStatus.SHIPPED:
        title = _("Order %(number)s shipped") % {"number": number}
        body = (_("On its way. Keep %(amount)s in cash ready for the courier.")
                % {"amount": money} if money else _("On its way to you."))
    elif status == LineStatus.OUT_FOR_DELIVERY:
        title = _("Order %(number)s arrives today") % {"number": number}
        body = (_("Out for delivery. Keep %(amount)s in cash ready.") % {"amount": money}
                if money else _("Out for delivery today."))
    else:
        title = _("Order %(number)s delivered") % {"number": number}
        body = (_("Delivered. Cash to pay the courier: %(amount)s.") % {"amount": money}
                if money else _("Delivered. Enjoy it!"))
    return key, title, body


def order_status_notify(*, order_id: int, line_ids: list[int], status: str) -> Notification | None:
    """Make the order message for the shopper; return it (None when there is nobody to tell)."""
    order = (Order.objects.select_related("shopper", "shopper__region", "region")
             .prefetch_related("lines").filter(pk=order_id).first())
    if order is None or order.shopper is None or status not in STATUS_KINDS:
        return None
    shopper = order.shopper
    language = shopper.language or order.region.language or translation.get_language()
    with translation.override(language):
        key, title, body = order_message(order, status=status, line_ids=line_ids)
    return notification_send(shopper=shopper, kind=STATUS_KINDS[status], title=title, body=body,
                             link=order.get_absolute_url(), dedupe_key=key)
