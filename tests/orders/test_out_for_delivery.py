"""Out for delivery: between shipped and delivered, the day a COD shopper must have the cash.

The status moves through the same service from the service itself, the
admin's one-tap button and its bulk action; a move it does not allow is a
clear refusal, and an erased shopper's address stays while the parcel is out.
"""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from catalog.models import Product
from orders import services
from orders.models import LINE_TRANSITIONS, LineStatus, Order, OrderLine

from . import test_admin, test_erasure
from .conftest import as_shopper
from .test_admin import LIST_URL, login
from .test_erasure import DELIVERY, ME, _delivery_details, _purge

# The admin's two sellers and order, and the erasure tests' token shopper's order.
two_sellers_order = test_admin.two_sellers_order
live_order = test_erasure.live_order

pytestmark = pytest.mark.django_db

OUT = LineStatus.OUT_FOR_DELIVERY


def move(seller, line, *statuses) -> OrderLine:
    for status in statuses:
        line = services.order_line_set_status(actor=seller.user, line_id=line.pk, status=status)
    return line


def tap(client, line, value: str):
    return client.post(f"/admin/orders/orderline/{line.pk}/step/",
                       {"step": value, "back": "?step=deliver"})


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- transitions ---------------------------------------------------------------------------


def test_shipped_goes_out_for_delivery_then_delivered(two_sellers_order):
    seller, line = two_sellers_order["sellers"][0], two_sellers_order["lines"][0]

    line = move(seller, line, LineStatus.SHIPPED, OUT)
    assert line.status == OUT and line.get_status_display() == "Out for delivery"
    line = move(seller, line, LineStatus.DELIVERED)

    assert OrderLine.objects.get(pk=line.pk).status == LineStatus.DELIVERED


def test_shipped_may_still_go_straight_to_delivered(two_sellers_order):
    # Sellers whose courier has no out-for-delivery scan keep their habit.
    seller, line = two_sellers_order["sellers"][0], two_sellers_order["lines"][0]

    move(seller, line, LineStatus.SHIPPED, LineStatus.DELIVERED)

    assert OrderLine.objects.get(pk=line.pk).status == LineStatus.DELIVERED


def test_a_parcel_refused_at_the_door_is_returned_and_restocked(two_sellers_order):
    seller, line = two_sellers_order["sellers"][0], two_sellers_order["lines"][0]
    product = two_sellers_order["products"][0]
    assert Product.objects.get(pk=product.pk).stock == 3

    move(seller, line, LineStatus.SHIPPED, OUT, LineStatus.RETURNED)

    assert OrderLine.objects.get(pk=line.pk).status == LineStatus.RETURNED
    assert Product.objects.get(pk=product.pk).stock == 5


@pytest.mark.parametrize(("path", "refused", "message"), [
    ((), OUT, "A line that is confirmed cannot become out for delivery."),
    ((LineStatus.SHIPPED, OUT), LineStatus.CANCELLED,
     "A line that is out for delivery cannot become cancelled."),
    ((LineStatus.SHIPPED, OUT), LineStatus.SHIPPED,
     "A line that is out for delivery cannot become shipped."),
    ((LineStatus.SHIPPED, LineStatus.DELIVERED), OUT,
     "A line that is delivered cannot become out for delivery."),
])
def test_a_move_the_status_does_not_allow_is_refused_and_writes_nothing(
        two_sellers_order, path, refused, message):
    seller, line = two_sellers_order["sellers"][0], two_sellers_order["lines"][0]
    line = move(seller, line, *path)
    before = OrderLine.objects.filter(pk=line.pk).values().get()
    stock = Product.objects.get(pk=two_sellers_order["products"][0].pk).stock

    with pytest.raises(ValidationError) as caught:
        services.order_line_set_status(actor=seller.user, line_id=line.pk, status=refused)

    assert caught.value.message_dict == {"status": [message]}
    assert OrderLine.objects.filter(pk=line.pk).values().get() == before
    assert Product.objects.get(pk=two_sellers_order["products"][0].pk).stock == stock


def test_every_status_has_its_transitions_and_the_database_accepts_it(two_sellers_order):
    assert set(LINE_TRANSITIONS) == set(LineStatus.values)
    line = two_sellers_order["lines"][0]
    OrderLine.objects.filter(pk=line.pk).update(status=OUT)
    assert OrderLine.objects.get(pk=line.pk).status == OUT
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.filter(pk=line.pk).update(status="lost")


