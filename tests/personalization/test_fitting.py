"""Mixture weights fitted per shop at the rebuild: reproducible, stored, with a fallback."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Product
from personalization.fitting import weights_fit
from personalization.models import Event, Segment, ShopperProfile
from personalization.rebuild import affinities_rebuild
from tests.factories import RegionFactory, make_products

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture
def shop(settings):
    """Forty shoppers before the hold-out, thirty in it (half of them new):
    everyone buys mostly the same few items, newcomers lately item 7."""
    settings.PERSONALIZATION = {"K_THRESHOLD": 3, "FIT_MIN_SHOPPERS": 5, "FIT_SHOPPERS": 50}
    products = make_products(20)
    Product.objects.update(created_at=NOW - timedelta(days=120))
    region = RegionFactory(code="AA", name="Aland")
    rng = random.Random(5)
    events = []
    regulars = [ShopperProfile.objects.create(region=region, age_band="25-34") for _ in range(40)]
    for shopper in regulars:
        for product in rng.sample(products[:10], 3):
            events.append(Event(shopper=shopper, product=product, type="purchase",
                                created_at=NOW - timedelta(days=rng.randrange(20, 60))))
    for shopper in regulars[:15]:
        events.append(Event(shopper=shopper, product=rng.choice(products[:12]), type="purchase",
                            created_at=NOW - timedelta(days=rng.randrange(1, 13))))
    for _ in range(15):
        newcomer = ShopperProfile.objects.create(region=region, age_band="25-34")
        events.append(Event(shopper=newcomer, product=products[7], type="purchase",
                            created_at=NOW - timedelta(days=rng.randrange(1, 13))))
    Event.objects.bulk_create(events)
    return products


def test_fitted_weights_are_reproducible_for_the_same_data_and_seed(shop):
    first = weights_fit(as_of=NOW)
    second = weights_fit(as_of=NOW)

    assert first["status"] == "fitted"
    assert set(first["weights"]) == {"cold", "warm"}
    assert first["weights"] == second["weights"]
    assert first["validation"] == second["validation"]
    # The fit never does worse on its own hold-out than where it started.
    for scores in first["validation"].values():
        assert scores["fitted"] >= scores["configured"]


def test_weights_are_validated_on_consecutive_windows_and_gain_over_them(shop):
    fit = weights_fit(as_of=NOW)

    # Two windows of 14 days, the most recent first, each one trained on what came before;
    # the newcomers only arrived lately, so only the warm cohort has shoppers in both.
    assert fit["folds"] == 2 and fit["holdout_days"] == 14
    assert [len(fit["validation"][name]["windows"]) for name in ("cold", "warm")] == [1, 2]
    for scores in fit["validation"].values():
        cuts = [window["cut"] for window in scores["windows"]]
        assert cuts == sorted(cuts, reverse=True)
        assert cuts[0] == (NOW - timedelta(days=14)).isoformat()
        for window in scores["windows"]:
            assert window["shoppers"] >= 5
        # Taken over the windows (each gain capped), the fit never loses to where it started.
        gains = [min(w["fitted"] / w["configured"], 1.5) for w in scores["windows"]
                 if w["configured"] > 0]
        assert math.prod(gains) >= 1 - 1e-9


def test_the_rebuild_stores_the_fitted_weights_with_the_version(shop):
    version = affinities_rebuild(as_of=NOW)

    fit = version.stats["fit"]
    assert fit["status"] == "fitted" and fit["seed"] == 13
    root = Segment.objects.get(version=version, key="g")
    assert root.weights == fit["weights"]


def test_too_little_data_keeps_the_configured_weights_and_says_so(settings, shop):
    settings.PERSONALIZATION = {"K_THRESHOLD": 3, "FIT_MIN_SHOPPERS": 500}
    messages = []

    version = affinities_rebuild(as_of=NOW, progress=messages.append)

    assert version.stats["fit"]["status"] == "configured"
    assert any("too little data to fit" in message for message in messages)
    assert Segment.objects.get(version=version, key="g").weights == {}
