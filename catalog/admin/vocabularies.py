"""Regions and categories: shared vocabularies that sellers read and staff manage."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from catalog.models import Category, Region

from .base import StaffManagedAdmin


@admin.register(Region)
class RegionAdmin(StaffManagedAdmin):
    list_display = ("name", "code", "kind", "parent")
    list_filter = ("kind",)
    list_select_related = ("parent",)
    search_fields = ("name", "code")
    ordering = ("path",)
    autocomplete_fields = ("parent",)


@admin.register(Category)
class CategoryAdmin(StaffManagedAdmin):
    list_display = ("__str__", "slug", "icon", "position")
    list_select_related = ("parent",)
    search_fields = ("name", "slug", "parent__name")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("parent",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # __str__ shows "Parent › Child"; the autocomplete of the product
        # form lists these too.
        return super().get_queryset(request).select_related("parent")
