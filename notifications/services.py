"""Writes: making, delivering and reading notifications, preferences, push subscriptions.

Every service is keyword-only; the pages, the API, the tasks and the admin call
these, so caps, consent and events hold the same everywhere.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from personalization.models import EventContext, EventType
from personalization.services import event_record

from . import stoplinks, volume
from .channels import channels
from .conf import get_config
from .models import (
    Channel,
    Delivery,
    Kind,
    Notification,
    NotificationEvent,
    Preference,
    PushSubscription,
)

Status = Notification.Status
# Released messages committed together (notifications_deferred_release).
RELEASE_CHUNK = 100


def notification_event_record(*, type: str, shopper_id: int | None, kind: str = "",
                              channel: str = "", notification_id: int | None = None,
                              detail: str = "", now: dt.datetime | None = None) -> None:
    """Store one NotificationEvent (one INSERT)."""
    NotificationEvent.objects.create(
        type=type, shopper_id=shopper_id, kind=kind, channel=channel,
        notification_id=notification_id, detail=detail[:100], occurred_at=now or timezone.now(),
    )


def preference_get(*, shopper) -> Preference:
    """Return the shopper's preferences (an unsaved default row when they never chose)."""
    return Preference.objects.filter(shopper=shopper).first() or Preference(shopper=shopper)


def _safe_link(link: str) -> str:
    link = (link or "").strip()
    if link and not (link.startswith("/") and url_has_allowed_host_and_scheme(
            link, allowed_hosts=None)):
        raise ValidationError({"link": _("Use a path on this shop, starting with /.")})
    return link


def notification_send(*, shopper, kind: str, title: str, body: str, dedupe_key: str,
                      link: str = "", now: dt.datetime | None = None,
                      product_id: int | None = None) -> Notification:
    """Make (or find) the notification `dedupe_key` names; see `notification_create`."""
    return notification_create(shopper=shopper, kind=kind, title=title, body=body,
                               dedupe_key=dedupe_key, link=link, now=now,
                               product_id=product_id)[0]


