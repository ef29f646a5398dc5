"""Why a card is in the feed, as the small icon + label a shopper sees."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.translation import gettext as _

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
