"""What every storefront template may read: data saver state, categories, static shell URLs."""

from __future__ import annotations

from django.core.cache import cache
from django.utils.functional import SimpleLazyObject

from catalog.models import Category

CATEGORIES_CACHE_KEY = "shop.nav.categories"
CATEGORIES_CACHE_SECONDS = 300


def _top_categories() -> list[dict]:
    # Lazy and cached: pages that do not show the category chips cost nothing,
    # and those that do cost one query every five minutes, not one per view.
    categories = cache.get(CATEGORIES_CACHE_KEY)
    if categories is None:
        categories = [
            {"name": c.name, "icon": c.icon, "url": c.get_absolute_url()}
            for c in Category.objects.filter(parent__isnull=True).order_by("position", "name")[:12]
        ]
        cache.set(CATEGORIES_CACHE_KEY, categories, CATEGORIES_CACHE_SECONDS)
    return categories


def storefront(request) -> dict:
    return {
        "save_data": getattr(request, "save_data", False),
        "nav_categories": SimpleLazyObject(_top_categories),
        # "Delivering to: India · change", on pages whose view resolved the
        # market (personalization.market.request_market); never resolved here,
        # so a page that shows no products reads no profile for it.
        "where": getattr(request, "_shopper_market", None),
    }
