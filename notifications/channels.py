"""Channels a notification goes out on, behind one small interface.

- inbox: always on; the Notification row is the message, nothing to send.
- webpush: RFC 8030 requests with VAPID (RFC 8292) and an aes128gcm body
  (RFC 8291), through pywebpush, to every subscription of the shopper. A
  push service answering 404 or 410 says the subscription is gone: it is
  deleted.
- sms: an operator's SMS or WhatsApp gateway, plugged in by dotted path
  (settings.NOTIFICATIONS["SMS_PROVIDER"]); none ships with the shop. See
  `MessageProvider` and docs/OPERATIONS.md.

`channel.send(notification)` returns a `ChannelResult`; it never raises for a
recipient-side failure (a dead subscription, a refused number), so one bad
device cannot stop the others or the task.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import cache

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from .conf import get_config, vapid_settings
from .models import Channel, Notification, NotificationEvent, PushSubscription
from .stoplinks import stop_path

logger = logging.getLogger("shop.notifications")


@dataclass(frozen=True)
class ChannelResult:
    status: str  # "sent", "failed" or "skipped" (Delivery.Status)
    detail: str = ""
    delivered: int = 0  # messages a push service or gateway accepted


class BaseChannel:
    code: str = ""

    def configured(self) -> bool:
        """Return whether the operator set this channel up at all."""
        return True

    def available_for(self, notification: Notification) -> bool:
        """Return whether this channel should try `notification` at all."""
        return self.configured()

    def send(self, notification: Notification) -> ChannelResult:
        raise NotImplementedError


class InboxChannel(BaseChannel):
    code = Channel.INBOX

    def send(self, notification: Notification) -> ChannelResult:
        return ChannelResult("sent", delivered=1)


def stop_label(notification: Notification) -> str:
    """Return the one-tap stop button's text in the shopper's language (the inbox's wording)."""
    shopper = notification.shopper
    language = shopper.language or (shopper.region.language if shopper.region_id else "")
    with translation.override(language or settings.LANGUAGE_CODE):
        if notification.is_order_update:
            return str(_("No phone alerts for these"))
        return str(_("Stop messages like this"))


def push_payload(notification: Notification) -> str:
    """Return the JSON the service worker's push handler shows."""
    return json.dumps({
        "id": notification.pk,
        "title": notification.title,
        "body": notification.body,
        "kind": notification.kind,
        # Through our own redirect, so the tap is recorded as a click.
        "url": f"/notifications/{notification.pk}/go/?via=webpush",
        # The notification's own button: one tap stops the kind, without
        # opening the shop (a POST to the signed link, RFC 8058's idea).
        "stop": stop_path(notification),
        "stopLabel": stop_label(notification),
    }, ensure_ascii=False, separators=(",", ":"))


@cache
def _vapid(private_key: str):
    from py_vapid import Vapid

    return Vapid.from_string(private_key=private_key)


class WebPushChannel(BaseChannel):
    code = Channel.WEBPUSH

    def configured(self) -> bool:
        return bool(vapid_settings()["private_key"])

    def send(self, notification: Notification) -> ChannelResult:
        from pywebpush import WebPushException, webpush

        vapid = vapid_settings()
        subscriptions = list(PushSubscription.objects.filter(shopper_id=notification.shopper_id))
        if not subscriptions:
            return ChannelResult("skipped", "no subscription")
        config = get_config()
        data = push_payload(notification)
        delivered, gone, failed = 0, [], []
        for subscription in subscriptions:
            try:
                webpush(
                    subscription.subscription_info(), data=data,
                    vapid_private_key=_vapid(vapid["private_key"]),
                    # A fresh dict each time: pywebpush writes aud and exp into it.
                    vapid_claims={"sub": vapid["subject"]},
                    ttl=int(config["PUSH_TTL_SECONDS"]),
                    timeout=float(config["PUSH_TIMEOUT_SECONDS"]),
                    headers={"Urgency": "high" if notification.is_order_update else "normal"},
                )
            except WebPushException as exc:
                code = getattr(exc.response, "status_code", None)
                if code in (404, 410):
                    gone.append(subscription.pk)
                else:
                    failed.append(str(code or exc)[:40])
            except requests.RequestException as exc:
                failed.append(type(exc).__name__)
            else:
                delivered += 1
        if gone:
            PushSubscription.objects.filter(pk__in=gone).delete()
            # The browser dropped it (permission revoked, app data cleared,
            # uninstalled): for the adaptive caps that is the uninstall signal
            # Meesho tunes volume against, so it counts as an opt-out.
            now = timezone.now()
            NotificationEvent.objects.bulk_create(
                NotificationEvent(type=NotificationEvent.Type.OPTED_OUT,
                                  shopper_id=notification.shopper_id, kind="",
                                  channel=Channel.WEBPUSH, detail="subscription expired",
                                  notification_id=notification.pk, occurred_at=now)
                for _pk in gone)
        if delivered:
            PushSubscription.objects.filter(
                shopper_id=notification.shopper_id
            ).exclude(pk__in=gone).update(last_sent_at=timezone.now())
        detail = f"{delivered} of {len(subscriptions)} devices"
        if gone:
            detail += f", {len(gone)} expired and removed"
        if failed:
            detail += f", failed: {', '.join(failed)}"
            logger.warning("web push for notification %s: %s", notification.pk, detail)
        return ChannelResult("sent" if delivered else "failed", detail[:200], delivered)


class MessageProvider:
    """What an SMS or WhatsApp gateway implements (subclass it; none ships with the shop).

    Set settings.NOTIFICATIONS["SMS_PROVIDER"] = "yourpackage.sms.Gateway" and
    optionally "SMS_PROVIDER_OPTIONS" (passed to __init__ as keywords). The
    provider finds the number itself (e.g. from the shopper's latest order:
    the shop keeps no phone on the profile) and returns a ChannelResult:
    "skipped" when it has no number, "failed" when the gateway refused.
    """

    def __init__(self, **options) -> None:
        self.options = options

    def send(self, *, notification: Notification) -> ChannelResult:
        raise NotImplementedError


class SmsChannel(BaseChannel):
    code = Channel.SMS

    def configured(self) -> bool:
        return bool(get_config()["SMS_PROVIDER"])

    def send(self, notification: Notification) -> ChannelResult:
        return sms_provider().send(notification=notification)


def sms_provider() -> MessageProvider:
    """Return the configured provider; ImproperlyConfigured for a bad dotted path or class."""
    config = get_config()
    path = config["SMS_PROVIDER"]
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"NOTIFICATIONS['SMS_PROVIDER']={path!r}: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, MessageProvider)):
        raise ImproperlyConfigured(
            f"NOTIFICATIONS['SMS_PROVIDER']={path!r} is not a MessageProvider subclass")
    return cls(**config["SMS_PROVIDER_OPTIONS"])


def channels() -> list[BaseChannel]:
    """Return every channel, inbox first."""
    return [InboxChannel(), WebPushChannel(), SmsChannel()]
