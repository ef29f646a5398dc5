"""Template tags of the storefront: {% picture %} and {% reason_cue %}."""

from __future__ import annotations

from django import template

from storefront.cards import image_sources, variant_url
from storefront.cues import reason_cue

register = template.Library()
register.simple_tag(reason_cue)


@register.inclusion_tag("storefront/_picture.html")
def picture(image, *, sizes: str, max_width: int, eager: bool = False, css: str = "",
            alt: str = ""):
    """Render <picture> with AVIF and WebP srcsets, a JPEG fallback and fixed dimensions.

    `image` is a storefront.cards.CardImage; the variants are chosen by
    storefront.cards.image_sources, as for the API's cards.
    """
    sources = image_sources(image, max_width=max_width)
    # Before any JPEG variant exists the master itself is the fallback.
    src = sources.src or (variant_url(image.original) if image.original else "")
    return {
        "avif": sources.srcset.get("avif", ""),
        "webp": sources.srcset.get("webp", ""),
        "src": src,
        "sizes": sizes,
        "eager": eager,
        "css": css,
        "alt": image.alt_text or alt,
        "width": image.width or sources.cap,
        "height": image.height or sources.cap,
    }
