"""Catalog payloads: the category and region trees.

(Product cards and pages are the storefront's: storefront/api/serializers.py.)
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import Category, Region


class CategoryNodeSerializer(serializers.ModelSerializer):
    children = serializers.SerializerMethodField()

    class Meta:
        model = Category
        fields = ["id", "slug", "name", "icon", "children"]

    @extend_schema_field(
        {"type": "array", "items": {"$ref": "#/components/schemas/CategoryNode"}}
    )
    def get_children(self, category: Category) -> list[dict]:
        return CategoryNodeSerializer(getattr(category, "child_list", []), many=True).data


class RegionNodeSerializer(serializers.ModelSerializer):
    children = serializers.SerializerMethodField()

    class Meta:
        model = Region
        fields = ["code", "name", "kind", "currency", "language", "children"]

    @extend_schema_field({"type": "array", "items": {"$ref": "#/components/schemas/RegionNode"}})
    def get_children(self, region: Region) -> list[dict]:
        return RegionNodeSerializer(getattr(region, "child_list", []), many=True).data
