"""Review reads: a product's shown reviews (a page), its rating, who may review it."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db.models import OuterRef, QuerySet, Subquery, TextField
from django.db.models.functions import JSONObject
from django.http import Http404

from catalog.models import Product

from .models import PHOTOS_MAX, ProductRating, Review, ReviewPhoto, rating_average
from .services import review_eligible_line


@dataclass(frozen=True)
class RatingSummary:
    """A product's precomputed rating: average to one decimal (None: no ratings) and count."""

    average: float | None
    count: int


def product_rating_get(*, product_id: int) -> RatingSummary:
    """Return the rating of a published product, or raise Http404. One query (product + rating)."""
    row = (Product.objects.published().filter(pk=product_id)
           .values_list("rating__count", "rating__total").first())
    if row is None:
        raise Http404
    count, total = row
    return RatingSummary(average=rating_average(count, total), count=count or 0)


def product_rating_of(product: Product):
    """Return the ProductRating of a product loaded with select_related("rating"), or None."""
    try:
        return product.rating
    except ProductRating.DoesNotExist:
        return None


@dataclass(frozen=True)
class ShownPhoto:
    """A ready review photo as pages and the API show it."""

    width: int
    height: int
    variants: list[dict]
    placeholder_color: str
    original: str

    @classmethod
    def from_json(cls, data: dict | str) -> ShownPhoto:
        if isinstance(data, str):  # the JSON object as text (both backends, TextField)
            data = json.loads(data)
        variants = data.get("variants") or []
        if isinstance(variants, str):  # SQLite nests JSON columns as strings
            variants = json.loads(variants)
        return cls(width=data.get("width") or 0, height=data.get("height") or 0,
                   variants=variants, placeholder_color=data.get("placeholder_color") or "#dddddd",
                   original=data.get("original") or "")


def _photo_at(index: int) -> Subquery:
    # One subquery per position (at most PHOTOS_MAX): the reviews and their
    # photos in ONE portable query, where a prefetch would be a second one.
    photo = (
        ReviewPhoto.objects.filter(review=OuterRef("pk"), status=ReviewPhoto.Status.READY)
        .order_by("position", "id")
        .annotate(shown=JSONObject(width="width", height="height", variants="variants",
                                   placeholder_color="placeholder_color", original="original"))
        .values("shown")[index:index + 1]
    )
    return Subquery(photo, output_field=TextField())


def product_reviews_queryset(*, product_id: int) -> QuerySet[Review]:
    """Return the product's shown reviews, newest first, each with its ready photos.

    One query however many rows a page has; read the photos with `review_photos(review)`.
    """
    return (
        Review.objects.shown().for_product(product_id)
        .only("pk", "rating", "text", "created_at", "seller_reply", "replied_at", "product_id")
        .annotate(**{f"photo_{index}": _photo_at(index) for index in range(PHOTOS_MAX)})
        .order_by("-id")
    )


def review_photos(review: Review) -> list[ShownPhoto]:
    """Return the ready photos of a review read by product_reviews_queryset, in order."""
    return [ShownPhoto.from_json(data) for index in range(PHOTOS_MAX)
            if (data := getattr(review, f"photo_{index}", None))]


def review_form_state_get(*, shopper, product_id: int) -> str:
    """Return "reviewed", "eligible" or "none": what the product page offers the shopper."""
    if shopper is None or shopper.pk is None:
        return "none"
    if Review.objects.filter(shopper=shopper, product_id=product_id).exists():
        return "reviewed"
    return "eligible" if review_eligible_line(shopper=shopper, product_id=product_id) else "none"
