"""Review writes: create (verified buyers only), the seller's reply, staff moderation.

Every writer (the product page, the API, the admin) goes through these, so
the eligibility, ownership and moderation rules are the same everywhere, and
each keeps the product's precomputed rating (ProductRating) current in the
same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import BinaryIO

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Product
from catalog.services import actor_sees_all, actor_seller
from core.tasks import enqueue_on_commit
from orders.models import LineStatus, OrderLine

from . import photos as review_photos
from . import tasks as review_tasks
from .models import PHOTOS_MAX, ProductRating, Review, ReviewPhoto


class ReviewNotAllowed(PermissionDenied):
    """The shopper has no delivered order line of the product (or the actor may not act)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def review_eligible_lines(*, shopper, product) -> QuerySet[OrderLine]:
    """Return the shopper's delivered lines of `product` (an id or OuterRef), latest first.

    The one rule of who may review: pages annotate it, the services check it.
    """
    return (OrderLine.objects.filter(order__shopper=shopper, product=product,
                                     status=LineStatus.DELIVERED)
            .order_by("-status_changed_at", "-id"))


def review_eligible_line(*, shopper, product_id: int) -> OrderLine | None:
    """Return the shopper's latest delivered order line of the product, or None."""
    if shopper is None or shopper.pk is None:
        return None
    return review_eligible_lines(shopper=shopper, product=product_id).first()


def review_create(*, shopper, product_id: int, rating: int | None, text: str = "",
                  photos: Sequence[BinaryIO] = ()) -> Review:
    """Return the new review of `product_id` by `shopper`, with its photos queued for rendering.

    Raises ReviewNotAllowed without a delivered order line of the product, and
    ValidationError (keys `rating`, `text`, `photos`, `product`) on bad input;
    nothing is written in either case.
    """
    line = review_eligible_line(shopper=shopper, product_id=product_id)
    if line is None:
        raise ReviewNotAllowed(_("Only shoppers who received this item can review it."))
    if len(photos) > PHOTOS_MAX:
        raise ValidationError({"photos": _("Add at most %(n)d photos.") % {"n": PHOTOS_MAX}})
    review = Review(shopper=shopper, product_id=product_id, order_line=line,
                    rating=rating, text=(text or "").strip())
    review.full_clean(exclude=["shopper", "product", "order_line"], validate_unique=False)
    # Every photo passes the pipeline's gate before any row is written; a
    # refused one stores nothing (the ones received before it are released).
    received = []
    try:
        for upload in photos:
            received.append(review_photos.review_photo_receive(upload=upload))
        try:
            with transaction.atomic():
                _product_lock(product_id)
                if Review.objects.filter(shopper=shopper, product_id=product_id).exists():
                    raise ValidationError({"product": _("You have already reviewed this item.")})
                review.save()
                for position, upload in enumerate(received):
                    photo = ReviewPhoto.objects.create(
                        review=review, position=position, original=upload.name,
                        width=upload.width, height=upload.height, content_hash=upload.sha256,
                    )
                    enqueue_on_commit(review_tasks.review_photo_render_task, photo_id=photo.pk)
                rating_refresh(product_id=product_id)
        except IntegrityError as exc:
            # Two submissions racing past the check (SQLite takes no row lock):
            # the unique constraint decides, and the loser is told why.
            raise ValidationError({"product": _("You have already reviewed this item.")}) from exc
    except BaseException:
        review_photos.review_photo_files_release(names=[upload.name for upload in received])
        raise
    return review


