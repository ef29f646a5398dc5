"""Aggregate tables that the analytics pages read; `refresh_analytics` writes them.

Every row belongs to one `Snapshot`. A refresh writes a whole new snapshot
beside the served one and then flips the active pointer in one short
transaction, so a reader sees either the old figures or the new ones, never a
half-refreshed mix; the old snapshot is deleted afterwards.

Product and seller columns are plain integers, not foreign keys: the tables
are rewritten wholesale, and deleting a listing must neither cascade into past
figures nor be blocked by them. Titles are copied for the same reason.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Snapshot(models.Model):
    """One generation of aggregate tables, and the shop-wide figures of its window."""

    class Status(models.TextChoices):
        BUILDING = "building", _("Building")
        ACTIVE = "active", _("Active")
        RETIRED = "retired", _("Retired")

    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.BUILDING)
    # The "data as of" time every page shows: events and orders up to here.
    as_of = models.DateTimeField(_("data as of"))
    window_days = models.PositiveIntegerField(_("window (days)"))
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    built_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # Ranking health over the window (feed impressions only: that is what the
    # ranker decides).
    active_listings = models.PositiveIntegerField(default=0)
    covered_listings = models.PositiveIntegerField(default=0)
    feed_impressions = models.BigIntegerField(default=0)
    new_listing_impressions = models.BigIntegerField(default=0)
    new_seller_impressions = models.BigIntegerField(default=0)
    stats = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("analytics")
        verbose_name_plural = _("analytics")
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=Q(status="active"),
                                    name="analytics_snapshot_one_active"),
            # A second refresh started while one runs fails here before doing work.
            models.UniqueConstraint(fields=["status"], condition=Q(status="building"),
                                    name="analytics_snapshot_one_building"),
        ]

    def __str__(self) -> str:
        return f"analytics snapshot {self.pk} ({self.status})"


class ListingStat(models.Model):
    """One listing's funnel, sales and stock over the window."""

    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="+")
    product_id = models.BigIntegerField()
    seller_id = models.BigIntegerField()
    title = models.CharField(max_length=140)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10)
    listed_at = models.DateTimeField()
    stock = models.IntegerField()
    impressions = models.BigIntegerField(default=0)
    clicks = models.BigIntegerField(default=0)
    carts = models.BigIntegerField(default=0)
    orders = models.BigIntegerField(default=0)
    units = models.BigIntegerField(default=0)
    # Integer minor units of `currency`; never a float.
    revenue_minor = models.BigIntegerField(default=0)
    slow_mover = models.BooleanField(default=False)
    # Of `orders`, those credited to a shopper's shared link (orders.ReferralCredit),
    # and the distinct referred buyers behind them: the count k-suppression reads.
    referred_orders = models.BigIntegerField(default=0)
    referred_shoppers = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["snapshot", "seller_id", "-impressions"],
                         name="analytics_listing_seller"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.product_id})"


class SegmentStat(models.Model):
    """Who engages with one seller's listings: one cell of region or age band x gender.

    Only shoppers who allowed analytics are counted. `shoppers` is the distinct
    count that decides k-suppression; the readers never show a cell below k.
    """

    class Dimension(models.TextChoices):
        REGION = "region", _("Region")
        DEMOGRAPHIC = "demographic", _("Age band and gender")

    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="+")
    seller_id = models.BigIntegerField()
    dimension = models.CharField(max_length=12, choices=Dimension.choices)
    label = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=0)
    shoppers = models.PositiveIntegerField()
    views = models.BigIntegerField(default=0)
    clicks = models.BigIntegerField(default=0)
    carts = models.BigIntegerField(default=0)
    purchases = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["position", "label"]
        indexes = [
            models.Index(fields=["snapshot", "seller_id", "dimension"],
                         name="analytics_segment_seller"),
        ]

    def __str__(self) -> str:
        return f"{self.dimension} {self.label}"


class CohortStat(models.Model):
    """Shoppers first seen in one week or region, and how many reached n orders.

    `reached[i]` is the number of shoppers with at least i+1 orders within the
    habit window of their first visit, for i+1 = 1 ... HABIT_ORDERS.
    """

    class Dimension(models.TextChoices):
        WEEK = "week", _("Week of first visit")
        REGION = "region", _("Region")

    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="+")
    dimension = models.CharField(max_length=8, choices=Dimension.choices)
    label = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=0)
    shoppers = models.PositiveIntegerField()
    reached = models.JSONField(default=list)
    # True while part of the cohort's habit window lies after the snapshot:
    # its shares can still grow.
    still_open = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "label"]
        indexes = [models.Index(fields=["snapshot", "dimension"], name="analytics_cohort_dim")]

    def __str__(self) -> str:
        return f"{self.dimension} {self.label}"


class StageCount(models.Model):
    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=12)
    position = models.PositiveIntegerField(default=0)
    shoppers = models.PositiveIntegerField()

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"{self.stage}: {self.shoppers}"


class ContextFunnel(models.Model):
    """Views and clicks per event context (where the listing was seen)."""

    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="+")
    context = models.CharField(max_length=8)
    views = models.BigIntegerField(default=0)
    clicks = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-views", "context"]

    def __str__(self) -> str:
        return self.context


class EventVolume(models.Model):
    """Events stored per hour or per day, by the time they happened."""

    class Granularity(models.TextChoices):
        HOUR = "hour", _("Hour")
        DAY = "day", _("Day")

    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="+")
    granularity = models.CharField(max_length=4, choices=Granularity.choices)
    bucket = models.DateTimeField()
    events = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["bucket"]
        indexes = [models.Index(fields=["snapshot", "granularity", "bucket"],
                                name="analytics_volume_bucket")]

    def __str__(self) -> str:
        return f"{self.granularity} {self.bucket}: {self.events}"


class NotificationStat(models.Model):
    """What notifications did over the window: one cell per campaign, segment or kind.

    Counts of `notifications.NotificationEvent` rows by type, and the orders a
    clicking shopper placed within `ORDERS_AFTER_CLICK_DAYS` of a click.
    `shoppers` (distinct shoppers with any notification event in the cell)
    decides k-suppression, as for the other tables.
    """

    class Dimension(models.TextChoices):
        CAMPAIGN = "campaign", _("Campaign")
        REGION = "region", _("Region")
        DEMOGRAPHIC = "demographic", _("Age band and gender")
        KIND = "kind", _("Kind of message")

    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="+")
    dimension = models.CharField(max_length=12, choices=Dimension.choices)
    label = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=0)
    shoppers = models.PositiveIntegerField()
    sent = models.BigIntegerField(default=0)
    delivered = models.BigIntegerField(default=0)
    opened = models.BigIntegerField(default=0)
    clicked = models.BigIntegerField(default=0)
    opted_out = models.BigIntegerField(default=0)
    orders_after_click = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["position", "label"]
        indexes = [models.Index(fields=["snapshot", "dimension"],
                                name="analytics_notification_dim")]

    def __str__(self) -> str:
        return f"{self.dimension} {self.label}"
