"""Notifications' part in a shopper's export, erasure and sign-in merge (personalization.privacy).

Erasure deletes the messages, preferences and push subscriptions; the events
stay for the counts, unlinked (shopper NULL), like personalization's events.
"""

from __future__ import annotations

from personalization import privacy as shopper_privacy

from .models import Notification, NotificationEvent, Preference, PushSubscription


def notifications_export(shopper) -> dict:
    """Return the shopper's notifications, preferences and push subscriptions as JSON data."""
    preference = Preference.objects.filter(shopper=shopper).first()
    return {
        "notifications": [
            {"kind": n.kind, "title": n.title, "body": n.body, "link": n.link,
             "status": n.status, "reason": n.reason,
             "created_at": n.created_at.isoformat(),
             "sent_at": n.sent_at.isoformat() if n.sent_at else None,
             "read_at": n.read_at.isoformat() if n.read_at else None}
            for n in Notification.objects.filter(shopper=shopper).order_by("created_at", "id")
        ],
        "preferences": {
            "webpush": preference.webpush, "sms": preference.sms,
            "muted_kinds": list(preference.muted_kinds),
        } if preference else None,
        # The endpoint identifies the browser at its push service; the keys are secrets.
        "push_subscriptions": [
            {"endpoint": s.endpoint, "created_at": s.created_at.isoformat()}
            for s in PushSubscription.objects.filter(shopper=shopper).order_by("id")
        ],
        "events": [
            {"type": e.type, "kind": e.kind, "channel": e.channel,
             "occurred_at": e.occurred_at.isoformat()}
            for e in NotificationEvent.objects.filter(shopper=shopper).order_by("occurred_at", "id")
        ],
    }


def notifications_erase(shopper) -> None:
    NotificationEvent.objects.filter(shopper=shopper).update(shopper=None, notification=None)
    Notification.objects.filter(shopper=shopper).delete()
    Preference.objects.filter(shopper=shopper).delete()
    PushSubscription.objects.filter(shopper=shopper).delete()


def notifications_merge(source, target) -> None:
    """Move the anonymous profile's rows to the account's; the account's choices win."""
    taken = Notification.objects.filter(shopper=target).values("dedupe_key")
    Notification.objects.filter(shopper=source, dedupe_key__in=taken).delete()
    Notification.objects.filter(shopper=source).update(shopper=target)
    PushSubscription.objects.filter(shopper=source).update(shopper=target)
    NotificationEvent.objects.filter(shopper=source).update(shopper=target)
    if Preference.objects.filter(shopper=target).exists():
        Preference.objects.filter(shopper=source).delete()
    else:
        Preference.objects.filter(shopper=source).update(shopper=target)


def register() -> None:
    shopper_privacy.register_exporter("notifications", notifications_export)
    shopper_privacy.register_eraser(notifications_erase)
    shopper_privacy.register_merger(notifications_merge)
