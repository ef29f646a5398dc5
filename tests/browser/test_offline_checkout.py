"""Offline copies of the cart and orders, every route offline, and a checkout that explains itself.

Real headless Chromium at 360x640 against the live server. "Offline" is
Playwright's context.set_offline(True), which cuts the page and its service
worker off the network alike, after each page was visited once online.
"""

from __future__ import annotations

import re
import time

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from catalog.models import Region
from tests.factories import CategoryFactory, RegionFactory, make_products

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADDRESS = {"Full name": "Asha Patil", "Mobile number": "98765 43210",
           "Address": "Flat 4, Shanti Apartments, near Ganesh temple, Kothrud",
           "PIN / postal code": "411038"}
# Path parameters of the storefront's routes, filled from the fixture's rows.
# A new route with a parameter not named here fails the walk: add it.
PARAMETERS = ("pk", "slug", "public_id", "line_id", "notification_id", "pk_or_id", "token")


@pytest.fixture
def shop(transactional_db):
    india = RegionFactory(code="IN", name="India", currency="INR")
    mh = RegionFactory(code="IN-MH", name="Maharashtra", kind=Region.Kind.STATE, parent=india,
                       currency="")
    RegionFactory(code="IN-MH-PUN", name="Pune", kind=Region.Kind.CITY, parent=mh, currency="")
    category = CategoryFactory(name="Home", slug="home")
    products = make_products(4, categories=[category], stock=5)
    return {"category": category, "products": products}


def wait_until(page, expression: str, timeout: float = 15.0) -> None:
    """Poll from the test side (the pages' CSP forbids the eval wait_for_function needs)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        time.sleep(0.1)


def controlled(page, url: str) -> None:
    """Open `url` and wait until the service worker controls the page."""
    page.goto(url)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    wait_until(page, "navigator.serviceWorker.controller !== null")


def add_to_cart(page, base: str, product) -> None:
    page.goto(f"{base}/p/{product.pk}/")
    page.get_by_role("button", name=re.compile("Add to cart")).click()
    page.wait_for_url(re.compile(r"/cart/$"))


def fill_address(page) -> None:
    for label, value in ADDRESS.items():
        page.get_by_label(label).fill(value)
    page.get_by_label("City or region").select_option(label="Pune, Maharashtra")


def place_order(page, base: str) -> str:
    page.goto(f"{base}/checkout/")
    fill_address(page)
    page.get_by_role("button", name=re.compile("Place order")).click()
    page.wait_for_url(re.compile(r"/orders/[0-9A-Z]{12}/$"))
    return page.url.rstrip("/").rsplit("/", 1)[1]


def saved_copies(page) -> list[str]:
    """Return the names of the service worker's page caches (p-/o-<shopper>-<version>)."""
    return page.evaluate("caches.keys().then(ks => ks.filter(k => /^[po]-/.test(k)))")


def shows_our_page(page) -> bool:
    # Chromium's own error page lives at chrome-error://; ours all have the shop's header.
    return not page.url.startswith("chrome-error") and page.locator("header.top").count() == 1


