"""Product cards, the one place that knows what a card is.

Every list of products a shopper sees (feed, category, search, "more like
this" on the product page) and every list the API returns (products, feed,
a product's `more_like_this`) is made of cards, and all of them come from
here:

- one row type, `CardRow`, read by `card_rows_get` in one query (the first
  photo included as the JSON text the database produced);
- one digest, `CardRow.digest`, over every field of the row except stock, so
  a field added to the row is part of every cache key without anyone
  remembering to add it (stock is read fresh on every request);
- one image picker, `image_sources`, for the <picture> of a page and the
  `image` of an API card alike;
- two renderers: `cards_render` (HTML) and `card_dicts` (API). Both cache
  what they render under the row's digest in the content cache
  (core/content_cache.py): content-addressed keys are never stale, so
  nothing is ever invalidated, even across deploys sharing one Redis.

Rendering 20 cards through the template engine was most of a feed page's CPU
and almost nothing in a card changes between requests, so an HTML card is two
parts: the head (photo, title, price, discount), rendered from
`storefront/_card_head.html` once and cached; and the tail (why it is here,
in stock or not, the "Not interested" form with this request's CSRF token),
assembled per request from strings prepared once per page.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import router
from django.db.models import OuterRef, QuerySet, Subquery, TextField
from django.db.models.functions import JSONObject
from django.http import HttpRequest
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from catalog.models import Product, ProductImage
from catalog.money import Priced
from catalog.translations import listing_text
from catalog.variants import variant_nearest, variants_upto, width_cap
from core.content_cache import ContentCache
from core.db import CompiledQuery
from core.security import csrf_token_once
from reviews.models import rating_average
from reviews.selectors import product_rating_of

from .cues import reason_cue

HEAD_TEMPLATE = "storefront/_card_head.html"
# Content-addressed keys never go stale; the timeout only bounds memory.
FRAGMENT_TIMEOUT = 24 * 3600
# Cards are laid out two to a row on a 360 px wide phone: 180 CSS px, so at most
# 480 w (DPR 2.67) is ever useful; larger variants would only waste data.
CARD_MAX_WIDTH = 480
# The <img> fallback (and the API's `src`): the narrowest JPEG at least this wide.
FALLBACK_WIDTH = 320
# Bump when card_dict() changes shape: cached API cards of the old shape are then unused.
CARD_DICT_VERSION = 3
# Above this many ids the statement is not kept (each count is one statement).
_STATEMENT_MAX_IDS = 100

_heads = ContentCache(prefix="card:", timeout=FRAGMENT_TIMEOUT)
_dicts = ContentCache(prefix="card-data:", timeout=FRAGMENT_TIMEOUT)


# --- the image ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CardImage:
    """A photo as a card or a product page shows it: variants and the box they fill."""

    variants: list[dict]
    width: int
    height: int
    placeholder_color: str
    alt_text: str
    # The storage name of the master: the fallback while no JPEG variant exists.
    original: str

    @classmethod
    def from_json(cls, row: dict | str | None) -> CardImage | None:
        """Return the image of the JSON object `card_rows_get` reads (None for none)."""
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

    @classmethod
    def from_model(cls, image: ProductImage) -> CardImage:
        return cls(variants=list(image.variants or []), width=image.width or 0,
                   height=image.height or 0,
                   placeholder_color=image.placeholder_color or "#dddddd",
                   alt_text=image.alt_text or "", original=image.original.name or "")


@functools.lru_cache(maxsize=65536)
def _url(name: str, media_url: str) -> str:
    # Variant names carry their content hash, so a name's URL never changes;
    # caching it saves a storage call per variant per card (12 per card).
    # MEDIA_URL is part of the key so that a changed setting is never served stale.
    return default_storage.url(name)


def variant_url(name: str) -> str:
    """Return the URL of a stored variant (or master) by its storage name."""
    return _url(name, settings.MEDIA_URL)


@dataclass(frozen=True)
class ImageSources:
    """What a <picture> (or an API client) needs to choose a variant."""

    srcset: dict[str, str]  # per format present: "url 160w, url 320w"
    src: str | None  # the narrowest JPEG at least FALLBACK_WIDTH wide (or the widest)
    cap: int  # the widest width offered


def image_sources(image: CardImage, *, max_width: int,
                  fallback_width: int = FALLBACK_WIDTH) -> ImageSources:
    """Return the srcsets and fallback of `image` up to `max_width`.

    The narrowest variant that covers `max_width` bounds the srcset: the feed
    never offers a phone a 960w picture for a 144px thumbnail, and data saver
    lowers the cap further. At least the smallest variant is always offered,
    even when it is wider than the cap.
    """
    cap = width_cap(image.variants, max_width)
    srcset = {}
    for fmt in ("avif", "webp", "jpeg"):
        chosen = variants_upto(image.variants, fmt, cap)
        if chosen:
            srcset[fmt] = ", ".join(f"{variant_url(v['name'])} {v['width']}w" for v in chosen)
    fallback = variant_nearest(image.variants, "jpeg", min(cap, fallback_width))
    return ImageSources(srcset=srcset, src=None if fallback is None else variant_url(
        fallback["name"]), cap=cap)


# --- the row -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CardRow(Priced):
    """What a card shows, as one row: the product's own fields and its first
    photo as the JSON text the database produced (hashed as is for the caches,
    parsed only when a card has to be rendered).

    To show a new field on every card: add it here and to `_COLUMNS`, then to
    the head template and `card_dict`; the digest covers it by itself.
    """

    pk: int
    title: str
    # The title in the shop's other languages ('' when not translated):
    # `local_title(language)` picks one; being fields, the digest covers them.
    title_hi: str
    title_ar: str
    price_minor: int
    compare_at_minor: int | None
    currency: str
    stock: int
    # The product's precomputed rating (reviews.ProductRating, a LEFT JOIN on
    # its primary key): None when nobody rated it yet. Shown ones only.
    rating_count: int | None
    rating_total: int | None
    image_json: str | None

    def digest(self, *context: object) -> str:
        """Return a key for what is derived from this row's content (not its
        stock) in `context`: it changes whenever anything shown does."""
        shown = tuple(getattr(self, name) for name in _DIGESTED)
        digest = hashlib.blake2b(repr((shown, context)).encode(), digest_size=16)
        # The photo's JSON (kilobytes) is hashed as it is, not through repr().
        image = self.image_json
        digest.update(b"\x00" if image is None else
                      (image if isinstance(image, str) else repr(image)).encode())
        return digest.hexdigest()

    def get_absolute_url(self) -> str:
        return reverse("storefront:product", kwargs={"pk": self.pk})

    def local_title(self, language: str | None) -> str:
        """Return the title in `language` when the seller translated it, else the original."""
        return listing_text(self, "title", language)

    def image(self) -> CardImage | None:
        return CardImage.from_json(self.image_json)

    @property
    def rating_average(self) -> float | None:
        return rating_average(self.rating_count, self.rating_total)

    @classmethod
    def from_product(cls, product: Product) -> CardRow:
        """Return the row of a product loaded with `image_list` (a product page)."""
        images = product.image_list
        first = images[0] if images else None
        image_json = None if first is None else json.dumps(
            dataclasses.asdict(CardImage.from_model(first)), sort_keys=True)
        rating = product_rating_of(product)
        return cls(pk=product.pk, title=product.title, title_hi=product.title_hi,
                   title_ar=product.title_ar, price_minor=product.price_minor,
                   compare_at_minor=product.compare_at_minor, currency=product.currency,
                   stock=product.stock, rating_count=rating.count if rating else None,
                   rating_total=rating.total if rating else None, image_json=image_json)


# Every field but stock (read fresh on each request) and the photo (hashed apart).
_DIGESTED = tuple(f.name for f in dataclasses.fields(CardRow) if f.name not in
                  ("stock", "image_json"))
_COLUMNS = ("pk", "title", "title_hi", "title_ar", "price_minor", "compare_at_minor",
            "currency", "stock", "rating__count", "rating__total")


def _first_image_text() -> Subquery:
    first = (
        # Only processed photos: one still rendering (or rejected) has no
        # variants, and its master is the upload as received (catalog.tasks).
        ProductImage.objects.shown().filter(product=OuterRef("pk"))
        .order_by("position", "id")
        .annotate(card=JSONObject(
            variants="variants", width="width", height="height",
            placeholder_color="placeholder_color", alt_text="alt_text", original="original",
        ))
        .values("card")[:1]
    )
    # TextField: Django hands JSON back undecoded (SQLite stores text; the
    # PostgreSQL backend registers a text loader for jsonb) - nothing to parse
    # on the path where the cache already has the card.
    return Subquery(first, output_field=TextField())


def _card_rows_queryset(product_ids: list[int]) -> QuerySet:
    return (
        Product.objects.published_among(product_ids)
        .annotate(first_image=_first_image_text())
        .values_list(*_COLUMNS, "first_image")
    )


_card_rows = CompiledQuery(lambda _shape, product_ids: _card_rows_queryset(product_ids))


def card_rows_get(*, product_ids: list[int]) -> list[CardRow]:
    """Return the published products with these ids as CardRows, in the given order.

    ONE query of plain tuples (one LEFT JOIN, on the rating's primary key; no
    model instances): the cheap read
    behind every list of cards, whose output then usually comes from the
    cache. Ids no longer published are dropped. Building and compiling this
    queryset (a JSON subquery per row) took five times as long as running it,
    so it is compiled once per number of ids (core/db.py).
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


