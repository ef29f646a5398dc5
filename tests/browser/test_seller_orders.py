"""A seller's order list and cash statement on a 360x640 phone, in real headless Chromium.

Every row must be readable without sideways scrolling (status, deliver-to,
the cash to collect, the next-step button), and the buttons must work, with
JavaScript on and off. Screenshots go to artifacts/ for a person to look at.
"""

from __future__ import annotations

import pytest

from catalog.models import Region
from catalog.services import seller_create
from orders import services
from orders.models import LineStatus, OrderLine
from orders.selectors import cart_get
from personalization.services import shopper_create
from tests.browser.conftest import MOBILE
from tests.factories import ProductFactory, RegionFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "a-Long-enough-pass-9"
LIST = "/admin/orders/orderline/"
# Long words and a long address: the kind that pushes a table sideways.
ADDRESS = ("Flat 1204, Shantinagar Co-operative Housing Society, Wing B\n"
           "Opposite Mahalaxmi Temple, Kothrud Depot Road, Near Petrol Pump")


@pytest.fixture
def seller_lines(transactional_db):
    india = RegionFactory(code="IN", name="India", currency="INR")
    pune = RegionFactory(code="IN-MH-PUN", name="Pune", kind=Region.Kind.CITY, parent=india,
                         currency="")
    seller = seller_create(username="asha", email="asha@example.com", password=PASSWORD,
                           display_name="Asha Textiles")
    lines = []
    for i, title in enumerate(("Handloom cotton saree with zari border, maroon",
                               "Kalamkari dupatta")):
        product = ProductFactory(seller=seller, stock=5, price_minor=129900 + i * 100,
                                 title=title)
        shopper = shopper_create()
        services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1 + i)
        details = services.checkout_details_clean(
            name="Savitribai Jyotirao Deshmukh-Patil", phone="98765 43210", address=ADDRESS,
            postal_code="411038", region=pune, payment_method="cod")
        order = services.order_place(shopper=shopper, idempotency_key=f"browser-key-{i:04d}",
                                     details=details,
                                     cart_signature_seen=cart_get(shopper=shopper).signature)
        lines.append(order.order.lines.get())
    return seller, lines


def log_in(page, base: str, next_path: str) -> None:
    page.goto(f"{base}/admin/login/?next={next_path}")
    page.fill("#id_username", "asha")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("input[type=submit]")


def assert_fits(page) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 360, f"the page scrolls sideways: {width}px wide"
    overflowing = page.evaluate("""() => [
        ...document.querySelectorAll('#result_list tr, #result_list td, .cs-card')]
        .filter(el => el.scrollWidth > el.clientWidth + 1 || el.getBoundingClientRect().right > 360)
        .map(el => el.className + ' ' + el.scrollWidth + '>' + el.clientWidth)""")
    assert overflowing == [], overflowing


def test_the_order_list_fits_a_phone_and_its_buttons_move_the_line_on(live_server, phone,
                                                                      seller_lines, artifacts):
    seller, (line, other) = seller_lines
    page = phone.new_page()
    log_in(page, live_server.url, LIST)
    assert page.inner_text("h1") == "Your orders"
    with page.expect_navigation():
        page.click(".ol-tabs >> text=To ship today")

    assert page.get_attribute(".ol-tabs a[aria-current=page]", "href") == "?step=ship"
    assert_fits(page)
    row = page.locator("#result_list tbody tr", has_text=line.title)
    text = row.inner_text()
    for expected in ("Confirmed", "Savitribai Jyotirao Deshmukh-Patil", "+919876543210",
                     "Kothrud Depot Road", "PIN 411038", "Collect in cash", "₹1,299",
                     "Mark shipped", line.order.public_id):
        assert expected in text, expected
    button = row.locator("button.ol-step")
    box = button.bounding_box()
    assert box["height"] >= 48 and box["x"] + box["width"] <= 360
    page.screenshot(path=str(artifacts / "seller-orders-360.png"), full_page=True)

    with page.expect_navigation():
        button.click()

    assert OrderLine.objects.get(pk=line.pk).status == LineStatus.SHIPPED
    assert "shipped" in page.inner_text(".messagelist")
    # Still on "to ship today", where only the other line is left.
    assert "step=ship" in page.url
    assert page.locator("#result_list tbody tr").count() == 1
    assert_fits(page)

    # Shipped: the next step is "Out for delivery" (the shopper is told to have
    # the cash ready today), then "Mark delivered", both on the "To deliver" tab.
    page.goto(f"{live_server.url}{LIST}?step=deliver")
    row = page.locator("#result_list tbody tr", has_text=line.title)
    button = row.locator("button.ol-step")
    assert button.inner_text() == "Out for delivery"
    box = button.bounding_box()
    assert box["height"] >= 48 and box["x"] + box["width"] <= 360
    with page.expect_navigation():
        button.click()
    assert OrderLine.objects.get(pk=line.pk).status == LineStatus.OUT_FOR_DELIVERY
    assert "out for delivery" in page.inner_text(".messagelist")
    row = page.locator("#result_list tbody tr", has_text=line.title)
    assert "Out for delivery" in row.locator(".ol-status").inner_text()
    assert row.locator("button.ol-step").inner_text() == "Mark delivered"
    assert_fits(page)
    page.screenshot(path=str(artifacts / "seller-orders-out-for-delivery-360.png"),
                    full_page=True)
    with page.expect_navigation():
        row.locator("button.ol-step").click()
    page.goto(f"{live_server.url}{LIST}?step=collect")
    row = page.locator("#result_list tbody tr", has_text=line.title)
    assert "Cash collected" in row.locator("button").inner_text()
    assert_fits(page)
    page.screenshot(path=str(artifacts / "seller-orders-collect-360.png"), full_page=True)
    with page.expect_navigation():
        row.locator("button").click()

    line.refresh_from_db()
    assert line.status == LineStatus.DELIVERED and line.cod_collected_minor == 129900

    page.goto(f"{live_server.url}/admin/sellers/remittance/statement/")
    assert_fits(page)
    assert "₹1,299" in page.inner_text("#content")
    page.screenshot(path=str(artifacts / "seller-cash-statement-360.png"), full_page=True)


def test_a_stale_button_says_so_with_javascript_off(live_server, browser, seller_lines,
                                                    artifacts):
    seller, (line, _other) = seller_lines
    context = browser.new_context(java_script_enabled=False, **MOBILE)
    page = context.new_page()
    log_in(page, live_server.url, LIST)
    # Shipped from another tab (or by a colleague) after this page was drawn.
    services.order_line_set_status(actor=seller.user, line_id=line.pk,
                                   status=LineStatus.SHIPPED)

    with page.expect_navigation():
        page.locator("#result_list tbody tr", has_text=line.title).locator("button").click()

    assert "changed meanwhile" in page.inner_text(".messagelist")
    assert OrderLine.objects.get(pk=line.pk).status == LineStatus.SHIPPED
    assert_fits(page)
    page.screenshot(path=str(artifacts / "seller-orders-stale-360.png"))
    context.close()
