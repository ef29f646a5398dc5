"""Storefront reads: the cards behind the feed, product, category and search pages.

The ranking lives in `personalization.selectors` (feed, similar, popular);
the storefront only turns a ranked list of ids into card rows, in one query
(the first photo included), and pages categories itself.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.core import signing
from django.db import router
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery, TextField
from django.db.models.functions import JSONObject
from django.shortcuts import get_object_or_404

from catalog.models import Category, Product, ProductImage, Region

from .db import CompiledQuery

# Signed so a shopper cannot craft a cursor that makes us scan elsewhere; the
# salt keeps these apart from every other signed value in the project.
_CURSOR_SALT = "shop.feed.cursor"


class InvalidCursor(ValueError):
    """The cursor was not issued by us (or was tampered with)."""


def _image_prefetch() -> Prefetch:
    # to_attr: templates read `product.image_list`, never `product.images.all`,
    # so a template can not issue a query per card by accident.
    return Prefetch(
        "images",
        queryset=ProductImage.objects.shown().order_by("position", "id"),
        to_attr="image_list",
    )


@dataclass(frozen=True)
class CardImage:
    """The first photo of a card: what <picture> needs, read in the products query."""

    variants: list[dict]
    width: int
    height: int
    placeholder_color: str
    alt_text: str
    original: str

    @classmethod
    def from_row(cls, row: dict | str | None) -> CardImage | None:
        if not row:
            return None
        if isinstance(row, str):  # SQLite returns the JSON object as text
            row = json.loads(row)
        variants = row.get("variants") or []
        if isinstance(variants, str):  # SQLite nests JSON columns as strings
            variants = json.loads(variants)
        return cls(variants=variants, width=row.get("width") or 0,
                   height=row.get("height") or 0,
                   placeholder_color=row.get("placeholder_color") or "#dddddd",
                   alt_text=row.get("alt_text") or "", original=row.get("original") or "")


def _first_image_card() -> QuerySet:
    return (
        ProductImage.objects.shown().filter(product=OuterRef("pk"))
        .order_by("position", "id")
        .annotate(card=JSONObject(
            variants="variants", width="width", height="height",
            placeholder_color="placeholder_color", alt_text="alt_text", original="original",
        ))
        .values("card")[:1]
    )


@dataclass(frozen=True, slots=True)
class CardRow:
    """What a feed card shows, as one row: the product's own fields and its first
    photo as the JSON text the database produced (hashed as is for the
    fragment cache, parsed only when a card has to be rendered)."""

    pk: int
    title: str
    price_minor: int
    compare_at_minor: int | None
    currency: str
    stock: int
    image_json: str | None

    def digest(self, *context: object) -> str:
        """Return a key for what is derived from this row's content (not its
        stock) in `context`: it changes whenever anything shown does."""
        digest = hashlib.blake2b(repr((self.pk, self.title, self.price_minor,
                                       self.compare_at_minor, self.currency, context)).encode(),
                                 digest_size=16)
        # The photo's JSON (kilobytes) is hashed as it is, not through repr().
        image = self.image_json
        digest.update(b"\x00" if image is None else
                      (image if isinstance(image, str) else repr(image)).encode())
        return digest.hexdigest()

    def product(self) -> Product:
        """Return an unsaved Product carrying this row's fields (for its properties)."""
        return Product(pk=self.pk, title=self.title, price_minor=self.price_minor,
                       compare_at_minor=self.compare_at_minor, currency=self.currency,
                       stock=self.stock)

    def image(self) -> CardImage | None:
        return CardImage.from_row(self.image_json)


def _first_image_text() -> Subquery:
    # TextField: Django hands JSON back undecoded (SQLite stores text; the
    # PostgreSQL backend registers a text loader for jsonb) - nothing to parse
    # on the path where the fragment cache already has the card.
    return Subquery(_first_image_card(), output_field=TextField())


def _card_rows_queryset(product_ids: list[int]) -> QuerySet:
    return (
        Product.objects.published_among(product_ids)
        .annotate(first_image=_first_image_text())
        .values_list("pk", "title", "price_minor", "compare_at_minor", "currency", "stock",
                     "first_image")
    )


_card_rows = CompiledQuery(lambda _shape, product_ids: _card_rows_queryset(product_ids))
# Above this many ids the statement is not kept (each count is one statement).
_STATEMENT_MAX_IDS = 100


def card_rows_get(*, product_ids: list[int]) -> list[CardRow]:
    """Return the published products with these ids as CardRows, in the given order.

    ONE query of plain tuples (no joins, no model instances): the cheap read
    behind every list of cards, whose HTML then usually comes from the cache
    (shop/cards.py). Ids no longer published are dropped. Building and
    compiling this queryset (a JSON subquery per row) took five times as long
    as running it, so it is compiled once per number of ids (shop/db.py).
    """
    ids = list(dict.fromkeys(int(pk) for pk in product_ids))
    if not ids:
        return []
    if len(ids) > _STATEMENT_MAX_IDS:
        rows = list(_card_rows_queryset(ids))
    else:
        rows = _card_rows.rows(alias=router.db_for_read(Product), product_ids=ids)
    by_id = {row[0]: CardRow(*row) for row in rows}
    return [by_id[pk] for pk in product_ids if pk in by_id]


def product_detail_get(*, pk: int) -> Product:
    """Return one published product with seller, category and images, or raise Http404."""
    queryset = (
        Product.objects.published()
        .select_related("seller", "category", "category__parent")
        .prefetch_related(_image_prefetch())
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


def _cursor_dumps(pk: int) -> str:
    return signing.dumps(pk, salt=_CURSOR_SALT)


def _cursor_loads(cursor: str) -> int:
    try:
        return int(signing.loads(cursor, salt=_CURSOR_SALT))
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise InvalidCursor(str(exc)) from exc


def newest_products_page_get(
    *, queryset, cursor: str | None, page_size: int
) -> tuple[list[int], str | None]:
    """Return (ids, next cursor) of one keyset page, newest listed first.

    Keyset pagination on the id (listing order): a listing added while the
    shopper scrolls shifts nothing, so no item is shown twice or skipped. Not
    on created_at: imported listings carry their own dates, many share one
    timestamp, and SQLite compares stored timestamps as text, so an equality
    on the boundary row is unreliable. One query (page_size + 1 rows tell
    whether another page exists).
    """
    queryset = queryset.order_by("-id")
    if cursor:
        queryset = queryset.filter(pk__lt=_cursor_loads(cursor))
    ids = list(queryset.values_list("pk", flat=True)[: page_size + 1])
    page = ids[:page_size]
    next_cursor = _cursor_dumps(page[-1]) if len(ids) > page_size and page else None
    return page, next_cursor


def category_page_get(
    *, category: Category, region, cursor: str | None, page_size: int
) -> tuple[list[int], str | None]:
    """Return (ids, next cursor) of one page of a category (and its subcategories), newest first."""
    queryset = Product.objects.published().in_category(category).in_region(region)
    return newest_products_page_get(queryset=queryset, cursor=cursor, page_size=page_size)
