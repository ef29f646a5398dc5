"""Signals orders sends for the layers above it (notifications), which orders never imports.

`order_status_changed` is sent once the transaction that changed the order
has committed (`transaction.on_commit`), so a receiver never sees, or acts on,
a change that was rolled back. Keyword arguments:

- `order_id`: the Order's primary key;
- `line_ids`: the OrderLine keys that moved (every line when the order was placed);
- `status`: the LineStatus value they moved to (`confirmed` when placed);
- `previous`: the status they moved from, or None when the order was just placed.

Receivers run in the request or task that made the change: keep them to
queueing background work.
"""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal

order_status_changed = Signal()


def order_status_changed_on_commit(*, sender, order_id: int, line_ids: list[int], status: str,
                                   previous: str | None) -> None:
    """Send `order_status_changed` after the current transaction commits (now if none)."""
    transaction.on_commit(lambda: order_status_changed.send(
        sender=sender, order_id=order_id, line_ids=list(line_ids), status=str(status),
        previous=None if previous is None else str(previous),
    ))
