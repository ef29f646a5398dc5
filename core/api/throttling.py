"""Rate limits on writes and on anonymous shopper creation.

DRF's SimpleRateThrottle keeps a list of timestamps per client and writes it
back after reading it: two requests at the same moment both read the old list
and one of them is never counted. Here each window is one counter bumped with
the cache's atomic `incr` (Redis INCR when REDIS_URL is set, so every gunicorn
worker and every machine share it; without Redis a file cache under a flock
that every worker of the machine shares: core/throttle_cache.py), so
concurrent requests can never slip past the limit together.

The client IP is core.client_ip's, the same as the login throttle's and the
audit log's: X-Forwarded-For only from the proxies SHOP_TRUSTED_PROXIES
names, read right to left, so a client cannot pick a fresh "IP" per request.
"""

from __future__ import annotations

import time

from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from core.client_ip import client_ip
from core.throttle_cache import throttle_cache


def parse_rate(rate: str) -> tuple[int, int]:
    """Return (requests, seconds) for "20/hour", "5/min", "1/s"."""
    count, _slash, period = rate.partition("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period.strip()[0].lower()]
    return int(count), seconds


class WindowRateThrottle(BaseThrottle):
    """A fixed-window counter per (scope, client) in the default cache."""

    scope: str = ""

    def get_ident_key(self, request, view) -> str | None:
        """Return who is counted, or None to not throttle this request."""
        raise NotImplementedError

    def get_ident(self, request) -> str:
        # Not DRF's NUM_PROXIES count: one policy for every per-client limit.
        return client_ip(request)

    def get_rate(self) -> str:
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def allow_request(self, request, view) -> bool:
        self.wait_seconds = None
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        ident = self.get_ident_key(request, view)
        if ident is None:
            return True
        limit, period = parse_rate(self.get_rate())
        now = time.time()
        window = int(now // period)
        key = f"throttle:{self.scope}:{ident}:{window}"
        # add() is a no-op when the key exists, then incr() is atomic (in the
        # cache every worker shares: Redis, or the locked file cache without it).
        cache = throttle_cache()
        cache.add(key, 0, timeout=period + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.add(key, 1, timeout=period + 1)
            count = 1
        if count > limit:
            self.wait_seconds = max(1, int((window + 1) * period - now + 0.999))
            return False
        return True

    def wait(self) -> float | None:
        return self.wait_seconds


class IpWriteThrottle(WindowRateThrottle):
    """Writes per client IP (whoever they claim to be)."""

    scope = "ip_write"

    def get_ident_key(self, request, view) -> str | None:
        return self.get_ident(request)


class ShopperWriteThrottle(WindowRateThrottle):
    """Writes per shopper (token or cookie): one shopper behind a shared IP is not
    punished for the others, and one shopper cannot flood from many IPs."""

    scope = "shopper_write"

    def get_ident_key(self, request, view) -> str | None:
        shopper = getattr(request, "auth", None)
        public_id = getattr(shopper, "public_id", None)
        return str(public_id) if public_id else None


class ShopperCreateThrottle(WindowRateThrottle):
    """Anonymous shopper creation per IP: each creation is a new row and a token."""

    scope = "shopper_create"

    def get_ident_key(self, request, view) -> str | None:
        return self.get_ident(request)
