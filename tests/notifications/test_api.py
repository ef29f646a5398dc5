"""Notifications API: the caller's own inbox, cursor pages, read marks, preferences, push keys."""

from __future__ import annotations

import pytest

from notifications import services
from notifications.models import Kind, NotificationEvent, Preference, PushSubscription
from personalization.services import shopper_create_anonymous

from .conftest import NOON_IST

pytestmark = pytest.mark.django_db

P256DH = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
AUTH = "tBHItJI5svbpez7KI4CCXg"


def auth(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Shopper {token}"}


def inbox(shopper, n: int, kind=Kind.ORDER_SHIPPED):
    return [services.notification_send(shopper=shopper, kind=kind, title=f"Title {i}",
                                       body=f"Body {i}", link="/orders/", dedupe_key=f"k{i}",
                                       now=NOON_IST) for i in range(n)]


def test_the_list_pages_with_a_cursor_newest_first(client, token_shopper):
    shopper, token = token_shopper
    made = inbox(shopper, 5)
    first = client.get("/api/v1/notifications/?limit=3", **auth(token))
    assert first.status_code == 200
    assert first["Cache-Control"] == "private, no-store"
    body = first.json()
    assert [item["id"] for item in body["results"]] == [n.pk for n in made[::-1][:3]]
    assert set(body["results"][0]) == {"id", "kind", "title", "body", "link", "sent_at",
                                       "read_at"}
    rest = client.get(f"/api/v1/notifications/?limit=3&cursor={body['next_cursor']}",
                      **auth(token)).json()
    assert [item["id"] for item in rest["results"]] == [made[1].pk, made[0].pk]
    assert rest["next_cursor"] is None


def test_bad_paging_parameters_are_400_with_field_messages(client, token_shopper):
    _shopper, token = token_shopper
    for query, field in (("limit=0", "limit"), ("cursor=junk", "cursor")):
        response = client.get(f"/api/v1/notifications/?{query}", **auth(token))
        assert response.status_code == 400
        assert field in response.json()["error"]["fields"]


def test_a_shopper_never_sees_or_marks_another_shoppers_messages(client, token_shopper):
    shopper, token = token_shopper
    other, _other_token = shopper_create_anonymous()
    theirs = inbox(other, 1)[0]
    assert client.get("/api/v1/notifications/", **auth(token)).json()["results"] == []
    response = client.post(f"/api/v1/notifications/{theirs.pk}/read/", **auth(token))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert client.post("/api/v1/notifications/abc/read/", **auth(token)).status_code == 404


def test_marking_read_records_one_open(client, token_shopper):
    shopper, token = token_shopper
    note = inbox(shopper, 1)[0]
    for _ in range(2):
        response = client.post(f"/api/v1/notifications/{note.pk}/read/", **auth(token))
        assert response.status_code == 200
        assert response.json()["read_at"] is not None
    assert NotificationEvent.objects.filter(type="opened").count() == 1
    inbox(shopper, 3)
    marked = client.post("/api/v1/notifications/read/", **auth(token)).json()
    assert marked == {"marked": 2}  # k0 is the one already read


def test_anonymous_callers_get_401(client):
    assert client.get("/api/v1/notifications/").status_code == 401


@pytest.mark.parametrize("n", [2, 20])
def test_list_query_count_is_flat(client, token_shopper, django_assert_max_num_queries, n):
    shopper, token = token_shopper
    inbox(shopper, n)
    client.get("/api/v1/notifications/", **auth(token))  # the token's hourly last-used write
    # token + profile, the page of notifications
    with django_assert_max_num_queries(2):
        response = client.get("/api/v1/notifications/", **auth(token))
    assert len(response.json()["results"]) == n


def test_preferences_read_and_change_and_bad_kinds_are_400(client, token_shopper):
    shopper, token = token_shopper
    assert client.get("/api/v1/notifications/preferences/", **auth(token)).json() == {
        "webpush": True, "sms": False, "muted_kinds": []}
    changed = client.patch("/api/v1/notifications/preferences/",
                           {"webpush": False, "muted_kinds": ["campaign"]},
                           content_type="application/json", **auth(token))
    assert changed.json() == {"webpush": False, "sms": False, "muted_kinds": ["campaign"]}
    assert sorted(NotificationEvent.objects.filter(type="opted_out").values_list(
        "kind", "channel")) == [("", "webpush"), ("campaign", "")]
    bad = client.patch("/api/v1/notifications/preferences/", {"muted_kinds": ["spam"]},
                       content_type="application/json", **auth(token))
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"] == {"muted_kinds.0": ['"spam" is not a valid choice.']}
    assert Preference.objects.get(shopper=shopper).muted_kinds == ["campaign"]


def test_push_subscribe_and_unsubscribe(client, token_shopper):
    shopper, token = token_shopper
    body = {"endpoint": "https://push.example.net/send/abc",
            "keys": {"p256dh": P256DH, "auth": AUTH}}
    response = client.post("/api/v1/notifications/push-subscriptions/", body,
                           content_type="application/json", **auth(token))
    assert response.status_code == 201
    # The same browser again: one row, keys refreshed.
    client.post("/api/v1/notifications/push-subscriptions/", body,
                content_type="application/json", **auth(token))
    assert PushSubscription.objects.filter(shopper=shopper).count() == 1
    gone = client.delete("/api/v1/notifications/push-subscriptions/",
                         {"endpoint": body["endpoint"]}, content_type="application/json",
                         **auth(token))
    assert gone.status_code == 204
    assert not PushSubscription.objects.exists()
    assert list(NotificationEvent.objects.values_list("type", "channel", "detail")) == [
        ("opted_out", "webpush", "unsubscribed")]
    again = client.delete("/api/v1/notifications/push-subscriptions/",
                          {"endpoint": body["endpoint"]}, content_type="application/json",
                          **auth(token))
    assert again.status_code == 404


@pytest.mark.parametrize("body,field", [
    ({"endpoint": "http://push.example.net/x", "keys": {"p256dh": P256DH, "auth": AUTH}},
     "endpoint"),
    ({"endpoint": "https://push.example.net/x", "keys": {"p256dh": "AAAA", "auth": AUTH}},
     "p256dh"),
    ({"endpoint": "https://push.example.net/x", "keys": {"p256dh": P256DH, "auth": "!!"}},
     "auth"),
    ({"endpoint": "https://push.example.net/x"}, "keys"),
])
def test_bad_subscriptions_are_400_and_store_nothing(client, token_shopper, body, field):
    _shopper, token = token_shopper
    response = client.post("/api/v1/notifications/push-subscriptions/", body,
                           content_type="application/json", **auth(token))
    assert response.status_code == 400
    assert any(key.startswith(field) for key in response.json()["error"]["fields"])
    assert not PushSubscription.objects.exists()


def test_push_key_is_public(client, settings):
    settings.SHOP_VAPID_PUBLIC_KEY = "BPublicKey"
    response = client.get("/api/v1/notifications/push-key/")
    assert response.json() == {"public_key": "BPublicKey"}
    assert response["Cache-Control"].startswith("public")
