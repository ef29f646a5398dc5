"""The feed page's shell, rendered once per variant and filled per request.

After the cards became cached fragments (storefront/cards.py), rendering the
rest of the feed page through the template engine (head, icon sprite, header,
footer forms: some seventy variables, eighteen translations, eight URL
reversals) was a quarter of the page's CPU, and almost none of it changes
between requests. So the page is rendered once per variant (language, data
saver, welcome banner, first page, whether there is a next page) with
markers where the per-request values go, kept in this process's memory for
a minute, and each request replaces the markers with its own values: the CSP
nonce, the CSRF token, its own path for the footer forms' `next`, the next
page's URL and the cards.

A shell is shared by every shopper who asks for that variant, so nothing of
the request that rendered it may end up in it:
- the templates see an allow-list, not the request: `request` is a stand-in
  with only `csp_nonce` and `get_full_path` (both markers), and the context
  holds only `SHELL_CONTEXT` from the storefront's context processor. No
  other context processor runs, so `user`, `perms` or `messages` are simply
  absent (empty in the template) instead of the first shopper's; a later
  editor who adds one to base.html sees it render empty on the feed and in
  tests/storefront/test_shell.py, not leak.
- the markers carry a random part drawn when the process starts, so no
  listing title or category name can contain one, and all of them are
  replaced in ONE pass: a value put in (a path holding a marker's text, the
  cards) is never scanned again.
Every value is HTML-escaped as the template would have escaped it (the cards
are already HTML).
"""

from __future__ import annotations

import functools
import re
import secrets
import threading
import time
from collections.abc import Sequence

from django.http import HttpRequest
from django.template.loader import get_template
from django.utils.html import conditional_escape, escape
from django.utils.translation import get_language

from core.security import csrf_token_once

from .cards import templates_digest
from .context_processors import storefront as storefront_context

# ASCII letters, digits and underscores only: escaping leaves them as they are.
_MARK = "__feed_shell_{}_" + secrets.token_hex(8) + "__"
NONCE, CSRF, PATH, NEXT, CARDS, SAVED = (_MARK.format(name) for name in
                                         ("nonce", "csrf", "path", "next", "cards", "saved"))
_MARKERS = re.compile("|".join(map(re.escape, (NONCE, CSRF, PATH, NEXT, CARDS, SAVED))))
# What the shell's templates may read from the storefront's context processor.
SHELL_CONTEXT = ("save_data", "nav_categories", "where")
SHELL_SECONDS = 60
_TEMPLATES = ("base.html", "storefront/feed.html", "storefront/_feed_list.html",
              "storefront/_critical.css")

_shells: dict[tuple, tuple[float, str]] = {}
_lock = threading.Lock()


class _ShellRequest:
    """All the shell's templates may read of `request`: markers for per-request values."""

    __slots__ = ()
    csp_nonce = NONCE

    def get_full_path(self) -> str:
        return PATH


@functools.cache
def _release() -> str:
    return templates_digest(list(_TEMPLATES))


def _shell(request: HttpRequest, *, key: tuple, context: dict) -> str:
    now = time.monotonic()
    found = _shells.get(key)
    if found is not None and found[0] > now:
        return found[1]
    shared = storefront_context(request)
    shell_context = {**{name: shared[name] for name in SHELL_CONTEXT}, **context,
                     "request": _ShellRequest(), "csrf_token": CSRF,
                     "cards": [CARDS] if context["cards"] else [],
                     "next_url": NEXT if context["next_url"] else "",
                     "saved": SAVED if context["saved"] else ""}
    # No request: no context processor runs with the real one (see above).
    html = get_template("storefront/feed.html").render(shell_context)
    with _lock:
        if len(_shells) > 256:
            _shells.clear()
        _shells[key] = (now + SHELL_SECONDS, html)
    return html


def feed_page_render(request: HttpRequest, *, cards: Sequence[str], next_url: str,
                     show_welcome: bool, first_page: bool, saved: str = "") -> str:
    """Return the feed page's HTML: what render(request, "storefront/feed.html", ...) gives.

    `saved`: the onboarding's confirmation of what the shopper just saved (text).
    """
    context = {"cards": cards, "next_url": next_url, "event_context": "feed",
               "show_welcome": show_welcome, "first_page": first_page, "saved": saved}
    # The market (a region name in the header) is a variant like the language:
    # one shell per place, never another shopper's.
    where = getattr(request, "_shopper_market", None)
    key = (get_language(), bool(getattr(request, "save_data", False)), show_welcome,
           first_page, bool(next_url), bool(cards), bool(saved), where, _release())
    shell = _shell(request, key=key, context=context)
    values = {
        NONCE: escape(str(request.csp_nonce)),
        CSRF: escape(csrf_token_once(request)),
        PATH: escape(request.get_full_path()),
        NEXT: escape(next_url),
        SAVED: escape(saved),
        # The list template writes "{{ card }}\n" per card (escaped unless safe).
        CARDS: "\n".join(conditional_escape(card) for card in cards),
    }
    return _MARKERS.sub(lambda match: values[match.group(0)], shell)


def forget_shells() -> None:
    """Drop every rendered shell (tests; templates change only with a deploy)."""
    with _lock:
        _shells.clear()
    _release.cache_clear()
