"""Template helpers for the storefront: money, pictures and the "why am I seeing this" cue."""

from __future__ import annotations

from django import template
from django.core.files.storage import default_storage
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from catalog.models import CURRENCY_EXPONENT

register = template.Library()

# Symbols as shoppers know them; a code stands in where the symbol is ambiguous
# or unknown to most readers (AED is written "AED" in English, "د.إ." in Arabic).
_SYMBOLS = {
    "INR": {"default": "₹"},
    "AED": {"default": "AED\u00a0", "ar": "د.إ.\u200f"},
    "USD": {"default": "$", "ar": "US$"},
    "EUR": {"default": "€"},
    "NPR": {"default": "Rs\u00a0", "ar": "ر.ن."},
    "BDT": {"default": "৳"},
}
# South Asian currencies group by lakh and crore: 1,29,999 rather than 129,999.
_INDIAN_GROUPING = {"INR", "NPR", "BDT"}


def _group(digits: str, indian: bool) -> str:
    if len(digits) <= 3:
        return digits
    head, tail = digits[:-3], digits[-3:]
    size = 2 if indian else 3
    groups = []
    while head:
        groups.insert(0, head[-size:])
        head = head[:-size]
    return ",".join([*groups, tail])


def format_money(amount_minor: int, currency: str, language: str | None = None) -> str:
    """Return `amount_minor` as shoppers read it: ₹1,299 / ₹1,29,999.50 / AED 1,299.

    Whole amounts drop the decimals (a budget shopper scans "₹499", not
    "₹499.00"). Latin digits in every language, with the separators and symbol
    position of the language (Arabic writes the symbol after the number).
    """
    language = (language or get_language() or "en").split("-")[0]
    exponent = CURRENCY_EXPONENT.get(currency, 2)
    sign = "-" if amount_minor < 0 else ""
    major, minor = divmod(abs(int(amount_minor)), 10**exponent)
    number = _group(str(major), currency in _INDIAN_GROUPING)
    if minor:
        number += "." + str(minor).zfill(exponent)
    symbols = _SYMBOLS.get(currency, {"default": currency + "\u00a0"})
    symbol = symbols.get(language, symbols["default"]).strip("\u00a0")
    if language == "ar":
        # CLDR ar: "‏#,##0.00 ¤"; the marks keep the minus and symbol in place in RTL text.
        return f"\u200f{sign}{number}\u00a0{symbol}"
    separator = "\u00a0" if symbols["default"].endswith("\u00a0") else ""
    return f"{sign}{symbol}{separator}{number}"


@register.filter
def money(product_or_minor, currency: str | None = None) -> str:
    """Format a product's price ({{ p|money }}) or an amount ({{ minor|money:"INR" }})."""
    if hasattr(product_or_minor, "price_minor"):
        return format_money(product_or_minor.price_minor, product_or_minor.currency)
    return format_money(int(product_or_minor), currency or "INR")


@register.filter
def compare_money(product) -> str:
    return format_money(product.compare_at_minor, product.currency)


# Icons rather than long text: many shoppers read little. Each code names a
# <symbol> of the inline sprite in base.html (id "i-<code>"): no request, no
# icon font, and it renders the same on phones without a colour-emoji font.

def reason_label(reason: str, arg: str = "") -> str:
    labels = {
        "popular_region": (
            _("Popular in %(region)s") % {"region": arg} if arg else _("Popular nearby")
        ),
        "popular": _("Popular"),
        "new": _("New"),
        "because_viewed": (
            _("Because you viewed %(title)s") % {"title": arg} if arg else _("Like what you viewed")
        ),
        "for_you": _("For you"),
        "trending": _("Trending"),
    }
    return labels.get(reason, "")


@register.simple_tag
def reason_cue(reason: str, arg: str = ""):
    """Return the small icon + label that says why a card is in the feed ('' if unknown)."""
    label = reason_label(reason, arg)
    if not label:
        return ""
    return format_html(
        '<span class="why"><svg class="ic" aria-hidden="true"><use href="#i-{}"/></svg>{}</span>',
        reason,
        label,
    )


def _variant_url(variant: dict) -> str:
    return default_storage.url(variant["name"])


def _srcset(image, fmt: str, max_width: int) -> str:
    return ", ".join(
        f"{_variant_url(v)} {v['width']}w"
        for v in sorted(image.variants, key=lambda v: v["width"])
        if v.get("format") == fmt and v["width"] <= max_width
    )


def _fallback_src(image, fmt: str, want: int) -> str:
    candidates = [v for v in image.variants if v.get("format") == fmt]
    if not candidates:
        original = image.original
        # A ProductImage has a FieldFile; a CardImage carries the storage name.
        name = getattr(original, "name", original)
        return default_storage.url(name) if name else ""
    wide_enough = [v for v in candidates if v["width"] >= want]
    best = (min(wide_enough, key=lambda v: v["width"]) if wide_enough
            else max(candidates, key=lambda v: v["width"]))
    return _variant_url(best)


@register.inclusion_tag("shop/_picture.html")
def picture(image, *, sizes: str, max_width: int, eager: bool = False, css: str = "",
            alt: str = ""):
    """Render <picture> with AVIF and WebP srcsets, a JPEG fallback and fixed dimensions.

    The narrowest variant that covers `max_width` bounds the srcset: the feed
    never offers a phone a 960w picture for a 144px thumbnail, and data saver
    lowers the cap further.
    """
    widths = sorted({v["width"] for v in image.variants}) if image.variants else []
    # Keep at least the smallest variant even if it is wider than the cap.
    cap = max([w for w in widths if w <= max_width] or widths[:1] or [max_width])
    return {
        "image": image,
        "avif": _srcset(image, "avif", cap),
        "webp": _srcset(image, "webp", cap),
        "src": _fallback_src(image, "jpeg", min(cap, 320)),
        "sizes": sizes,
        "eager": eager,
        "css": css,
        "alt": image.alt_text or alt,
        "width": image.width or cap,
        "height": image.height or cap,
    }
