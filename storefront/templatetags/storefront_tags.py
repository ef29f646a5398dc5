"""Template helpers for the storefront: pictures and the "why am I seeing this" cue."""

from __future__ import annotations

from django import template
from django.core.files.storage import default_storage
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()

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


@register.inclusion_tag("storefront/_picture.html")
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
