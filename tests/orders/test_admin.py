"""Order handling in the admin: each seller reaches only their own lines; staff see all."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from catalog.models import Product
from catalog.services import seller_create
from orders import services
from orders.models import LineStatus, OrderLine
from personalization.services import shopper_create
from tests.factories import ProductFactory

from .conftest import place_order

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/orders/orderline/"


def change_url(line) -> str:
    return f"/admin/orders/orderline/{line.pk}/change/"


@pytest.fixture
def two_sellers_order(regions):
    """One order with a line from each of two real seller logins (staff, Sellers group)."""
    sellers = [
        seller_create(username=f"seller{i}", email=f"s{i}@example.com",
                      password="a-Long-enough-pass-9", display_name=f"Seller {i}")
        for i in (1, 2)
    ]
    products = [ProductFactory(seller=s, stock=5, title=f"Item of {s.display_name}")
                for s in sellers]
    shopper = shopper_create()
    for product in products:
        services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=2)
    order = place_order(shopper, regions["IN-MH-PUN"], key="admin-key-01").order
    lines = [order.lines.get(seller=s) for s in sellers]
    return {"order": order, "sellers": sellers, "products": products, "lines": lines}


def login(client, seller):
    client.force_login(seller.user)
    return client


def test_seller_lists_only_their_own_lines(client, two_sellers_order):
    mine, theirs = two_sellers_order["lines"]
    body = login(client, two_sellers_order["sellers"][0]).get(LIST_URL).content.decode()
    assert "Item of Seller 1" in body
    assert "Item of Seller 2" not in body
    assert change_url(mine) in body and change_url(theirs) not in body


def test_seller_sees_the_delivery_address_of_their_line(client, two_sellers_order):
    mine = two_sellers_order["lines"][0]
    body = login(client, two_sellers_order["sellers"][0]).get(change_url(mine)).content.decode()
    assert "Asha Patil" in body and "+919876543210" in body and "Kothrud" in body


def test_seller_cannot_open_another_sellers_line_by_url(client, two_sellers_order):
    theirs = two_sellers_order["lines"][1]
    response = login(client, two_sellers_order["sellers"][0]).get(change_url(theirs),
                                                                  follow=True)
    body = response.content.decode()
    assert "Item of Seller 2" not in body
    assert "doesn’t exist" in body or response.status_code == 404


def test_seller_cannot_change_another_sellers_line_by_post(client, two_sellers_order):
    theirs = two_sellers_order["lines"][1]
    login(client, two_sellers_order["sellers"][0]).post(
        change_url(theirs), {"new_status": LineStatus.CANCELLED, "cod_collected": ""})
    theirs.refresh_from_db()
    assert theirs.status == LineStatus.CONFIRMED
    assert Product.objects.get(pk=two_sellers_order["products"][1].pk).stock == 3


def test_seller_action_on_forged_ids_touches_only_their_own_lines(client, two_sellers_order):
    mine, theirs = two_sellers_order["lines"]
    response = login(client, two_sellers_order["sellers"][0]).post(LIST_URL, {
        "action": "mark_cancelled", "_selected_action": [mine.pk, theirs.pk]})
    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == LineStatus.CANCELLED and theirs.status == LineStatus.CONFIRMED
    stocks = [Product.objects.get(pk=p.pk).stock for p in two_sellers_order["products"]]
    assert stocks == [5, 3]  # only the seller's own item went back on the shelf


def test_seller_ships_and_records_cash_through_the_change_form(client, two_sellers_order):
    mine = two_sellers_order["lines"][0]
    client = login(client, two_sellers_order["sellers"][0])
    response = client.post(change_url(mine), {"new_status": LineStatus.SHIPPED,
                                              "cod_collected": "998.00"})
    assert response.status_code == 302, response.content.decode()[:2000]
    mine.refresh_from_db()
    assert mine.status == LineStatus.SHIPPED and mine.cod_collected_minor == 99800


def test_bad_moves_and_amounts_are_form_errors(client, two_sellers_order):
    mine = two_sellers_order["lines"][0]
    client = login(client, two_sellers_order["sellers"][0])
    response = client.post(change_url(mine), {"new_status": LineStatus.DELIVERED,
                                              "cod_collected": ""})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    response = client.post(change_url(mine), {"new_status": LineStatus.CONFIRMED,
                                              "cod_collected": "5.00"})
    assert "ship the line first" in response.content.decode()
    response = client.post(change_url(mine), {"new_status": LineStatus.SHIPPED,
                                              "cod_collected": "99999.00"})
    assert "more than the line" in response.content.decode()
    mine.refresh_from_db()
    assert mine.status == LineStatus.CONFIRMED and mine.cod_collected_minor is None


def test_seller_cannot_open_whole_orders_or_reconcile(client, two_sellers_order):
    mine = two_sellers_order["lines"][0]
    client = login(client, two_sellers_order["sellers"][0])
    order = two_sellers_order["order"]
    assert client.get(f"/admin/orders/order/{order.pk}/change/").status_code == 403
    assert client.get("/admin/orders/order/").status_code == 403
    services.order_line_set_status(actor=two_sellers_order["sellers"][0].user, line_id=mine.pk,
                                   status=LineStatus.SHIPPED)
    services.order_line_cod_record(actor=two_sellers_order["sellers"][0].user,
                                   line_id=mine.pk, amount_minor=mine.line_total_minor)
    client.post(LIST_URL, {"action": "reconcile_cod", "_selected_action": [mine.pk]})
    mine.refresh_from_db()
    assert mine.cod_reconciled_at is None


def test_staff_see_every_line_and_whole_orders_and_reconcile(client, two_sellers_order):
    admin = get_user_model().objects.create_superuser("boss", "b@example.com", "pw-Long-enough-1")
    client.force_login(admin)
    body = client.get(LIST_URL).content.decode()
    assert "Item of Seller 1" in body and "Item of Seller 2" in body
    order = two_sellers_order["order"]
    page = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert order.public_id in page and "Item of Seller 2" in page
    line = two_sellers_order["lines"][1]
    services.order_line_set_status(actor=admin, line_id=line.pk, status=LineStatus.SHIPPED)
    services.order_line_cod_record(actor=admin, line_id=line.pk,
                                   amount_minor=line.line_total_minor)
    client.post(LIST_URL, {"action": "reconcile_cod", "_selected_action": [line.pk]})
    assert OrderLine.objects.get(pk=line.pk).cod_reconciled_at is not None


@pytest.mark.parametrize("n", [1, 10])
def test_order_line_list_query_count_is_flat(client, regions, django_assert_max_num_queries, n):
    seller = seller_create(username="flat", email="f@example.com",
                           password="a-Long-enough-pass-9", display_name="Flat")
    for i in range(n):
        shopper = shopper_create()
        product = ProductFactory(seller=seller)
        services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1)
        place_order(shopper, regions["IN-MH-PUN"], key=f"flat-admin-{i:03d}")
    client.force_login(seller.user)
    client.get(LIST_URL)
    # session, user, seller, groups check, count, count, lines+orders+seller (and a few
    # for the admin's own bookkeeping) -- what matters is that it does not grow with n.
    with django_assert_max_num_queries(10):
        body = client.get(LIST_URL).content.decode()
    assert body.count("/admin/orders/orderline/") >= n
