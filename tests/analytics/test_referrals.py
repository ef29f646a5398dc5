"""Orders by referral per listing, for sellers, under k-suppression (k = 3 here)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from analytics.models import ListingStat
from analytics.refresh import analytics_refresh
from analytics.selectors import seller_referrals_get, snapshot_active_get
from tests.factories import ProductFactory, SellerFactory

from .test_admin import read_csv

pytestmark = pytest.mark.django_db

LISTINGS = reverse("admin:analytics_snapshot_changelist")
EXPORT = reverse("admin:analytics_snapshot_export", kwargs={"table": "referrals"})


def test_orders_by_referral_are_counted_per_listing_and_small_ones_hidden(referred_shop):
    seller, _other = referred_shop
    rows = seller_referrals_get(snapshot=snapshot_active_get(), seller_id=seller.pk)
    shown = {r.title: (r.orders, r.shoppers) for r in rows if not r.suppressed}
    hidden = {r.title for r in rows if r.suppressed}
    assert shown == {"Kurta": (5, 4)}
    # Scarf (1) and Shawl (2) add up to 3 = k: no need to hide Kurta with them.
    assert hidden == {"Scarf", "Shawl"}
    assert all(r.orders is None and r.shoppers is None for r in rows if r.suppressed)


def test_a_lone_small_listing_hides_the_smallest_shown_one_too(referred_shop):
    seller, _other = referred_shop
    # Without Shawl, Kurta's count minus a seller-wide figure could give Scarf's
    # lone buyer away: both are hidden (complementary suppression).
    snapshot = snapshot_active_get()
    ListingStat.objects.filter(snapshot=snapshot, title="Shawl").update(referred_orders=0)
    rows = seller_referrals_get(snapshot=snapshot, seller_id=seller.pk)
    assert [(r.title, r.suppressed) for r in rows] == [("Kurta", True), ("Scarf", True)]


def test_the_seller_page_and_export_show_only_what_k_allows(client, referred_shop):
    seller, other = referred_shop
    client.force_login(seller.user)
    page = client.get(LISTINGS).content.decode()
    section = page.split('id="an-referrals"', 1)[1].split("</section>", 1)[0]
    assert "Orders by referral" in page
    assert "<th scope=\"row\">Kurta</th><td>5</td><td>4</td>" in section
    assert section.count("too few to show") == 2 and "Theirs" not in section
    assert read_csv(client.get(EXPORT)) == [
        ["product_id", "title", "orders_by_referral", "referred_buyers"],
        [str(seller.products.get(title="Kurta").pk), "Kurta", "5", "4"],
    ]
    # Another seller's figures stay theirs.
    assert client.get(f"{EXPORT}?seller={other.pk}").status_code == 403


def test_a_seller_without_referrals_is_told_so(client, referred_shop):
    lonely = SellerFactory()
    ProductFactory(seller=lonely)
    analytics_refresh()
    client.force_login(lonely.user)
    page = client.get(LISTINGS).content.decode()
    assert "No orders by referral in this window yet." in page


@pytest.fixture
def back_to_english():
    """The locale middleware leaves the last request's language active in this
    thread; code run later without a request (a refresh) would render in it."""
    yield
    translation.deactivate()


def test_the_section_is_translated(client, back_to_english, referred_shop):
    seller, _other = referred_shop
    client.force_login(seller.user)
    hindi = client.get(LISTINGS, HTTP_ACCEPT_LANGUAGE="hi").content.decode()
    assert "रेफ़रल से आए ऑर्डर" in hindi and "दूसरे ग्राहक का शेयर किया लिंक" in hindi
    arabic = client.get(LISTINGS, HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert "الطلبات عبر الإحالة" in arabic and "رابط شاركه متسوّق آخر" in arabic
