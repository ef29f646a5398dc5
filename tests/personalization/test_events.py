"""Events: one server-side INSERT, client batches validated per event, orders."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from catalog.models import Product
from personalization.models import Event, ShopperProfile
from personalization.services import (
    event_record,
    events_record_batch,
    shopper_create_anonymous,
    shopper_order_placed,
    shopper_profile_update,
)
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shopper():
    return shopper_create_anonymous()[0]


def test_server_side_event_is_one_insert(shopper, django_assert_num_queries):
    product = ProductFactory()

    with django_assert_num_queries(1):  # INSERT event
        event = event_record(shopper=shopper, product_id=product.pk, type="view",
                             context="feed")

    assert Event.objects.get() == event
    assert (event.shopper, event.type, event.context) == (shopper, "view", "feed")


def test_server_side_purchase_or_unknown_type_is_refused(shopper):
    product = ProductFactory()

    with pytest.raises(ValidationError) as raised:
        event_record(shopper=shopper, product_id=product.pk, type="purchase", context="nowhere")

    assert set(raised.value.message_dict) == {"type", "context"}
    assert not Event.objects.exists()


def test_batch_stores_valid_events_and_reports_bad_ones_by_index(shopper):
    good, draft = ProductFactory(), ProductFactory(status=Product.Status.DRAFT)
    batch = [
        {"product_id": good.pk, "type": "view", "context": "feed"},
        {"product_id": good.pk, "type": "purchase"},
        {"product_id": draft.pk, "type": "click"},
        {"product_id": 999999, "type": "click"},
        {"product_id": "12", "type": "teleport", "colour": "red"},
        "not an object",
        {"product_id": good.pk, "type": "cart", "client_event_id": "has:colon"},
        {"product_id": good.pk, "type": "share", "occurred_at": "yesterday"},
        {"product_id": good.pk, "type": "hide", "context": "import"},
    ]

    result = events_record_batch(shopper=shopper, events=batch)

    assert result.accepted == 1
    assert result.duplicates == 0
    errors = {error.index: error.errors for error in result.errors}
    assert sorted(errors) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert "order" in errors[1]["type"][0]
    assert errors[2] == {"product_id": ["Unknown or unavailable product."]}
    assert errors[3] == {"product_id": ["Unknown or unavailable product."]}
    assert set(errors[4]) == {"product_id", "type", "colour"}
    assert set(errors[5]) == {"non_field_errors"}
    assert set(errors[6]) == {"client_event_id"}
    assert set(errors[7]) == {"occurred_at"}
    assert set(errors[8]) == {"context"}
    assert list(Event.objects.values_list("type", "context")) == [("view", "feed")]


def test_batch_larger_than_the_limit_is_refused_as_a_whole(shopper, settings):
    settings.PERSONALIZATION = {"BATCH_MAX_EVENTS": 3}
    product = ProductFactory()
    batch = [{"product_id": product.pk, "type": "view"}] * 4

    with pytest.raises(ValidationError) as raised:
        events_record_batch(shopper=shopper, events=batch)

    assert "At most 3" in raised.value.message_dict["events"][0]
    assert not Event.objects.exists()


def test_same_batch_sent_twice_is_stored_once(shopper):
    product = ProductFactory()
    batch = [
        {"product_id": product.pk, "type": "view", "client_event_id": "b1-0"},
        {"product_id": product.pk, "type": "click", "client_event_id": "b1-1"},
        # The same id twice inside a batch: the copy is a duplicate.
        {"product_id": product.pk, "type": "click", "client_event_id": "b1-1"},
    ]

    first = events_record_batch(shopper=shopper, events=batch)
    second = events_record_batch(shopper=shopper, events=batch)

    assert (first.accepted, first.duplicates) == (2, 1)
    assert (second.accepted, second.duplicates) == (0, 3)
    assert Event.objects.filter(shopper=shopper).count() == 2


def test_client_event_ids_are_per_shopper(shopper):
    other = shopper_create_anonymous()[0]
    product = ProductFactory()
    batch = [{"product_id": product.pk, "type": "view", "client_event_id": "e1"}]

    events_record_batch(shopper=shopper, events=batch)
    result = events_record_batch(shopper=other, events=batch)

    assert result.accepted == 1
    assert Event.objects.count() == 2


def test_queued_offline_event_keeps_its_time_within_limits(shopper):
    product = ProductFactory()
    at = timezone.now() - timedelta(days=2)
    too_old = timezone.now() - timedelta(days=8)
    future = timezone.now() + timedelta(hours=1)

    result = events_record_batch(shopper=shopper, events=[
        {"product_id": product.pk, "type": "view", "occurred_at": at.isoformat()},
        {"product_id": product.pk, "type": "view", "occurred_at": too_old.isoformat()},
        {"product_id": product.pk, "type": "view", "occurred_at": future.isoformat()},
        {"product_id": product.pk, "type": "view", "occurred_at": "2026-01-01T10:00:00"},
    ])

    assert result.accepted == 1
    assert [error.index for error in result.errors] == [1, 2, 3]
    assert Event.objects.get().created_at == at


def test_without_personalisation_consent_events_are_stored_unlinked(shopper):
    shopper_profile_update(shopper=shopper, consent_personalization=False)
    product = ProductFactory()

    result = events_record_batch(shopper=shopper, events=[
        {"product_id": product.pk, "type": "view", "client_event_id": "v1"},
        {"product_id": product.pk, "type": "hide", "client_event_id": "h1"},
    ])

    assert result.accepted == 2
    assert list(Event.objects.filter(shopper__isnull=True).values_list(
        "type", "client_event_id")) == [("view", None)]
    # "Not interested" is an instruction, so it stays with the shopper.
    assert list(Event.objects.filter(shopper=shopper).values_list("type", flat=True)) == ["hide"]


@pytest.mark.parametrize("n", [2, 50])
def test_batch_query_count_does_not_grow_with_its_size(shopper, django_assert_max_num_queries, n):
    products = [ProductFactory() for _ in range(3)]
    batch = [{"product_id": products[i % 3].pk, "type": "view", "client_event_id": f"q{i}"}
             for i in range(n)]

    # products, savepoint, lock shopper, stored client ids, insert, release
    with django_assert_max_num_queries(6):
        result = events_record_batch(shopper=shopper, events=batch)

    assert result.accepted == n


def test_order_records_purchases_once_and_counts_the_order(shopper):
    a, b = ProductFactory(), ProductFactory()
    placed_at = timezone.now()

    recorded = shopper_order_placed(shopper=shopper, order_id=7, product_ids=[a.pk, b.pk, a.pk],
                                    placed_at=placed_at)
    retried = shopper_order_placed(shopper=shopper, order_id=7, product_ids=[a.pk, b.pk],
                                   placed_at=placed_at)

    assert (recorded, retried) == (True, False)
    purchases = Event.objects.filter(shopper=shopper, type="purchase")
    assert sorted(purchases.values_list("product_id", flat=True)) == sorted([a.pk, b.pk])
    stored = ShopperProfile.objects.get(pk=shopper.pk)
    assert (stored.orders_count, stored.first_order_at, stored.lifecycle_stage) == (
        1, placed_at, "first_order"
    )
    assert shopper.orders_count == 1  # the caller's instance is updated too


def test_second_order_moves_the_shopper_to_forming(shopper):
    product = ProductFactory()
    now = timezone.now()

    shopper_order_placed(shopper=shopper, order_id=1, product_ids=[product.pk],
                         placed_at=now - timedelta(days=3))
    shopper_order_placed(shopper=shopper, order_id=2, product_ids=[product.pk], placed_at=now)

    assert ShopperProfile.objects.get(pk=shopper.pk).lifecycle_stage == "forming"


@pytest.mark.django_db(transaction=True)
def test_the_same_beacon_sent_concurrently_is_stored_and_counted_once():
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs a server database")
    shopper = shopper_create_anonymous()[0]
    product = ProductFactory()
    batch = [{"product_id": product.pk, "type": "view", "client_event_id": f"r{i}"}
             for i in range(10)]

    def send(_n):
        try:
            return events_record_batch(shopper=shopper, events=batch)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(send, range(4)))

    assert Event.objects.filter(shopper=shopper).count() == 10
    assert sum(r.accepted for r in results) == 10
    assert sum(r.duplicates for r in results) == 30


@pytest.mark.django_db
@pytest.mark.parametrize("bad", [
    {"type": {}, "product_id": 1},
    {"type": ["view"], "product_id": 1},
    {"type": "view", "product_id": 1, "context": {}},
    {"type": "view", "product_id": 2**64},
    {"type": "view", "product_id": 1, "occurred_at": "2026-11-22T10:99:00+00:00"},
])
def test_malformed_event_values_are_per_event_errors_not_crashes(bad):
    from personalization.models import Event
    from personalization.services import events_record_batch, shopper_create

    shopper = shopper_create()
    result = events_record_batch(shopper=shopper, events=[bad])
    assert result.accepted == 0
    assert [error.index for error in result.errors] == [0]
    assert Event.objects.count() == 0
