"""Reads for carts and orders. Each function plans its own queries up front."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Value
from django.db.models.lookups import StartsWith

from catalog.markets import Market, sold_in_q
from catalog.models import Product, Region
from catalog.services import actor_sees_all, actor_seller

from .models import CartLine, Order, OrderLine


@dataclass(frozen=True)
class CartLineView:
    id: int
    product_id: int
    title: str
    url: str
    quantity: int
    unit_price_minor: int  # what checkout would charge now
    unit_price_seen_minor: int  # what the shopper saw when adding
    currency: str
    stock: int
    available: bool  # still listed (active)
    # Against the shopper's market (catalog.markets); True when there is none.
    currency_ok: bool = True  # priced in the currency paid where they are
    deliverable: bool = True  # sold in their region

    @property
    def sold_here(self) -> bool:
        return self.currency_ok and self.deliverable

    @property
    def price_changed(self) -> bool:
        return self.unit_price_minor != self.unit_price_seen_minor

    @property
    def line_total_minor(self) -> int:
        return self.unit_price_minor * self.quantity

    @property
    def enough_stock(self) -> bool:
        return self.available and self.stock >= self.quantity


@dataclass(frozen=True)
class CartView:
    lines: list[CartLineView] = field(default_factory=list)
    # Where the lines were checked against (None: not checked).
    market: Market | None = None

    @property
    def is_empty(self) -> bool:
        return not self.lines

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def currencies(self) -> set[str]:
        return {line.currency for line in self.lines}

    @property
    def currency(self) -> str | None:
        """Return the cart's one currency, or None when empty or mixed."""
        currencies = self.currencies
        return next(iter(currencies)) if len(currencies) == 1 else None

    @property
    def total_minor(self) -> int:
        return sum(line.line_total_minor for line in self.lines)

    @property
    def price_changed(self) -> bool:
        return any(line.price_changed for line in self.lines)

    @property
    def signature(self) -> str:
        return cart_signature(self.lines)

    @property
    def can_check_out(self) -> bool:
        return (
            bool(self.lines)
            and self.currency is not None
            and all(line.enough_stock and line.sold_here for line in self.lines)
        )


def cart_signature(lines) -> str:
    """Return a short hash of what would be bought and at which prices.

    Checkout carries the signature of the cart it showed; if the cart or a
    price moved before the order is placed, the signatures differ and the
    shopper is shown the new figures instead of being charged them unseen.
    """
    canonical = ";".join(
        f"{line.product_id}:{line.quantity}:{line.unit_price_minor}:{line.currency}"
        for line in sorted(lines, key=lambda line: line.product_id)
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _line_view(line: CartLine, market: Market | None = None) -> CartLineView:
    product = line.product
    return CartLineView(
        id=line.pk,
        product_id=product.pk,
        # In the shopper's language when the seller translated it (the order
        # line keeps the original: that is what the seller reads).
        title=product.local_title,
        url=product.get_absolute_url(),
        quantity=line.quantity,
        unit_price_minor=product.price_minor,
        unit_price_seen_minor=line.unit_price_minor_seen,
        currency=product.currency,
        stock=product.stock,
        available=product.status == Product.Status.ACTIVE,
        currency_ok=market is None or not market.currency or product.currency == market.currency,
        deliverable=getattr(line, "sold_in_market", True),
    )


def cart_get(*, shopper, market: Market | None = None) -> CartView:
    """Return the shopper's cart with current prices and stock (one query; none made if absent).

    With `market`, each line also says whether it can be bought there (its
    currency, and whether it is sold in that region: an EXISTS in the same
    query), so the cart marks the lines that keep it from checking out.
    """
    lines = (
        CartLine.objects.filter(cart__shopper=shopper)
        .select_related("product")
        .only(
            "id", "quantity", "unit_price_minor_seen", "added_at", "product__id",
            "product__title", "product__title_hi", "product__title_ar", "product__price_minor",
            "product__currency", "product__stock", "product__status",
        )
        .order_by("added_at", "id")
    )
    if market is not None:
        lines = lines.annotate(sold_in_market=Exists(
            Product.objects.filter(pk=OuterRef("product_id")).filter(sold_in_q(market.codes))))
    return CartView(lines=[_line_view(line, market) for line in lines], market=market)


def delivery_regions_for_cart(*, shopper, regions: QuerySet[Region]) -> QuerySet[Region]:
    """Return those of `regions` the shopper's whole cart can be delivered to.

    A region is kept when no line of the cart is priced in another currency
    (cash is paid in the local one; a region without a currency takes any)
    or sold only in regions that are not it nor above it. Still one query:
    two NOT EXISTS over the cart's lines, whatever the number of lines.
    """
    cart_lines = CartLine.objects.filter(cart__shopper=shopper)
    through = Product.regions.through
    listed_somewhere = Exists(through.objects.filter(product_id=OuterRef("product_id")))
    # A product region that is this region or one above it: a prefix of its path.
    listed_here = Exists(through.objects.filter(product_id=OuterRef("product_id")).filter(
        StartsWith(OuterRef(OuterRef("path")), F("region__path"))))
    other_currency = cart_lines.exclude(product__currency=OuterRef("currency"))
    not_sold_here = cart_lines.filter(listed_somewhere).exclude(listed_here)
    return (regions
            .exclude(Q(Exists(other_currency)) & ~Q(currency=Value("")))
            .exclude(Exists(not_sold_here)))


def _orders_with_lines() -> QuerySet[Order]:
    return Order.objects.select_related("region").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
    )


def order_get_for_shopper(*, shopper, public_id: str) -> Order:
    """Return the shopper's own order with its lines; raise Order.DoesNotExist otherwise."""
    return _orders_with_lines().get(shopper=shopper, public_id=public_id)


def orders_for_shopper(*, shopper) -> QuerySet[Order]:
    """Return the shopper's orders, newest first, lines prefetched."""
    return _orders_with_lines().filter(shopper=shopper).order_by("-placed_at", "-id")


def order_lines_for_actor(actor) -> QuerySet[OrderLine]:
    """Return the order lines `actor` may see: all for staff, their own for a seller, else none."""
    if actor_sees_all(actor):
        return OrderLine.objects.all()
    seller = actor_seller(actor)
    if seller is None:
        return OrderLine.objects.none()
    return OrderLine.objects.filter(seller=seller)
