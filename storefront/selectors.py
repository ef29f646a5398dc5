"""Storefront reads: a product page, categories and their pages, onboarding regions.

The ranking lives in `personalization.selectors` (feed, similar, popular) and
the card rows in `storefront.cards`; this module pages categories itself.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from catalog.models import Category, Product, Region
from core.pagination import keyset_page


def product_detail_get(*, pk: int) -> Product:
    """Return one published product with seller (and region), category (and parent) and
    images, or raise Http404: the product page and the API's product."""
    queryset = (
        Product.objects.published()
        .select_related("seller__region", "category__parent")
        .with_images()
    )
    return get_object_or_404(queryset, pk=pk)


def product_is_published(*, pk: int) -> bool:
    """Return whether a shopper may see (and so act on) the listing with this id."""
    return Product.objects.published().filter(pk=pk).exists()


def regions_for_onboarding() -> QuerySet[Region]:
    """Return the regions a shopper may pick, countries first with their states and cities."""
    return Region.objects.order_by("path")


def category_get(*, slug: str) -> Category:
    """Return the category with this slug (with its parent), or raise Http404."""
    return get_object_or_404(Category.objects.select_related("parent"), slug=slug)


def category_page_get(
    *, category: Category, region, cursor: str | None, page_size: int
) -> tuple[list[int], str | None]:
    """Return (ids, next cursor) of one page of a category (and its subcategories), newest first.

    Keyset pagination on the id (listing order): a listing added while the
    shopper scrolls shifts nothing, so no item is shown twice or skipped. Not
    on created_at: imported listings carry their own dates, many share one
    timestamp. One query. Raise core.pagination.InvalidCursor for a
    cursor we did not issue.
    """
    queryset = (Product.objects.published().in_category(category).in_region(region)
                .order_by("-id").only("pk"))
    rows, next_cursor = keyset_page(queryset, cursor=cursor, limit=page_size)
    return [row.pk for row in rows], next_cursor