@transaction.atomic
def review_reply(*, review: Review, actor, text: str) -> Review:
    """Record the seller's one answer to `review`; return it saved.

    Only the seller of the reviewed product may answer (PermissionDenied), and
    only once (ValidationError on `seller_reply`).
    """
    review = Review.objects.select_for_update().select_related("product").get(pk=review.pk)
    seller = actor_seller(actor)
    if seller is None or seller.pk != review.product.seller_id:
        raise PermissionDenied(_("Only the seller of this item can answer its reviews."))
    if review.replied_at is not None:
        raise ValidationError({"seller_reply": _("This review already has your answer.")})
    text = (text or "").strip()
    if not text:
        raise ValidationError({"seller_reply": _("Write an answer.")})
    review.seller_reply, review.replied_at = text, timezone.now()
    review.full_clean(exclude=["shopper", "product", "order_line"], validate_unique=False)
    review.save(update_fields=["seller_reply", "replied_at"])
    return review


@transaction.atomic
def review_hide(*, review: Review, actor, reason: str) -> Review:
    """Hide `review` from shoppers with the staff member's reason; return it saved.

    Staff who see every seller only (PermissionDenied otherwise); a reason is
    required (ValidationError on `hidden_reason`). The product's rating drops it.
    """
    if not actor_sees_all(actor):
        raise PermissionDenied(_("Only staff can hide reviews."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"hidden_reason": _("Say why the review is hidden.")})
    _product_lock(review.product_id)
    review = Review.objects.select_for_update().get(pk=review.pk)
    review.hidden, review.hidden_reason = True, reason
    review.hidden_at, review.hidden_by = timezone.now(), actor
    review.full_clean(exclude=["shopper", "product", "order_line"], validate_unique=False)
    review.save(update_fields=["hidden", "hidden_reason", "hidden_at", "hidden_by"])
    rating_refresh(product_id=review.product_id)
    return review


@transaction.atomic
def review_show(*, review: Review, actor) -> Review:
    """Show a hidden review again (staff only); the product's rating counts it again."""
    if not actor_sees_all(actor):
        raise PermissionDenied(_("Only staff can hide reviews."))
    _product_lock(review.product_id)
    Review.objects.filter(pk=review.pk).update(hidden=False, hidden_reason="", hidden_at=None,
                                               hidden_by=None)
    rating_refresh(product_id=review.product_id)
    review.refresh_from_db()
    return review


def reviews_delete(*, reviews: Iterable[Review]) -> int:
    """Delete these reviews with their photos and files; refresh the ratings; return how many."""
    reviews = list(reviews)
    if not reviews:
        return 0
    with transaction.atomic():
        product_ids = sorted({review.product_id for review in reviews})
        for product_id in product_ids:
            _product_lock(product_id)
        review_photos.review_photos_delete(
            photos=ReviewPhoto.objects.filter(review__in=[review.pk for review in reviews]))
        Review.objects.filter(pk__in=[review.pk for review in reviews]).delete()
        for product_id in product_ids:
            rating_refresh(product_id=product_id)
    return len(reviews)


def rating_refresh(*, product_id: int) -> ProductRating:
    """Recount the product's shown ratings into its ProductRating row; return it.

    Called by every service that changes what counts, inside its transaction
    and under the product's row lock, so concurrent reviews cannot lose a count.
    """
    totals = Review.objects.shown().for_product(product_id).aggregate(
        count=Count("id"), total=Sum("rating"))
    rating, _created = ProductRating.objects.update_or_create(
        product_id=product_id,
        defaults={"count": totals["count"] or 0, "total": totals["total"] or 0},
    )
    return rating


def ratings_rebuild() -> int:
    """Recount every product's rating from the reviews (repair); return how many rows."""
    counted = 0
    product_ids = set(Review.objects.values_list("product_id", flat=True).distinct())
    product_ids |= set(ProductRating.objects.values_list("product_id", flat=True))
    for product_id in sorted(product_ids):
        with transaction.atomic():
            _product_lock(product_id)
            rating_refresh(product_id=product_id)
        counted += 1
    return counted


def _product_lock(product_id: int) -> None:
    # The product row lock serialises the writers of one product's rating.
    list(Product.objects.select_for_update().filter(pk=product_id).order_by().values_list("pk"))
