"""Demo shoppers and events for `seed_demo`: noisy, overlapping tastes.

The ranking is only worth evaluating on data where the signals it uses are
real but partial, so the generator plants each of them with noise:

- Each shopper has a latent mixture over the leaf categories: part segment
  prior (region, age band, gender each shift it), part personal taste drawn at
  random. Demographics predict taste, but do not determine it.
- Within a category, each shopper leans to one of a few "styles" of product,
  and keeps a handful of favourites they come back to: co-occurrence and
  personal history carry signal beyond the category.
- Local sellers sell more in their own region; a share of sessions is plain
  popularity-driven browsing (trending items, whatever the taste).
- A funnel: views >> clicks >> carts > purchases; shares and "not
  interested" sprinkled in (hides fall on items outside the shopper's taste).
- Timestamps spread over the last ~90 days, so a temporal hold-out makes
  sense; some shoppers reach 4+ orders early (habit), some stop visiting
  more than 30 days ago (dormant).
- Profiles have empty fields (skipped onboarding questions), but the latent
  region/age/gender still shape their tastes, as in life.

Tuned against `evaluate_ranking` on the default demo (2000 shoppers, 60k
events; see docs/ARCHITECTURE.md): the full ranker beats global popularity
modestly for cold shoppers (segment signal only) and by about half again in
NDCG@10 for warm ones, while NDCG@10 stays near 0.1: a real, unsolved task.

Deterministic for a seed; idempotent (demo shoppers are "demo-s<n>"; those
that exist, and those that already have events, are left alone).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from django.db import transaction
from django.utils import timezone

from catalog.models import Product, Region

from .conf import get_config
from .importers import datetime_adapter, events_insert_rows
from .lifecycle import lifecycle_stage_for
from .models import EventContext, EventType, ShopperProfile

DEMO_SHOPPER_PREFIX = "demo-s"
HISTORY_DAYS = 90
STYLES = 3

# How regions, ages and genders lean, by leaf-category slug (1.0 = no lean).
# Unknown categories (a non-demo catalog) simply get no lean.
REGION_LEAN: dict[str, dict[str, float]] = {
    "IN-MH": {"sarees": 2.2, "kurtas": 1.6, "cases": 1.3},
    "IN-UP": {"kurtas": 2.5, "spices": 2.0, "sarees": 1.5},
    "IN-DL": {"chargers": 2.0, "cookware": 1.8, "cases": 1.4},
    "IN-KA": {"cases": 1.8, "toys": 2.0, "storage": 1.5},
    "AE": {"cases": 2.0, "skincare": 2.2, "chargers": 1.5},
    "NP": {"spices": 2.2, "cookware": 1.8, "toys": 1.3},
}
AGE_LEAN: dict[str, dict[str, float]] = {
    "13-17": {"cases": 2.5, "skincare": 1.6, "chargers": 1.4},
    "18-24": {"cases": 2.0, "chargers": 1.8, "kurtas": 1.5, "skincare": 1.5},
    "25-34": {"kurtas": 1.6, "toys": 2.0, "storage": 1.4, "skincare": 1.3},
    "35-44": {"cookware": 2.0, "storage": 1.8, "toys": 1.8, "spices": 1.3},
    "45-54": {"sarees": 1.8, "spices": 1.8, "cookware": 1.6},
    "55+": {"spices": 2.2, "sarees": 1.8, "storage": 1.5},
}
GENDER_LEAN: dict[str, dict[str, float]] = {
    "f": {"kurtas": 2.0, "sarees": 2.5, "skincare": 2.0},
    "m": {"cases": 1.8, "chargers": 2.2, "cookware": 1.1},
    "x": {"skincare": 1.3, "cases": 1.2},
}
AGE_WEIGHTS = {"13-17": 4, "18-24": 24, "25-34": 32, "35-44": 20, "45-54": 12, "55+": 8}
LANGUAGE_OF_COUNTRY = {"IN": "hi", "AE": "ar", "NP": "en"}


@dataclass
class _Shopper:
    index: int
    region: Region | None  # the real one; the profile may leave it empty
    age_band: str
    gender: str
    taste: list[float]  # over leaf categories, sums to 1
    styles: dict[int, int]  # category pk -> preferred style
    habit: bool
    dormant: bool


def _pick(rng: random.Random, weights: dict[Any, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _lean(table: dict[str, dict[str, float]], key: str | None, slug: str) -> float:
    return table.get(key or "", {}).get(slug, 1.0)


def _latent_shopper(index: int, *, seed: int, cities: list[Region], leaves: list[tuple[int, str]]
                    ) -> _Shopper:
    rng = random.Random(f"{seed}:shopper:{index}")
    region = rng.choice(cities) if cities else None
    codes = region.ancestor_codes() if region else []
    age_band = _pick(rng, AGE_WEIGHTS)
    gender = _pick(rng, {"f": 48, "m": 48, "x": 4})
    prior = []
    for _pk, slug in leaves:
        lean = _lean(AGE_LEAN, age_band, slug) * _lean(GENDER_LEAN, gender, slug)
        for code in codes:
            lean *= _lean(REGION_LEAN, code, slug)
        # Squared: several mild leans multiplied and then diluted by personal
        # taste and popularity browsing would otherwise leave segments nearly
        # indistinguishable, which is not what shops see.
        prior.append(lean ** 2)
    total = sum(prior)
    # Personal taste: a sparse Dirichlet draw, so each shopper has one to three
    # passions of their own that their segment does not explain.
    personal = [rng.gammavariate(0.35, 1.0) for _ in leaves]
    personal_total = sum(personal) or 1.0
    share = rng.uniform(0.45, 0.75)  # how much the segment explains this shopper
    taste = [share * p / total + (1 - share) * q / personal_total
             for p, q in zip(prior, personal, strict=True)]
    return _Shopper(
        index=index, region=region, age_band=age_band, gender=gender, taste=taste,
        styles={pk: rng.randrange(STYLES) for pk, _slug in leaves},
        habit=rng.random() < 0.12,
        dormant=rng.random() < 0.15,
    )


@dataclass(frozen=True)
class _Item:
    pk: int
    category_id: int
    style: int
    popularity: float
    seller_region: str | None
    regions: tuple[str, ...]


def _catalog(seed: int) -> tuple[list[_Item], list[tuple[int, str]]]:
    products = list(
        Product.objects.published().order_by("pk")
        .values_list("pk", "category_id", "category__slug", "seller__region__path",
                     "external_id")
    )
    sold_in: dict[int, list[str]] = defaultdict(list)
    for product_id, code in Product.regions.through.objects.filter(
        product__status=Product.Status.ACTIVE
    ).values_list("product_id", "region__code"):
        sold_in[product_id].append(code)
    items, leaves = [], {}
    for pk, category_id, slug, seller_path, external_id in products:
        # By external id where there is one: the same demo catalog then gets
        # the same popularity on any database, whatever its primary keys.
        rng = random.Random(f"{seed}:product:{external_id or pk}")
        leaves[category_id] = slug
        items.append(_Item(
            pk=pk, category_id=category_id, style=rng.randrange(STYLES),
            # Some hits and a tail, but no runaway winners: with a heavier
            # tail "most popular" alone would predict nearly every click and
            # the demo would hide what personalisation adds.
            popularity=rng.lognormvariate(0.0, 0.6),
            seller_region=seller_path, regions=tuple(sold_in.get(pk, ())),
        ))
    return items, sorted(leaves.items())


class _Shelf:
    """What shoppers of one region can buy, with cumulative weights ready for sampling.

    Shared by every shopper of the region, so generating 100k shoppers does
    not recompute weights over the whole catalog for each.
    """

    def __init__(self, items: list[_Item], region: Region | None) -> None:
        codes = set(region.ancestor_codes()) if region else set()
        self.local = region.path if region else None
        self.visible = [item for item in items
                        if not item.regions or not codes or codes.intersection(item.regions)]
        # Trending browsing leans to the hits harder than taste-led browsing.
        self.popular_cum = list(accumulate(item.popularity ** 1.5 for item in self.visible))
        self.by_category: dict[int, list[_Item]] = defaultdict(list)
        for item in self.visible:
            self.by_category[item.category_id].append(item)
        self._cum: dict[tuple[int, int], list[float]] = {}

    def appeal_cum(self, category: int, style: int) -> list[float]:
        """Return cumulative weights of the category's items for a shopper liking `style`."""
        key = (category, style)
        if key not in self._cum:
            self._cum[key] = list(accumulate(
                item.popularity
                * (6.0 if item.style == style else 1.0)
                # The shop around the corner sells more.
                * (2.0 if self.local and item.seller_region
                   and self.local.startswith(item.seller_region) else 1.0)
                for item in self.by_category[category]
            ))
        return self._cum[key]


