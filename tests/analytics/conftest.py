"""A small hand-built shop whose analytics figures are worked out by hand in the tests.

`now` is the refresh time. Seller A has four listings, seller B one; seven
shoppers (six allowed analytics) saw, clicked and bought; four orders were
placed, one cancelled and one outside the 28-day window. The numbers each
test expects are derived in that test's comments from what is built here.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from analytics.refresh import analytics_refresh
from catalog.models import Product, Region, Seller
from orders.models import LineStatus, Order, OrderLine, ReferralCredit
from personalization.models import Event, ShopperProfile
from tests.factories import ProductFactory, RegionFactory, SellerFactory, UserFactory

_keys = itertools.count(1)


@dataclass
class Shop:
    now: datetime
    seller_a: Seller
    seller_b: Seller
    a1: Product
    a2: Product
    a3: Product
    a4: Product
    b1: Product
    shoppers: dict[str, ShopperProfile]


def make_order(*, region: Region, placed_at: datetime, lines: list[tuple[Product, int, str]],
               shopper: ShopperProfile | None = None) -> Order:
    """Write an order as the checkout leaves it: the order and its seller-stamped lines."""
    n = next(_keys)
    order = Order.objects.create(
        shopper=shopper, idempotency_key=f"k{n}", request_fingerprint="f" * 64, name="Asha",
        phone="+919800000000", address="1 Road", region=region, currency="INR",
        total_minor=sum(p.price_minor * q for p, q, _s in lines), payment_method="cod",
        payment_status="pending_collection", placed_at=placed_at,
    )
    OrderLine.objects.bulk_create(
        OrderLine(order=order, seller_id=p.seller_id, product=p, title=p.title,
                  unit_price_minor=p.price_minor, quantity=q, currency=p.currency, status=s)
        for p, q, s in lines
    )
    return order


def events(product: Product, type: str, n: int, *, at: datetime, context: str = "feed",
           shopper: ShopperProfile | None = None) -> list[Event]:
    return [Event(product=product, type=type, context=context, created_at=at, shopper=shopper)
            for _ in range(n)]


@pytest.fixture
def k3(settings):
    """k = 3, so a hand-built data set can have cells on both sides of it."""
    settings.PERSONALIZATION = {"K_THRESHOLD": 3}


@pytest.fixture
def shop(db) -> Shop:
    now = timezone.now().replace(microsecond=0)
    india = RegionFactory(code="IN", name="India", kind=Region.Kind.COUNTRY)
    mh = RegionFactory(code="IN-MH", name="Maharashtra", kind=Region.Kind.STATE, parent=india)
    pune = RegionFactory(code="IN-MH-PUN", name="Pune", kind=Region.Kind.CITY, parent=mh)
    ka = RegionFactory(code="IN-KA", name="Karnataka", kind=Region.Kind.STATE, parent=india)
    dl = RegionFactory(code="IN-DL", name="Delhi", kind=Region.Kind.STATE, parent=india)

    seller_a = SellerFactory(display_name="Asha Textiles")
    seller_b = SellerFactory(display_name="Bina Crafts")
    # A is an old seller; B joined 10 days ago, so B counts as a new seller (< 30 days).
    Seller.objects.filter(pk=seller_a.pk).update(created_at=now - timedelta(days=365))
    Seller.objects.filter(pk=seller_b.pk).update(created_at=now - timedelta(days=10))

    old, new = now - timedelta(days=60), now - timedelta(days=5)
    a1 = ProductFactory(seller=seller_a, title="Kurta", price_minor=50000, stock=14)
    a2 = ProductFactory(seller=seller_a, title="Scarf", price_minor=20000, stock=0)
    a3 = ProductFactory(seller=seller_a, title="Shawl", price_minor=90000, stock=4)
    a4 = ProductFactory(seller=seller_a, title="Cap", price_minor=10000, stock=7)
    b1 = ProductFactory(seller=seller_b, title="=HYPERLINK(\"x\")", price_minor=30000, stock=3)
    Product.objects.filter(pk__in=[a1.pk, a2.pk, a4.pk, b1.pk]).update(created_at=old)
    Product.objects.filter(pk=a3.pk).update(created_at=new)

    seen = now - timedelta(days=10)
    spec = {  # name: (region, age band, gender, consent to analytics)
        "s1": (pune, "25-34", "f", True), "s2": (mh, "25-34", "f", True),
        "s3": (mh, "25-34", "f", True), "s4": (ka, "18-24", "m", True),
        "s5": (ka, "18-24", "m", True), "s6": (mh, "25-34", "f", False),
        "s7": (dl, "35-44", "f", True),
    }
    shoppers = {
        name: ShopperProfile.objects.create(region=r, age_band=a, gender=g,
                                            consent_analytics=c, first_seen_at=seen,
                                            last_seen_at=seen)
        for name, (r, a, g, c) in spec.items()
    }
    # s7 first came 200 days ago: outside the weekly cohorts, inside the region ones.
    ShopperProfile.objects.filter(pk=shoppers["s7"].pk).update(
        first_seen_at=now - timedelta(days=200))
    s = shoppers
    recent = now - timedelta(hours=2)
    rows = []
    # a1: 10 feed views (one per shopper, 4 anonymous), 3 clicks (s1 s2 s4), 2 carts (s1 s5).
    for name in ("s1", "s2", "s3", "s4", "s5", "s6"):
        rows += events(a1, "view", 1, at=recent, shopper=s[name])
    rows += events(a1, "view", 4, at=recent)
    for name in ("s1", "s2", "s4"):
        rows += events(a1, "click", 1, at=recent, shopper=s[name])
    for name in ("s1", "s5"):
        rows += events(a1, "cart", 1, at=recent, shopper=s[name])
    # s7 shared a1: engagement (a segment cell of one), but no funnel step.
    rows += events(a1, "share", 1, at=recent, shopper=s["s7"])
    # a1 seen 40 days ago: outside the window, counted nowhere.
    rows += events(a1, "view", 1, at=now - timedelta(days=40))
    # a2: 60 anonymous feed views, never clicked: a slow mover.
    rows += events(a2, "view", 60, at=recent)
    # a3 (a new listing): 2 feed views.
    rows += events(a3, "view", 2, at=recent)
    # b1 (a new seller's): 3 feed views, 5 search views, 1 search click.
    rows += events(b1, "view", 3, at=recent)
    rows += events(b1, "view", 5, at=recent, context="search")
    rows += events(b1, "click", 1, at=recent, context="search")
    # Purchases (orders as the lifecycle counts them: distinct timestamps):
    # s3 four orders, s1 two, s2 one; all of a1.
    for name, days in (("s3", (9, 8, 7, 6)), ("s1", (5, 4)), ("s2", (3,))):
        for d in days:
            rows += events(a1, "purchase", 1, at=now - timedelta(days=d), context="checkout",
                           shopper=s[name])
    Event.objects.bulk_create(rows)

    make_order(region=pune, placed_at=now - timedelta(days=2),
               lines=[(a1, 2, LineStatus.CONFIRMED), (b1, 1, LineStatus.CONFIRMED)])
    make_order(region=pune, placed_at=now - timedelta(days=3),
               lines=[(a1, 1, LineStatus.DELIVERED)])
    make_order(region=pune, placed_at=now - timedelta(days=1),
               lines=[(a1, 5, LineStatus.CANCELLED)])
    make_order(region=pune, placed_at=now - timedelta(days=40),
               lines=[(a1, 3, LineStatus.DELIVERED)])
    return Shop(now, seller_a, seller_b, a1, a2, a3, a4, b1, shoppers)


@pytest.fixture
def staff_user(db):
    user = UserFactory(username="analyst", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_snapshot",
                                                     content_type__app_label="analytics"))
    return user


@pytest.fixture
def referred_shop(k3):
    """Seller A: Kurta 5 referred orders by 4 buyers, Scarf 1, Shawl 2 (both < k),
    Cap none that count; another seller's listing 5. Refreshed."""
    now = timezone.now().replace(microsecond=0)
    pune = RegionFactory(code="IN", name="India", kind=Region.Kind.COUNTRY)
    seller, other = SellerFactory(display_name="Asha Textiles"), SellerFactory()
    kurta = ProductFactory(seller=seller, title="Kurta")
    scarf = ProductFactory(seller=seller, title="Scarf")
    shawl = ProductFactory(seller=seller, title="Shawl")
    cap = ProductFactory(seller=seller, title="Cap")
    theirs = ProductFactory(seller=other, title="Theirs")
    sharer = ShopperProfile.objects.create()

    def referred_order(product, *, days=1, status=LineStatus.CONFIRMED, quantity=1, buyer=None):
        buyer = buyer or ShopperProfile.objects.create()
        order = make_order(region=pune, placed_at=now - timedelta(days=days), shopper=buyer,
                           lines=[(product, quantity, status)])
        ReferralCredit.objects.create(order=order, referrer=sharer, referred=buyer,
                                      arrived_at=order.placed_at - timedelta(hours=1))
        return buyer

    # Kurta: 4 referred buyers, one of whom ordered twice (5 orders), and one
    # order nobody referred (counted in orders, not here).
    buyers = [referred_order(kurta) for _ in range(4)]
    referred_order(kurta, buyer=buyers[0], days=2)
    make_order(region=pune, placed_at=now - timedelta(days=1),
               lines=[(kurta, 1, LineStatus.CONFIRMED)])
    # Scarf: one referred buyer; Shawl: two. Both under k.
    referred_order(scarf)
    referred_order(shawl)
    referred_order(shawl)
    # Cap: a referred order outside the 28-day window and a cancelled one: none counts.
    referred_order(cap, days=40)
    referred_order(cap, status=LineStatus.CANCELLED)
    # Another seller's listing, with plenty of referred buyers.
    for _ in range(5):
        referred_order(theirs)
    analytics_refresh(now=now)
    return seller, other
