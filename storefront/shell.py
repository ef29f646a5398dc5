"""The feed page's shell, rendered once per variant and filled per request.

After the cards became cached fragments (storefront/cards.py), rendering the rest
of the feed page through the template engine (head, icon sprite, header,
footer forms: some seventy variables, eighteen translations, eight URL
reversals) was a quarter of the page's CPU, and almost none of it changes
between requests. So the page is rendered once per variant (language, data
saver, welcome banner, first page, whether there is a next page) with
unmistakable markers where the per-request values go, kept in this process's
memory for a minute (category chips are cached for five), and each request
replaces the markers with its own values: the CSP nonce, the CSRF token, its
own path for the footer forms' `next`, the next page's URL and the cards.
Every replacement is HTML-escaped as the template would have escaped it (the
cards are already HTML).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Sequence

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.html import conditional_escape, escape
from django.utils.translation import get_language

from .cards import templates_digest

# ASCII letters and underscores only: escaping leaves them as they are.
_MARK = "__feed_shell_{}_4f1c9a__"
NONCE, CSRF, PATH, NEXT, CARDS = (_MARK.format(name) for name in
                                  ("nonce", "csrf", "path", "next", "cards"))
SHELL_SECONDS = 60
_TEMPLATES = ("base.html", "storefront/feed.html", "storefront/_feed_list.html",
              "storefront/_critical.css")

_shells: dict[tuple, tuple[float, str]] = {}
_lock = threading.Lock()


class _ShellRequest:
    """What the templates read of `request`, with markers for per-request values."""

    def __init__(self, request: HttpRequest):
        self._request = request
        self.csp_nonce = NONCE

    def get_full_path(self) -> str:
        return PATH

    def __getattr__(self, name):
        return getattr(self._request, name)


@functools.cache
def _release() -> str:
    return templates_digest(list(_TEMPLATES))


def _shell(request: HttpRequest, *, key: tuple, context: dict) -> str:
    now = time.monotonic()
    found = _shells.get(key)
    if found is not None and found[0] > now:
        return found[1]
    shell_context = {**context, "request": _ShellRequest(request), "csrf_token": CSRF,
                     "cards": [CARDS] if context["cards"] else [],
                     "next_url": NEXT if context["next_url"] else ""}
    html = render_to_string("storefront/feed.html", shell_context, request)
    with _lock:
        if len(_shells) > 256:
            _shells.clear()
        _shells[key] = (now + SHELL_SECONDS, html)
    return html


def feed_page_render(request: HttpRequest, *, cards: Sequence[str], next_url: str,
                     show_welcome: bool, first_page: bool) -> str:
    """Return the feed page's HTML: what render(request, "storefront/feed.html", ...) gives."""
    context = {"cards": cards, "next_url": next_url, "event_context": "feed",
               "show_welcome": show_welcome, "first_page": first_page}
    key = (get_language(), bool(getattr(request, "save_data", False)), show_welcome,
           first_page, bool(next_url), bool(cards), _release())
    shell = _shell(request, key=key, context=context)
    values = {
        NONCE: escape(str(request.csp_nonce)),
        CSRF: escape(get_token(request)),
        PATH: escape(request.get_full_path()),
        NEXT: escape(next_url),
        # The list template writes "{{ card }}\n" per card (escaped unless safe).
        CARDS: "\n".join(conditional_escape(card) for card in cards),
    }
    for marker, value in values.items():
        shell = shell.replace(marker, value)
    return shell


def forget_shells() -> None:
    """Drop every rendered shell (tests; templates change only with a deploy)."""
    with _lock:
        _shells.clear()
    _release.cache_clear()
