"""Ratings as the ranking's quality prior: the provider personalization's rebuild asks.

Personalization sits below reviews and never imports it; this module hands it
the ratings through its hook (personalization/quality.py), registered in
ReviewsConfig.ready(). The rebuild turns them into a bounded factor per
product. Only shown reviews count: a review staff hid is out of the product's
rating, and so out of its ranking too.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Sum
from django.utils import timezone

from personalization import quality

from .models import ProductRating, Review

# A rebuild "as of now" (the scheduled one, give or take how long it ran
# before asking) reads the precomputed ratings; one at an earlier cut-off
# (`evaluate_ranking`, the weight fit's held-out windows) counts the shown
# reviews written by then, so that it never sees ratings from its own future.
CURRENT_WITHIN = timedelta(minutes=30)


def ratings_known_at(as_of: datetime) -> dict[int, tuple[int, int]]:
    """Return {product_id: (count, total)} of the shown ratings written by `as_of`."""
    if as_of >= timezone.now() - CURRENT_WITHIN:
        rows = ProductRating.objects.filter(count__gt=0).values_list(
            "product_id", "count", "total")
    else:
        rows = (Review.objects.shown().filter(created_at__lte=as_of)
                .order_by().values("product_id")  # no Meta ordering in the GROUP BY
                .annotate(count=Count("id"), total=Sum("rating"))
                .values_list("product_id", "count", "total"))
    return {product_id: (count, total) for product_id, count, total in rows}


def register() -> None:
    quality.register_quality_provider("reviews", ratings_known_at)
