"""Demo shoppers and events: deterministic, idempotent, and shaped like real behaviour."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from catalog.demo import categories_ensure, regions_ensure
from personalization.demo import seed_shoppers_and_events
from personalization.lifecycle import refresh_lifecycle_stages
from personalization.models import Event, ShopperProfile
from tests.factories import ProductFactory, SellerFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.fixture
def catalog():
    """A small catalog on the demo regions and categories (no photos: fast)."""
    regions, _new = regions_ensure()
    categories, _new = categories_ensure()
    leaves = [c for c in categories.values() if c.parent_id]
    sellers = [SellerFactory(region=regions[code]) for code in ("IN-MH-PUN", "IN-DL-NDL",
                                                               "AE-DU-DXB")]
    products = []
    for i in range(90):
        product = ProductFactory(seller=sellers[i % 3], category=leaves[i % len(leaves)],
                                 external_id=f"demo-p{i}")
        if i % 10 == 0:  # some listings are only sold in the UAE
            product.regions.set([regions["AE"]])
        products.append(product)
    return products


def _signature():
    return sorted(
        Event.objects.values_list("shopper__external_id", "product__external_id", "type",
                                  "created_at")
    )


def test_demo_is_deterministic_and_a_second_call_does_nothing(catalog):
    created = seed_shoppers_and_events(shoppers=120, events=3000, seed=7, stdout=None, now=NOW)
    first = _signature()
    profiles = sorted(ShopperProfile.objects.values_list(
        "external_id", "region__code", "age_band", "gender", "lifecycle_stage"))

    again = seed_shoppers_and_events(shoppers=120, events=3000, seed=7, stdout=None, now=NOW)
    assert again == (0, 0)
    assert _signature() == first

    ShopperProfile.objects.all().delete()
    Event.objects.all().delete()
    seed_shoppers_and_events(shoppers=120, events=3000, seed=7, stdout=None, now=NOW)
    assert created == (120, 3000)
    assert _signature() == first
    assert sorted(ShopperProfile.objects.values_list(
        "external_id", "region__code", "age_band", "gender", "lifecycle_stage")) == profiles


def test_demo_behaviour_looks_like_a_shop(catalog):
    seed_shoppers_and_events(shoppers=400, events=16000, seed=3, stdout=None, now=NOW)

    types = Counter(Event.objects.values_list("type", flat=True))
    assert types["view"] > 2 * types["click"] > 2 * types["cart"]
    assert types["cart"] > types["purchase"] > 0
    assert types["share"] > 0 and types["hide"] > 0
    moments = list(Event.objects.values_list("created_at", flat=True))
    assert min(moments) >= NOW - timedelta(days=91)
    assert max(moments) <= NOW
    # Some questions were skipped, and every stage is represented.
    assert ShopperProfile.objects.filter(region__isnull=True).exists()
    assert ShopperProfile.objects.filter(age_band="").exists()
    assert ShopperProfile.objects.filter(gender="").exists()
    stages = Counter(ShopperProfile.objects.values_list("lifecycle_stage", flat=True))
    assert {"new", "first_order", "habit", "dormant"} <= set(stages)
    # The stages written at creation agree with a recomputation from the events.
    assert refresh_lifecycle_stages(now=NOW) == 0


def test_demo_tastes_follow_segments_but_are_not_determined_by_them(catalog):
    seed_shoppers_and_events(shoppers=400, events=16000, seed=5, stdout=None, now=NOW)

    def share(gender, slug):
        events = Event.objects.filter(shopper__gender=gender, type="view")
        return events.filter(product__category__slug=slug).count() / events.count()

    # Women lean to sarees, men to chargers: a real segment signal...
    assert share("f", "sarees") > 1.5 * share("m", "sarees")
    assert share("m", "chargers") > 1.5 * share("f", "chargers")
    # ...but not a rule: each gender still browses the other's favourites.
    assert share("m", "sarees") > 0.02
    assert share("f", "chargers") > 0.02
    # Shoppers in Dubai see UAE-only listings; others never do.
    uae_only = [p.pk for p in catalog[::10]]
    outside = Event.objects.filter(product__in=uae_only).exclude(
        shopper__region__path__startswith="/AE/"
    )
    # (Shoppers with no region in their profile may still live in Dubai.)
    assert not outside.exclude(shopper__region__isnull=True).exists()