def notification_create(*, shopper, kind: str, title: str, body: str, dedupe_key: str,
                        link: str = "", now: dt.datetime | None = None,
                        product_id: int | None = None) -> tuple[Notification, bool]:
    """Make (or find) the notification `dedupe_key` names for the shopper and decide its fate.

    Return the existing row when the key was used before: retries never
    duplicate. A new row is `sent` (in the inbox now; call
    `notification_deliver` for the other channels), `deferred` until
    `send_after` (quiet hours, a full day) or `dropped` with the reason; each
    outcome is recorded as an event.
    """
    if kind not in Kind.values:
        raise ValidationError({"kind": _("Unknown notification kind.")})
    link = _safe_link(link)
    existing = Notification.objects.filter(shopper=shopper, dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing, False
    now = now or timezone.now()
    muted = kind in preference_get(shopper=shopper).muted_kinds
    decision = volume.decide(shopper=shopper, kind=kind, now=now, muted=muted)
    notification = Notification(
        shopper=shopper, kind=kind, title=title[:120], body=body[:500], link=link,
        product_id=product_id, dedupe_key=dedupe_key, status=decision.status,
        reason=decision.reason, send_after=decision.send_after,
        sent_at=now if decision.status == Status.SENT else None,
    )
    try:
        with transaction.atomic():
            notification.save()
            _outcome_record(notification, now=now)
    except IntegrityError:
        # A concurrent run of the same trigger made it first.
        return Notification.objects.get(shopper=shopper, dedupe_key=dedupe_key), False
    return notification, True


def _outcome_record(notification: Notification, *, now: dt.datetime) -> None:
    if notification.status == Status.SENT:
        Delivery.objects.create(notification=notification, channel=Channel.INBOX,
                                status=Delivery.Status.SENT)
    notification_event_record(
        type=notification.status, shopper_id=notification.shopper_id, kind=notification.kind,
        channel=Channel.INBOX if notification.status == Status.SENT else "",
        notification_id=notification.pk, detail=notification.reason, now=now,
    )


def _wanted_channels(notification: Notification, preference: Preference) -> set[str]:
    wanted = {Channel.INBOX}
    if notification.kind in preference.muted_kinds:
        # Order updates stay in the inbox even when the shopper stopped their pushes.
        return wanted
    if preference.webpush:
        wanted.add(Channel.WEBPUSH)
    if preference.sms:
        wanted.add(Channel.SMS)
    return wanted


def notification_deliver(*, notification_id: int) -> list[Delivery]:
    """Send a `sent` notification on every channel the shopper allows that has not had it yet.

    Idempotent: a channel with a Delivery row is never tried again, so a
    retried task sends nothing twice. Slow (network): call it from a task.
    """
    others = [channel for channel in channels() if channel.code != Channel.INBOX]
    if not any(channel.configured() for channel in others):
        return []  # a shop without push or SMS: the inbox row is the whole delivery
    notification = (Notification.objects.select_related("shopper", "shopper__region")
                    .filter(pk=notification_id, status=Status.SENT).first())
    if notification is None:
        return []
    preference = preference_get(shopper=notification.shopper)
    wanted = _wanted_channels(notification, preference)
    done = set(Delivery.objects.filter(notification=notification).values_list("channel",
                                                                               flat=True))
    made = []
    for channel in channels():
        if channel.code in done or channel.code not in wanted:
            continue
        if not channel.available_for(notification):
            continue
        result = channel.send(notification)
        try:
            with transaction.atomic():
                made.append(Delivery.objects.create(notification=notification,
                                                    channel=channel.code, status=result.status,
                                                    detail=result.detail))
        except IntegrityError:
            continue  # another run of this task recorded this channel meanwhile
        if result.status != Delivery.Status.SKIPPED:
            notification_event_record(
                type=(NotificationEvent.Type.DELIVERED if result.status == Delivery.Status.SENT
                      else NotificationEvent.Type.FAILED),
                shopper_id=notification.shopper_id, kind=notification.kind,
                channel=channel.code, notification_id=notification.pk, detail=result.detail,
            )
    return made


def notifications_deferred_release(*, now: dt.datetime | None = None,
                                   limit: int = 1000) -> list[int]:
    """Decide again the deferred notifications that are due; return the ids now sent.

    A row still over its cap is deferred again or dropped (volume.decide);
    the caller delivers the returned ids. Rows are claimed by a conditional
    UPDATE (two workers never release one twice) and committed in chunks:
    one commit per message made SQLite's fsyncs the cost of a campaign.
    """
    now = now or timezone.now()
    sent = []
    due = list(Notification.objects.select_related("shopper", "shopper__region")
               .filter(status=Status.DEFERRED, send_after__lte=now)
               .order_by("send_after", "id")[:limit])
    muted_by_shopper = dict(Preference.objects.filter(
        shopper_id__in={n.shopper_id for n in due}).values_list("shopper_id", "muted_kinds"))
    for start in range(0, len(due), RELEASE_CHUNK):
        with transaction.atomic():
            for notification in due[start:start + RELEASE_CHUNK]:
                muted = notification.kind in muted_by_shopper.get(notification.shopper_id, ())
                decision = volume.decide(shopper=notification.shopper, kind=notification.kind,
                                         now=now, muted=muted)
                changes = {"status": decision.status, "reason": decision.reason,
                           "send_after": decision.send_after,
                           "sent_at": now if decision.status == Status.SENT else None}
                if not Notification.objects.filter(pk=notification.pk,
                                                    status=Status.DEFERRED).update(**changes):
                    continue  # another worker released it
                for field, value in changes.items():
                    setattr(notification, field, value)
                _outcome_record(notification, now=now)
                if decision.status == Status.SENT:
                    sent.append(notification.pk)
    return sent


def notifications_deferred_due_exists(*, now: dt.datetime | None = None) -> bool:
    return Notification.objects.filter(status=Status.DEFERRED,
                                       send_after__lte=now or timezone.now()).exists()


def _own(shopper, notification_id) -> Notification:
    """Return the shopper's inbox notification; DoesNotExist for anyone else's or a bad id."""
    try:
        pk = int(notification_id)
    except (TypeError, ValueError):
        raise Notification.DoesNotExist from None
    return Notification.objects.in_inbox().get(pk=pk, shopper=shopper)


@transaction.atomic
def notification_mark_read(*, shopper, notification_id, channel: str = Channel.INBOX
                           ) -> Notification:
    """Mark one of the shopper's notifications read (recorded as `opened` the first time)."""
    notification = _own(shopper, notification_id)
    if notification.read_at is None:
        now = timezone.now()
        if Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
                read_at=now):
            notification.read_at = now
            notification_event_record(type=NotificationEvent.Type.OPENED,
                                      shopper_id=shopper.pk, kind=notification.kind,
                                      channel=channel, notification_id=notification.pk, now=now)
    return notification


