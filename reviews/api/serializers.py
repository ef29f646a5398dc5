"""Review API shapes: a review as shown, the create request, the seller's reply."""

from __future__ import annotations

from django.core.files.storage import default_storage
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.variants import variant_nearest, variants_upto, width_cap

from ..models import PHOTOS_MAX, RATING_MAX, RATING_MIN, REPLY_MAX_LENGTH, TEXT_MAX_LENGTH
from ..selectors import review_photos

# A review photo is shown as a small thumbnail: the API offers up to this width.
PHOTO_MAX_WIDTH = 640
FALLBACK_WIDTH = 320


def photo_dict(photo) -> dict:
    """Return a review photo as the API shows it: box, colour, JPEG src, srcset per format."""
    cap = width_cap(photo.variants, PHOTO_MAX_WIDTH)
    srcset = {}
    for fmt in ("avif", "webp", "jpeg"):
        chosen = variants_upto(photo.variants, fmt, cap)
        if chosen:
            srcset[fmt] = ", ".join(f"{default_storage.url(v['name'])} {v['width']}w"
                                    for v in chosen)
    fallback = variant_nearest(photo.variants, "jpeg", FALLBACK_WIDTH)
    return {"width": photo.width, "height": photo.height, "color": photo.placeholder_color,
            "src": default_storage.url(fallback["name"]) if fallback else None,
            "srcset": srcset}


class ReviewPhotoSerializer(serializers.Serializer):
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    color = serializers.CharField()
    src = serializers.CharField(allow_null=True)
    srcset = serializers.DictField(child=serializers.CharField())


class SellerReplySerializer(serializers.Serializer):
    text = serializers.CharField()
    replied_at = serializers.DateTimeField()


class ReviewSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    rating = serializers.IntegerField()
    text = serializers.CharField()
    created_at = serializers.DateTimeField()
    # Every review comes from a delivered order line (reviews.services).
    verified_purchase = serializers.SerializerMethodField()
    photos = serializers.SerializerMethodField()
    seller_reply = serializers.SerializerMethodField()

    def get_verified_purchase(self, review) -> bool:
        return True

    @extend_schema_field(ReviewPhotoSerializer(many=True))
    def get_photos(self, review) -> list[dict]:
        return [photo_dict(photo) for photo in review_photos(review)]

    @extend_schema_field(SellerReplySerializer(allow_null=True))
    def get_seller_reply(self, review) -> dict | None:
        if review.replied_at is None:
            return None
        return {"text": review.seller_reply, "replied_at": review.replied_at.isoformat()}


class RatingSerializer(serializers.Serializer):
    average = serializers.FloatField(allow_null=True)
    count = serializers.IntegerField()


class ReviewCreateSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=RATING_MIN, max_value=RATING_MAX)
    text = serializers.CharField(max_length=TEXT_MAX_LENGTH, allow_blank=True, required=False,
                                 default="")
    photos = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False), max_length=PHOTOS_MAX,
        required=False, default=list,
        help_text=f"Up to {PHOTOS_MAX} JPEG, PNG or WebP photos (multipart/form-data).",
    )


class ReviewReplySerializer(serializers.Serializer):
    text = serializers.CharField(max_length=REPLY_MAX_LENGTH)