def _profile(shopper: _Shopper, rng: random.Random) -> ShopperProfile:
    """Return the profile as the shopper filled it in: some questions skipped."""
    country = shopper.region.ancestor_codes()[0] if shopper.region else None
    language = LANGUAGE_OF_COUNTRY.get(country or "", "en") if rng.random() < 0.7 else "en"
    return ShopperProfile(
        external_id=f"{DEMO_SHOPPER_PREFIX}{shopper.index:06d}",
        region=shopper.region if rng.random() < 0.85 else None,
        age_band=shopper.age_band if rng.random() < 0.8 else "",
        gender=shopper.gender if rng.random() < 0.85 else "",
        language=language if rng.random() < 0.7 else "",
        # Every tenth demo shopper opted into analytics; nobody opted out of
        # personalisation, or the demo feed would have little to show.
        consent_analytics=rng.random() < 0.1,
        first_seen_at=None, last_seen_at=None,
    )


class _EventWriter:
    """Buffers event rows and writes them in bulk."""

    def __init__(self, batch_size: int) -> None:
        self.rows: list[tuple] = []
        self.batch_size = batch_size
        self.adapt = datetime_adapter()
        self.written = 0

    def add(self, shopper_id: int, product_id: int, type: str, context: str, at: datetime
            ) -> None:
        self.rows.append((shopper_id, product_id, type, context, self.adapt(at), None))
        if len(self.rows) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            events_insert_rows(self.rows)
            self.written += len(self.rows)
            self.rows.clear()


