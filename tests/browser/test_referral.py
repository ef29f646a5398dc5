"""A referral credited across two phones: a shared link, a COD order, "1 friend ordered".

Two browser contexts at 360x640 against the live server, as two people on two
phones: no cookie is shared between them, only the link. Screenshots of each
step go to artifacts/ for a person to look at.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from catalog.models import Region
from orders.models import ReferralCredit
from personalization.models import ShopperProfile
from tests.browser.conftest import MOBILE
from tests.factories import ProductFactory, RegionFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def listing(transactional_db):
    india = RegionFactory(code="IN", name="India", currency="INR")
    mh = RegionFactory(code="IN-MH", name="Maharashtra", kind=Region.Kind.STATE, parent=india,
                       currency="")
    RegionFactory(code="IN-MH-PUN", name="Pune", kind=Region.Kind.CITY, parent=mh, currency="")
    return ProductFactory(title="Block-print cotton dupatta", stock=5)


def test_a_friend_who_orders_by_the_shared_link_credits_the_sharer(live_server, browser, phone,
                                                                    listing, artifacts):
    # The sharer opens the item and takes its share link (what WhatsApp would carry).
    sharer_page = phone.new_page()
    sharer_page.goto(f"{live_server.url}/p/{listing.pk}/")
    whatsapp = sharer_page.locator("#wa").get_attribute("href")
    text = parse_qs(urlsplit(whatsapp).query)["text"][0]
    link = text.split(" ")[-1]
    code = parse_qs(urlsplit(link).query)["ref"][0]
    assert urlsplit(link).path == f"/p/{listing.pk}/"
    sharer = ShopperProfile.objects.get(referral_code=code)
    sharer_page.screenshot(path=str(artifacts / "referral-1-sharer-product.png"))

    # A friend on another phone opens the link and orders, cash on delivery.
    friend_context = browser.new_context(**MOBILE)
    try:
        page = friend_context.new_page()
        page.goto(link)
        assert page.get_by_role("heading", name=listing.title).is_visible()
        page.get_by_role("button", name=re.compile("Add to cart")).click()
        page.wait_for_url(re.compile(r"/cart/$"))
        page.get_by_role("link", name=re.compile("Checkout")).click()
        page.wait_for_url(re.compile(r"/checkout/$"))
        page.get_by_label("Full name").fill("Meera Joshi")
        page.get_by_label("Mobile number").fill("98220 12345")
        page.get_by_label("Address").fill("12 Lane 3, Karve Nagar")
        page.get_by_label("City or region").select_option(label="Pune, Maharashtra")
        page.get_by_label("PIN / postal code").fill("411052")
        page.get_by_role("button", name=re.compile("Place order")).click()
        page.wait_for_url(re.compile(r"/orders/[0-9A-Z]{12}/"))
        page.screenshot(path=str(artifacts / "referral-2-friend-order.png"), full_page=True)
        friend = ShopperProfile.objects.exclude(pk=sharer.pk).get()
        assert friend.referred_by_id == sharer.pk
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        friend_context.close()

    # The sharer sees it among their orders (they have none of their own).
    sharer_page.goto(f"{live_server.url}/orders/")
    invite = sharer_page.locator("#invite")
    assert "1 friend ordered" in invite.inner_text()
    invite.scroll_into_view_if_needed()
    sharer_page.screenshot(path=str(artifacts / "referral-3-sharer-orders.png"))
    assert sharer_page.evaluate("document.documentElement.scrollWidth") <= 360
    [credit] = ReferralCredit.objects.all()
    assert credit.referrer_id == sharer.pk and credit.referred_id == friend.pk
