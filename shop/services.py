"""Storefront writes: the impressions of a rendered feed page, and shopper choices."""

from __future__ import annotations

import base64
import hashlib
import hmac

from django.conf import settings
from django.utils import timezone


def _events_available() -> bool:
    # The events pipeline is another app's; impressions are recorded only once
    # it is installed (its batch service is the marker), checked at call time
    # so tests and deployments without it simply record nothing.
    try:
        from personalization import services
    except ImportError:
        return False
    return hasattr(services, "events_record_batch")


def feed_impressions_record(*, shopper, product_ids: list[int], context: str = "feed") -> int:
    """Record a `view` event for each card of a rendered feed page in one INSERT; return the count.

    Not through `events_record_batch`: that validates untrusted client input
    (product lookup, row lock, duplicate check: four queries), while these ids
    come straight from the ranking and the cards just rendered. The consent
    rule is the same: with personalisation off the events are kept for
    aggregate statistics only, linked to nobody.
    """
    if shopper is None or not product_ids or not _events_available():
        return 0
    from personalization.importers import datetime_adapter, events_insert_rows
    from personalization.models import EventType

    owner_id = shopper.pk if shopper.consent_personalization else None
    now = datetime_adapter()(timezone.now())
    # The importer's raw INSERT: one multi-row statement for a page (a third
    # of the cost of bulk_create's 20 model instances, 0.3 against 0.8 ms).
    events_insert_rows([(owner_id, pk, EventType.VIEW.value, context, now, None)
                        for pk in product_ids])
    return len(product_ids)


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
