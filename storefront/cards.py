"""Product cards as cached HTML fragments: the feed, category, search and
"more like this" lists.

Rendering 20 cards through the template engine was most of a feed page's CPU
(about 60% of it, docs/BENCHMARKS.md "## API"), and almost nothing in a card
changes from one request to the next. So a card is two parts:

- the head (photo, title, price, discount): rendered from
  `storefront/_card_head.html` once and cached under a digest of everything it shows
  (the product's fields, the raw JSON of its first photo, the language, the
  width cap, whether the image loads eagerly) and of the template itself. The
  key changes whenever the content does, so nothing is ever invalidated and a
  stale card cannot be served, even across deploys sharing one Redis.
- the tail (why it is here, in stock or not, the "Not interested" form with
  this request's CSRF token): per request and per shopper, so assembled here
  from strings prepared once per page. Stock is read fresh on every request:
  an order that sells the last one shows "Out of stock" at once.

A page is then one cheap query (storefront.selectors.card_rows_get), lookups in
this process's memory (a shared-cache `get_many` for what it lacks) and
string joins.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping, Sequence

from django.conf import settings
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.content_cache import ContentCache

from .selectors import CardRow
from .templatetags.storefront_tags import reason_cue

HEAD_TEMPLATE = "storefront/_card_head.html"
# Content-addressed keys never go stale; the timeout only bounds memory.
FRAGMENT_TIMEOUT = 24 * 3600
# In this process's memory and in the shared cache (core/content_cache.py).
_heads = ContentCache(prefix="card:", timeout=FRAGMENT_TIMEOUT)


@functools.cache
def _release() -> str:
    """Return a digest of what every fragment depends on besides its row: the
    head template's source and where media is served from."""
    return templates_digest([HEAD_TEMPLATE], settings.MEDIA_URL, settings.STORAGES["default"])


def templates_digest(names: list[str], *extra: object) -> str:
    """Return a short digest of these templates' sources (and `extra`): part of
    the key of anything rendered from them and cached, so a deploy that
    changes them never serves the old output."""
    sources = "\x00".join([*(get_template(name).template.source for name in names),
                           *map(str, extra)])
    return hashlib.blake2b(sources.encode(), digest_size=8).hexdigest()


def _key(row: CardRow, *, language: str, thumb_cap: int, thumb_sizes: str,
         eager: bool) -> str:
    return row.digest(language, thumb_cap, thumb_sizes, eager, _release())


def _head_render(row: CardRow, *, thumb_cap: int, thumb_sizes: str, eager: bool) -> str:
    return render_to_string(HEAD_TEMPLATE, {
        "p": row.product(),
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
                reverse("storefront:hide"), get_token(request),
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
                row, thumb_cap=thumb_cap, thumb_sizes=thumb_sizes, eager=eager[index])
    _heads.set_many(missing)
    tail = _Tail(request=request, event_context=event_context, return_to=return_to)
    # The heads are our own template's output and the tails are built with
    # format_html from escaped parts: safe to mark as such.
    return [mark_safe(heads[key] + tail.render(row, reasons.get(row.pk, ("", ""))))  # noqa: S308
            for row, key in zip(rows, keys, strict=True)]

