"""Item quality providers: signals of a product's quality that the rebuild folds in.

Ratings live in reviews/, which sits above orders (a review needs a delivered
line) and so far above this app: personalization must not import it. Instead
an app registers, in its AppConfig.ready(), a provider that returns the
ratings known at a time:

    from personalization import quality
    quality.register_quality_provider("reviews", lambda as_of: {product_id: (count, total)})

`rebuild_affinities` asks the providers once per build (never on the request
path) and turns the ratings into one bounded multiplier per product
(`quality_factors`), applied to the segment popularity it precomputes
(personalization/lattice.py). A product nobody rated gets exactly 1.0, and with
no provider or no ratings at all the rebuild runs exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

# (count, total) of a product's ratings: the sum, so that two providers add up
# exactly and the average is one division.
Ratings = Mapping[int, tuple[int, int]]
QualityProvider = Callable[[datetime], Ratings]

# The rating scale every provider uses (the reviews app's 1..5 stars).
SCALE_MIN, SCALE_MAX = 1, 5

_providers: dict[str, QualityProvider] = {}


def register_quality_provider(name: str, fn: QualityProvider) -> None:
    """Add `fn(as_of)`, returning {product_id: (count, total)} of the ratings known at `as_of`.

    By name: a second ready() (tests) replaces rather than duplicates.
    """
    _providers[name] = fn


def unregister_quality_provider(name: str) -> QualityProvider | None:
    """Remove the provider registered under `name` and return it (None if there was none)."""
    return _providers.pop(name, None)


def quality_ratings(*, as_of: datetime) -> dict[int, tuple[int, int]]:
    """Return every provider's ratings known at `as_of`, summed per product (rated ones only)."""
    merged: dict[int, tuple[int, int]] = {}
    for fn in _providers.values():
        for product_id, (count, total) in fn(as_of).items():
            if count <= 0:
                continue
            if not count * SCALE_MIN <= total <= count * SCALE_MAX:
                raise ValueError(f"product {product_id}: {count} ratings cannot sum to {total}")
            old_count, old_total = merged.get(product_id, (0, 0))
            merged[int(product_id)] = (old_count + count, old_total + total)
    return merged


def quality_factors(ratings: Ratings, *, prior_weight: float, low: float,
                    high: float) -> dict[int, float]:
    """Return a multiplier in [low, high] per rated product (unrated ones: 1.0, not listed).

    The product's Bayesian average shrinks its ratings toward the shop's mean
    with `prior_weight` pseudo-ratings: (m*mean + total) / (m + count). Three
    five-star ratings say little and move a product little; fifty say much.
    The average is then mapped linearly, on each side of the shop's mean, to
    the factor: the mean (and so no ratings) is 1.0, five stars `high`, one
    star `low`. Bounded, so quality reorders items of similar popularity but
    never lifts a barely-bought item over the best sellers.
    """
    count_all = sum(count for count, _total in ratings.values())
    if not count_all:
        return {}
    mean = sum(total for _count, total in ratings.values()) / count_all
    factors = {}
    for product_id, (count, total) in ratings.items():
        average = (prior_weight * mean + total) / (prior_weight + count)
        if average > mean:
            factor = 1.0 + (high - 1.0) * (average - mean) / (SCALE_MAX - mean)
        elif average < mean:
            factor = 1.0 - (1.0 - low) * (mean - average) / (mean - SCALE_MIN)
        else:
            factor = 1.0
        factors[product_id] = min(max(factor, low), high)
    return factors
