"""Run inside `manage.py shell` against a live test server's database (see live.py).

Reads one JSON command from the LIVE_SEED environment variable and prints one
JSON line with the answer. Kept out of the test process on purpose: the live
server has its own database (a migrated SQLite file or a PostgreSQL database),
not pytest's in-memory test database.
"""

from __future__ import annotations

import json
import os


def _regions():
    from catalog.models import Region

    india, _ = Region.objects.get_or_create(
        code="IN", defaults={"name": "India", "kind": "country", "currency": "INR"})
    mh, _ = Region.objects.get_or_create(
        code="IN-MH", defaults={"name": "Maharashtra", "kind": "state", "parent": india})
    pune, _ = Region.objects.get_or_create(
        code="IN-MH-PUN", defaults={"name": "Pune", "kind": "city", "parent": mh})
    return pune


def _seller():
    from catalog.models import Seller
    from catalog.services import seller_create

    seller = Seller.objects.filter(slug="live-seller").first()
    if seller is None:
        seller = seller_create(username="live-seller", email="live@example.com",
                               password="Quartz-Mango-4471-river", display_name="Live seller")
    return seller


def _category():
    from catalog.models import Category

    category, _ = Category.objects.get_or_create(slug="live", defaults={"name": "Live"})
    return category


def buyers(*, count: int, stock: int, quantity: int = 1, title: str,
           referred: bool = False) -> dict:
    """Create a product with `stock` and `count` token shoppers with it in their cart.

    `referred`: every buyer arrived by one sharer's link just now.
    """
    from catalog.services import product_create
    from orders.services import cart_line_add
    from personalization.services import (
        shopper_create,
        shopper_create_anonymous,
        shopper_referral_arrive,
    )

    _regions()
    product = product_create(seller=_seller(), category=_category(), title=title,
                             price_minor=29900, stock=stock, status="active")
    tokens = []
    sharer = shopper_create() if referred else None
    for _i in range(count):
        shopper, token = shopper_create_anonymous()
        if sharer is not None:
            shopper_referral_arrive(shopper=shopper, code=sharer.referral_code)
        if quantity:
            cart_line_add(shopper=shopper, product_id=product.pk, quantity=quantity)
        tokens.append(token)
    return {"product": product.pk, "tokens": tokens}


def state(*, product: int) -> dict:
    """Return the product's stock and the orders and units sold of it."""
    from django.db.models import Sum

    from catalog.models import Product
    from orders.models import Order, OrderLine, ReferralCredit

    lines = OrderLine.objects.filter(product_id=product)
    return {
        "stock": Product.objects.get(pk=product).stock,
        "orders": Order.objects.filter(lines__product_id=product).distinct().count(),
        "units": lines.aggregate(n=Sum("quantity"))["n"] or 0,
        "order_ids": sorted(set(lines.values_list("order__public_id", flat=True))),
        "referral_credits": ReferralCredit.objects.filter(
            order__lines__product_id=product).distinct().count(),
    }


def impressions() -> dict:
    """Return how many feed impressions (view events) are stored."""
    from personalization.models import Event

    return {"count": Event.objects.filter(type="view", context="feed").count()}


def main() -> None:
    command = json.loads(os.environ["LIVE_SEED"])
    name = command.pop("command")
    result = {"buyers": buyers, "state": state, "impressions": impressions}[name](**command)
    print(json.dumps(result))