def test_another_seller_cannot_send_my_line_out(two_sellers_order):
    mine, other = two_sellers_order["lines"][0], two_sellers_order["sellers"][1]
    move(two_sellers_order["sellers"][0], mine, LineStatus.SHIPPED)

    with pytest.raises(PermissionDenied):
        services.order_line_set_status(actor=other.user, line_id=mine.pk, status=OUT)

    assert OrderLine.objects.get(pk=mine.pk).status == LineStatus.SHIPPED


def test_cash_may_be_recorded_at_the_door_while_out_for_delivery(two_sellers_order):
    seller, line = two_sellers_order["sellers"][0], two_sellers_order["lines"][0]
    move(seller, line, LineStatus.SHIPPED, OUT)

    line = services.order_line_cod_record(actor=seller.user, line_id=line.pk,
                                          amount_minor=line.line_total_minor)

    assert line.cod_collected_minor == line.line_total_minor and line.status == OUT


# --- the order's status ----------------------------------------------------------------------


def test_an_order_with_a_line_out_for_delivery_shows_out_for_delivery(two_sellers_order):
    (seller_a, seller_b), (line_a, line_b) = (two_sellers_order["sellers"],
                                              two_sellers_order["lines"])
    order = two_sellers_order["order"]

    move(seller_a, line_a, LineStatus.SHIPPED, OUT)
    assert Order.objects.get(pk=order.pk).status_summary() == OUT  # the other still confirmed
    move(seller_b, line_b, LineStatus.SHIPPED)
    assert Order.objects.get(pk=order.pk).status_summary() == OUT  # the other shipped
    move(seller_b, line_b, LineStatus.SHIPPED, LineStatus.DELIVERED)
    assert Order.objects.get(pk=order.pk).status_summary() == OUT  # the other delivered
    assert Order.objects.get(pk=order.pk).status_summary_label() == "Out for delivery"
    move(seller_a, line_a, LineStatus.DELIVERED)
    assert Order.objects.get(pk=order.pk).status_summary() == LineStatus.DELIVERED


def test_the_shopper_sees_out_for_delivery_on_the_order_my_orders_and_the_api(
        client, two_sellers_order):
    order = two_sellers_order["order"]
    move(two_sellers_order["sellers"][0], two_sellers_order["lines"][0], LineStatus.SHIPPED, OUT)
    as_shopper(client, order.shopper)

    page = client.get(f"/orders/{order.public_id}/").content.decode()
    listing = client.get("/orders/").content.decode()
    api = client.get(f"/api/v1/orders/{order.public_id}/").json()

    assert "Out for delivery" in page.split('id="order-status"')[1].split("</p>")[0]
    assert "Out for delivery" in listing
    assert (api["status"], api["status_label"]) == ("out_for_delivery", "Out for delivery")
    assert [(x["status"], x["status_label"]) for x in api["lines"]] == [
        ("out_for_delivery", "Out for delivery"), ("confirmed", "Confirmed")]


# --- the seller's list in the admin ----------------------------------------------------------


def test_a_shipped_line_offers_one_large_out_for_delivery_button(client, two_sellers_order):
    seller, mine = two_sellers_order["sellers"][0], two_sellers_order["lines"][0]
    move(seller, mine, LineStatus.SHIPPED)

    body = login(client, seller).get(LIST_URL + "?step=deliver").content.decode()

    assert 'class="ol-step ol-step-out_for_delivery"' in body
    assert 'value="out_for_delivery:shipped">Out for delivery</button>' in body


def test_the_seller_taps_out_for_delivery_then_delivered(client, two_sellers_order):
    seller, mine = two_sellers_order["sellers"][0], two_sellers_order["lines"][0]
    move(seller, mine, LineStatus.SHIPPED)
    login(client, seller)

    response = tap(client, mine, "out_for_delivery:shipped")

    assert response.status_code == 302 and response["Location"] == LIST_URL + "?step=deliver"
    assert OrderLine.objects.get(pk=mine.pk).status == OUT
    assert any("out for delivery" in t for t in texts(response))
    body = client.get(LIST_URL + "?step=deliver").content.decode()
    assert 'class="ol-status ol-status-out_for_delivery">Out for delivery</span>' in body
    assert 'value="deliver:out_for_delivery">Mark delivered</button>' in body
    # A second tap of the same button (a stale page) changes nothing and says so.
    again = tap(client, mine, "out_for_delivery:shipped")
    assert any("it is now out for delivery" in t for t in texts(again))
    assert tap(client, mine, "deliver:out_for_delivery").status_code == 302
    assert OrderLine.objects.get(pk=mine.pk).status == LineStatus.DELIVERED