@transaction.atomic
def notifications_mark_all_read(*, shopper) -> int:
    """Mark every unread inbox notification of the shopper read; return how many."""
    now = timezone.now()
    unread = list(Notification.objects.in_inbox().unread().filter(shopper=shopper)
                  .values_list("pk", "kind"))
    Notification.objects.filter(pk__in=[pk for pk, _kind in unread]).update(read_at=now)
    NotificationEvent.objects.bulk_create(
        NotificationEvent(type=NotificationEvent.Type.OPENED, shopper_id=shopper.pk, kind=kind,
                          channel=Channel.INBOX, notification_id=pk, occurred_at=now)
        for pk, kind in unread
    )
    return len(unread)


@transaction.atomic
def notification_click(*, shopper, notification_id, via: str = Channel.INBOX) -> str:
    """Record a tap on a notification's link (and open it); return where to send the shopper."""
    channel = via if via in Channel.values else Channel.INBOX
    notification = notification_mark_read(shopper=shopper, notification_id=notification_id,
                                          channel=channel)
    notification_event_record(type=NotificationEvent.Type.CLICKED, shopper_id=shopper.pk,
                              kind=notification.kind, channel=channel,
                              notification_id=notification.pk)
    if notification.product_id is not None:
        # The ranking learns from personalization's events: a tap on "back in
        # stock" is interest in that listing like a tap on its feed card
        # (stored without the shopper when they refused personalisation).
        event_record(shopper=shopper, product_id=notification.product_id,
                     type=EventType.CLICK, context=EventContext.OTHER)
    return notification.link or "/notifications/"


def kind_stop_signed(*, token: str) -> Notification:
    """Stop the kind of the message a signed stop link names (stoplinks.py); return it.

    BadSignature for a forged or damaged token, Notification.DoesNotExist
    when the message is gone (its shopper was erased).
    """
    notification = Notification.objects.select_related("shopper").get(
        pk=stoplinks.stop_token_read(token))
    kind_stop(shopper=notification.shopper, kind=notification.kind,
              notification_id=notification.pk)
    return notification


def _check_kinds(kinds) -> list[str]:
    if not isinstance(kinds, list | tuple) or any(kind not in Kind.values for kind in kinds):
        raise ValidationError({"muted_kinds": _("Choose kinds from the list.")})
    return sorted(set(kinds))