# --- the HTML card -----------------------------------------------------------------------


def templates_digest(names: list[str], *extra: object) -> str:
    """Return a short digest of these templates' sources (and `extra`): part of
    the key of anything rendered from them and cached, so a deploy that
    changes them never serves the old output."""
    sources = "\x00".join([*(get_template(name).template.source for name in names),
                           *map(str, extra)])
    return hashlib.blake2b(sources.encode(), digest_size=8).hexdigest()


@functools.cache
def _release() -> str:
    """Return a digest of what every card depends on besides its row: the
    head template's source and where media is served from."""
    return templates_digest([HEAD_TEMPLATE], settings.MEDIA_URL, settings.STORAGES["default"])


def _key(row: CardRow, *, language: str, thumb_cap: int, thumb_sizes: str,
         eager: bool) -> str:
    return row.digest(language, thumb_cap, thumb_sizes, eager, _release())


def _head_render(row: CardRow, *, language: str, thumb_cap: int, thumb_sizes: str,
                 eager: bool) -> str:
    return render_to_string(HEAD_TEMPLATE, {
        "p": row,
        # In the page's language when translated: the head's key has the language.
        "title": row.local_title(language),
        "img": row.image(),
        "eager": eager,
        "thumb_cap": thumb_cap,
        "thumb_sizes": thumb_sizes,
    })


