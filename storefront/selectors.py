"""Storefront reads: a product page, categories and their pages, onboarding regions.

The ranking lives in `personalization.selectors` (feed, similar, popular) and
the card rows in `storefront.cards`; this module pages categories itself.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404

from catalog.models import Category, Product, Region
from core.pagination import keyset_page
from reviews.models import Review
from reviews.selectors import product_rating_of, product_reviews_queryset
from reviews.services import review_eligible_lines


def product_detail_get(*, pk: int, shopper=None, market=None) -> Product:
    """Return one published product with seller (and region), category (and parent),
    rating and images, or raise Http404: the product page and the API's product.

    With `shopper`, the same query also answers what the page offers them
    about reviewing it: `review_line` (their latest delivered line of it, or
    None) and `reviewed` (whether they already did). With `market`,
    `sold_in_market` says whether a shopper there can buy it (catalog.markets).
    """
    queryset = (
        Product.objects.published()
        .select_related("seller__region", "category__parent", "rating")
        .with_images()
    )
    if shopper is not None and shopper.pk is not None:
        lines = review_eligible_lines(shopper=shopper, product=OuterRef("pk")).values("pk")[:1]
        queryset = queryset.annotate(
            review_line=Subquery(lines),
            reviewed=Exists(Review.objects.filter(shopper=shopper, product=OuterRef("pk"))),
        )
    if market is not None:
        queryset = queryset.annotate(sold_in_market=Exists(
            Product.objects.filter(pk=OuterRef("pk")).filter(market.products_q())))
    return get_object_or_404(queryset, pk=pk)


def product_reviews_page_get(*, product: Product, cursor: str | None,
                             page_size: int) -> tuple[list[Review], str | None]:
    """Return (reviews, next cursor) of one page of the product's shown reviews, newest first.

    No query at all for a product nobody has (visibly) reviewed: its
    precomputed rating, read with the product, says so. Else one query
    (reviews with their photos). Raise core.pagination.InvalidCursor for a
    cursor we did not issue.
    """
    rating = product_rating_of(product)
    if rating is None or not rating.count:
        return [], None
    return keyset_page(product_reviews_queryset(product_id=product.pk), cursor=cursor,
                       limit=page_size)


def product_is_published(*, pk: int) -> bool:
    """Return whether a shopper may see (and so act on) the listing with this id."""
    return Product.objects.published().filter(pk=pk).exists()


def regions_for_onboarding() -> QuerySet[Region]:
    """Return the regions a shopper may pick, countries first with their states and cities."""
    return Region.objects.order_by("path")


def category_get(*, slug: str) -> Category:
    """Return the category with this slug (with its parent and, as `children_list`,
    its subcategories in menu order), or raise Http404.

    One query for both: the category's row and its children's rows come back
    together (slug = X or parent's slug = X), so the sub-category links cost
    the page nothing.
    """
    rows = list(Category.objects.select_related("parent")
                .filter(Q(slug=slug) | Q(parent__slug=slug)).order_by("position", "name", "pk"))
    category = next((row for row in rows if row.slug == slug), None)
    if category is None:
        raise Http404("No such category.")
    category.children_list = [row for row in rows if row is not category]
    return category


# Category page orders: each ends with the primary key, as keyset pagination
# needs (core/pagination.py), so every sort pages without repeats or gaps.
# "newest" is the id (listing order), not created_at: imported listings carry
# their own dates and many share one timestamp. "popular" breaks its ties
# (every listing before the first rebuild) by newest.
CATEGORY_SORTS: dict[str, tuple[str, ...]] = {
    "popular": ("-popularity", "-id"),
    "newest": ("-id",),
    "price": ("price_minor", "id"),
    "-price": ("-price_minor", "-id"),
}
CATEGORY_SORT_DEFAULT = "popular"


def category_page_get(
    *, category: Category, market, sort: str = CATEGORY_SORT_DEFAULT, cursor: str | None,
    page_size: int,
) -> tuple[list[int], str | None]:
    """Return (ids, next cursor) of one page of a category (and its subcategories)
    in the `sort` order (a key of CATEGORY_SORTS).

    Keyset pagination: a listing added while the shopper scrolls shifts
    nothing, so no item is shown twice or skipped. The cursor records its
    order, so a cursor of one sort used with another is refused. One query.
    Only listings a shopper in `market` can buy (catalog.markets; None
    filters nothing). Raise core.pagination.InvalidCursor for a cursor we did
    not issue for this sort, ValueError for an unknown sort (the form refuses
    it first).
    """
    try:
        ordering = CATEGORY_SORTS[sort]
    except KeyError:
        raise ValueError(f"unknown category sort {sort!r}") from None
    columns = {term.lstrip("-") for term in ordering} - {"id"}
    queryset = (Product.objects.published().in_category(category).for_market(market)
                .order_by(*ordering).only("pk", *columns))
    rows, next_cursor = keyset_page(queryset, cursor=cursor, limit=page_size)
    return [row.pk for row in rows], next_cursor
