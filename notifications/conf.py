"""Notification settings: one defaults dict, overridable by settings.NOTIFICATIONS.

Read through `get_config()` inside functions (never at import time) so tests
that override settings see their values; the cache drops on `setting_changed`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

DEFAULTS: dict[str, Any] = {
    # Per-shopper caps on non-order messages, per local day and per 7 days.
    # Meesho's figures: low-tolerance segments uninstall past 5-6 a day,
    # tolerant ones take 15-16; the default is the cautious end, and
    # `SegmentCap` rows raise or lower it per segment.
    "DAILY_CAP": 5,
    "WEEKLY_CAP": 20,
    # Quiet hours in the shopper's local time (the region's time zone):
    # [start, end) in whole hours; start > end wraps midnight.
    "QUIET_HOURS": (21, 8),
    # Used when the shopper has no region or no region up the tree has a zone.
    "DEFAULT_TIME_ZONE": "Asia/Kolkata",
    # Kinds worth holding to the next day when the day's cap is reached (the
    # item is still back in stock tomorrow); the others are dropped.
    "DEFERRABLE_KINDS": ("back_in_stock", "price_drop"),
    # Web Push: seconds a push service keeps an undelivered message (RFC 8030 TTL).
    "PUSH_TTL_SECONDS": 24 * 3600,
    "PUSH_TIMEOUT_SECONDS": 10.0,
    # Dotted path of an SMS/WhatsApp provider class (notifications.channels.
    # MessageProvider); None: no such channel. None ships with the shop.
    "SMS_PROVIDER": None,
    "SMS_PROVIDER_OPTIONS": {},
    # Adaptive caps (notifications/adapt.py, daily): over the last WINDOW days
    # a segment of the shopper's region (alone, or with age band and/or
    # gender) whose opt-outs per non-order message sent exceed HIGH
    # loses one message a day; one with clicks per message above CTR_HIGH and
    # opt-outs below LOW gains one, within [MIN, MAX] (Meesho's 5-6 and 15-16
    # a day are the two ends). Segments with fewer than K_THRESHOLD shoppers
    # reached are left alone (too few to judge, and they could single people out).
    "ADAPT_WINDOW_DAYS": 14,
    "ADAPT_OPT_OUT_HIGH": 0.02,
    "ADAPT_OPT_OUT_LOW": 0.005,
    "ADAPT_CTR_HIGH": 0.10,
    "ADAPT_DAILY_MIN": 2,
    "ADAPT_DAILY_MAX": 16,
    "ADAPT_WEEKLY_PER_DAILY": 4,
    # A cart whose newest line is this old, with no order since, gets one
    # reminder; carts older than the maximum are left alone.
    "ABANDONED_CART_AFTER_HOURS": 4,
    "ABANDONED_CART_MAX_AGE_HOURS": 72,
    # Campaigns sent at the segment's active hour (sendtime.py) read the
    # segment's events of this many days back.
    "ACTIVE_HOURS_DAYS": 28,
    # A campaign's category affinity: shoppers who clicked, carted, shared or
    # bought in the category within this many days.
    "AUDIENCE_AFFINITY_DAYS": 90,
    # Inbox page and API page size.
    "PAGE_SIZE": 20,
}


@cache
def get_config() -> dict[str, Any]:
    """Return settings.NOTIFICATIONS over DEFAULTS."""
    return {**DEFAULTS, **getattr(settings, "NOTIFICATIONS", {})}


@receiver(setting_changed)
def _drop_cache(*, setting, **kwargs) -> None:
    if setting == "NOTIFICATIONS":
        get_config.cache_clear()


def vapid_settings() -> dict[str, str]:
    """Return the VAPID keys and subject (empty strings when Web Push is not configured)."""
    return {
        "private_key": getattr(settings, "SHOP_VAPID_PRIVATE_KEY", "") or "",
        "public_key": getattr(settings, "SHOP_VAPID_PUBLIC_KEY", "") or "",
        "subject": getattr(settings, "SHOP_VAPID_SUBJECT", "") or "",
    }
