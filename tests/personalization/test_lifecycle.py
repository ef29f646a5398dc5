"""Lifecycle stages at their boundaries, pure and computed from events."""

from datetime import timedelta

import pytest
from django.utils import timezone

from personalization.lifecycle import lifecycle_stage_for, refresh_lifecycle_stages
from personalization.models import Event, ShopperProfile
from tests.factories import ProductFactory

NOW = timezone.now()


def stage(orders, window_orders=None, seen_days_ago=0):
    return lifecycle_stage_for(
        orders_count=orders,
        window_orders=orders if window_orders is None else window_orders,
        last_seen_at=NOW - timedelta(days=seen_days_ago),
        now=NOW, habit_orders=4, dormant_after_days=30,
    )


@pytest.mark.parametrize(("orders", "expected"), [
    (0, "new"), (1, "first_order"), (2, "forming"), (3, "forming"), (4, "habit"), (9, "habit"),
])
def test_stage_by_orders_in_the_window(orders, expected):
    assert stage(orders) == expected


def test_orders_outside_the_window_do_not_form_a_habit():
    assert stage(orders=6, window_orders=3) == "forming"


@pytest.mark.parametrize(("days", "expected"), [(29, "habit"), (30, "dormant"), (31, "dormant")])
def test_dormant_from_thirty_days_without_a_visit(days, expected):
    assert stage(orders=4, seen_days_ago=days) == expected


def test_never_seen_imported_shopper_is_not_dormant():
    assert lifecycle_stage_for(orders_count=0, window_orders=0, last_seen_at=None, now=NOW,
                               habit_orders=4, dormant_after_days=30) == "new"


def _shopper_with_orders(order_days, first_seen_days_ago=150):
    first_seen = NOW - timedelta(days=first_seen_days_ago)
    shopper = ShopperProfile.objects.create(first_seen_at=first_seen, last_seen_at=NOW)
    product = ProductFactory()
    for day in order_days:
        Event.objects.create(shopper=shopper, product=product, type="purchase",
                             created_at=first_seen + timedelta(days=day))
    return shopper


@pytest.mark.django_db
@pytest.mark.parametrize(("fourth_order_day", "expected"), [(119, "habit"), (121, "forming")])
def test_habit_needs_four_orders_within_120_days_of_the_first_visit(fourth_order_day, expected):
    shopper = _shopper_with_orders([1, 10, 50, fourth_order_day])

    refresh_lifecycle_stages(now=NOW)

    shopper.refresh_from_db()
    assert shopper.lifecycle_stage == expected
    assert shopper.orders_count == 4


@pytest.mark.django_db
def test_three_orders_are_forming_four_are_habit():
    three = _shopper_with_orders([1, 2, 3])
    four = _shopper_with_orders([1, 2, 3, 4])

    changed = refresh_lifecycle_stages(now=NOW)

    three.refresh_from_db()
    four.refresh_from_db()
    assert (three.lifecycle_stage, four.lifecycle_stage) == ("forming", "habit")
    assert changed == 2
    assert four.first_order_at == four.first_seen_at + timedelta(days=1)


@pytest.mark.django_db
def test_lines_of_one_order_share_a_timestamp_and_count_once():
    shopper = ShopperProfile.objects.create()
    at = NOW - timedelta(days=1)
    for product in (ProductFactory(), ProductFactory(), ProductFactory()):
        Event.objects.create(shopper=shopper, product=product, type="purchase", created_at=at)

    refresh_lifecycle_stages(now=NOW, shopper_ids=[shopper.pk])

    shopper.refresh_from_db()
    assert (shopper.orders_count, shopper.lifecycle_stage) == (1, "first_order")


@pytest.mark.django_db
def test_refresh_marks_absent_shoppers_dormant_and_is_idempotent(settings):
    settings.PERSONALIZATION = {"DORMANT_AFTER_DAYS": 10}
    away = ShopperProfile.objects.create(last_seen_at=NOW - timedelta(days=10))
    here = ShopperProfile.objects.create(last_seen_at=NOW - timedelta(days=9))

    first = refresh_lifecycle_stages(now=NOW)
    second = refresh_lifecycle_stages(now=NOW)

    assert ShopperProfile.objects.get(pk=away.pk).lifecycle_stage == "dormant"
    assert ShopperProfile.objects.get(pk=here.pk).lifecycle_stage == "new"
    assert (first, second) == (1, 0)
