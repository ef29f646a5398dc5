"""Hooks through which other apps take part in export, erasure and merging.

Personalization owns the shopper, but orders, carts and affinity rows live in
other apps (or other modules). Each registers, in its AppConfig.ready(), what
it holds about a shopper, so `shopper_export` returns every row and
`shopper_erase` leaves nothing behind, without this app importing theirs:

    from personalization import privacy
    privacy.register_exporter("orders", lambda shopper: [...])   # JSON-serialisable
    privacy.register_eraser(lambda shopper: Order.objects.filter(...).update(...))
    privacy.register_merger(lambda source, target: Cart.objects.filter(...).update(...))
    privacy.register_purger("orders anonymised", lambda now: 0)   # returns a count

Erasers and mergers run inside the caller's transaction, before the profile
row is deleted, so they can still follow foreign keys to it. An eraser that
must keep something for now (an order still to be delivered) returns notices
`{"kept": [fields], "reason": ..., "until": ...}` that the shopper is shown;
it then finishes the erasure in a purger, which `purge_shoppers` runs daily.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import ShopperProfile

Exporter = Callable[["ShopperProfile"], Any]
Eraser = Callable[["ShopperProfile"], list[dict] | None]
Merger = Callable[["ShopperProfile", "ShopperProfile"], None]
Purger = Callable[..., int]

_exporters: dict[str, Exporter] = {}
_erasers: list[Eraser] = []
_mergers: list[Merger] = []
_purgers: dict[str, Purger] = {}


def register_exporter(name: str, fn: Exporter) -> None:
    """Add `fn(shopper)` whose JSON-serialisable result is exported under `name`."""
    if name in {"profile", "tokens", "events", "format", "exported_at"}:
        raise ValueError(f"{name!r} is a reserved export section")
    _exporters[name] = fn  # by name: a second ready() (tests) does not duplicate


def register_eraser(fn: Eraser) -> None:
    """Add `fn(shopper)`, called when a shopper is erased, before the profile goes.

    It returns None, or a list of notices of what it keeps for now and why.
    """
    if fn not in _erasers:
        _erasers.append(fn)


def register_merger(fn: Merger) -> None:
    """Add `fn(source, target)`, called when `source` is merged into `target`."""
    if fn not in _mergers:
        _mergers.append(fn)


def register_purger(label: str, fn: Purger) -> None:
    """Add `fn(now=...)` -> count, run by `purge_shoppers`; `label` names the count."""
    _purgers[label] = fn


def exporters() -> dict[str, Exporter]:
    return dict(_exporters)


def erasers() -> list[Eraser]:
    return list(_erasers)


def mergers() -> list[Merger]:
    return list(_mergers)


def purgers() -> dict[str, Purger]:
    return dict(_purgers)
