"""Ratings as the ranking's quality prior (personalization/quality.py, reviews/ranking.py).

Verified reviews go through the reviews services (a delivered order line each),
then `rebuild_affinities` scales the precomputed popularity by the ratings'
shrunk average; the cold feed is read through `feed_ranking_compute`.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from catalog.models import Product
from catalog.services import seller_create
from personalization import quality
from personalization.conf import get_config
from personalization.models import Event, Segment
from personalization.rebuild import affinities_rebuild
from personalization.selectors import feed_ranking_compute
from personalization.services import shopper_create
from reviews.models import ProductRating, Review
from reviews.ranking import ratings_known_at
from reviews.services import review_create, review_hide
from tests.factories import ProductFactory
from tests.orders.conftest import regions  # noqa: F401 (fixture)
from tests.reviews.conftest import buy

pytestmark = pytest.mark.django_db

RATERS = 12  # per product: with the prior weight 10, enough to move a product clearly


@pytest.fixture(autouse=True)
def small_config(settings):
    # No exploration: new listings would take slots and blur the order under test.
    settings.PERSONALIZATION = {
        "K_THRESHOLD": 2,
        "EXPLORATION_SHARE": {"new": 0.0, "first_order": 0.0, "forming": 0.0, "habit": 0.0,
                              "dormant": 0.0},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def shop(regions):  # noqa: F811
    """Two lamps, equally popular: each bought by RATERS shoppers, all delivered.

    `bad` is created first, so on a tie (no ratings) it ranks first by id.
    """
    seller = seller_create(username="lamps", email="lamps@example.com",
                           password="a-Long-enough-pass-9", display_name="Lamp House")
    bad = ProductFactory(seller=seller, stock=100, title="Flimsy lamp")
    good = ProductFactory(seller=seller, stock=100, title="Sturdy lamp")
    # Same age, so freshness does not break the tie.
    Product.objects.filter(pk__in=[bad.pk, good.pk]).update(
        created_at=timezone.now() - timedelta(days=60))
    buyers = {}
    for product in (bad, good):
        buyers[product.pk] = []
        for _ in range(RATERS):
            shopper = shopper_create()
            buy(shopper, product, regions["IN-MH-PUN"])
            Event.objects.create(shopper=shopper, product=product, type="purchase",
                                 created_at=timezone.now() - timedelta(hours=1))
            buyers[product.pk].append(shopper)
    return {"bad": bad, "good": good, "buyers": buyers}


def _rate(shop, name: str, stars: int, n: int = RATERS):
    product = shop[name]
    return [review_create(shopper=shopper, product_id=product.pk, rating=stars)
            for shopper in shop["buyers"][product.pk][:n]]


def _global(version) -> dict[int, float]:
    return dict(Segment.objects.get(version=version, key="g").candidates)


def _cold_order(shop) -> list[int]:
    _version, items = feed_ranking_compute(shopper=shopper_create(), as_of=timezone.now())
    ids = [item.product_id for item in items]
    return [pid for pid in ids if pid in (shop["bad"].pk, shop["good"].pk)]


# --- The factor ---------------------------------------------------------------


def test_few_ratings_move_a_product_little_many_move_it_more():
    others = {pid: (10, 30) for pid in range(100, 120)}  # a shop whose mean is 3 stars
    few = quality.quality_factors({**others, 1: (1, 5)}, prior_weight=10, low=0.85, high=1.15)
    many = quality.quality_factors({**others, 1: (60, 300)}, prior_weight=10, low=0.85,
                                   high=1.15)

    assert 1.0 < few[1] < 1.02
    assert many[1] > 1.11
    # One star, many times: down, never below the floor.
    worst = quality.quality_factors({**others, 1: (10_000, 10_000)}, prior_weight=10, low=0.85,
                                    high=1.15)
    assert 0.85 <= worst[1] < 0.86


def test_the_shops_mean_is_exactly_one_and_no_ratings_give_no_factors():
    factors = quality.quality_factors({1: (4, 12), 2: (2, 6)}, prior_weight=10, low=0.85,
                                      high=1.15)

    assert factors == {1: 1.0, 2: 1.0}
    assert quality.quality_factors({}, prior_weight=10, low=0.85, high=1.15) == {}


def test_bad_quality_settings_are_refused(settings):
    settings.PERSONALIZATION = {"QUALITY_FACTOR_MIN": 1.1}
    with pytest.raises(ImproperlyConfigured, match="QUALITY_FACTOR"):
        get_config()
    settings.PERSONALIZATION = {"QUALITY_PRIOR_WEIGHT": 0}
    with pytest.raises(ImproperlyConfigured, match="QUALITY_PRIOR_WEIGHT"):
        get_config()


def test_a_provider_cannot_hand_over_impossible_sums():
    quality.register_quality_provider("broken", lambda as_of: {1: (2, 11)})
    try:
        with pytest.raises(ValueError, match="cannot sum"):
            quality.quality_ratings(as_of=timezone.now())
    finally:
        quality.unregister_quality_provider("broken")


# --- Through the rebuild ------------------------------------------------------


def test_the_well_rated_lamp_ranks_above_the_equally_popular_badly_rated_one(shop):
    bad, good = shop["bad"].pk, shop["good"].pk
    before = affinities_rebuild(fit=False)
    assert _global(before)[bad] == _global(before)[good]  # equally popular
    assert _cold_order(shop) == [bad, good]  # the tie goes to the lower id

    _rate(shop, "good", 5)
    _rate(shop, "bad", 1)
    after = affinities_rebuild(fit=False)

    scores = _global(after)
    # Mean 3 stars; 12 ratings against a prior weight of 10: (30 + 60) / 22 = 4.09 stars,
    # 1 + 0.15 x 1.09 / 2 = 1.082 (and 0.918 for the one-star lamp).
    assert scores[good] / _global(before)[good] == pytest.approx(1.0818, abs=1e-3)
    assert scores[bad] / _global(before)[bad] == pytest.approx(0.9182, abs=1e-3)
    assert after.stats["quality"] == {"rated": 2, "ratings": 2 * RATERS}
    assert _cold_order(shop) == [good, bad]


def test_without_ratings_the_ranking_is_exactly_what_it_was_without_the_hook(shop):
    with_hook = affinities_rebuild(fit=False)
    with_hook_scores = {s.key: s.candidates for s in Segment.objects.filter(version=with_hook)}
    with_hook_order = _cold_order(shop)
    assert with_hook.stats["quality"] == {"rated": 0, "ratings": 0}

    provider = quality.unregister_quality_provider("reviews")
    try:
        without = affinities_rebuild(fit=False)
        without_scores = {s.key: s.candidates for s in Segment.objects.filter(version=without)}
        without_order = _cold_order(shop)
    finally:
        quality.register_quality_provider("reviews", provider)

    assert provider is not None
    assert with_hook_scores == without_scores
    assert with_hook_order == without_order


def test_hidden_reviews_do_not_count(shop):
    moderator = get_user_model().objects.create_user("moderator", password="x-Long-pass-12",
                                                     is_staff=True)
    good, bad = shop["good"].pk, shop["bad"].pk
    fives = _rate(shop, "good", 5)
    _rate(shop, "bad", 1)
    for review in fives[:RATERS - 2]:
        review_hide(review=review, actor=moderator, reason="Paid for")

    assert ProductRating.objects.get(pk=good).count == 2
    assert ratings_known_at(timezone.now()) == {good: (2, 10), bad: (RATERS, RATERS)}
    # A past cut-off (evaluate_ranking, the weight fit) counts reviews, not the
    # precomputed rating: the hidden ones are left out there too.
    Review.objects.update(created_at=timezone.now() - timedelta(days=2))
    assert ratings_known_at(timezone.now() - timedelta(days=1)) == {
        good: (2, 10), bad: (RATERS, RATERS)}

    version = affinities_rebuild(fit=False)
    assert version.stats["quality"] == {"rated": 2, "ratings": 2 + RATERS}
    shown = quality.quality_factors({good: (2, 10), bad: (RATERS, RATERS)}, prior_weight=10,
                                    low=0.85, high=1.15)
    scores = _global(version)
    # Equal popularity, so the ratio of the scores is the ratio of the factors.
    assert scores[good] / scores[bad] == pytest.approx(shown[good] / shown[bad], rel=1e-6)


def test_a_past_cut_off_sees_only_the_reviews_written_by_then(shop):
    _rate(shop, "good", 5)

    assert ratings_known_at(timezone.now() - timedelta(days=1)) == {}
    assert ratings_known_at(timezone.now())[shop["good"].pk] == (RATERS, 5 * RATERS)
