"""Web Push end to end against a real push service the test runs (pushservice.py)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from notifications.models import (
    Delivery,
    Notification,
    NotificationEvent,
    Preference,
    PushSubscription,
)
from notifications.stoplinks import stop_path
from notifications.tasks import order_status_notify_task
from orders import services as order_services
from orders.models import LineStatus
from tests.factories import SellerFactory

from .conftest import as_shopper, placed_order
from .pushservice import PushService, VapidPair

pytestmark = pytest.mark.django_db


@pytest.fixture
def vapid(settings):
    pair = VapidPair()
    settings.SHOP_VAPID_PRIVATE_KEY = pair.private_b64
    settings.SHOP_VAPID_PUBLIC_KEY = pair.public_b64
    settings.SHOP_VAPID_SUBJECT = "mailto:ops@shop.example"
    # The test's push service speaks plain HTTP on 127.0.0.1; browsers' are https.
    settings.NOTIFICATIONS = {"ALLOW_HTTP_PUSH_ENDPOINTS": True}
    return pair


@pytest.fixture
def push_service(vapid):
    with PushService(vapid.public_b64) as service:
        yield service


def subscribe(client, shopper, subscription):
    response = as_shopper(client, shopper).post(
        "/api/v1/notifications/push-subscriptions/", subscription.to_json(),
        content_type="application/json")
    assert response.status_code == 201


def test_the_order_shipped_message_arrives_encrypted_with_its_text_and_link(
        client, pune_shopper, regions, push_service, django_capture_on_commit_callbacks):
    phone = push_service.subscribe("phone-1")
    subscribe(client, pune_shopper, phone)
    seller = SellerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        order = placed_order(pune_shopper, regions["IN-MH-PUN"], prices=(64900,),
                             sellers=[seller])
    with django_capture_on_commit_callbacks(execute=True):
        order_services.order_line_set_status(actor=seller.user, line_id=order.lines.get().pk,
                                             status=LineStatus.SHIPPED)

    assert push_service.refused == []
    messages = [json.loads(r.plaintext) for r in push_service.received]
    shipped = Notification.objects.get(kind="order_shipped")
    assert [m["kind"] for m in messages] == ["order_confirmed", "order_shipped"]
    assert messages[1] == {
        "id": shipped.pk, "kind": "order_shipped",
        "title": f"Order {order.public_id} shipped",
        "body": "On its way. Keep ₹649 in cash ready for the courier.",
        "url": f"/notifications/{shipped.pk}/go/?via=webpush",
        "stop": stop_path(shipped),
        "stopLabel": "No phone alerts for these",
    }
    request = push_service.received[1]
    assert request.claims["sub"] == "mailto:ops@shop.example"
    assert request.headers["ttl"] == "86400" and request.headers["urgency"] == "high"
    assert shipped.deliveries.get(channel="webpush").status == Delivery.Status.SENT
    assert NotificationEvent.objects.filter(notification=shipped, type="delivered",
                                            channel="webpush").count() == 1
    # The tap in the notification goes through our redirect to the order.
    tapped = client.get(messages[1]["url"])
    assert tapped["Location"] == order.get_absolute_url()
    assert NotificationEvent.objects.filter(notification=shipped, type="clicked",
                                            channel="webpush").exists()
    # The notification's button: the service worker POSTs the signed link, with
    # neither the shop's cookie nor a CSRF token.
    stopped = Client(enforce_csrf_checks=True).post(messages[1]["stop"])
    assert stopped.status_code == 200
    assert Preference.objects.get(shopper=pune_shopper).muted_kinds == ["order_shipped"]
    assert NotificationEvent.objects.filter(notification=shipped, type="opted_out").count() == 1


def test_a_410_from_the_push_service_removes_the_subscription(
        client, pune_shopper, regions, push_service):
    live = push_service.subscribe("phone-live")
    expired = push_service.subscribe("phone-old", gone=True)
    subscribe(client, pune_shopper, live)
    subscribe(client, pune_shopper, expired)
    order = placed_order(pune_shopper, regions["IN-MH-PUN"])

    order_status_notify_task.call(order_id=order.pk, line_ids=[], status="confirmed")
    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [live.endpoint]
    assert len(push_service.received) == 1
    delivery = Delivery.objects.get(channel="webpush")
    assert delivery.status == "sent"
    assert delivery.detail == "1 of 2 devices, 1 expired and removed"


def test_a_404_removes_the_subscription_too_and_each_removal_counts_as_an_opt_out(
        client, pune_shopper, regions, push_service):
    unknown = push_service.subscribe("phone-forgotten")
    subscribe(client, pune_shopper, unknown)
    # The push service no longer knows this endpoint: 404 Not Found.
    del push_service.subscriptions["/push/phone-forgotten"]
    order = placed_order(pune_shopper, regions["IN-MH-PUN"])

    order_status_notify_task.call(order_id=order.pk, line_ids=[], status="confirmed")
    assert not PushSubscription.objects.exists()
    assert list(NotificationEvent.objects.filter(type="opted_out").values_list(
        "channel", "detail")) == [("webpush", "subscription expired")]


def test_only_expired_devices_is_a_failed_delivery_and_no_retry_sends_twice(
        client, pune_shopper, regions, push_service):
    subscribe(client, pune_shopper, push_service.subscribe("old", gone=True))
    order = placed_order(pune_shopper, regions["IN-MH-PUN"])

    for _attempt in range(2):
        order_status_notify_task.call(order_id=order.pk, line_ids=[], status="confirmed")
    assert not PushSubscription.objects.exists()
    assert list(Delivery.objects.values_list("channel", "status")) == [
        ("inbox", "sent"), ("webpush", "failed")]


def test_a_wrong_vapid_key_is_refused_by_the_push_service(
        client, pune_shopper, regions, vapid, settings):
    with PushService(VapidPair().public_b64) as service:  # expects another shop's key
        subscribe(client, pune_shopper, service.subscribe("phone"))
        order = placed_order(pune_shopper, regions["IN-MH-PUN"])

        order_status_notify_task.call(order_id=order.pk, line_ids=[], status="confirmed")
    assert service.received == [] and service.refused[0][1].startswith("vapid")
    delivery = Delivery.objects.get(channel="webpush")
    assert (delivery.status, delivery.detail) == ("failed", "0 of 1 devices, failed: 401")
    assert PushSubscription.objects.count() == 1  # a 401 is our fault, not an expired device


def test_vapid_keys_command_makes_a_pair_the_checks_accept(settings):
    from io import StringIO

    from django.core.management import call_command

    from notifications.checks import vapid_check

    out = StringIO()
    call_command("vapid_keys", stdout=out)
    lines = dict(line.split("=", 1) for line in out.getvalue().split())
    settings.SHOP_VAPID_PRIVATE_KEY = lines["SHOP_VAPID_PRIVATE_KEY"]
    settings.SHOP_VAPID_PUBLIC_KEY = lines["SHOP_VAPID_PUBLIC_KEY"]
    settings.SHOP_VAPID_SUBJECT = "mailto:ops@shop.example"
    assert vapid_check() == []
    settings.SHOP_VAPID_SUBJECT = "ops"
    settings.SHOP_VAPID_PUBLIC_KEY = "short"
    assert sorted(e.id for e in vapid_check()) == ["notifications.E002", "notifications.E003"]
