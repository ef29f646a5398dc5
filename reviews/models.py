"""Reviews of products by shoppers who received them, their photos, and the ratings.

A review is tied to the order line it comes from, so every rating on the
site is a verified purchase: only a shopper with a delivered line of the
product may write one (reviews.services.review_create). One review per
shopper and product. The seller may answer once; staff may hide a review
(with the reason kept), which also takes it out of the product's rating.

`ProductRating` is the precomputed count and sum of a product's shown
ratings: cards and product pages read it with the product in the same
query, never aggregating reviews per request. The review services keep it
current in the same transaction as the review they change.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from catalog.models import ProductImage

RATING_MIN, RATING_MAX = 1, 5
# Short on purpose: read on a small screen, typed on a phone keyboard.
TEXT_MAX_LENGTH = 500
REPLY_MAX_LENGTH = 500
HIDDEN_REASON_MAX_LENGTH = 200
PHOTOS_MAX = 3
# Review photos are shown small (a strip under the text, a tap for more):
# no 960w variant is ever useful, and each width is a dozen encodes.
PHOTO_WIDTHS = (160, 320, 640)
# Storage folder of review files, apart from products/ so that neither app's
# clean-up can delete the other's files.
STORAGE_FOLDER = "reviews"


class ReviewQuerySet(models.QuerySet):
    def shown(self) -> ReviewQuerySet:
        """Return the reviews shoppers may read (not hidden by staff)."""
        return self.filter(hidden=False)

    def for_product(self, product_id: int) -> ReviewQuerySet:
        return self.filter(product_id=product_id)


class Review(models.Model):
    shopper = models.ForeignKey(
        "personalization.ShopperProfile", on_delete=models.CASCADE, related_name="reviews",
        verbose_name=_("shopper"),
    )
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name="reviews",
        verbose_name=_("product"),
    )
    # The delivered line that made the shopper eligible. SET_NULL: orders are
    # never deleted, but a review must not be what blocks it if one ever is.
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("order line"),
    )
    rating = models.PositiveSmallIntegerField(
        _("rating"), validators=[MinValueValidator(RATING_MIN), MaxValueValidator(RATING_MAX)],
    )
    text = models.CharField(_("review"), max_length=TEXT_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(_("written"), auto_now_add=True)
    hidden = models.BooleanField(_("hidden"), default=False)
    hidden_reason = models.CharField(_("reason for hiding"), max_length=HIDDEN_REASON_MAX_LENGTH,
                                     blank=True)
    hidden_at = models.DateTimeField(_("hidden at"), null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("hidden by"),
    )
    seller_reply = models.CharField(_("seller's reply"), max_length=REPLY_MAX_LENGTH,
                                    blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        constraints = [
            models.UniqueConstraint(fields=["shopper", "product"], name="review_one_per_product"),
            models.CheckConstraint(
                condition=Q(rating__gte=RATING_MIN) & Q(rating__lte=RATING_MAX),
                name="review_rating_1_to_5",
            ),
            models.CheckConstraint(
                condition=Q(hidden=False) | ~Q(hidden_reason=""), name="review_hidden_has_reason"
            ),
        ]
        indexes = [
            # The product's review list pages newest first over the shown ones.
            models.Index(fields=["product", "-id"], condition=Q(hidden=False),
                         name="review_product_shown"),
        ]

    def __str__(self) -> str:
        return f"{self.rating}★ #{self.pk}"


class ReviewPhoto(models.Model):
    """A review's photo, through the catalog's image pipeline (see reviews.services)."""

    # The same life as a product photo: pending (checked, stored as received),
    # then ready or rejected once the render task has decoded it.
    Status = ProductImage.Status

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="photos")
    position = models.PositiveSmallIntegerField(default=0)
    # The storage name: the upload as received while pending, then the sanitised master.
    original = models.CharField(max_length=255, editable=False)
    width = models.PositiveIntegerField(default=0, editable=False)
    height = models.PositiveIntegerField(default=0, editable=False)
    content_hash = models.CharField(max_length=64, editable=False)
    variants = models.JSONField(default=list, editable=False)
    placeholder_color = models.CharField(max_length=7, default="#dddddd", editable=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING,
                              editable=False)
    error = models.CharField(max_length=300, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("review photo")
        verbose_name_plural = _("review photos")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["pending", "ready", "failed"]),
                                   name="reviewphoto_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.review_id}#{self.position}"


class ProductRating(models.Model):
    """A product's shown ratings, counted and summed (kept by reviews.services)."""

    product = models.OneToOneField(
        "catalog.Product", on_delete=models.CASCADE, primary_key=True, related_name="rating",
    )
    count = models.PositiveIntegerField(default=0)
    # The sum, not the average: exact in integers, and the average is one division.
    total = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("product rating")
        verbose_name_plural = _("product ratings")
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=models.F("count")) &
                                   Q(total__lte=models.F("count") * RATING_MAX),
                                   name="productrating_total_in_range"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.average} ({self.count})"

    @property
    def average(self) -> float | None:
        return rating_average(self.count, self.total)


def rating_average(count: int | None, total: int | None) -> float | None:
    """Return the average rating rounded to one decimal (None when nobody rated)."""
    if not count:
        return None
    return round(total / count, 1)
