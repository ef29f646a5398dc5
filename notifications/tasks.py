"""Notification background tasks: composing and sending run off the request path."""

from __future__ import annotations

import time

from django.db import OperationalError
from django_tasks import task

from core.tasks import enqueue_on_commit, retrying

from . import adapt, cart_triggers, habit, services, triggers


@task()
# A locked database is worth another try; the sends are idempotent (one row per
# dedupe key, one Delivery per channel), so a retry never repeats a message.
@retrying(retry_on=(OperationalError,))
def order_status_notify_task(*, order_id: int, line_ids: list[int], status: str) -> int | None:
    """Tell the shopper their order moved to `status`; return the notification id."""
    notification = triggers.order_status_notify(order_id=order_id, line_ids=line_ids,
                                                status=status)
    if notification is None:
        return None
    services.notification_deliver(notification_id=notification.pk)
    return notification.pk


@task()
@retrying(retry_on=(OperationalError,))
def notification_deliver_task(*, notification_id: int) -> int:
    """Send a notification on its push and SMS channels; return how many channels were tried."""
    return len(services.notification_deliver(notification_id=notification_id))


# A release run stops taking new batches after this long, so one run never
# overlaps the next tick of the schedule for long.
RELEASE_BUDGET_SECONDS = 240
RELEASE_BATCH = 1000


@task()
def notifications_deferred_send() -> int:
    """Release the deferred notifications that are due (scheduled); return how many went out."""
    started, total = time.monotonic(), 0
    while True:
        sent = services.notifications_deferred_release(limit=RELEASE_BATCH)
        for notification_id in sent:
            services.notification_deliver(notification_id=notification_id)
        total += len(sent)
        if not services.notifications_deferred_due_exists() \
                or time.monotonic() - started > RELEASE_BUDGET_SECONDS:
            return total


@task()
def segment_caps_adapt_task() -> int:
    """Adapt the region segments' caps to their opt-outs and clicks (scheduled daily)."""
    return len(adapt.segment_caps_adapt())


def _deliver_later(notification_ids: list[int]) -> int:
    # One delivery task per message: a product carted by thousands must not
    # make one task that runs for an hour.
    for notification_id in notification_ids:
        enqueue_on_commit(notification_deliver_task, notification_id=notification_id)
    return len(notification_ids)


@task()
@retrying(retry_on=(OperationalError,))
def product_change_notify_task(*, product_id: int, kind: str, new: int) -> int:
    """Tell shoppers who carted a listing that it is back in stock or cheaper."""
    return _deliver_later(cart_triggers.product_change_notify(product_id=product_id, kind=kind,
                                                              new=new))


@task()
def carts_abandoned_notify_task() -> int:
    """Remind shoppers of carts left behind (scheduled)."""
    return _deliver_later(cart_triggers.carts_abandoned_notify())


@task()
def habit_nudges_send_task() -> int:
    """Nudge shoppers by lifecycle stage, once a week each (scheduled daily)."""
    return _deliver_later(habit.habit_nudges_send())
