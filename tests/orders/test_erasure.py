"""Erasure that respects the order's obligations: an open order keeps what delivery needs.

A shopper who erases themselves while a cash-on-delivery order is on its way
must not strand the parcel: the seller keeps name, phone and address until the
order is delivered and the cash collected; `purge_shoppers` then blanks them.
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.services import seller_create
from orders import services
from orders.models import LineStatus, Order
from orders.privacy import orders_anonymise_due
from personalization.services import shopper_create_anonymous, shopper_export
from tests.factories import ProductFactory

from .conftest import PUNE_ADDRESS, place_order

pytestmark = pytest.mark.django_db

ME = "/api/v1/shoppers/me/"
DELIVERY = ("name", "phone", "address", "postal_code")


@pytest.fixture
def live_order(regions):
    """A token shopper with a placed COD order of one line from a real seller login."""
    seller = seller_create(username="seller1", email="s1@example.com",
                           password="a-Long-enough-pass-9", display_name="Seller 1")
    product = ProductFactory(seller=seller, stock=5, title="Brass lamp")
    shopper, token = shopper_create_anonymous()
    services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1)
    order = place_order(shopper, regions["IN-MH-PUN"], key="erase-key-01").order
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Shopper {token}")
    return {"order": order, "line": order.lines.get(), "seller": seller, "shopper": shopper,
            "api": api}


def _deliver(live, *, collect: bool) -> None:
    actor, line = live["seller"].user, live["line"]
    services.order_line_set_status(actor=actor, line_id=line.pk, status=LineStatus.SHIPPED)
    services.order_line_set_status(actor=actor, line_id=line.pk, status=LineStatus.DELIVERED)
    if collect:
        services.order_line_cod_record(actor=actor, line_id=line.pk,
                                       amount_minor=line.line_total_minor)


def _delivery_details(order) -> tuple[str, ...]:
    order = Order.objects.get(pk=order.pk)
    return tuple(getattr(order, field) for field in DELIVERY)


def _purge() -> str:
    out = StringIO()
    call_command("purge_shoppers", stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("state", ["confirmed", "shipped", "delivered, cash due"])
def test_erasing_with_an_open_order_keeps_its_delivery_details_and_says_why(live_order, state):
    # given an order that is not yet delivered and paid
    actor, line = live_order["seller"].user, live_order["line"]
    if state != "confirmed":
        services.order_line_set_status(actor=actor, line_id=line.pk, status=LineStatus.SHIPPED)
    if state == "delivered, cash due":
        services.order_line_set_status(actor=actor, line_id=line.pk, status=LineStatus.DELIVERED)
    before = _delivery_details(live_order["order"])
    # when the shopper erases themselves
    response = live_order["api"].delete(ME)
    # then the profile is gone but the order keeps what delivery needs, and the answer says so
    assert response.status_code == 200
    body = response.json()
    assert body["erased"] is True
    assert [k["order"] for k in body["kept"]] == [live_order["order"].public_id]
    assert body["kept"][0]["kept"] == list(DELIVERY)
    assert "deliver" in body["kept"][0]["reason"]
    order = Order.objects.get(pk=live_order["order"].pk)
    assert order.shopper_id is None and order.anonymised_at is None
    assert order.erasure_requested_at is not None
    assert _delivery_details(order) == before and before[0] == PUNE_ADDRESS["name"]
    # and the daily purge leaves it alone while it is open
    _purge()
    assert _delivery_details(order) == before


def test_seller_completes_delivery_after_erasure_then_the_purge_blanks_the_details(
        client, live_order):
    # given a shopper who erased themselves while the order was confirmed
    live_order["api"].delete(ME)
    # when the seller opens the line, delivers it and records the cash
    client.force_login(live_order["seller"].user)
    page = client.get(f"/admin/orders/orderline/{live_order['line'].pk}/change/")
    body = page.content.decode()
    assert "Asha Patil" in body and "Kothrud" in body
    assert "deleted once the order is delivered and paid" in body
    _deliver(live_order, collect=True)
    # then the next purge blanks the delivery details, and the order stays for the accounts
    assert "1 orders anonymised after settling" in _purge()
    order = Order.objects.get(pk=live_order["order"].pk)
    assert _delivery_details(order) == ("", "", "", "")
    assert order.anonymised_at is not None and order.total_minor > 0
    assert order.lines.get().cod_collected_minor == order.total_minor
    page = client.get(f"/admin/orders/orderline/{live_order['line'].pk}/change/")
    assert "erased at the shopper" in page.content.decode()


def test_erasing_after_delivery_and_cash_collected_blanks_the_details_at_once(live_order):
    # given a settled order: delivered and the cash collected
    _deliver(live_order, collect=True)
    # when the shopper erases themselves
    body = live_order["api"].delete(ME).json()
    # then nothing is kept and the order is anonymised now
    assert body == {"erased": True, "kept": []}
    order = Order.objects.get(pk=live_order["order"].pk)
    assert _delivery_details(order) == ("", "", "", "")
    assert order.anonymised_at is not None


def test_a_cancelled_order_is_settled(live_order):
    services.order_line_set_status(actor=live_order["seller"].user,
                                   line_id=live_order["line"].pk, status=LineStatus.CANCELLED)
    assert live_order["api"].delete(ME).json()["kept"] == []
    assert _delivery_details(live_order["order"]) == ("", "", "", "")


def test_an_order_nobody_closes_is_blanked_after_the_longest_hold(live_order, settings):
    # given an erasure held for an order that stays confirmed
    settings.ORDERS_ERASURE_MAX_HOLD_DAYS = 30
    live_order["api"].delete(ME)
    requested = Order.objects.get(pk=live_order["order"].pk).erasure_requested_at
    # when the purge runs one day short of, then past, the longest hold
    assert orders_anonymise_due(now=requested + timedelta(days=29)) == 0
    assert orders_anonymise_due(now=requested + timedelta(days=31)) == 1
    # then the details are gone although the order never settled
    assert _delivery_details(live_order["order"]) == ("", "", "", "")


def test_export_says_what_erasure_would_keep_for_each_order(live_order):
    # given one open order
    exported = shopper_export(shopper=live_order["shopper"])["orders"]["orders"]
    assert exported[0]["kept_on_erasure"]["kept"] == list(DELIVERY)
    # when it settles, then the export says nothing would be kept
    _deliver(live_order, collect=True)
    exported = shopper_export(shopper=live_order["shopper"])["orders"]["orders"]
    assert exported[0]["kept_on_erasure"] is None


def test_purge_is_idempotent_and_touches_only_held_orders(live_order, regions):
    # given another shopper's open order, never erased
    other, _token = shopper_create_anonymous()
    product = ProductFactory(stock=5)
    services.cart_line_add(shopper=other, product_id=product.pk, quantity=1)
    untouched = place_order(other, regions["IN-MH-PUN"], key="other-key-01").order
    live_order["api"].delete(ME)
    _deliver(live_order, collect=True)
    # when the purge runs twice, a day later
    later = timezone.now() + timedelta(days=1)
    assert orders_anonymise_due(now=later) == 1
    assert orders_anonymise_due(now=later) == 0
    # then the other order still has its details
    assert _delivery_details(untouched)[0] == PUNE_ADDRESS["name"]
