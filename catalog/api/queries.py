"""The reads behind the catalog API; each plans its joins and prefetches up front."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from catalog.models import Category, Product, ProductImage, Region


def _images() -> Prefetch:
    # to_attr: serializers read `image_list`, so none of them can issue a query per row.
    return Prefetch("images", queryset=ProductImage.objects.shown().order_by("position", "id"),
                    to_attr="image_list")


def _published_with_images() -> QuerySet[Product]:
    return Product.objects.published().prefetch_related(_images())


def _card_images() -> Prefetch:
    # Only what a card shows. Leaving `original` out also skips ImageField's
    # per-row dimension bookkeeping on load, a measurable share of a page.
    images = ProductImage.objects.shown().order_by("position", "id").only(
        "product_id", "position", "width", "height", "variants", "placeholder_color"
    )
    return Prefetch("images", queryset=images, to_attr="image_list")


def product_cards_queryset() -> QuerySet[Product]:
    """Return published products ready for cards: one query plus one for all their images."""
    # Cards never show the description, which may be kilobytes per row.
    return Product.objects.published().defer("description").prefetch_related(_card_images())


def product_cards_get(*, product_ids: list[int]) -> list[Product]:
    """Return the published products with these ids, in this order, ready for cards.

    Ids no longer published are dropped (archived between ranking and now).
    """
    if not product_ids:
        return []
    by_id = {p.pk: p for p in product_cards_queryset().published_among(product_ids)}
    return [by_id[pk] for pk in product_ids if pk in by_id]


def product_detail_get(*, pk: int) -> Product:
    """Return one published product with category, seller (and region) and images, or 404."""
    queryset = _published_with_images().select_related("category", "seller__region")
    return get_object_or_404(queryset, pk=pk)


def _tree(rows: list) -> list:
    """Give each row a `child_list` (in the rows' order) and return the roots."""
    by_parent: dict[int | None, list] = {}
    for row in rows:
        by_parent.setdefault(row.parent_id, []).append(row)
    for row in rows:
        row.child_list = by_parent.get(row.pk, [])
    return by_parent.get(None, [])


def category_tree_get() -> list[Category]:
    """Return the top categories, each with `child_list`, from one query."""
    return _tree(list(Category.objects.order_by("position", "name")))


def region_tree_get() -> list[Region]:
    """Return the countries with their states and cities nested, from one query."""
    return _tree(list(Region.objects.order_by("name")))
