"""Read-only admin of shoppers and events, for staff only.

Sellers are staff users too, but shoppers are not theirs to see: every view
here requires `catalog.services.actor_sees_all` (staff who are not sellers, or
superusers) on top of Django's model permissions. Nothing can be added or
edited here: profiles change only through the shopper's own actions. Two
actions serve privacy requests: export as JSON, and erase, both through the
same services the API uses.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from catalog.services import actor_sees_all

from .models import Event, ShopperProfile, ShopperToken
from .services import shopper_erase, shopper_export


class StaffReadOnlyAdmin(admin.ModelAdmin):
    """Viewable by non-seller staff with the view permission; never writable."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return actor_sees_all(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return actor_sees_all(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Deleting would bypass erasure (events kept linked, other apps' rows
        # left); the erase action does it properly.
        return False


class TokenInline(admin.TabularInline):
    model = ShopperToken
    fields = ("created_at", "last_used_at")  # never the hash
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class LanguageFilter(admin.SimpleListFilter):
    """Filter by the configured languages (the default filter would run a
    SELECT DISTINCT over every profile to find them)."""

    title = _("language")
    parameter_name = "language"

    def lookups(self, request: HttpRequest, model_admin):
        return settings.LANGUAGES

    def queryset(self, request: HttpRequest, queryset):
        value = self.value()
        return queryset.filter(language=value) if value else queryset


@admin.register(ShopperProfile)
class ShopperProfileAdmin(StaffReadOnlyAdmin):
    list_display = ("__str__", "region", "age_band", "gender", "language", "lifecycle_stage",
                    "orders_count", "last_seen_at")
    list_filter = ("lifecycle_stage", "age_band", "gender", LanguageFilter,
                   "consent_personalization")
    list_select_related = ("region",)
    search_fields = ("=external_id", "=public_id")
    # Counting a million profiles for the paginator costs more than the page.
    show_full_result_count = False
    ordering = ("-last_seen_at",)
    fields = ("public_id", "external_id", "user", "region", "age_band", "gender", "language",
              "consent_personalization", "consent_analytics", "lifecycle_stage", "orders_count",
              "first_order_at", "first_seen_at", "last_seen_at")
    readonly_fields = fields
    inlines = (TokenInline,)
    actions = ("export_json", "erase")

    def has_erase_permission(self, request: HttpRequest) -> bool:
        return actor_sees_all(request.user) and request.user.has_perm(
            "personalization.delete_shopperprofile"
        )

    @admin.action(description=_("Export the data of the selected shoppers (JSON)"),
                  permissions=("view",))
    def export_json(self, request: HttpRequest, queryset) -> HttpResponse:
        data = {profile.public_ref: shopper_export(shopper=profile) for profile in queryset}
        response = HttpResponse(json.dumps(data, ensure_ascii=False, indent=1),
                                content_type="application/json; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="shoppers-{stamp}.json"'
        return response

    @admin.action(description=_("Erase the selected shoppers (cannot be undone)"),
                  permissions=("erase",))
    def erase(self, request: HttpRequest, queryset) -> None:
        count = 0
        for profile in queryset:
            shopper_erase(shopper=profile)
            count += 1
        self.message_user(request, ngettext("%(n)d shopper erased.", "%(n)d shoppers erased.",
                                            count) % {"n": count}, messages.SUCCESS)


@admin.register(Event)
class EventAdmin(StaffReadOnlyAdmin):
    list_display = ("created_at", "shopper", "product", "type", "context")
    list_filter = ("type", "context")
    list_select_related = ("shopper", "product")
    search_fields = ("=shopper__external_id", "=shopper__public_id")
    show_full_result_count = False
    ordering = ("-created_at",)
    fields = ("created_at", "shopper", "product", "type", "context", "client_event_id")
    readonly_fields = fields