def _shopper_events(shopper: _Shopper, budget: int, *, shelf: _Shelf,
                    leaves: list[tuple[int, str]], seed: int, now: datetime
                    ) -> list[tuple[int, str, str, datetime]]:
    """Return (product, type, context, at) events of one shopper, `budget` of them."""
    rng = random.Random(f"{seed}:events:{shopper.index}")
    if not shelf.visible or budget <= 0:
        return []
    by_category = shelf.by_category
    cum = {cat: shelf.appeal_cum(cat, shopper.styles[cat]) for cat in by_category}
    favourites = {
        cat: rng.choices(group, cum_weights=cum[cat], k=min(3, len(group)))
        for cat, group in by_category.items()
    }
    leaf_taste = {pk: shopper.taste[i] for i, (pk, _slug) in enumerate(leaves)}
    categories = [pk for pk, _slug in leaves if pk in by_category]
    taste_cum = list(accumulate(leaf_taste[pk] for pk in categories))

    # Active span: dormant shoppers stopped 31-75 days ago; habit shoppers came
    # early enough for four orders inside the 120-day window.
    # An hour of margin: a session's later events must not land in the future.
    end = now - timedelta(days=rng.uniform(31, 75) if shopper.dormant else 1 / 24)
    span_days = rng.uniform(20, HISTORY_DAYS) if not shopper.habit else rng.uniform(45, 85)
    start = min(end - timedelta(days=1), now - timedelta(days=span_days))
    # Habit shoppers know what they want: they add to cart and buy more often.
    cart_rate, buy_rate = (0.55, 0.9) if shopper.habit else (0.3, 0.18)

    events: list[tuple[int, str, str, datetime]] = []
    # Sessions at random moments of the active span until the budget is spent
    # (the order of rows in the table does not matter, their timestamps do).
    while len(events) < budget:
        moment = start + (end - start) * rng.random()
        cart: list[_Item] = []
        for step in range(rng.randint(3, 9)):
            at = moment + timedelta(seconds=40 * step + rng.randint(0, 30))
            on_taste = True
            if rng.random() < 0.15:
                on_taste = False
                # Popularity-driven browsing: trending items, whatever the taste.
                item = rng.choices(shelf.visible, cum_weights=shelf.popular_cum)[0]
                context = EventContext.FEED
                if rng.random() < 0.12 and leaf_taste[item.category_id] < 0.08:
                    events.append((item.pk, EventType.HIDE, EventContext.FEED, at))
                    continue
            else:
                category = rng.choices(categories, cum_weights=taste_cum)[0]
                if rng.random() < 0.4:
                    item = rng.choice(favourites[category])
                else:
                    item = rng.choices(by_category[category], cum_weights=cum[category])[0]
                context = rng.choice(("feed", "feed", "category", "search"))
            events.append((item.pk, EventType.VIEW, context, at))
            # A view is often just scrolling past; a tap says more: shoppers
            # tap what fits their taste (category and style) far more often.
            fits = on_taste and item.style == shopper.styles.get(item.category_id)
            if rng.random() < (0.4 if fits else 0.22 if on_taste else 0.1):
                events.append((item.pk, EventType.CLICK, context, at + timedelta(seconds=5)))
                if rng.random() < 0.06:
                    events.append((item.pk, EventType.SHARE, EventContext.PRODUCT,
                                   at + timedelta(seconds=20)))
                if rng.random() < cart_rate:
                    events.append((item.pk, EventType.CART, EventContext.PRODUCT,
                                   at + timedelta(seconds=25)))
                    cart.append(item)
        if cart and rng.random() < buy_rate * (1 + len(cart)) / 2:
            # One order: every line at the same instant (see lifecycle.py).
            placed = moment + timedelta(minutes=10)
            for item in dict.fromkeys(cart):
                if rng.random() < 0.8:
                    events.append((item.pk, EventType.PURCHASE, EventContext.CHECKOUT, placed))
    return events[:budget]


