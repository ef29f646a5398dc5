"""The shopper's data pages: see it, download it, erase it, and be told what is kept."""

from __future__ import annotations

import json

import pytest

from orders import services
from orders.models import Order
from personalization.models import Event, ShopperProfile
from tests.factories import ProductFactory

from .conftest import as_shopper, place_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def shopper_with_order(shopper, regions):
    product = ProductFactory(stock=5, title="Brass lamp")
    Event.objects.create(shopper=shopper, product=product, type="click")
    services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1)
    return place_order(shopper, regions["IN-MH-PUN"], key="page-key-01").order


def test_the_page_lists_what_is_held_and_what_erasure_would_keep(client, shopper,
                                                                 shopper_with_order):
    body = as_shopper(client, shopper).get("/privacy/").content.decode()
    # a click, then the cart and purchase events checkout records
    assert "Events (views, taps, purchases): 3" in body and "Orders: 1" in body
    assert f"Order {shopper_with_order.public_id}" in body
    assert "deliver it and collect the cash" in body


def test_the_download_is_the_full_export_as_an_attachment(client, shopper, shopper_with_order):
    response = as_shopper(client, shopper).get("/privacy/export/")
    assert response["Content-Disposition"] == 'attachment; filename="my-shop-data.json"'
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["profile"]["id"] == str(shopper.public_id)
    assert data["orders"]["orders"][0]["order"] == shopper_with_order.public_id


def test_erasing_needs_the_box_ticked(client, shopper):
    response = as_shopper(client, shopper).post("/privacy/erase/", {})
    assert response.status_code == 400
    assert "Tick the box" in response.content.decode()
    assert ShopperProfile.objects.filter(pk=shopper.pk).exists()


def test_erasing_from_the_page_keeps_the_open_order_and_says_so(client, shopper,
                                                                shopper_with_order):
    response = as_shopper(client, shopper).post("/privacy/erase/", {"confirm": "on"})
    body = response.content.decode()
    assert response.status_code == 200
    assert f"Order {shopper_with_order.public_id}" in body and "Kept for now" in body
    assert not ShopperProfile.objects.filter(pk=shopper.pk).exists()
    order = Order.objects.get(pk=shopper_with_order.pk)
    assert order.shopper_id is None and order.name and order.erasure_requested_at
    assert response.cookies["sid"].value == ""  # the cookie named the erased profile


def test_erasing_without_orders_keeps_nothing(client, shopper):
    body = as_shopper(client, shopper).post("/privacy/erase/", {"confirm": "on"}).content
    assert "Nothing that identifies you is kept." in body.decode()
