"""Search vocabulary (synonyms) and the searches that found nothing: staff only.

Sellers hold no permission on either model (catalog.services.sellers lists
theirs), so the admin shows them neither.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from catalog.models import SearchMiss, SearchSynonym

from .base import StaffManagedAdmin


@admin.register(SearchSynonym)
class SearchSynonymAdmin(StaffManagedAdmin):
    list_display = ("concept", "language", "words", "updated_at")
    list_filter = ("language",)
    search_fields = ("concept", "words")
    ordering = ("concept", "language")
    fieldsets = [(None, {
        "fields": ["concept", "language", "words"],
        "description": _(
            "Every word of every row with the same concept finds what any of them "
            "finds, in any language: add the spellings shoppers type (Hindi, Arabic, "
            "Hinglish). A search takes the change within five minutes."),
    })]


@admin.register(SearchMiss)
class SearchMissAdmin(admin.ModelAdmin):
    """What shoppers searched for and did not find, most asked first; read only."""

    list_display = ("query", "language", "count", "last_seen", "first_seen")
    list_filter = ("language",)
    search_fields = ("query",)
    date_hierarchy = "last_seen"
    show_full_result_count = False
    readonly_fields = list_display

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # Counted by searches only; staff may read and delete (a query dealt with).
        return False
