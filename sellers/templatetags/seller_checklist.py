"""{% seller_checklist %}: a new seller's first steps, on the admin's index page."""

from __future__ import annotations

from django import template
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from catalog.models import Product
from catalog.services import actor_seller

register = template.Library()


@register.inclusion_tag("sellers/_checklist.html", takes_context=True)
def seller_checklist(context) -> dict:
    """Return the steps a seller has left (none for staff, or once all are done)."""
    request = context.get("request")
    seller = actor_seller(getattr(request, "user", None))
    if seller is None:
        return {"steps": []}
    # One query: the seller's listings, those with a photo, those in stock.
    figures = Product.objects.filter(seller=seller).aggregate(
        listings=Count("pk", distinct=True),
        photos=Count("pk", filter=Q(images__isnull=False), distinct=True),
        stocked=Count("pk", filter=Q(stock__gt=0), distinct=True),
    )
    products = reverse("admin:catalog_product_changelist")
    steps = [
        (_("Add your first listing"), figures["listings"] > 0,
         reverse("admin:catalog_product_add")),
        (_("Add a photo to a listing"), figures["photos"] > 0, products),
        (_("Set the stock you have"), figures["stocked"] > 0, products),
    ]
    if all(done for _label, done, _url in steps):
        return {"steps": []}
    return {"steps": steps}
