"""Catalog payloads. Cards are what a list needs and nothing more: on a 2G link
every key costs; the detail carries all image variants and the placeholder."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from django.conf import settings
from django.core.files.storage import default_storage
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import Category, Product, ProductImage, Region
from core.api.fields import SparseFieldsMixin
from core.content_cache import ContentCache

# Cards are laid out two to a row on a 360 px wide phone: 180 CSS px, so at most
# 480 w (DPR 2.67) is ever useful; larger variants would only waste data.
CARD_MAX_WIDTH = 480
CARD_FALLBACK_WIDTH = 320


@lru_cache(maxsize=65536)
def _url(name: str) -> str:
    # Variant names carry their content hash, so a name's URL never changes;
    # caching it saves a storage call per variant per card (12 per card).
    return default_storage.url(name)


# Bump when card_data() changes shape: cached cards of the old shape are then unused.
CARD_DATA_VERSION = 1
# Keys are content digests (never stale); the timeout only bounds memory.
CARD_DATA_TIMEOUT = 24 * 3600
_card_data = ContentCache(prefix="card-data:", timeout=CARD_DATA_TIMEOUT)


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


def card_image(image: ProductImage | None) -> dict | None:
    """Return the card's image: box size, colour, a JPEG src and a srcset per format."""
    if image is None:
        return None
    by_format: dict[str, list[dict]] = {}
    for variant in image.variants:
        by_format.setdefault(variant["format"], []).append(variant)
    srcset: dict[str, str] = {}
    src = None
    for fmt in ("avif", "webp", "jpeg"):
        variants = sorted(by_format.get(fmt, ()), key=lambda v: v["width"])
        small = [v for v in variants if v["width"] <= CARD_MAX_WIDTH] or variants[:1]
        if small:
            srcset[fmt] = ", ".join(f"{_url(v['name'])} {v['width']}w" for v in small)
        if fmt == "jpeg" and variants:
            # The narrowest JPEG at least 320 w wide, else the widest there is.
            wide = [v for v in variants if v["width"] >= CARD_FALLBACK_WIDTH]
            src = _url((wide[0] if wide else variants[-1])["name"])
    return {"width": image.width, "height": image.height, "color": image.placeholder_color,
            "src": src, "srcset": srcset}


def card_data(product: Product) -> dict:
    """Return every card field of `product` as plain data.

    Written by hand rather than through DRF's field machinery: a feed page is
    20 cards, and DRF's per-field to_representation made serialising them
    cost more than the queries behind them. The declared serializer fields
    below still document the shape (and the tests compare the two).
    """
    images = product.image_list  # prefetched by every query feeding a card
    discount = product.discount_percent
    return {
        "id": product.pk,
        "title": product.title,
        "price": str(product.price),
        "compare_at_price": str(product.compare_at_price) if discount else None,
        "currency": product.currency,
        "discount_percent": discount,
        "in_stock": product.stock > 0,
        # Every order in this shop is cash on delivery (DESIGN.md); the flag is
        # here so clients need no change when other payment methods arrive.
        "cod": True,
        "image": card_image(images[0] if images else None),
    }


def card_data_from_rows(rows: Sequence) -> list[dict]:
    """Return card_data() for storefront.selectors.CardRows, in order, from the
    content cache where it has them, keyed by a digest of each row's content.

    `in_stock` is the row's (read on this request), never the cached one.
    """
    context = ("api-card", CARD_DATA_VERSION, settings.MEDIA_URL,
               repr(settings.STORAGES["default"]))
    keys = [row.digest(*context) for row in rows]
    cached = _card_data.get_many(keys) if keys else {}
    missing = {}
    cards = []
    for row, key in zip(rows, keys, strict=True):
        data = cached.get(key)
        if data is None:
            product = row.product()
            image = row.image()
            product.image_list = [image] if image else []
            data = missing[key] = card_data(product)
        # A new dict: the cached one is shared and must stay as it is.
        cards.append({**data, "in_stock": row.stock > 0})
    _card_data.set_many(missing)
    return cards


class ProductCardSerializer(SparseFieldsMixin, serializers.ModelSerializer):
    """A product as a feed or list card: only what the card shows."""

    price = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True,
                                     help_text="In major units, as a decimal string.")
    compare_at_price = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True, allow_null=True,
        help_text="The usual price when higher than the price, else null.",
    )
    discount_percent = serializers.IntegerField(read_only=True)
    in_stock = serializers.BooleanField(read_only=True)
    cod = serializers.SerializerMethodField(help_text="Cash on delivery available.")
    image = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = ["id", "title", "price", "compare_at_price", "currency", "discount_percent",
                  "in_stock", "cod", "image"]

    def get_cod(self, product: Product) -> bool:
        return card_data(product)["cod"]

    @extend_schema_field(CardImageSerializer(allow_null=True))
    def get_image(self, product: Product) -> dict | None:
        return card_data(product)["image"]

    def to_representation(self, product: Product) -> dict:
        data = self.extra_data(product)
        return {name: data[name] for name in self.fields}

    def extra_data(self, product: Product) -> dict:
        """Return the card fields plus what a subclass adds (plain data)."""
        return card_data(product)


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
             "url": _url(v["name"]), "bytes": v.get("bytes", 0)}
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

    description = serializers.CharField()
    stock = serializers.IntegerField(read_only=True)
    category = CategoryRefSerializer()
    seller = SellerSummarySerializer()
    images = serializers.SerializerMethodField()
    more_like_this = serializers.SerializerMethodField(
        help_text="Cards of similar listings, best first."
    )

    class Meta(ProductCardSerializer.Meta):
        fields = [*ProductCardSerializer.Meta.fields, "description", "stock", "category",
                  "seller", "images", "more_like_this", "created_at"]

    @extend_schema_field(ProductImageSerializer(many=True))
    def get_images(self, product: Product) -> list[dict]:
        return ProductImageSerializer(product.image_list, many=True).data

    @extend_schema_field(ProductCardSerializer(many=True))
    def get_more_like_this(self, product: Product) -> list[dict]:
        return [card_data(p) for p in self.context.get("more_like_this", [])]

    def extra_data(self, product: Product) -> dict:
        # Only the detail page: DRF's own path is fine for one object.
        wanted = set(self.fields)
        detail = {
            name: self.fields[name].to_representation(
                self.fields[name].get_attribute(product)
            )
            for name in ("description", "stock", "category", "seller", "created_at")
            if name in wanted
        }
        if "images" in wanted:
            detail["images"] = self.get_images(product)
        if "more_like_this" in wanted:
            detail["more_like_this"] = self.get_more_like_this(product)
        return {**card_data(product), **detail}


class CategoryNodeSerializer(serializers.ModelSerializer):
    children = serializers.SerializerMethodField()

    class Meta:
        model = Category
        fields = ["id", "slug", "name", "icon", "children"]

    @extend_schema_field(
        {"type": "array", "items": {"$ref": "#/components/schemas/CategoryNode"}}
    )
    def get_children(self, category: Category) -> list[dict]:
        return CategoryNodeSerializer(getattr(category, "child_list", []), many=True).data


class RegionNodeSerializer(serializers.ModelSerializer):
    children = serializers.SerializerMethodField()

    class Meta:
        model = Region
        fields = ["code", "name", "kind", "currency", "language", "children"]

    @extend_schema_field({"type": "array", "items": {"$ref": "#/components/schemas/RegionNode"}})
    def get_children(self, region: Region) -> list[dict]:
        return RegionNodeSerializer(getattr(region, "child_list", []), many=True).data
