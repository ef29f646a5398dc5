"""The seller's order list as a phone worklist: deliver-to, cash to collect, one-tap next steps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages

from orders import services
from orders.models import LineStatus, OrderLine
from personalization.services import shopper_create
from tests.factories import ProductFactory, UserFactory

from . import test_admin
from .conftest import place_order
from .test_admin import LIST_URL, login

# The same two sellers and order as the admin's other tests.
two_sellers_order = test_admin.two_sellers_order

pytestmark = pytest.mark.django_db


def step_url(line) -> str:
    return f"/admin/orders/orderline/{line.pk}/step/"


def tap(client, line, value: str, back: str = "?step=ship"):
    return client.post(step_url(line), {"step": value, "back": back, "action": "",
                                        "_selected_action": []})


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_list_shows_deliver_to_cash_to_collect_and_the_next_step(client, two_sellers_order):
    mine = two_sellers_order["lines"][0]
    body = login(client, two_sellers_order["sellers"][0]).get(LIST_URL).content.decode()

    assert "Asha Patil" in body and 'href="tel:+919876543210"' in body
    assert "Kothrud" in body and "PIN 411038" in body
    assert "Collect in cash" in body and "₹" in body
    assert f'formaction="{step_url(mine)}"' in body and 'value="ship:confirmed"' in body
    assert "Mark shipped" in body
    assert mine.order.public_id in body
    # Seller columns are for staff; a seller sees only their own line.
    assert "Item of Seller 2" not in body


def test_one_tap_each_ships_delivers_and_records_the_cash(client, two_sellers_order):
    mine = two_sellers_order["lines"][0]
    login(client, two_sellers_order["sellers"][0])

    response = tap(client, mine, "ship:confirmed")
    assert response.status_code == 302 and response["Location"] == LIST_URL + "?step=ship"
    assert OrderLine.objects.get(pk=mine.pk).status == LineStatus.SHIPPED
    assert tap(client, mine, "deliver:shipped").status_code == 302
    assert OrderLine.objects.get(pk=mine.pk).status == LineStatus.DELIVERED
    response = tap(client, mine, "collect:delivered")

    line = OrderLine.objects.get(pk=mine.pk)
    assert line.cod_collected_minor == line.line_total_minor and line.cod_collected_at
    assert any("cash collected" in t for t in texts(response))
    assert "Nothing to do" in client.get(LIST_URL).content.decode()


def test_a_stale_tap_is_a_message_and_changes_nothing(client, two_sellers_order):
    mine = two_sellers_order["lines"][0]
    login(client, two_sellers_order["sellers"][0])
    tap(client, mine, "ship:confirmed")
    before = OrderLine.objects.filter(pk=mine.pk).values().get()

    # The same button again (a second tap, another tab), then a step the line skipped.
    for value in ("ship:confirmed", "collect:delivered", "deliver:confirmed"):
        response = tap(client, mine, value)
        assert response.status_code == 302
        assert any("changed meanwhile: it is now shipped" in t for t in texts(response)), value

    assert OrderLine.objects.filter(pk=mine.pk).values().get() == before


def test_a_tap_on_a_line_cancelled_meanwhile_says_so(client, two_sellers_order):
    mine = two_sellers_order["lines"][0]
    seller = two_sellers_order["sellers"][0]
    services.order_line_set_status(actor=seller.user, line_id=mine.pk,
                                   status=LineStatus.CANCELLED)
    login(client, seller)

    response = tap(client, mine, "ship:confirmed")

    assert any("it is now cancelled" in t for t in texts(response))
    assert OrderLine.objects.get(pk=mine.pk).status == LineStatus.CANCELLED


@pytest.mark.parametrize("value", ["", "fly:confirmed", "ship", "ship:", "collect:confirmed"])
def test_a_forged_step_is_refused_with_a_message(client, two_sellers_order, value):
    mine = two_sellers_order["lines"][0]
    login(client, two_sellers_order["sellers"][0])

    response = tap(client, mine, value)

    assert response.status_code == 302 and texts(response)
    assert OrderLine.objects.get(pk=mine.pk).status == LineStatus.CONFIRMED


def test_a_seller_cannot_step_another_sellers_line(client, two_sellers_order):
    theirs = two_sellers_order["lines"][1]
    login(client, two_sellers_order["sellers"][0])

    response = tap(client, theirs, "ship:confirmed")

    assert response.status_code == 302
    assert any("only change your own" in t for t in texts(response))
    assert OrderLine.objects.get(pk=theirs.pk).status == LineStatus.CONFIRMED


def test_the_step_page_takes_only_posts_and_only_goes_back_to_the_list(client,
                                                                        two_sellers_order):
    mine = two_sellers_order["lines"][0]
    login(client, two_sellers_order["sellers"][0])

    assert client.get(step_url(mine)).status_code == 405
    for back in ("//evil.example/", "https://evil.example/", "?a=1\r\nSet-Cookie: x=1"):
        assert tap(client, mine, "ship:shipped", back=back)["Location"] == LIST_URL
    assert client.post("/admin/orders/orderline/999999/step/",
                       {"step": "ship:confirmed"}).status_code == 302


def test_shoppers_staff_without_permission_and_visitors_cannot_step(client, two_sellers_order):
    mine = two_sellers_order["lines"][0]
    assert tap(client, mine, "ship:confirmed").status_code == 302  # to the login page
    client.force_login(UserFactory(username="plainstaff", is_staff=True))
    assert tap(client, mine, "ship:confirmed").status_code == 403
    assert OrderLine.objects.get(pk=mine.pk).status == LineStatus.CONFIRMED


def test_to_ship_today_lists_confirmed_lines_oldest_first(client, two_sellers_order, regions):
    seller = two_sellers_order["sellers"][0]
    first = two_sellers_order["lines"][0]
    shopper = shopper_create()
    product = ProductFactory(seller=seller, stock=5, title="Second item")
    services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1)
    newer = place_order(shopper, regions["IN-MH-PUN"], key="steps-key-02").order.lines.get()
    shopper = shopper_create()
    product = ProductFactory(seller=seller, stock=5, title="Shipped item")
    services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1)
    shipped = place_order(shopper, regions["IN-MH-PUN"], key="steps-key-03").order.lines.get()
    services.order_line_set_status(actor=seller.user, line_id=shipped.pk,
                                   status=LineStatus.SHIPPED)
    first.order.__class__.objects.filter(pk=first.order_id).update(
        placed_at=newer.order.placed_at - timedelta(hours=5))
    login(client, seller)

    body = client.get(f"{LIST_URL}?step=ship").content.decode()

    assert "To ship today" in body
    assert "Shipped item" not in body
    assert body.index(first.title) < body.index("Second item")
    assert 'name="back" value="?step=ship"' in body


def test_staff_see_the_seller_and_reconciliation_columns(client, two_sellers_order):
    client.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))

    body = client.get(LIST_URL).content.decode()

    assert "Item of Seller 1" in body and "Item of Seller 2" in body
    assert "column-seller" in body and "column-reconciled" in body


@pytest.mark.parametrize("n", [2, 20])
def test_staff_and_to_ship_today_lists_query_counts_are_flat(client, regions,
                                                              django_assert_max_num_queries, n):
    seller = test_admin.seller_create(username="flat", email="f@example.com",
                                      password="a-Long-enough-pass-9", display_name="Flat")
    for i in range(n):
        shopper = shopper_create()
        product = ProductFactory(seller=seller)
        services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1)
        place_order(shopper, regions["IN-MH-PUN"], key=f"flat-steps-{i:03d}")
    client.force_login(seller.user)
    # session, user, seller, groups check, user and group permissions (app list),
    # filtered count, total count, lines + orders + regions + seller
    with django_assert_max_num_queries(10):
        body = client.get(f"{LIST_URL}?step=ship").content.decode()
    assert body.count("value=\"ship:confirmed\"") == n
    client.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))
    # session, user, filtered count, total count, lines + orders + regions + seller
    with django_assert_max_num_queries(6):
        body = client.get(LIST_URL).content.decode()
    assert body.count("value=\"ship:confirmed\"") == n
