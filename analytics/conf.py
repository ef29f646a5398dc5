"""Analytics settings: one defaults dict, overridable by settings.ANALYTICS.

The privacy threshold k and the habit thresholds are *not* here: they belong
to personalization (`personalization.conf`), so the feed and these reports can
never disagree about what a segment too small to show is, or what a habit is.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

DEFAULTS: dict[str, Any] = {
    # The reporting window of a refresh: funnel, revenue, segments, ranking
    # health and daily volumes. Days of cover use the units sold in it.
    "WINDOW_DAYS": 28,
    # Hourly event volume covers this many hours back from the refresh.
    "HOURLY_HOURS": 48,
    # Weekly cohorts shown on the growth page (newest first).
    "COHORT_WEEKS": 12,
    # A slow mover: listed at least this long, seen at least this often in the
    # window, and converting fewer than this many orders per 1000 impressions.
    "SLOW_MOVER_MIN_AGE_DAYS": 30,
    "SLOW_MOVER_MIN_IMPRESSIONS": 50,
    "SLOW_MOVER_MAX_ORDERS_PER_1000": 5,
    # Rows per page of the listings table (the CSV export has them all).
    "PAGE_SIZE": 50,
    # Notifications: an order the shopper placed up to this many days after
    # tapping a message counts as an order after a click (issue 16 asks for 7).
    "ORDERS_AFTER_CLICK_DAYS": 7,
}


@cache
def get_config() -> dict[str, Any]:
    """Return the defaults merged with settings.ANALYTICS, validated."""
    overrides = getattr(settings, "ANALYTICS", {}) or {}
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise ImproperlyConfigured(f"Unknown ANALYTICS setting(s): {', '.join(sorted(unknown))}")
    config = {**DEFAULTS, **overrides}
    for key, value in config.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ImproperlyConfigured(f"ANALYTICS[{key!r}] must be a positive integer.")
    return config


@receiver(setting_changed)
def _drop_cached_config(*, setting: str, **kwargs: Any) -> None:
    if setting == "ANALYTICS":
        get_config.cache_clear()
