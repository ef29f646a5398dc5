"""Storefront writes that belong to no lower layer: the shopper's share code."""

from __future__ import annotations

import base64
import hashlib
import hmac

from django.conf import settings


def referral_code_get(*, shopper) -> str:
    """Return the shopper's short share code: 8 characters, derived, never personal.

    An HMAC of the profile's public id under the secret key: stable for a
    shopper (so shares can be credited), unguessable, and it reveals nothing
    about the shopper to whoever receives the link.
    """
    if shopper is None:
        return ""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"referral:{shopper.public_id}".encode(), hashlib.sha256
    ).digest()
    return base64.b32encode(digest)[:8].decode().lower()
