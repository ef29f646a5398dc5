"""Fixtures of the reviews tests: a real seller, a product, shoppers who bought it."""

from __future__ import annotations

import itertools

import pytest
from django.conf import settings
from django.utils import translation

from catalog.services import seller_create
from orders import services as order_services
from orders.models import LineStatus
from personalization.services import shopper_create

# The browser fixtures (Chromium, the live server on this team's port range).
from tests.browser.conftest import (  # noqa: F401 (fixtures)
    artifacts,
    browser,
    live_server,
    playwright_driver,
)
from tests.factories import ProductFactory
from tests.orders.conftest import as_shopper, place_order, regions  # noqa: F401 (fixture)
from tests.storefront.conftest import products_with_photos  # noqa: F401 (fixture)

_keys = itertools.count(1)


def buy(shopper, product, region, *, status: str = LineStatus.DELIVERED):
    """Order one of `product` for `shopper` and move the line to `status`; return the line."""
    order_services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1)
    order = place_order(shopper, region, key=f"review-key-{next(_keys):04d}").order
    line = order.lines.get(product=product)
    path = {LineStatus.CONFIRMED: [], LineStatus.SHIPPED: [LineStatus.SHIPPED],
            LineStatus.DELIVERED: [LineStatus.SHIPPED, LineStatus.DELIVERED],
            LineStatus.CANCELLED: [LineStatus.CANCELLED],
            LineStatus.RETURNED: [LineStatus.SHIPPED, LineStatus.DELIVERED, LineStatus.RETURNED],
            }[status]
    for step in path:
        order_services.order_line_set_status(actor=product.seller.user, line_id=line.pk,
                                             status=step)
    line.refresh_from_db()
    return line


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language():
    # A page asked for in Hindi or Arabic leaves that language active in this
    # thread; later tests (any folder) expect the default's messages.
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _no_microcache(settings):
    settings.SHOP_API_MICROCACHE_SECONDS = 0


@pytest.fixture
def seller(db):
    return seller_create(username="lampseller", email="lamps@example.com",
                         password="a-Long-enough-pass-9", display_name="Lamp House")


@pytest.fixture
def other_seller(db):
    return seller_create(username="otherseller", email="other@example.com",
                         password="a-Long-enough-pass-9", display_name="Other Shop")


@pytest.fixture
def product(seller):
    return ProductFactory(seller=seller, stock=50, title="Brass lamp")


@pytest.fixture
def pune(regions):  # noqa: F811
    return regions["IN-MH-PUN"]


@pytest.fixture
def buyer(product, pune):
    """A shopper with a delivered line of `product`."""
    shopper = shopper_create()
    buy(shopper, product, pune)
    return shopper
