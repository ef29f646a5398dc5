"""Signal receivers, connected in NotificationsConfig.ready(): they only queue tasks."""

from __future__ import annotations

from core.tasks import enqueue_on_commit

from .models import Kind
from .tasks import order_status_notify_task, product_change_notify_task
from .triggers import STATUS_KINDS


def order_status_changed_received(sender, *, order_id: int, line_ids: list[int], status: str,
                                  previous: str | None = None, **kwargs) -> None:
    """Queue the shopper's message for an order status change (nothing for other statuses)."""
    if status in STATUS_KINDS:
        enqueue_on_commit(order_status_notify_task, order_id=order_id, line_ids=list(line_ids),
                          status=status)


def product_changed_received(sender, *, product_id: int, changes: dict, **kwargs) -> None:
    """Queue back-in-stock or price-drop messages when a listing's stock or price moved so."""
    old_stock, new_stock = changes.get("stock", (None, None))
    if old_stock is not None and old_stock <= 0 < new_stock:
        enqueue_on_commit(product_change_notify_task, product_id=product_id,
                          kind=Kind.BACK_IN_STOCK, new=new_stock)
    old_price, new_price = changes.get("price_minor", (None, None))
    if old_price is not None and new_price < old_price:
        enqueue_on_commit(product_change_notify_task, product_id=product_id,
                          kind=Kind.PRICE_DROP, new=new_price)
