"""The shapes of the API's cards, for the schema and for `?fields=`.

The cards themselves are built by storefront.cards (`card_dict`): by hand,
from the one row type every card is read as, because DRF's per-field
to_representation made 20 cards cost more than the queries behind them.
These serializers declare the same keys so that drf-spectacular can document
them and `?fields=` can check names; tests/api holds both equal.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import Product, ProductImage
from core.api.fields import SparseFieldsMixin

from ..cards import CardRow, card_dict, card_dicts, variant_url

_PRICE = {"max_digits": 14, "decimal_places": 2, "read_only": True}


class CardImageSerializer(serializers.Serializer):
    width = serializers.IntegerField(help_text="Of the master: with height, reserves the box "
                                               "so nothing shifts while loading.")
    height = serializers.IntegerField()
    color = serializers.CharField(help_text="Dominant colour (#rrggbb), painted first.")
    src = serializers.CharField(allow_null=True, help_text="JPEG, about 320 px wide.")
    srcset = serializers.DictField(
        child=serializers.CharField(),
        help_text="Per format (avif, webp, jpeg): a `srcset` value up to 480 w.",
    )


class CardRatingSerializer(serializers.Serializer):
    average = serializers.FloatField(read_only=True, help_text="1 to 5, one decimal.")
    count = serializers.IntegerField(read_only=True)


class ProductCardSerializer(SparseFieldsMixin, serializers.Serializer):
    """A product as a feed or list card: only what the card shows."""

    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(
        max_length=Product._meta.get_field("title").max_length,
        help_text="In the language asked for (Accept-Language or `?lang=`) when the seller "
                  "translated it, else as written.")
    price = serializers.DecimalField(**_PRICE, help_text="In major units, as a decimal string.")
    compare_at_price = serializers.DecimalField(
        **_PRICE, allow_null=True,
        help_text="The usual price when higher than the price, else null.",
    )
    currency = serializers.CharField(
        max_length=Product._meta.get_field("currency").max_length)
    discount_percent = serializers.IntegerField(read_only=True)
    in_stock = serializers.BooleanField(read_only=True)
    cod = serializers.BooleanField(read_only=True, help_text="Cash on delivery available.")
    image = CardImageSerializer(allow_null=True, read_only=True)
    rating = CardRatingSerializer(
        allow_null=True, read_only=True,
        help_text="Buyers' rating (reviews hidden by staff do not count); null when unrated.",
    )


class FeedItemSerializer(ProductCardSerializer):
    """A feed card: the product card plus why it is in the feed."""

    reason = serializers.CharField(
        help_text="Why it is shown: popular_region, popular, new, because_viewed, for_you, "
                  "trending.",
    )
    reason_arg = serializers.CharField(
        help_text="The region name (popular_region) or product title (because_viewed); "
                  "else ''.",
    )


class FeedPageSerializer(serializers.Serializer):
    next_cursor = serializers.CharField(allow_null=True,
                                        help_text="Pass as `cursor`; null on the last page.")
    results = FeedItemSerializer(many=True)


class ImageVariantSerializer(serializers.Serializer):
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    format = serializers.ChoiceField(choices=["avif", "webp", "jpeg"])
    url = serializers.CharField()
    bytes = serializers.IntegerField()


class PlaceholderSerializer(serializers.Serializer):
    color = serializers.CharField()
    data = serializers.CharField(help_text="A tiny blurred preview as a data: URI ('' if none).")


class ProductImageSerializer(serializers.ModelSerializer):
    placeholder = serializers.SerializerMethodField()
    variants = serializers.SerializerMethodField()

    class Meta:
        model = ProductImage
        fields = ["alt_text", "width", "height", "placeholder", "variants"]

    @extend_schema_field(PlaceholderSerializer)
    def get_placeholder(self, image: ProductImage) -> dict:
        return {"color": image.placeholder_color, "data": image.placeholder_data}

    @extend_schema_field(ImageVariantSerializer(many=True))
    def get_variants(self, image: ProductImage) -> list[dict]:
        return [
            {"width": v["width"], "height": v["height"], "format": v["format"],
             "url": variant_url(v["name"]), "bytes": v.get("bytes", 0)}
            for v in sorted(image.variants, key=lambda v: (v["format"], v["width"]))
        ]


class SellerSummarySerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField(source="display_name")
    verified = serializers.BooleanField()
    region = serializers.SerializerMethodField()

    def get_region(self, seller) -> str | None:
        return seller.region.name if seller.region_id else None


class CategoryRefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    icon = serializers.CharField()


class ProductDetailSerializer(ProductCardSerializer):
    """A product page: the card plus description, seller, every image variant, similar items."""

    description = serializers.CharField(
        source="local_description",
        help_text="In the language asked for (Accept-Language or `?lang=`) when the seller "
                  "translated it, else as written.")
    stock = serializers.IntegerField(read_only=True)
    category = CategoryRefSerializer()
    seller = SellerSummarySerializer()
    images = ProductImageSerializer(many=True, read_only=True, source="image_list")
    more_like_this = ProductCardSerializer(
        many=True, read_only=True, help_text="Cards of similar listings, best first.")
    created_at = serializers.DateTimeField(label="Created")

    def to_representation(self, product: Product) -> dict:
        """Return the card (storefront.cards) and the detail fields asked for."""
        wanted = set(self.fields)
        data = card_dict(CardRow.from_product(product))
        for name in ("description", "stock", "category", "seller", "created_at", "images"):
            if name in wanted:
                field = self.fields[name]
                data[name] = field.to_representation(field.get_attribute(product))
        if "more_like_this" in wanted:
            data["more_like_this"] = card_dicts(self.context.get("more_like_this", []))
        return {name: data[name] for name in self.fields}
