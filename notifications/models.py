"""Notifications: the inbox rows, their deliveries per channel, preferences, caps and events.

A Notification is one message to one shopper, rendered in the shopper's
language when it is made (the text the shopper saw is what an export
returns). `dedupe_key` is unique per shopper: whatever triggers a message
names it (`order:<id>:shipped:<seller>`), so a retried or repeated task finds
the row the first run made instead of sending again.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from personalization.models import AgeBand, Gender, LifecycleStage


class Kind(models.TextChoices):
    ORDER_CONFIRMED = "order_confirmed", _("Order confirmed")
    ORDER_SHIPPED = "order_shipped", _("Order shipped")
    ORDER_OUT_FOR_DELIVERY = "order_out_for_delivery", _("Out for delivery")
    ORDER_DELIVERED = "order_delivered", _("Order delivered")
    BACK_IN_STOCK = "back_in_stock", _("Back in stock")
    PRICE_DROP = "price_drop", _("Price drop")
    CART_ABANDONED = "cart_abandoned", _("Items left in your cart")
    HABIT_NUDGE = "habit_nudge", _("Suggestions for you")
    CAMPAIGN = "campaign", _("Offers")


# Order updates are what the shopper asked for by ordering: always in the
# inbox, never capped, never held for quiet hours (the courier is coming).
ORDER_KINDS = frozenset({
    Kind.ORDER_CONFIRMED, Kind.ORDER_SHIPPED, Kind.ORDER_OUT_FOR_DELIVERY, Kind.ORDER_DELIVERED,
})


class Channel(models.TextChoices):
    INBOX = "inbox", _("In the app")
    WEBPUSH = "webpush", _("Phone notifications")
    SMS = "sms", _("SMS or WhatsApp")


class NotificationQuerySet(models.QuerySet):
    def in_inbox(self):
        return self.filter(status=Notification.Status.SENT)

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        DEFERRED = "deferred", _("Deferred")
        DROPPED = "dropped", _("Dropped")

    class Reason(models.TextChoices):
        NONE = "", _("None")
        QUIET_HOURS = "quiet_hours", _("Quiet hours")
        DAILY_CAP = "daily_cap", _("Daily cap reached")
        WEEKLY_CAP = "weekly_cap", _("Weekly cap reached")
        OPTED_OUT = "opted_out", _("Shopper opted out of this kind")
        SCHEDULED = "scheduled", _("Scheduled by a campaign")

    shopper = models.ForeignKey(
        "personalization.ShopperProfile", on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=120)
    body = models.CharField(_("body"), max_length=500)
    # A path on this site ("/orders/ABC/"): never another origin.
    link = models.CharField(_("link"), max_length=300, blank=True)
    # The listing the message is about (back in stock, price drop): a tap on
    # it is a click on that listing for the ranking too.
    product = models.ForeignKey("catalog.Product", on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="+", verbose_name=_("listing"))
    dedupe_key = models.CharField(max_length=120, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices, blank=True)
    # Deferred: not sent before this time (end of quiet hours, next local day).
    send_after = models.DateTimeField(_("send after"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # The inbox, newest first, and the caps' counts of the last days.
            models.Index(fields=["shopper", "status", "-sent_at", "-id"],
                         name="notification_inbox"),
            models.Index(fields=["status", "send_after"], name="notification_deferred",
                         condition=Q(status="deferred")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["shopper", "dedupe_key"],
                                    name="notification_unique_dedupe_key"),
            models.CheckConstraint(condition=Q(kind__in=Kind.values),
                                   name="notification_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=["sent", "deferred", "dropped"]),
                                   name="notification_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.shopper_id}"

    @property
    def is_order_update(self) -> bool:
        return self.kind in ORDER_KINDS


class Delivery(models.Model):
    """One channel's attempt at one notification (the inbox's is the row itself)."""

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE,
                                     related_name="deliveries")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            # A retried delivery task never sends one channel twice.
            models.UniqueConstraint(fields=["notification", "channel"],
                                    name="delivery_unique_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}: {self.status}"


class Preference(models.Model):
    """A shopper's choices; no row means the defaults (inbox and push on, SMS off)."""

    shopper = models.OneToOneField(
        "personalization.ShopperProfile", on_delete=models.CASCADE,
        related_name="notification_preference",
    )
    webpush = models.BooleanField(_("phone notifications"), default=True)
    sms = models.BooleanField(_("SMS or WhatsApp"), default=False)
    # Kinds the shopper stopped. Order kinds here stop only their push and
    # SMS: order updates always stay in the inbox.
    muted_kinds = models.JSONField(_("stopped kinds"), default=list, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"preferences of {self.shopper_id}"


class SegmentCap(models.Model):
    """A per-segment override of the daily and weekly caps.

    Staff rows are set in the admin and never touched by the adaptation;
    adaptive rows are written by `adapt.segment_caps_adapt` from the segment's
    opt-out and click-through rates.
    """

    class Source(models.TextChoices):
        STAFF = "staff", _("Set by staff")
        ADAPTIVE = "adaptive", _("Adapted from opt-outs and clicks")

    # A segment lattice key (personalization.lattice): "r:IN-MH", "ag:25-34:f", "g".
    segment_key = models.CharField(_("segment key"), max_length=100, unique=True)
    daily_cap = models.PositiveSmallIntegerField(_("per day"))
    weekly_cap = models.PositiveSmallIntegerField(_("per week"))
    source = models.CharField(_("source"), max_length=10, choices=Source.choices,
                              default=Source.STAFF)
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["segment_key"]
        verbose_name = _("segment cap")
        verbose_name_plural = _("segment caps")

    def __str__(self) -> str:
        return f"{self.segment_key}: {self.daily_cap}/day, {self.weekly_cap}/week"

    def clean(self) -> None:
        if self.daily_cap is not None and self.weekly_cap is not None \
                and self.daily_cap > self.weekly_cap:
            raise ValidationError({"weekly_cap": _("A week allows at least a day's messages.")})


class PushSubscription(models.Model):
    """A browser's Web Push subscription (PushSubscription.toJSON() of the service worker)."""

    shopper = models.ForeignKey(
        "personalization.ShopperProfile", on_delete=models.CASCADE,
        related_name="push_subscriptions",
    )
    endpoint = models.URLField(_("endpoint"), max_length=500, unique=True)
    p256dh = models.CharField(max_length=100)
    auth = models.CharField(max_length=40)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_sent_at = models.DateTimeField(_("last sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("push subscription")
        verbose_name_plural = _("push subscriptions")

    def __str__(self) -> str:
        return self.endpoint[:60]

    def subscription_info(self) -> dict:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


class NotificationEvent(models.Model):
    """Send, open, click and opt-out as rows analytics and the ranking can aggregate.

    The shopper link goes on erasure (NULL) so the counts stay, as with
    personalization's events.
    """

    class Type(models.TextChoices):
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        DEFERRED = "deferred", _("Deferred")
        DROPPED = "dropped", _("Dropped")
        OPENED = "opened", _("Opened")
        CLICKED = "clicked", _("Clicked")
        OPTED_OUT = "opted_out", _("Opted out")

    shopper = models.ForeignKey(
        "personalization.ShopperProfile", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    notification = models.ForeignKey(Notification, on_delete=models.SET_NULL, null=True,
                                     blank=True, related_name="events")
    type = models.CharField(_("type"), max_length=10, choices=Type.choices)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, blank=True)
    detail = models.CharField(_("detail"), max_length=100, blank=True)
    occurred_at = models.DateTimeField(_("when"), db_index=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("notification event")
        verbose_name_plural = _("notification events")
        indexes = [models.Index(fields=["type", "kind", "occurred_at"],
                                name="notificationevent_type_kind")]

    def __str__(self) -> str:
        return f"{self.type} {self.kind}"


class Campaign(models.Model):
    """A message staff send to an audience of the segment lattice, at a local hour.

    The audience is every profile matching all the filters set (a region
    includes the regions under it; a category means shoppers who engaged with
    it, or a category under it, in the last AUDIENCE_AFFINITY_DAYS).
    Scheduling refuses an audience under the k-threshold; planning writes one
    deferred Notification per shopper, due at `send_hour` on `send_on` in that
    shopper's own time zone (or at their segment's active hour, `active_hour`),
    which the scheduled release sends (caps, quiet hours and stops apply then).
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        PLANNED = "planned", _("Planned")

    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("title"), max_length=120)
    body = models.CharField(_("body"), max_length=500)
    link = models.CharField(_("link"), max_length=300, blank=True,
                            help_text=_("A path on this shop, e.g. /c/phones/."))
    region = models.ForeignKey("catalog.Region", on_delete=models.PROTECT, null=True,
                               blank=True, related_name="+", verbose_name=_("region"))
    age_band = models.CharField(_("age band"), max_length=5, blank=True,
                                choices=AgeBand.choices)
    gender = models.CharField(_("gender"), max_length=1, blank=True, choices=Gender.choices)
    language = models.CharField(_("language"), max_length=8, blank=True,
                                choices=settings.LANGUAGES)
    lifecycle_stage = models.CharField(_("lifecycle stage"), max_length=12, blank=True,
                                       choices=LifecycleStage.choices)
    category = models.ForeignKey(
        "catalog.Category", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("category affinity"),
        help_text=_("Only shoppers who clicked, carted, shared or bought in this category "
                    "(or one under it) lately."))
    send_on = models.DateField(_("send on"))
    send_hour = models.PositiveSmallIntegerField(
        _("local hour"), default=11, validators=[MaxValueValidator(23)],
        help_text=_("The hour in each shopper's own time zone."))
    active_hour = models.BooleanField(
        _("send at the segment's active hour"), default=False,
        help_text=_("Each shopper gets it at the local hour their region's shoppers use the "
                    "shop most (outside quiet hours); the hour above where too few are "
                    "active to tell."))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.DRAFT, editable=False)
    planned_count = models.PositiveIntegerField(_("messages planned"), default=0,
                                                editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-send_on", "-id"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.link and not (self.link.startswith("/") and not self.link.startswith("//")):
            raise ValidationError({"link": _("Use a path on this shop, starting with /.")})

    @property
    def dedupe_key(self) -> str:
        return f"campaign:{self.pk}"
