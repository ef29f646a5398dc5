"""Fixtures of the notifications tests: the orders tests' regions and shoppers, an order."""

from __future__ import annotations

import datetime as dt

import pytest

from orders import services as order_services
from personalization.services import shopper_create
from tests.factories import ProductFactory
from tests.orders.conftest import (  # noqa: F401 (fixtures)
    as_shopper,
    place_order,
    regions,
    shopper,
    shopper_client,
    token_shopper,
)

# 12:00 in India: outside the default quiet hours (21-8 local).
NOON_IST = dt.datetime(2026, 12, 3, 6, 30, tzinfo=dt.UTC)


@pytest.fixture
def pune_shopper(regions):  # noqa: F811
    regions["IN"].time_zone = "Asia/Kolkata"
    regions["IN"].save()
    profile = shopper_create()
    profile.region = regions["IN-MH-PUN"]
    profile.save()
    return profile


def placed_order(shopper, region,  # noqa: F811
                 *, prices=(49900,), sellers=None):
    """Place an order of one line per price (one seller each unless `sellers` given)."""
    for i, price in enumerate(prices):
        extra = {"seller": sellers[i]} if sellers else {}
        product = ProductFactory(price_minor=price, stock=5, **extra)
        order_services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1)
    return place_order(shopper, region).order