@transaction.atomic
def preference_update(*, shopper, webpush: bool | None = None, sms: bool | None = None,
                      muted_kinds: list[str] | None = None,
                      from_notification: Notification | None = None) -> Preference:
    """Change what the shopper receives; each channel off or kind stopped is an opt-out event.

    `from_notification` is the message the stop was tapped on: its kind's
    opt-out event names it, so analytics can count stops per campaign.
    """
    preference = (Preference.objects.select_for_update().filter(shopper=shopper).first()
                  or Preference(shopper=shopper))
    opted_out: list[tuple[str, str]] = []  # (kind, channel)
    if webpush is not None:
        if preference.webpush and not webpush:
            opted_out.append(("", Channel.WEBPUSH))
        preference.webpush = bool(webpush)
    if sms is not None:
        if preference.sms and not sms:
            opted_out.append(("", Channel.SMS))
        preference.sms = bool(sms)
    if muted_kinds is not None:
        kinds = _check_kinds(muted_kinds)
        opted_out += [(kind, "") for kind in kinds if kind not in preference.muted_kinds]
        preference.muted_kinds = kinds
    preference.full_clean(exclude=["shopper"])
    preference.save()
    now = timezone.now()
    NotificationEvent.objects.bulk_create(
        NotificationEvent(
            type=NotificationEvent.Type.OPTED_OUT, shopper_id=shopper.pk, kind=kind,
            channel=channel, occurred_at=now,
            notification_id=(from_notification.pk if from_notification is not None
                             and from_notification.kind == kind else None))
        for kind, channel in opted_out
    )
    return preference


def kind_stop(*, shopper, kind: str, notification_id=None) -> Preference:
    """The one-tap "stop messages like this" of each message.

    With the id of the message it was tapped on (the shopper's own; anyone
    else's, or one of another kind, is ignored rather than refused: the stop
    itself must never fail), the opt-out is counted against that message.
    """
    if kind not in Kind.values:
        raise ValidationError({"kind": _("Unknown notification kind.")})
    source = None
    if notification_id not in (None, ""):
        try:
            source = _own(shopper, notification_id)
        except Notification.DoesNotExist:
            source = None
    current = preference_get(shopper=shopper).muted_kinds
    return preference_update(shopper=shopper, muted_kinds=[*current, kind],
                             from_notification=source)


def _b64url_bytes(value: str, field: str, length: int) -> str:
    value = (value or "").strip()
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != length or (field == "p256dh" and raw[:1] != b"\x04"):
        raise ValidationError({field: _("This is not a valid push subscription key.")})
    return value.rstrip("=")


def _check_endpoint(endpoint: str) -> str:
    endpoint = (endpoint or "").strip()
    parts = urlsplit(endpoint)
    allow_http = get_config().get("ALLOW_HTTP_PUSH_ENDPOINTS", False)
    if (not parts.netloc or len(endpoint) > 500
            or parts.scheme not in (("https", "http") if allow_http else ("https",))):
        raise ValidationError({"endpoint": _("Send the https endpoint of the push subscription.")})
    return endpoint


@transaction.atomic
def push_subscribe(*, shopper, endpoint: str, p256dh: str, auth: str) -> PushSubscription:
    """Store the browser's push subscription for the shopper (consent: the shopper's tap).

    The same endpoint again updates its keys; an endpoint another profile had
    (a shared phone, a sign-in) moves to this shopper. Turns push back on.
    """
    endpoint = _check_endpoint(endpoint)
    errors = {}
    try:
        p256dh = _b64url_bytes(p256dh, "p256dh", 65)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        auth = _b64url_bytes(auth, "auth", 16)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    subscription, _created = PushSubscription.objects.update_or_create(
        endpoint=endpoint, defaults={"shopper": shopper, "p256dh": p256dh, "auth": auth})
    if not preference_get(shopper=shopper).webpush:
        preference_update(shopper=shopper, webpush=True)
    return subscription


@transaction.atomic
def push_unsubscribe(*, shopper, endpoint: str) -> bool:
    """Forget the shopper's subscription for `endpoint`; return whether there was one."""
    deleted, _rows = PushSubscription.objects.filter(shopper=shopper,
                                                     endpoint=(endpoint or "").strip()).delete()
    if deleted:
        notification_event_record(type=NotificationEvent.Type.OPTED_OUT, shopper_id=shopper.pk,
                                  channel=Channel.WEBPUSH, detail="unsubscribed")
    return bool(deleted)
