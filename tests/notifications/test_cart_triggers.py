"""Back in stock, price drop and abandoned carts: messages about what the shopper carted."""

from __future__ import annotations

import datetime as dt

import pytest

from catalog.services import product_update
from notifications import cart_triggers, services
from notifications.models import Notification, NotificationEvent
from orders import services as order_services
from orders.models import CartLine
from personalization.models import Event
from tests.factories import ProductFactory

from .conftest import placed_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_quiet_hours(settings):
    # Catalog's signal path decides at the real time; keep the test independent of it.
    settings.NOTIFICATIONS = {"QUIET_HOURS": (0, 0)}


def messages():
    return list(Notification.objects.order_by("id").values_list("shopper_id", "kind", "title",
                                                                "body", "status"))


def test_a_carted_listing_back_in_stock_tells_the_shopper(pune_shopper,
                                                          django_capture_on_commit_callbacks):
    product = ProductFactory(title="Steel bottle", stock=2)
    order_services.cart_line_add(shopper=pune_shopper, product_id=product.pk, quantity=1)
    seller = product.seller.user
    with django_capture_on_commit_callbacks(execute=True):
        product = product_update(product=product, actor=seller, stock=0)
    assert messages() == []
    with django_capture_on_commit_callbacks(execute=True):
        product_update(product=product, actor=seller, stock=7)
        product_update(product=product, actor=seller, stock=9)  # no longer "back"
    assert messages() == [(pune_shopper.pk, "back_in_stock", "Steel bottle is back in stock",
                           "It is in your cart. Order it before it sells out again.", "sent")]
    note = Notification.objects.get()
    assert (note.link, note.product_id) == (product.get_absolute_url(), product.pk)
    # Tapping it is a click on the listing for the ranking, beside the message's own event.
    services.notification_click(shopper=pune_shopper, notification_id=note.pk, via="webpush")
    assert list(Event.objects.filter(type="click").values_list("shopper_id", "product_id")) \
        == [(pune_shopper.pk, product.pk)]
    assert NotificationEvent.objects.filter(type="clicked", channel="webpush").count() == 1


def test_a_price_drop_tells_only_those_who_carted_it_dearer(
        pune_shopper, regions, django_capture_on_commit_callbacks):
    from personalization.services import shopper_create

    product = ProductFactory(title="Kurta", price_minor=49900, compare_at_minor=99900)
    order_services.cart_line_add(shopper=pune_shopper, product_id=product.pk, quantity=1)
    cheap = shopper_create()
    order_services.cart_line_add(shopper=cheap, product_id=product.pk, quantity=1)
    CartLine.objects.filter(cart__shopper=cheap).update(unit_price_minor_seen=35000)
    with django_capture_on_commit_callbacks(execute=True):
        product_update(product=product, actor=product.seller.user, price_minor=39900)
    assert messages() == [(pune_shopper.pk, "price_drop", "Price drop: Kurta",
                           "Now ₹399, was ₹499 when you added it. Pay cash on delivery.",
                           "sent")]
    with django_capture_on_commit_callbacks(execute=True):
        product_update(product=product, actor=product.seller.user, price_minor=45900)
    assert len(messages()) == 1  # a rise tells nobody


def test_an_abandoned_cart_gets_one_reminder(pune_shopper, regions):
    product = ProductFactory()
    order_services.cart_line_add(shopper=pune_shopper, product_id=product.pk, quantity=2)
    added = CartLine.objects.get().added_at
    assert cart_triggers.carts_abandoned_notify(now=added + dt.timedelta(hours=1)) == []
    later = added + dt.timedelta(hours=5)
    sent = cart_triggers.carts_abandoned_notify(now=later)
    assert len(sent) == 1
    assert cart_triggers.carts_abandoned_notify(now=later + dt.timedelta(hours=1)) == []
    assert [m[1:4] for m in messages()] == [
        ("cart_abandoned", "Your cart is waiting",
         "1 item is still in your cart. Pay cash on delivery.")]
    assert cart_triggers.carts_abandoned_notify(now=added + dt.timedelta(days=4)) == []


def test_no_reminder_when_the_shopper_ordered_after_carting(pune_shopper, regions):
    order = placed_order(pune_shopper, regions["IN-MH-PUN"])  # empties the cart
    order_services.cart_line_add(shopper=pune_shopper, product_id=ProductFactory().pk,
                                 quantity=1)
    added = CartLine.objects.get().added_at
    # An order placed after the line (another tab): the shopper did not walk away.
    type(order).objects.filter(pk=order.pk).update(placed_at=added + dt.timedelta(minutes=1))
    assert cart_triggers.carts_abandoned_notify(now=added + dt.timedelta(hours=5)) == []


def test_the_reminder_speaks_the_shoppers_language(pune_shopper):
    pune_shopper.language = "hi"
    pune_shopper.save()
    for _ in range(2):
        order_services.cart_line_add(shopper=pune_shopper, product_id=ProductFactory().pk,
                                     quantity=1)
    added = CartLine.objects.order_by("-added_at").first().added_at
    cart_triggers.carts_abandoned_notify(now=added + dt.timedelta(hours=5))
    assert Notification.objects.get().body == \
        "आपकी कार्ट में अभी 2 सामान हैं। डिलीवरी पर नकद दें।"
