"""Reviews' part in a shopper's data export, erasure and sign-in merge.

Erasure deletes the shopper's reviews and their photos (a review is the
shopper's own words and pictures; nothing obliges us to keep them) and
recounts the ratings. Orders are not touched: a live order keeps going
(orders.privacy decides what it keeps), and the review's link to its order
line simply goes with the review.
"""

from __future__ import annotations

from django.core.files.storage import default_storage

from personalization import privacy as shopper_privacy

from .models import Review
from .services import reviews_delete


def reviews_export(shopper) -> list[dict]:
    """Return the shopper's reviews (with photos, replies and moderation) as plain data."""
    reviews = (Review.objects.filter(shopper=shopper).select_related("product")
               .prefetch_related("photos").order_by("id"))
    return [
        {
            "product": review.product_id,
            "product_title": review.product.title,
            "rating": review.rating,
            "text": review.text,
            "created_at": review.created_at.isoformat(),
            "hidden": review.hidden,
            "hidden_reason": review.hidden_reason,
            "seller_reply": review.seller_reply,
            "replied_at": review.replied_at.isoformat() if review.replied_at else None,
            "photos": [default_storage.url(photo.original) for photo in review.photos.all()],
        }
        for review in reviews
    ]


def reviews_erase(shopper) -> None:
    """Delete the shopper's reviews and photos; the ratings are recounted."""
    reviews_delete(reviews=Review.objects.filter(shopper=shopper))


def reviews_merge(source, target) -> None:
    """Move `source`'s reviews to `target`; where both reviewed a product, keep `target`'s."""
    taken = Review.objects.filter(shopper=target).values("product_id")
    reviews_delete(reviews=Review.objects.filter(shopper=source, product_id__in=taken))
    Review.objects.filter(shopper=source).update(shopper=target)


def register() -> None:
    shopper_privacy.register_exporter("reviews", reviews_export)
    shopper_privacy.register_eraser(reviews_erase)
    shopper_privacy.register_merger(reviews_merge)
