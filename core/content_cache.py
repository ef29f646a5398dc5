"""A cache for values keyed by a digest of their content: this process's
memory in front of the shared cache.

A key that names its content can never point at a stale value, so the
in-process copy needs no invalidation and no cross-process coordination; it
only saves the shared cache's round trip and unpickling (locmem pickles too)
for the cards every page shows. Values must be treated as read-only: callers
get the stored object itself.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.cache import cache

_instances: weakref.WeakSet[ContentCache] = weakref.WeakSet()


def clear_local_copies() -> None:
    """Forget every in-process copy (tests do, with the shared cache)."""
    for instance in list(_instances):
        instance.clear_local()


class ContentCache:
    def __init__(self, *, prefix: str, timeout: int, max_local: int = 4096):
        _instances.add(self)
        self.prefix = prefix
        self.timeout = timeout
        self.max_local = max_local
        self._local: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get_many(self, digests: Iterable[str]) -> dict[str, Any]:
        """Return {digest: value} for the digests held here or in the shared cache."""
        digests = list(digests)
        found = {d: self._local[d] for d in digests if d in self._local}
        wanted = [d for d in digests if d not in found]
        if wanted:
            shared = cache.get_many([self.prefix + d for d in wanted])
            fetched = {d: shared[self.prefix + d] for d in wanted if self.prefix + d in shared}
            self._remember(fetched)
            found.update(fetched)
        return found

    def set_many(self, values: Mapping[str, Any]) -> None:
        if values:
            cache.set_many({self.prefix + d: v for d, v in values.items()}, self.timeout)
            self._remember(values)

    def clear_local(self) -> None:
        with self._lock:
            self._local.clear()

    def _remember(self, values: Mapping[str, Any]) -> None:
        if not values:
            return
        with self._lock:
            if len(self._local) + len(values) > self.max_local:
                # Crude but cheap: forget everything and refill from use.
                self._local.clear()
            self._local.update(values)
