"""A small shop in three markets, shared by the region assortment tests.

India (INR, Hindi) with Maharashtra > Pune, the UAE (AED, Arabic) with Dubai,
Nepal (NPR). Every listing is a saree in one category, so the feed, search
("saree"), the category page and "more like this" could each show all of them;
only the market rule (sold there, priced in its currency) tells them apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from catalog.models import Category, Product, Region
from tests.factories import CategoryFactory, RegionFactory, SellerFactory, make_products


@dataclass
class World:
    regions: dict[str, Region]
    category: Category
    products: dict[str, list[Product]] = field(default_factory=dict)

    def ids(self, *groups: str) -> set[int]:
        return {p.pk for group in groups for p in self.products[group]}

    @property
    def all_ids(self) -> set[int]:
        return self.ids(*self.products)


# What each market may show (group names of World.products).
INDIA = ("inr_everywhere", "inr_india", "inr_pune")
INDIA_OUTSIDE_PUNE = ("inr_everywhere", "inr_india")
UAE = ("aed_uae", "aed_everywhere")


def make_world() -> World:
    india = RegionFactory(code="IN", name="India", currency="INR", language="hi")
    mh = RegionFactory(code="IN-MH", name="Maharashtra", kind=Region.Kind.STATE, parent=india,
                       currency="", language="")
    pune = RegionFactory(code="IN-MH-PUN", name="Pune", kind=Region.Kind.CITY, parent=mh,
                         currency="", language="")
    uae = RegionFactory(code="AE", name="United Arab Emirates", currency="AED", language="ar")
    dubai = RegionFactory(code="AE-DU", name="Dubai", kind=Region.Kind.STATE, parent=uae,
                          currency="", language="")
    nepal = RegionFactory(code="NP", name="Nepal", currency="NPR", language="en")
    regions = {r.code: r for r in (india, mh, pune, uae, dubai, nepal)}
    category = CategoryFactory(slug="sarees", name="Sarees")
    sellers = SellerFactory.create_batch(3)
    world = World(regions=regions, category=category)

    def listing(group: str, n: int, *, currency: str, sold_in=(), price: int = 49900):
        world.products[group] = make_products(
            n, title=f"Silk saree {group}", currency=currency, price_minor=price,
            compare_at_minor=None, regions=[regions[c] for c in sold_in],
            sellers=sellers, categories=[category])

    # Rupees, sold "everywhere": still not payable at a door in Dubai.
    listing("inr_everywhere", 4, currency="INR")
    listing("inr_india", 2, currency="INR", sold_in=("IN",))
    listing("inr_pune", 2, currency="INR", sold_in=("IN-MH-PUN",))
    listing("aed_uae", 3, currency="AED", sold_in=("AE",), price=2500)
    listing("aed_everywhere", 1, currency="AED", price=3000)
    listing("npr_nepal", 2, currency="NPR", sold_in=("NP",), price=79000)
    # A seller's mistake the rule must catch: rupees, but listed for Dubai.
    listing("inr_dubai", 1, currency="INR", sold_in=("AE-DU",))
    return world