class _Tail:
    """The per-request end of a card, with everything constant prepared once."""

    def __init__(self, *, request: HttpRequest, event_context: str, return_to: str):
        self.cod = format_html('<abbr class="cod" title="{}">{}</abbr>',
                               _("Cash on delivery"), _("COD"))
        self.out = format_html('<span class="out">{}</span>', _("Out of stock"))
        self.cues: dict[tuple[str, str], str] = {}
        self.form_start = self.form_middle = self.form_end = ""
        if event_context == "feed":
            self.form_start = format_html(
                '<form class="hide" method="post" action="{}">'
                '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
                '<input type="hidden" name="product" value="',
                reverse("storefront:hide"), csrf_token_once(request),
            )
            self.form_middle = format_html(
                '"><input type="hidden" name="next" value="{}">'
                '<button type="submit" aria-describedby="t', return_to,
            )
            self.form_end = format_html(
                '"><span aria-hidden="true">✕</span> {}</button></form>', _("Not interested"),
            )

    def cue(self, reason: str, arg: str) -> str:
        if not reason:
            return ""
        if (reason, arg) not in self.cues:
            self.cues[reason, arg] = str(reason_cue(reason, arg))
        return self.cues[reason, arg]

    def render(self, row: CardRow, reason: tuple[str, str]) -> str:
        stock = self.cod if row.stock > 0 else self.out
        form = ""
        if self.form_start:
            # pk is an int: nothing to escape.
            form = f"{self.form_start}{row.pk}{self.form_middle}{row.pk}{self.form_end}"
        return f'<p class="mt">{self.cue(*reason)}{stock}</p>\n{form}\n</div>\n</li>'