def _budgets(shoppers: list[_Shopper], total_events: int, seed: int) -> list[int]:
    """Split `total_events` over the shoppers by their activity (largest remainder)."""
    count = len(shoppers)
    # Habit shoppers come back often: more sessions, hence more events.
    activity = [random.Random(f"{seed}:shopper:{s.index}:activity").lognormvariate(0.0, 0.9)
                * (3.0 if s.habit else 1.0) for s in shoppers]
    scale = total_events / (sum(activity) or 1.0)
    shares = [a * scale for a in activity]
    budgets = [math.floor(s) for s in shares]
    order = sorted(range(count), key=lambda i: shares[i] - budgets[i], reverse=True)
    for i in order[: total_events - sum(budgets)]:
        budgets[i] += 1
    return budgets


def seed_shoppers_and_events(*, shoppers: int, events: int, seed: int, stdout: Any = None,
                             now: datetime | None = None) -> tuple[int, int]:
    """Create the missing demo shoppers with their events; return (shoppers, events) new.

    Demo shoppers that exist are left alone (with their events), so a second
    call creates nothing. Shoppers are made a chunk at a time: their events are
    generated first, so each profile is created with its first/last visit,
    order count and lifecycle stage already right, and nothing is updated later.
    """
    now = now or timezone.now()
    config = get_config()
    batch_size = config["IMPORT_BATCH_SIZE"]
    cities = list(Region.objects.filter(kind=Region.Kind.CITY).order_by("code"))
    items, leaves = _catalog(seed)
    if not items and events:
        _say(stdout, "events: none, the catalog has no active products yet")
    created = written = 0
    with transaction.atomic():
        existing = set(
            ShopperProfile.objects.filter(external_id__startswith=DEMO_SHOPPER_PREFIX)
            .values_list("external_id", flat=True)
        )
        latent = [_latent_shopper(i, seed=seed, cities=cities, leaves=leaves)
                  for i in range(shoppers)]
        budgets = _budgets(latent, events, seed)
        shelves: dict[int | None, _Shelf] = {}
        writer = _EventWriter(batch_size)
        chunk: list[tuple[ShopperProfile, list[tuple]]] = []
        for shopper, budget in zip(latent, budgets, strict=True):
            profile = _profile(shopper, random.Random(f"{seed}:profile:{shopper.index}"))
            if profile.external_id in existing:
                continue
            region_key = shopper.region.pk if shopper.region else None
            if region_key not in shelves:
                shelves[region_key] = _Shelf(items, shopper.region)
            rows = _shopper_events(shopper, budget, shelf=shelves[region_key], leaves=leaves,
                                   seed=seed, now=now) if items else []
            _fill_history(profile, rows, now, config)
            chunk.append((profile, rows))
            if len(chunk) >= 2000:
                created += _write_chunk(chunk, writer, batch_size)
                if created % 20000 == 0:
                    _say(stdout, f"shoppers: {created} so far")
        created += _write_chunk(chunk, writer, batch_size)
        writer.flush()
        written = writer.written
    _say(stdout, f"shoppers: {shoppers} ({created} new)")
    _say(stdout, f"events: {written} new")
    return created, written


