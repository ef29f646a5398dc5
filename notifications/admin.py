"""Admin of notifications for staff only: messages and events read-only, segment caps editable.

Sellers are staff too, but shoppers' messages are not theirs to see: every
view requires `catalog.services.actor_sees_all` on top of the model permissions.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from catalog.admin.base import StaffManagedAdmin
from catalog.services import actor_sees_all
from personalization.admin import StaffReadOnlyAdmin
from personalization.conf import get_config as personalization_config
from personalization.lattice import GLOBAL_KEY

from .campaigns import campaign_audience_size, campaign_schedule
from .models import Campaign, Delivery, Notification, NotificationEvent, SegmentCap


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fields = ("channel", "status", "detail", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(StaffReadOnlyAdmin):
    list_display = ("title", "kind", "status", "reason", "sent_at", "read_at")
    list_filter = ("kind", "status", "reason")
    list_select_related = ("shopper",)
    search_fields = ("title", "dedupe_key")
    readonly_fields = ("shopper", "kind", "title", "body", "link", "dedupe_key", "status",
                       "reason", "send_after", "created_at", "sent_at", "read_at")
    inlines = [DeliveryInline]


@admin.register(NotificationEvent)
class NotificationEventAdmin(StaffReadOnlyAdmin):
    list_display = ("occurred_at", "type", "kind", "channel", "detail")
    list_filter = ("type", "kind", "channel")
    readonly_fields = ("shopper", "notification", "type", "kind", "channel", "detail",
                       "occurred_at")
    date_hierarchy = "occurred_at"


def validate_segment_key(value: str) -> None:
    """Refuse keys that cannot be lattice keys ("r:IN-MH", "ag:25-34:f", "g")."""
    dims, _sep, rest = value.partition(":")
    if value != GLOBAL_KEY and (not rest or not dims or set(dims) - set("ragl")):
        raise ValidationError(_("Use a segment key such as r:IN-MH, ag:25-34:f or g."))


class StaffOnlyAdmin(StaffManagedAdmin):
    """Writable by staff who see all shoppers; invisible to sellers (unlike vocabularies)."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return actor_sees_all(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return actor_sees_all(request.user) and super().has_view_permission(request, obj)


@admin.register(SegmentCap)
class SegmentCapAdmin(StaffOnlyAdmin):
    list_display = ("segment_key", "daily_cap", "weekly_cap", "source", "note", "updated_at")
    list_filter = ("source",)
    search_fields = ("segment_key",)
    fields = ("segment_key", "daily_cap", "weekly_cap", "note")

    def save_model(self, request, obj, form, change):
        # A cap staff typed in is a decision: the daily adaptation leaves it alone.
        obj.source = SegmentCap.Source.STAFF
        super().save_model(request, obj, form, change)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.base_fields["segment_key"].validators.append(validate_segment_key)
        return form


@admin.register(Campaign)
class CampaignAdmin(StaffOnlyAdmin):
    """Staff write a message, pick an audience, preview its size and schedule it."""

    list_display = ("name", "send_on", "send_hour", "status", "planned_count")
    list_filter = ("status",)
    search_fields = ("name", "title")
    autocomplete_fields = ("region", "category")
    readonly_fields = ("audience_size", "status", "planned_count")
    fieldsets = (
        (None, {"fields": ("name", "title", "body", "link")}),
        (_("Audience"), {"fields": ("region", "age_band", "gender", "language",
                                    "lifecycle_stage", "category", "audience_size")}),
        (_("When"), {"fields": ("send_on", "send_hour", "active_hour", "status",
                                "planned_count")}),
    )
    actions = ["schedule"]

    @admin.display(description=_("audience (preview)"))
    def audience_size(self, obj: Campaign) -> str:
        if obj.pk is None:
            return _("Save to see the audience size.")
        k = int(personalization_config()["K_THRESHOLD"])
        size = campaign_audience_size(obj)
        if size < k:
            return _("%(n)d shoppers: under %(k)d, this campaign cannot be sent.") % {
                "n": size, "k": k}
        return _("%(n)d shoppers") % {"n": size}

    @admin.action(description=_("Schedule the selected campaigns"))
    def schedule(self, request, queryset):
        for campaign in queryset:
            try:
                size = campaign_schedule(campaign=campaign, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{campaign}: {' '.join(exc.messages)}",
                                  messages.ERROR)
            else:
                self.message_user(request, _("%(c)s: scheduled for %(n)d shoppers.")
                                  % {"c": campaign, "n": size}, messages.SUCCESS)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # A scheduled campaign's text is already planned into messages.
        editable = obj is None or obj.status == Campaign.Status.DRAFT
        return editable and super().has_change_permission(request, obj)
