"""The reads behind the catalog API: the category and region trees, one query each."""

from __future__ import annotations

from catalog.models import Category, Region


def _tree(rows: list) -> list:
    """Give each row a `child_list` (in the rows' order) and return the roots."""
    by_parent: dict[int | None, list] = {}
    for row in rows:
        by_parent.setdefault(row.parent_id, []).append(row)
    for row in rows:
        row.child_list = by_parent.get(row.pk, [])
    return by_parent.get(None, [])


def category_tree_get() -> list[Category]:
    """Return the top categories, each with `child_list`, from one query."""
    return _tree(list(Category.objects.order_by("position", "name")))


def region_tree_get() -> list[Region]:
    """Return the countries with their states and cities nested, from one query."""
    return _tree(list(Region.objects.order_by("name")))
