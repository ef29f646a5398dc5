"""What every catalog admin shares: rows scoped to the acting seller, staff-only writes."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect

from catalog.services import actor_sees_all, actor_seller, scope_to_actor


def adopt_saved(target, saved) -> None:
    """Make the admin's working instance the row a service saved.

    The admin hangs the inlines and its log entry off the instance it passed
    to save_model(), so that instance must become the saved row.
    """
    for field in target._meta.concrete_fields:
        setattr(target, field.attname, getattr(saved, field.attname))
    target._state.adding = False
    target._state.db = saved._state.db


class SellerScopedAdmin(admin.ModelAdmin):
    """Narrow every view to the seller's own rows; staff see all."""

    # Path from the model to its Seller, for the queryset filter.
    seller_lookup = "seller"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return scope_to_actor(
            super().get_queryset(request), actor=request.user, seller_lookup=self.seller_lookup
        )

    def _is_seller_or_staff(self, request: HttpRequest) -> bool:
        return actor_sees_all(request.user) or actor_seller(request.user) is not None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._is_seller_or_staff(request) and super().has_add_permission(request)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            # The forms run the same checks as the services, so this is only
            # reached when a concurrent request changed the row between the
            # two (a duplicate external id, stock moved by an order). The
            # transaction has been rolled back; say why instead of a 500.
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class StaffManagedAdmin(admin.ModelAdmin):
    """Shared vocabularies (regions, categories): sellers may look, staff may change."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return actor_sees_all(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return actor_sees_all(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return actor_sees_all(request.user) and super().has_delete_permission(request, obj)
