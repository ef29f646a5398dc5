"""Template filters for money: {{ product|money }}, {{ minor|money:"INR" }}."""

from __future__ import annotations

from django import template

from catalog.money import format_money

register = template.Library()


@register.filter
def money(product_or_minor, currency: str | None = None) -> str:
    """Format a product's price ({{ p|money }}) or an amount ({{ minor|money:"INR" }})."""
    if hasattr(product_or_minor, "price_minor"):
        return format_money(product_or_minor.price_minor, product_or_minor.currency)
    return format_money(int(product_or_minor), currency or "INR")


@register.filter
def compare_money(product) -> str:
    return format_money(product.compare_at_minor, product.currency)