def test_an_old_page_s_mark_delivered_on_a_shipped_line_still_works(client, two_sellers_order):
    seller, mine = two_sellers_order["sellers"][0], two_sellers_order["lines"][0]
    move(seller, mine, LineStatus.SHIPPED)

    tap(login(client, seller), mine, "deliver:shipped")

    assert OrderLine.objects.get(pk=mine.pk).status == LineStatus.DELIVERED


def test_another_seller_cannot_tap_my_line_out_for_delivery(client, two_sellers_order):
    (mine_seller, other), mine = two_sellers_order["sellers"], two_sellers_order["lines"][0]
    move(mine_seller, mine, LineStatus.SHIPPED)

    response = tap(login(client, other), mine, "out_for_delivery:shipped")

    assert response.status_code == 302
    assert any("only change your own" in t for t in texts(response))
    assert OrderLine.objects.get(pk=mine.pk).status == LineStatus.SHIPPED


def test_a_confirmed_line_cannot_be_tapped_out_for_delivery(client, two_sellers_order):
    seller, mine = two_sellers_order["sellers"][0], two_sellers_order["lines"][0]

    response = tap(login(client, seller), mine, "out_for_delivery:confirmed")

    assert response.status_code == 302
    assert any("Nothing was done" in t for t in texts(response))
    assert OrderLine.objects.get(pk=mine.pk).status == LineStatus.CONFIRMED


def test_the_bulk_action_moves_what_it_may_and_names_what_it_refused(client, two_sellers_order):
    seller = two_sellers_order["sellers"][0]
    shipped = two_sellers_order["lines"][0]
    move(seller, shipped, LineStatus.SHIPPED)
    # A second line of the same seller, still confirmed: it must be shipped first.
    confirmed = OrderLine.objects.create(
        order=shipped.order, seller=seller, product=shipped.product, title="Second lamp",
        unit_price_minor=100, quantity=1, currency=shipped.currency)
    login(client, seller)

    response = client.post(LIST_URL, {"action": "mark_out_for_delivery",
                                      "_selected_action": [shipped.pk, confirmed.pk]})

    assert response.status_code == 302
    said = texts(response)
    assert "1 line is now out for delivery." in said
    assert any("Second lamp: A line that is confirmed cannot become out for delivery." in t
               for t in said)
    assert OrderLine.objects.get(pk=shipped.pk).status == OUT
    assert OrderLine.objects.get(pk=confirmed.pk).status == LineStatus.CONFIRMED


def test_the_change_form_offers_the_moves_out_for_delivery_allows(client, two_sellers_order):
    seller, mine = two_sellers_order["sellers"][0], two_sellers_order["lines"][0]
    move(seller, mine, LineStatus.SHIPPED, OUT)
    url = f"/admin/orders/orderline/{mine.pk}/change/"

    body = login(client, seller).get(url).content.decode()
    refused = client.post(url, {"new_status": LineStatus.CANCELLED, "cod_collected": ""})

    assert '<option value="delivered">' in body and '<option value="returned">' in body
    assert '<option value="cancelled">' not in body
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    assert OrderLine.objects.get(pk=mine.pk).status == OUT


# --- erasure ---------------------------------------------------------------------------------


def test_an_erased_shoppers_order_out_for_delivery_keeps_its_address(live_order):
    # given a parcel out for delivery
    seller, line = live_order["seller"], live_order["line"]
    move(seller, line, LineStatus.SHIPPED, OUT)
    before = _delivery_details(live_order["order"])
    # when the shopper erases themselves and the daily purge runs
    body = live_order["api"].delete(ME).json()
    _purge()
    # then the courier still has name, phone and address, and the answer says why
    assert [k["order"] for k in body["kept"]] == [live_order["order"].public_id]
    assert body["kept"][0]["kept"] == list(DELIVERY)
    assert _delivery_details(live_order["order"]) == before and before[0]
    # and once delivered and paid the next purge blanks them
    move(seller, line, LineStatus.DELIVERED)
    services.order_line_cod_record(actor=seller.user, line_id=line.pk,
                                   amount_minor=line.line_total_minor)
    assert "1 orders anonymised after settling" in _purge()
    assert _delivery_details(live_order["order"]) == ("", "", "", "")
