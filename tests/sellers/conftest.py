"""Sellers with delivered, cash-collected order lines on fixed days."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from catalog.services import seller_create
from orders import services as order_services
from orders.models import LineStatus, OrderLine
from personalization.services import shopper_create
from tests.factories import ProductFactory, UserFactory
from tests.orders.conftest import place_order, regions  # noqa: F401 (a fixture)

PASSWORD = "a-Long-enough-pass-9"


def make_seller(name: str):
    return seller_create(username=name.lower(), email=f"{name.lower()}@example.com",
                         password=PASSWORD, display_name=name)


def collected_line(regions, seller, *, price_minor: int, when: datetime, key: str,  # noqa: F811
                   status: str = LineStatus.DELIVERED) -> OrderLine:
    """Return a line of `seller` sold, delivered and its cash recorded at `when`."""
    product = ProductFactory(seller=seller, stock=5, price_minor=price_minor,
                             title=f"Item {key}")
    shopper = shopper_create()
    order_services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1)
    order = place_order(shopper, regions["IN-MH-PUN"], key=key).order
    line = order.lines.get()
    actor = seller.user
    order_services.order_line_set_status(actor=actor, line_id=line.pk, status=LineStatus.SHIPPED)
    order_services.order_line_set_status(actor=actor, line_id=line.pk,
                                         status=LineStatus.DELIVERED)
    order_services.order_line_cod_record(actor=actor, line_id=line.pk, amount_minor=price_minor)
    if status != LineStatus.DELIVERED:
        order_services.order_line_set_status(actor=actor, line_id=line.pk, status=status)
    OrderLine.objects.filter(pk=line.pk).update(cod_collected_at=when)
    line.refresh_from_db()
    return line


def day(d: int, hour: int = 10) -> datetime:
    return datetime(2025, 3, d, hour, tzinfo=UTC)


@pytest.fixture
def staff(db):
    return UserFactory(username="clerk", is_staff=True, is_superuser=True)


@pytest.fixture
def cash(regions):  # noqa: F811
    """Two sellers: Asha with 300.00 + 200.00 collected on 3 and 5 March 2025, Ravi 900.00."""
    asha, ravi = make_seller("Asha"), make_seller("Ravi")
    lines = [
        collected_line(regions, asha, price_minor=30000, when=day(3), key="cash-key-a1"),
        collected_line(regions, asha, price_minor=20000, when=day(5), key="cash-key-a2"),
        collected_line(regions, ravi, price_minor=90000, when=day(4), key="cash-key-r1"),
    ]
    return {"asha": asha, "ravi": ravi, "lines": lines, "regions": regions}
