"""Signed one-tap stop links: each message carries its own, usable without a session.

A phone notification's "Stop" button (and an SMS gateway that wants to add a
link) cannot rely on the shop's cookie or CSRF token: the service worker's
request and a link opened on another device have neither. The link instead
carries the message id signed with the secret key (salted for this one use),
so only someone holding the message can stop its kind, and only for the
shopper it was sent to. Like RFC 8058's one-click unsubscribe, the stop is a
POST; a GET shows a page with the one button, so link scanners and
prefetchers stop nothing.
"""

from __future__ import annotations

from django.core import signing
from django.urls import reverse

SALT = "notifications.stop"


def stop_path(notification) -> str:
    """Return the path that stops messages of the notification's kind for its shopper."""
    token = signing.dumps(notification.pk, salt=SALT, compress=False)
    return reverse("notifications:stop-signed", kwargs={"token": token})


def stop_token_read(token: str) -> int:
    """Return the notification id a stop token was made for; BadSignature when forged."""
    value = signing.loads(token, salt=SALT)
    if isinstance(value, bool) or not isinstance(value, int):
        raise signing.BadSignature("Not a stop token.")
    return value