def cards_render(*, request: HttpRequest, rows: Sequence[CardRow],
                 reasons: Mapping[int, tuple[str, str]] | None = None, first_eager: bool,
                 thumb_cap: int, thumb_sizes: str, event_context: str,
                 return_to: str) -> list[SafeString]:
    """Return the HTML of each card, in order; the first image eager if asked."""
    if not rows:
        return []
    reasons = reasons or {}
    language = get_language() or settings.LANGUAGE_CODE
    eager = [first_eager and index == 0 for index in range(len(rows))]
    keys = [_key(row, language=language, thumb_cap=thumb_cap, thumb_sizes=thumb_sizes,
                 eager=eager[index]) for index, row in enumerate(rows)]
    heads = _heads.get_many(keys)
    missing = {}
    for index, (row, key) in enumerate(zip(rows, keys, strict=True)):
        if key not in heads:
            heads[key] = missing[key] = _head_render(
                row, language=language, thumb_cap=thumb_cap, thumb_sizes=thumb_sizes,
                eager=eager[index])
    _heads.set_many(missing)
    tail = _Tail(request=request, event_context=event_context, return_to=return_to)
    # The heads are our own template's output and the tails are built with
    # format_html from escaped parts: safe to mark as such.
    return [mark_safe(heads[key] + tail.render(row, reasons.get(row.pk, ("", ""))))  # noqa: S308
            for row, key in zip(rows, keys, strict=True)]


# --- the API card ------------------------------------------------------------------------


def card_image_dict(image: CardImage | None) -> dict | None:
    """Return an API card's image: box size, colour, a JPEG src and a srcset per format."""
    if image is None:
        return None
    sources = image_sources(image, max_width=CARD_MAX_WIDTH)
    return {"width": image.width, "height": image.height, "color": image.placeholder_color,
            "src": sources.src, "srcset": sources.srcset}


def card_dict(row: CardRow, *, language: str | None = None) -> dict:
    """Return every API card field of `row` as plain data.

    Written by hand rather than through DRF's field machinery: a feed page is
    20 cards, and DRF's per-field to_representation made serialising them
    cost more than the queries behind them. storefront.api.serializers
    documents the shape for the schema (and the tests hold the two equal).
    The title is in `language` (default: the active one) when translated.
    """
    discount = row.discount_percent
    return {
        "id": row.pk,
        "title": row.local_title(get_language() if language is None else language),
        "price": str(row.price),
        "compare_at_price": str(row.compare_at_price) if discount else None,
        "currency": row.currency,
        "discount_percent": discount,
        "in_stock": row.in_stock,
        # Every order in this shop is cash on delivery (DESIGN.md); the flag is
        # here so clients need no change when other payment methods arrive.
        "cod": True,
        "image": card_image_dict(row.image()),
        "rating": card_rating_dict(row),
    }


def card_rating_dict(row: CardRow) -> dict | None:
    """Return an API card's rating (average to one decimal, count), None when unrated."""
    if not row.rating_count:
        return None
    return {"average": row.rating_average, "count": row.rating_count}


def card_dicts(rows: Sequence[CardRow]) -> list[dict]:
    """Return card_dict() of each row, in order, from the cache where it has them.

    `in_stock` is the row's (read on this request), never the cached one. The
    title is in the active language, which is part of the key: a Hindi card
    is never served to an Arabic client.
    """
    language = get_language() or settings.LANGUAGE_CODE
    context = ("api-card", CARD_DICT_VERSION, language, settings.MEDIA_URL,
               repr(settings.STORAGES["default"]))
    keys = [row.digest(*context) for row in rows]
    cached = _dicts.get_many(keys) if keys else {}
    missing = {}
    cards = []
    for row, key in zip(rows, keys, strict=True):
        data = cached.get(key)
        if data is None:
            data = missing[key] = card_dict(row, language=language)
        # A new dict: the cached one is shared and must stay as it is.
        cards.append({**data, "in_stock": row.in_stock})
    _dicts.set_many(missing)
    return cards
