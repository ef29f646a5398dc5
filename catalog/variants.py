"""Choosing among a photo's stored variants (pure functions on the `variants` list).

Each variant is a dict with `width`, `height`, `format` (avif, webp, jpeg),
`name` (its storage name, content-hashed) and `bytes`. The storefront's cards
and pictures (storefront/cards.py `image_sources`) and the admin's thumbnail
choose through these, so a page, the API and the admin pick alike.
"""

from __future__ import annotations

from collections.abc import Sequence


def width_cap(variants: Sequence[dict], max_width: int) -> int:
    """Return the widest variant width not above `max_width`; the narrowest if all are wider.

    At least the smallest variant is always offered, even when it is wider
    than the cap; with no variants at all the cap is `max_width` itself.
    """
    widths = sorted({v["width"] for v in variants})
    return max([w for w in widths if w <= max_width] or widths[:1] or [max_width])


def variants_upto(variants: Sequence[dict], fmt: str, cap: int) -> list[dict]:
    """Return the variants of `fmt` no wider than `cap`, narrowest first."""
    return sorted((v for v in variants if v.get("format") == fmt and v["width"] <= cap),
                  key=lambda v: v["width"])


def variant_nearest(variants: Sequence[dict], fmt: str, width: int) -> dict | None:
    """Return the narrowest variant of `fmt` at least `width` wide, else the widest (or None)."""
    candidates = sorted((v for v in variants if v.get("format") == fmt),
                        key=lambda v: v["width"])
    if not candidates:
        return None
    wide_enough = [v for v in candidates if v["width"] >= width]
    return wide_enough[0] if wide_enough else candidates[-1]