def _fill_history(profile: ShopperProfile, rows: list[tuple], now: datetime, config: dict
                  ) -> None:
    """Set visits, orders and stage on an unsaved profile from its generated events."""
    if not rows:
        return
    moments = [row[3] for row in rows]
    profile.first_seen_at, profile.last_seen_at = min(moments), max(moments)
    orders = sorted({row[3] for row in rows if row[1] == EventType.PURCHASE})
    window_end = profile.first_seen_at + timedelta(days=config["HABIT_WINDOW_DAYS"])
    profile.orders_count = len(orders)
    profile.first_order_at = orders[0] if orders else None
    profile.lifecycle_stage = lifecycle_stage_for(
        orders_count=len(orders),
        window_orders=sum(1 for at in orders if at <= window_end),
        last_seen_at=profile.last_seen_at, now=now,
        habit_orders=config["HABIT_ORDERS"], dormant_after_days=config["DORMANT_AFTER_DAYS"],
    )


def _write_chunk(chunk: list[tuple[ShopperProfile, list[tuple]]], writer: _EventWriter,
                 batch_size: int) -> int:
    """Insert the chunk's profiles (getting their pks back), then their events."""
    if not chunk:
        return 0
    profiles = [profile for profile, _rows in chunk]
    ShopperProfile.objects.bulk_create(profiles, batch_size=batch_size)
    if any(profile.pk is None for profile in profiles):
        # Backends that cannot return ids from a bulk INSERT: read them back.
        ids = dict(ShopperProfile.objects.filter(
            external_id__in=[p.external_id for p in profiles]).values_list("external_id", "pk"))
        for profile in profiles:
            profile.pk = ids[profile.external_id]
    for profile, rows in chunk:
        for product_id, type, context, at in rows:
            writer.add(profile.pk, product_id, type, context, at)
    chunk.clear()
    return len(profiles)


def _say(stdout: Any, message: str) -> None:
    if stdout is not None:
        stdout.write(message + "\n")

