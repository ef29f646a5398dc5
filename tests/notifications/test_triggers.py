"""Order status changes reach the shopper: orders' signal, after commit, as a task, once."""

from __future__ import annotations

import pytest
from django.db import transaction

from notifications.models import Notification
from notifications.tasks import order_status_notify_task
from orders import services as order_services
from orders.models import LineStatus
from orders.signals import order_status_changed
from tests.factories import SellerFactory
from tests.orders.conftest import as_shopper

from .conftest import placed_order

pytestmark = pytest.mark.django_db


def messages(shopper):
    return list(Notification.objects.filter(shopper=shopper).order_by("id")
                .values_list("kind", "title", "body", "link"))


def test_placing_an_order_confirms_it_with_the_cash_to_pay(
        pune_shopper, regions, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = placed_order(pune_shopper, regions["IN-MH-PUN"], prices=(49900, 129900))
    assert messages(pune_shopper) == [(
        "order_confirmed", f"Order {order.public_id} confirmed",
        "Thank you! Pay ₹1,798 in cash when it arrives.", f"/orders/{order.public_id}/")]


def test_shipped_and_delivered_state_the_cash_of_that_sellers_parcel(
        pune_shopper, regions, django_capture_on_commit_callbacks):
    seller_a, seller_b = SellerFactory(), SellerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        order = placed_order(pune_shopper, regions["IN-MH-PUN"], prices=(49900, 129900),
                             sellers=[seller_a, seller_b])
    line_b = order.lines.get(seller=seller_b)
    with django_capture_on_commit_callbacks(execute=True):
        order_services.order_line_set_status(actor=seller_b.user, line_id=line_b.pk,
                                             status=LineStatus.SHIPPED)
    with django_capture_on_commit_callbacks(execute=True):
        order_services.order_line_set_status(actor=seller_b.user, line_id=line_b.pk,
                                             status=LineStatus.DELIVERED)
    assert [m[:3] for m in messages(pune_shopper)[1:]] == [
        ("order_shipped", f"Order {order.public_id} shipped",
         "On its way. Keep ₹1,299 in cash ready for the courier."),
        ("order_delivered", f"Order {order.public_id} delivered",
         "Delivered. Cash to pay the courier: ₹1,299."),
    ]


def test_a_change_that_rolls_back_tells_nobody(pune_shopper, regions,
                                              django_capture_on_commit_callbacks):
    seller = SellerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        order = placed_order(pune_shopper, regions["IN-MH-PUN"], sellers=[seller])
    line = order.lines.get()
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            order_services.order_line_set_status(actor=seller.user, line_id=line.pk,
                                                 status=LineStatus.SHIPPED)
            raise RuntimeError("rolled back")
    assert [m[0] for m in messages(pune_shopper)] == ["order_confirmed"]


def test_the_signal_is_sent_only_after_commit(pune_shopper, regions,
                                              django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs["status"])

    order_status_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            placed_order(pune_shopper, regions["IN-MH-PUN"])
        assert received == []
        for callback in callbacks:
            callback()
        assert received == ["confirmed"]
    finally:
        order_status_changed.disconnect(receiver)


def test_a_retried_task_never_duplicates_the_message(pune_shopper, regions):
    seller = SellerFactory()
    order = placed_order(pune_shopper, regions["IN-MH-PUN"], sellers=[seller])
    line = order.lines.get()
    order_services.order_line_set_status(actor=seller.user, line_id=line.pk,
                                         status=LineStatus.SHIPPED)
    for _attempt in range(3):
        order_status_notify_task.call(order_id=order.pk, line_ids=[line.pk], status="shipped")
    assert [m[0] for m in messages(pune_shopper)] == ["order_shipped"]
    note = Notification.objects.get()
    assert list(note.deliveries.values_list("channel", flat=True)) == ["inbox"]


def test_lines_of_one_seller_moved_one_by_one_make_one_message(
        pune_shopper, regions, django_capture_on_commit_callbacks):
    seller = SellerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        order = placed_order(pune_shopper, regions["IN-MH-PUN"], prices=(10000, 20000),
                             sellers=[seller, seller])
    for line in order.lines.all():  # the admin's "Mark shipped" action does this
        with django_capture_on_commit_callbacks(execute=True):
            order_services.order_line_set_status(actor=seller.user, line_id=line.pk,
                                                 status=LineStatus.SHIPPED)
    assert [m[0] for m in messages(pune_shopper)] == ["order_confirmed", "order_shipped"]


def test_cancellations_and_erased_shoppers_get_nothing(pune_shopper, regions):
    seller = SellerFactory()
    order = placed_order(pune_shopper, regions["IN-MH-PUN"], sellers=[seller])
    line = order.lines.get()
    assert order_status_notify_task.call(order_id=order.pk, line_ids=[line.pk],
                                         status="cancelled") is None
    order.shopper = None
    order.save()
    assert order_status_notify_task.call(order_id=order.pk, line_ids=[line.pk],
                                         status="confirmed") is None
    assert not Notification.objects.exists()


def test_the_message_is_written_in_the_shoppers_language(pune_shopper, regions):
    pune_shopper.language = "hi"
    pune_shopper.save()
    order = placed_order(pune_shopper, regions["IN-MH-PUN"])
    order_status_notify_task.call(order_id=order.pk, line_ids=[], status="confirmed")
    note = Notification.objects.get()
    assert note.title == f"ऑर्डर {order.public_id} पक्का हुआ"
    assert note.body == "धन्यवाद! सामान आने पर ₹499 नकद दें।"


def test_out_for_delivery_tells_the_shopper_the_cash_to_have_ready_in_the_inbox(
        client, pune_shopper, regions, django_capture_on_commit_callbacks):
    # given a COD order of two sellers, seller B's parcel shipped
    seller_a, seller_b = SellerFactory(), SellerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        order = placed_order(pune_shopper, regions["IN-MH-PUN"], prices=(49900, 129900),
                             sellers=[seller_a, seller_b])
    line_b = order.lines.get(seller=seller_b)
    with django_capture_on_commit_callbacks(execute=True):
        order_services.order_line_set_status(actor=seller_b.user, line_id=line_b.pk,
                                             status=LineStatus.SHIPPED)
    # when it goes out for delivery
    with django_capture_on_commit_callbacks(execute=True):
        order_services.order_line_set_status(actor=seller_b.user, line_id=line_b.pk,
                                             status=LineStatus.OUT_FOR_DELIVERY)
    # then the shopper is told to have that parcel's cash ready today, linked to the order
    assert messages(pune_shopper)[-1] == (
        "order_out_for_delivery", f"Order {order.public_id} arrives today",
        "Out for delivery. Keep ₹1,299 in cash ready.", f"/orders/{order.public_id}/")
    inbox = as_shopper(client, pune_shopper).get("/notifications/").content.decode()
    assert f"Order {order.public_id} arrives today" in inbox
    assert "Keep ₹1,299 in cash ready." in inbox


def test_out_for_delivery_is_written_in_hindi_and_arabic(pune_shopper, regions):
    seller = SellerFactory()
    order = placed_order(pune_shopper, regions["IN-MH-PUN"], sellers=[seller])
    line = order.lines.get()
    order_services.order_line_set_status(actor=seller.user, line_id=line.pk,
                                         status=LineStatus.SHIPPED)
    order_services.order_line_set_status(actor=seller.user, line_id=line.pk,
                                         status=LineStatus.OUT_FOR_DELIVERY)
    texts = {}
    for language in ("hi", "ar"):
        pune_shopper.language = language
        pune_shopper.save()
        Notification.objects.all().delete()
        order_status_notify_task.call(order_id=order.pk, line_ids=[line.pk],
                                      status="out_for_delivery")
        note = Notification.objects.get()
        texts[language] = (note.kind, note.title, note.body)
    assert texts == {
        "hi": ("order_out_for_delivery", f"ऑर्डर {order.public_id} आज पहुँचेगा",
               "डिलीवरी के लिए निकला है। ₹499 नकद तैयार रखें।"),
        "ar": ("order_out_for_delivery", f"يصل الطلب {order.public_id} اليوم",
               # Arabic writes the amount its own way: RLM, 499, no-break space, ₹.
               "خرج للتوصيل. جهّز \u200f499\xa0₹ نقدًا."),
    }
