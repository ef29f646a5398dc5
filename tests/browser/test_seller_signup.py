"""From "Sell on the shop" to a first listing in the feed, on a 360x640 phone in Chromium.

Sign-up -> pending -> approved by staff (in the admin) -> the checklist ->
a first listing with a photo through the seller admin -> visible in the feed.
Every page is checked for sideways scrolling; screenshots go to artifacts/.
"""

from __future__ import annotations

import pytest

from catalog.models import Product, Region
from sellers.models import ApplicationStatus, SellerApplication
from tests.factories import CategoryFactory, RegionFactory, UserFactory, make_image_bytes

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "Quartz-Mango-4471-river"


@pytest.fixture
def shop_data(transactional_db):
    india = RegionFactory(code="IN", name="India", currency="INR")
    pune = RegionFactory(code="IN-MH-PUN", name="Pune", kind=Region.Kind.CITY, parent=india,
                         currency="")
    category = CategoryFactory(name="Clothes", slug="clothes")
    UserFactory(username="clerk", is_staff=True, is_superuser=True, password=PASSWORD)
    return {"pune": pune, "category": category}


def fits(page, name: str, artifacts) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 360, f"{page.url} scrolls sideways: {width}px"
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def submit(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def test_sign_up_approval_and_a_first_listing_in_the_feed(live_server, browser, phone,
                                                          shop_data, artifacts, tmp_path):
    base = live_server.url
    page = phone.new_page()
    # From the cart page's footer: a feed shown now would be cached (a minute,
    # by design) without the listing this test adds.
    page.goto(base + "/cart/")
    submit(page, "footer >> text=Sell on the shop")
    fits(page, "sell-signup-360", artifacts)
    page.fill("#id_display_name", "Meena Handlooms")
    page.fill("#id_phone", "98765 43210")
    page.select_option("#id_region", str(shop_data["pune"].pk))
    page.fill("#id_password", PASSWORD)
    page.check("#id_terms")
    submit(page, "button[type=submit].o-b")
    assert page.url.endswith("/sell/thanks/")
    fits(page, "sell-thanks-360", artifacts)
    submit(page, "text=See your application")
    page.fill("#id_phone", "+91 98765 43210")
    page.fill("#id_password", PASSWORD)
    submit(page, "button[type=submit].o-b")
    assert "Waiting for review" in page.inner_text("main")
    fits(page, "sell-status-pending-360", artifacts)
    assert SellerApplication.objects.get().status == ApplicationStatus.PENDING

    # Staff approve it in the admin, from their own browser.
    staff = browser.new_context()
    admin = staff.new_page()
    admin.goto(base + "/admin/login/?next=/admin/sellers/sellerapplication/")
    admin.fill("#id_username", "clerk")
    admin.fill("#id_password", PASSWORD)
    submit(admin, "input[type=submit]")
    admin.check("input[name=_selected_action]")
    admin.select_option("select[name=action]", "approve")
    submit(admin, "button[name=index]")
    assert "Approved: Meena Handlooms" in admin.inner_text(".messagelist")
    staff.close()

    page.reload()
    assert "Approved: you can start selling" in page.inner_text("main")
    fits(page, "sell-status-approved-360", artifacts)
    submit(page, "text=Open your seller pages")
    assert "Get started" in page.inner_text("#content")
    fits(page, "seller-checklist-360", artifacts)

    submit(page, "text=Add your first listing")
    page.fill("#id_title", "Maroon cotton saree")
    # The category is an autocomplete (select2) box: tap, type, pick.
    page.click("#id_category ~ .select2-container .select2-selection")
    page.fill(".select2-dropdown .select2-search__field", "Clo")
    page.click(".select2-results__option >> text=Clothes")
    page.fill("#id_price", "799.00")
    page.fill("#id_stock", "4")
    page.select_option("#id_status", Product.Status.ACTIVE)
    photo = tmp_path / "saree.jpg"
    photo.write_bytes(make_image_bytes(width=640, height=640))
    page.set_input_files("input[name='images-0-original']", str(photo))
    page.fill("input[name='images-0-alt_text']", "Maroon saree, folded")
    fits(page, "seller-first-listing-360", artifacts)
    submit(page, "input[name=_save]")
    assert "was added successfully" in page.inner_text(".messagelist")
    product = Product.objects.get()
    assert product.seller.display_name == "Meena Handlooms"
    assert product.images.filter(status="ready").exists()

    page.goto(base + "/admin/")
    assert "Get started" not in page.inner_text("#content")
    shopper = browser.new_context(viewport={"width": 360, "height": 640})
    feed = shopper.new_page()
    feed.goto(base + "/")
    assert "Maroon cotton saree" in feed.inner_text("#feed")
    assert feed.locator("#feed img").count() >= 1
    fits(feed, "feed-with-new-seller-360", artifacts)
    shopper.close()
