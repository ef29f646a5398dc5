"""Server-rendered inline SVG charts: sparkline, horizontal bars, cohort heatmap.

No chart library and no JavaScript: a chart is a few hundred bytes of markup
in the page, so it costs no request and works with scripts off. Each chart is
drawn on a 360-unit-wide viewBox and scales to its container (width 100%),
so on a 360 px phone one unit is about one pixel and the 14-unit text stays
above 12 px. Each carries role="img" with a <title> and aria-label; the page
shows the same numbers in a table, which is what screen readers should read.

Colours are presentation attributes, not <style>: the Content-Security-Policy
allows style blocks only with the response's nonce.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 360
FONT = 14
INK = "#1f2933"
BAR = "#2563a8"
MUTED = "#6b7280"
_ids = itertools.count(1)

Number = int | float | Decimal


def _open(height: int, label: str) -> str:
    title_id = f"chart-{next(_ids)}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" role="img" '
        f'aria-labelledby="{title_id}" aria-label="{escape(label)}" '
        f'font-family="system-ui,sans-serif" font-size="{FONT}">'
        f'<title id="{title_id}">{escape(label)}</title>'
    )


def _fmt(value: Number | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.1f}"


def sparkline(values: Sequence[Number], *, label: str, height: int = 64) -> SafeString:
    """Return a line of `values` (left = oldest) with its last and highest value written."""
    pad_top, pad_bottom, pad_x = 6, 22, 4
    if not values:
        return _done([_open(height, label), _empty(height)])
    top = max(values) or 1
    plot_h = height - pad_top - pad_bottom
    step = (WIDTH - 2 * pad_x) / max(len(values) - 1, 1)
    points = " ".join(
        f"{pad_x + i * step:.1f},{pad_top + plot_h - (float(v) / float(top)) * plot_h:.1f}"
        for i, v in enumerate(values)
    )
    base = pad_top + plot_h
    return _done([
        _open(height, label)
        + f'<line x1="0" y1="{base}" x2="{WIDTH}" y2="{base}" stroke="#d1d5db"/>'
        + f'<polyline points="{points}" fill="none" stroke="{BAR}" stroke-width="2" '
          'stroke-linejoin="round"/>'
        + f'<text x="0" y="{height - 4}" fill="{MUTED}">max {escape(_fmt(max(values)))}</text>'
        + f'<text x="{WIDTH}" y="{height - 4}" text-anchor="end" fill="{INK}">'
          f'last {escape(_fmt(values[-1]))}</text>'
    ])


def bar_chart(items: Sequence[tuple[str, Number | None]], *, label: str,
              suffix: str = "") -> SafeString:
    """Return horizontal bars: the label above each bar, its value at the bar's end.

    Labels sit above the bars rather than beside them: on a phone there is no
    room for a label column and a bar column side by side.
    """
    row_h = 40
    height = max(row_h * len(items), row_h)
    if not items:
        return _done([_open(height, label), _empty(height)])
    top = max((float(v) for _l, v in items if v is not None), default=0) or 1
    parts = [_open(height, label)]
    for i, (name, value) in enumerate(items):
        y = i * row_h
        text = _fmt(value) + (suffix if value is not None else "")
        parts.append(f'<text x="0" y="{y + 15}" fill="{INK}">{escape(name)}</text>')
        # Leave room after the bar for its value.
        width = 0.0 if value is None else (float(value) / top) * (WIDTH - 90)
        parts.append(f'<rect x="0" y="{y + 21}" width="{max(width, 1):.1f}" height="14" '
                     f'fill="{BAR if value is not None else "#d1d5db"}" rx="2"/>')
        parts.append(f'<text x="{width + 6:.1f}" y="{y + 33}" fill="{INK}">'
                     f"{escape(text)}</text>")
    return _done(parts)


def _cell_fill(share: Decimal | None) -> str:
    """Return a blue whose depth follows `share` (0-100); grey when hidden."""
    if share is None:
        return "#e5e7eb"
    t = max(0.0, min(float(share) / 100.0, 1.0))
    # From #eef4fb (light) to #1d4f91 (deep); white text from the middle on.
    low, high = (0xEE, 0xF4, 0xFB), (0x1D, 0x4F, 0x91)
    rgb = tuple(round(a + (b - a) * t) for a, b in zip(low, high, strict=True))
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def heatmap(rows: Sequence[tuple[str, Sequence[Decimal | None]]], *, columns: Sequence[str],
            label: str, hidden_text: str = "<k") -> SafeString:
    """Return a grid of percentages (rows x columns), each cell written and shaded.

    A row whose values are all None is a suppressed cohort: drawn grey with
    `hidden_text`, never with a figure.
    """
    label_w, head_h, row_h = 104, 24, 30
    cell_w = (WIDTH - label_w) / max(len(columns), 1)
    height = head_h + row_h * max(len(rows), 1)
    parts = [_open(height, label)]
    for j, column in enumerate(columns):
        x = label_w + j * cell_w + cell_w / 2
        parts.append(f'<text x="{x:.1f}" y="16" text-anchor="middle" fill="{MUTED}">'
                     f"{escape(column)}</text>")
    if not rows:
        parts.append(f'<text x="0" y="{head_h + 20}" fill="{MUTED}">no data</text>')
    for i, (name, values) in enumerate(rows):
        y = head_h + i * row_h
        parts.append(f'<text x="0" y="{y + 20}" fill="{INK}">{escape(name)}</text>')
        for j in range(len(columns)):
            share = values[j] if j < len(values) else None
            x = label_w + j * cell_w
            parts.append(f'<rect x="{x + 1:.1f}" y="{y + 1}" width="{cell_w - 2:.1f}" '
                         f'height="{row_h - 2}" fill="{_cell_fill(share)}"/>')
            text = hidden_text if share is None else f"{_fmt(share)}%"
            colour = "#ffffff" if share is not None and share >= 50 else INK
            parts.append(f'<text x="{x + cell_w / 2:.1f}" y="{y + 20}" text-anchor="middle" '
                         f'fill="{colour}">{escape(text)}</text>')
    return _done(parts)


def _empty(height: int) -> str:
    return f'<text x="0" y="{min(height - 6, 20)}" fill="{MUTED}">no data</text>'


def _done(parts: list[str]) -> SafeString:
    """Close the <svg> and mark it safe.

    Safe because every piece of outside text (labels, values) went through
    escape() above; everything else is our own markup and numbers.
    """
    return mark_safe("".join(parts) + "</svg>")  # noqa: S308
