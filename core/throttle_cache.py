"""The cache that rate limits count in: one that every gunicorn worker shares.

Counting in a per-process cache (locmem) means each of the 2 x cores + 1
workers keeps its own count: 20 wrong passwords met 5 different counters and
17 got through, and 300 event posts met a 120/min limit that never tripped.

- With REDIS_URL the default cache is Redis: shared by every worker and every
  machine, INCR atomic. `throttle_cache()` is then simply the default cache.
- Without (the embedded one-machine setup) settings add a "throttle" cache:
  `LockedFileCache`, Django's file cache in var/ with add() and incr() done
  under an exclusive flock, so the workers of the machine count together and
  two requests at the same instant cannot both read the old count. A file
  cache rather than the database cache: a counter bump is then a small file
  write, not a write transaction competing with orders for SQLite's one
  writer lock, and the database cache's incr() is a read-then-write that
  loses counts under concurrency anyway.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import time
from contextlib import contextmanager

from django.core.cache import cache, caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache

THROTTLE_ALIAS = "throttle"


def throttle_cache():
    """Return the cache that throttles count in (the shared "throttle" one when configured)."""
    from django.conf import settings

    return caches[THROTTLE_ALIAS] if THROTTLE_ALIAS in settings.CACHES else cache


class LockedFileCache(FileBasedCache):
    """Django's file cache with add() and incr() atomic across processes (flock)."""

    @contextmanager
    def _locked(self):
        os.makedirs(self._dir, 0o700, exist_ok=True)
        with open(os.path.join(self._dir, ".lock"), "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        with self._locked():
            return super().add(key, value, timeout, version)

    def incr(self, key, delta=1, version=None):
        # BaseCache.incr() is get() then set() with the *default* timeout: not
        # atomic, and it would move a window's expiry on every bump. Here the
        # bump is under the lock and keeps the expiry the key was added with.
        with self._locked():
            value = self.get(key, version=version)
            if value is None:
                raise ValueError(f"Key '{key}' not found")
            expiry = self._expiry(key, version)
            timeout = None if expiry is None else max(1.0, expiry - time.time())
            self.set(key, value + delta, timeout=timeout, version=version)
            return value + delta

    def _expiry(self, key, version) -> float | None:
        try:
            with open(self._key_to_file(key, version), "rb") as handle:
                return pickle.load(handle)  # noqa: S301 - our own cache file, as Django reads it
        except FileNotFoundError:
            return time.time()
