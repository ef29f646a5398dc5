"""Feed cursors: a signed pointer into one shopper's ranking snapshot.

A cursor names a snapshot (the full ranked id list computed for the first page
and kept in the cache) and an offset into it, so later pages slice the same
list: scrolling never repeats or skips an item, even when `rebuild_affinities`
flips to a new ranking version mid-scroll.

The cursor is signed, not encrypted, so it holds nothing private: no shopper
pk (which never leaves the server), only a random snapshot id, the ranking
version and the time the snapshot was taken (both needed to reproduce the
snapshot when the cache lost it). The shopper is bound in through the salt
instead: another shopper's cursor fails the signature check exactly like a
forged one, and every failure means "start again at page 1", never an error.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.core import signing

SALT = "personalization.feed.cursor"


@dataclass(frozen=True)
class FeedCursor:
    snapshot_id: str
    offset: int
    # The ranking version the snapshot was built from (None: no version was
    # active, the fallback ordering was used) and when, in Unix seconds.
    version: int | None
    as_of: int


def snapshot_id_new() -> str:
    """Return a fresh, unguessable snapshot id (also keeps cache keys apart)."""
    return secrets.token_urlsafe(9)


def _salt(shopper_key: object) -> str:
    return f"{SALT}:{shopper_key}"


def cursor_encode(*, cursor: FeedCursor, shopper_key: object) -> str:
    """Return the URL-safe signed form of `cursor`, valid for `shopper_key` only."""
    payload = [cursor.snapshot_id, cursor.offset, cursor.version, cursor.as_of]
    return signing.dumps(payload, salt=_salt(shopper_key), compress=True)


def cursor_decode(*, token: str | None, shopper_key: object, max_age: int) -> FeedCursor | None:
    """Return the cursor in `token`, or None if it is absent, forged, garbled,
    older than `max_age` seconds, or was issued to another shopper."""
    if not token or not isinstance(token, str) or len(token) > 512:
        return None
    try:
        payload = signing.loads(token, salt=_salt(shopper_key), max_age=max_age)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        # SignatureExpired is a BadSignature. A valid signature over a payload
        # we did not write cannot happen without the secret key, but the shape
        # is checked below anyway so a key leak cannot turn into a 500.
        return None
    if not (isinstance(payload, list) and len(payload) == 4):
        return None
    snapshot_id, offset, version, as_of = payload
    if not (
        isinstance(snapshot_id, str)
        and isinstance(offset, int) and not isinstance(offset, bool) and offset >= 0
        and (version is None or (isinstance(version, int) and not isinstance(version, bool)))
        and isinstance(as_of, int) and not isinstance(as_of, bool)
    ):
        return None
    return FeedCursor(snapshot_id=snapshot_id, offset=offset, version=version, as_of=as_of)