def test_offline_the_cart_my_orders_and_an_order_page_show_the_saved_copy(
        live_server, phone, shop, artifacts):
    base = live_server.url
    page = phone.new_page()
    controlled(page, base + "/")
    first, second = shop["products"][:2]
    add_to_cart(page, base, first)
    public_id = place_order(page, base)  # the order page is now saved
    page.goto(base + "/orders/")
    add_to_cart(page, base, second)  # the cart page is saved with the second item
    assert page.locator("#off").is_hidden()  # online: no note

    phone.set_offline(True)
    try:
        page.goto(base + "/cart/")
        assert second.title in page.locator("main").inner_text()
        note = page.locator("#off")
        assert note.is_visible() and "You are offline. This page is as of" in note.inner_text()
        assert re.search(r"\d", note.locator("time").inner_text())  # the time it was saved
        page.screenshot(path=str(artifacts / "offline-cart.png"))

        page.goto(base + "/orders/")
        assert f"Order {public_id}" in page.locator("main").inner_text()
        assert page.locator("#off").is_visible()
        page.screenshot(path=str(artifacts / "offline-orders.png"))

        page.goto(f"{base}/orders/{public_id}/")
        text = page.locator("main").inner_text()
        assert f"Order {public_id}" in text and "Status: Confirmed" in text
        assert "Total" in text and "Payment: cash on delivery" in text
        assert page.locator("#off").is_visible()
        page.screenshot(path=str(artifacts / "offline-order.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360

        # Never visited: our offline page, not Chromium's.
        page.goto(base + "/orders/ZZZZZZZZZZZZ/")
        assert shows_our_page(page) and "offline" in page.title().lower()
        # The offline page leads to the kept copies.
        page.locator("main").get_by_role("link", name="Your orders").click()
        page.wait_for_url(re.compile(r"/orders/$"))
        assert f"Order {public_id}" in page.locator("main").inner_text()
    finally:
        phone.set_offline(False)


def test_another_shopper_on_the_same_phone_never_sees_the_first_ones_copies(
        live_server, phone, shop):
    base = live_server.url
    page = phone.new_page()
    controlled(page, base + "/")
    add_to_cart(page, base, shop["products"][0])
    public_id = place_order(page, base)
    page.goto(base + "/cart/")
    first_copies = saved_copies(page)
    assert any(name.startswith("o-") for name in first_copies)

    # Another shopper: the shopper cookie is replaced; their first page drops the copies.
    phone.clear_cookies()
    page.goto(base + "/")
    wait_until(page, "caches.keys().then(ks => !ks.some(k => k.startsWith('o-')))")
    assert not set(saved_copies(page)) & set(first_copies)

    phone.set_offline(True)
    try:
        for path in ("/cart/", "/orders/", f"/orders/{public_id}/"):
            page.goto(base + path)
            assert shows_our_page(page), path
            assert public_id not in page.content(), path
            assert "offline" in page.title().lower(), path
    finally:
        phone.set_offline(False)


def _storefront_paths(shop, public_id: str) -> list[str]:
    """Every route of the site's URLconf a shopper can open, with its parameters filled."""
    values = {"pk": str(shop["products"][0].pk), "slug": shop["category"].slug,
              "public_id": public_id, "line_id": "1", "notification_id": "1", "pk_or_id": "1",
              # A notification's stop link (signed; offline it never reaches the server).
              "token": "stop-token"}
    paths = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if route.startswith(("admin/", "api/", "^media", "static/")):
                continue
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
                continue
            assert isinstance(pattern, URLPattern)
            if route.startswith("^"):
                continue  # a regex route: the media server in debug only
            names = re.findall(r"<(?:\w+:)?(\w+)>", route)
            unknown = [name for name in names if name not in values]
            assert not unknown, f"{route}: add {unknown} to PARAMETERS"
            paths.append("/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], route))

    walk(get_resolver().url_patterns, "")
    return sorted(set(paths))


def test_every_storefront_route_offline_shows_our_page_or_the_saved_copy(
        live_server, phone, shop, artifacts):
    base = live_server.url
    page = phone.new_page()
    controlled(page, base + "/")
    add_to_cart(page, base, shop["products"][0])
    public_id = place_order(page, base)
    paths = _storefront_paths(shop, public_id)
    assert {"/", "/cart/", "/checkout/", "/orders/", f"/orders/{public_id}/",
            "/offline/", "/welcome/"} <= set(paths)

    phone.set_offline(True)
    failures = []
    try:
        for path in paths:
            try:
                page.goto(base + path)
            except Exception as exc:  # noqa: BLE001 (a browser error page is what we look for)
                failures.append(f"{path}: {exc}")
                continue
            if not shows_our_page(page):
                failures.append(f"{path}: {page.url}")
        page.goto(base + "/checkout/")  # never kept (no-store): the offline page
        assert "offline" in page.title().lower()
        page.screenshot(path=str(artifacts / "offline-checkout.png"))
    finally:
        phone.set_offline(False)
    assert failures == [], failures
    assert len(paths) >= 20


def test_a_checkout_error_shows_a_summary_at_the_top_with_focus(live_server, phone, shop,
                                                                 artifacts):
    base = live_server.url
    page = phone.new_page()
    page.goto(base + "/")
    add_to_cart(page, base, shop["products"][0])
    page.goto(base + "/checkout/")
    page.get_by_label("Full name").fill("")
    page.get_by_label("Mobile number").fill("12")
    page.get_by_label("Address").fill("")
    page.get_by_role("button", name=re.compile("Place order")).click()

    summary = page.locator("#error-summary")
    summary.wait_for()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    # At the top of the page, on screen without scrolling.
    assert page.evaluate("document.getElementById('error-summary').getBoundingClientRect().top"
                         ) < 640
    assert page.evaluate("window.scrollY") < 200
    links = summary.locator("a")
    assert links.count() >= 2
    page.screenshot(path=str(artifacts / "checkout-error-summary.png"))
    # Each link moves to its field.
    summary.get_by_role("link", name=re.compile("Address")).click()
    assert page.evaluate("document.activeElement.name") == "address"
    assert page.get_by_label("Address").get_attribute("aria-invalid") == "true"

    fill_address(page)
    page.get_by_role("button", name=re.compile("Place order")).click()
    page.wait_for_url(re.compile(r"/orders/[0-9A-Z]{12}/$"))
    assert "Your order is placed" in page.locator("#order-banner").inner_text()
    # Back after ordering: never "Confirm form resubmission", never a second order.
    page.go_back()
    assert shows_our_page(page), page.url
    page.screenshot(path=str(artifacts / "checkout-back-after-ordering.png"))


def test_the_error_summary_is_first_with_javascript_off(live_server, browser, shop, artifacts):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360,
                                                                       "height": 640})
    try:
        page = context.new_page()
        base = live_server.url
        page.goto(base + "/")
        add_to_cart(page, base, shop["products"][0])
        page.goto(base + "/checkout/")
        page.get_by_label("Mobile number").fill("12")
        page.get_by_role("button", name=re.compile("Place order")).click()
        summary = page.locator("#error-summary")
        summary.wait_for()
        # The first thing in the page's content, focused by the autofocus attribute.
        first = page.locator("main > :not(#off):not(style)").first
        assert first.get_attribute("id") == "error-summary"
        assert summary.get_attribute("autofocus") is not None
        assert summary.locator("a[href='#id_name']").count() == 1
        page.screenshot(path=str(artifacts / "checkout-error-summary-nojs.png"))
    finally:
        context.close()


def test_onboarding_asks_four_questions_and_the_feed_says_what_was_saved(
        live_server, phone, shop, artifacts):
    base = live_server.url
    page = phone.new_page()
    page.goto(base + "/welcome/")
    assert page.locator("h1").inner_text() == "Welcome! Four quick questions"
    assert page.locator("#welcome fieldset").count() == 3  # area, who and age, language
    page.screenshot(path=str(artifacts / "onboarding.png"), full_page=True)
    page.get_by_label("Where do you shop from?").select_option(label="Pune")
    page.get_by_label("Age", exact=True).select_option("25-34")
    page.get_by_role("button", name="Show my feed").click()
    page.wait_for_url(re.compile(r"/\?saved=1$"))
    note = page.locator("#saved")
    assert note.is_visible()
    assert "Saved: Pune · age 25–34" in note.inner_text()
    page.screenshot(path=str(artifacts / "onboarding-saved.png"))
