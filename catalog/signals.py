"""Signals catalog sends for the layers above it (notifications), which catalog never imports.

`product_changed` is sent after the transaction that changed a listing has
committed (`transaction.on_commit`), with `product_id` and `changes`, a dict
of the watched fields that moved, each `(old, new)`: `price_minor`, `stock`.
Sent by `catalog.services.product_update` (the admin, the API); bulk imports
and orders' stock decrements do not send it.
"""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal

product_changed = Signal()

WATCHED_FIELDS = ("price_minor", "stock")


def product_changed_on_commit(*, sender, product_id: int, changes: dict) -> None:
    """Send `product_changed` once the current transaction commits, if anything watched moved."""
    if changes:
        transaction.on_commit(lambda: product_changed.send(
            sender=sender, product_id=product_id, changes=dict(changes)))
