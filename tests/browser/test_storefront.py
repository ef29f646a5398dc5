"""The storefront in real headless Chromium at 360x640, against a live server."""

from __future__ import annotations

import json
import time

import pytest

from tests.browser.conftest import MOBILE
from tests.factories import CategoryFactory, ProductImageFactory, make_image_upload, make_products

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHOTOS = 12


@pytest.fixture
def catalog(transactional_db):
    """65 listings (four feed pages); 12 of them have real photos."""
    categories = [CategoryFactory(name=name, slug=slug, icon=icon) for name, slug, icon in (
        ("Clothes", "clothes", "👗"), ("Home", "home", "🏠"), ("Phones", "phones", "📱"))]
    older = make_products(65 - PHOTOS, categories=categories)
    newest = make_products(PHOTOS, categories=categories, price_minor=129900,
                           compare_at_minor=209900)
    for index, product in enumerate(newest):
        ProductImageFactory(product=product, alt_text=f"Photo of {product.title}",
                            upload=make_image_upload(seed=index, width=480, height=480))
    return older + newest


def card_ids(page) -> list[str]:
    return page.eval_on_selector_all("#feed li[data-p]", "els => els.map(e => e.dataset.p)")


def wait_until(page, expression: str, timeout: float = 15.0) -> None:
    """Poll `expression` from the test side: the pages' CSP forbids eval, which
    Playwright's wait_for_function would need inside the page."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        time.sleep(0.1)


def test_scrolling_the_feed_appends_three_pages_without_duplicates(live_server, phone, catalog,
                                                                   artifacts):
    page = phone.new_page()
    page.goto(live_server.url + "/")
    assert len(card_ids(page)) == 20
    # The icon sprite takes no room: the header is the first thing on screen.
    assert page.evaluate("document.querySelector('header').getBoundingClientRect().top") == 0
    page.screenshot(path=str(artifacts / "feed.png"))
    for expected in (40, 60, 65):
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        wait_until(page, f"document.querySelectorAll('#feed li[data-p]').length >= {expected}")
    ids = card_ids(page)
    assert len(ids) == len(set(ids)) == 65
    assert {int(pk) for pk in ids} == {p.pk for p in catalog}
    # The status region tells screen readers that more arrived; the last page ends the list.
    assert page.text_content("#feed-status")
    assert page.query_selector("#more a[rel=next]") is None


def test_load_more_works_with_javascript_off(live_server, browser, catalog):
    context = browser.new_context(java_script_enabled=False, **MOBILE)
    page = context.new_page()
    page.goto(live_server.url + "/")
    first = card_ids(page)
    more = page.locator("#more a[rel=next]")
    assert "cursor=" in more.get_attribute("href")
    # Scrolling to the link starts the lazy images above it; let them arrive
    # before the tap so it lands on the link, not where the link was a moment ago.
    more.scroll_into_view_if_needed()
    page.wait_for_load_state("networkidle")
    with page.expect_navigation(url="**/?cursor=*"):
        more.click()
    second = card_ids(page)
    assert len(first) == len(second) == 20 and not set(first) & set(second)
    context.close()


def test_opening_a_product_shows_its_page(live_server, phone, catalog, artifacts):
    page = phone.new_page()
    page.goto(live_server.url + "/")
    card = "#feed li[data-p]:has(img)"
    title = page.text_content(f"{card} h2")
    page.click(f"{card} a.cl")
    page.wait_for_url("**/p/*/")
    assert page.text_content("h1") == title
    assert page.is_visible("#add button")
    # The gallery's first photo is loaded and sized before it arrives (no layout shift).
    image = page.query_selector(".gal img")
    assert image.get_attribute("width") and image.get_attribute("height")
    wait_until(page, "document.querySelector('.gal img').complete")
    assert page.evaluate("document.querySelector('.gal img').naturalWidth") > 0
    page.screenshot(path=str(artifacts / "product.png"), full_page=False)


def test_offline_the_service_worker_serves_the_offline_page(live_server, phone, catalog):
    page = phone.new_page()
    page.goto(live_server.url + "/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    wait_until(page, "navigator.serviceWorker.controller !== null")
    product_url = page.get_attribute("#feed li[data-p] a.cl", "href")
    page.goto(live_server.url + product_url)  # cached on the way through
    phone.set_offline(True)
    try:
        page.goto(live_server.url + "/search/?q=never-visited")
        assert "offline" in page.title().lower()
        page.goto(live_server.url + product_url)
        assert page.is_visible("h1") and "/p/" in page.url and "offline" not in page.title().lower()
    finally:
        phone.set_offline(False)


def test_switching_to_arabic_mirrors_the_layout(live_server, phone, catalog, artifacts):
    page = phone.new_page()
    page.goto(live_server.url + "/")
    ltr_image = page.eval_on_selector("#feed li .im", "e => e.getBoundingClientRect().left")
    ltr_text = page.eval_on_selector("#feed li .bd", "e => e.getBoundingClientRect().left")
    assert ltr_image < ltr_text
    page.select_option("#lang", "ar")
    page.click("#lang ~ button")
    wait_until(page, "document.documentElement.dir === 'rtl'")
    assert page.get_attribute("html", "lang") == "ar"
    rtl_image = page.eval_on_selector("#feed li .im", "e => e.getBoundingClientRect().left")
    rtl_text = page.eval_on_selector("#feed li .bd", "e => e.getBoundingClientRect().left")
    assert rtl_image > rtl_text, "the picture moves to the right-hand side in Arabic"
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(artifacts / "feed-ar.png"))


def test_manifest_is_valid_and_the_site_is_installable(live_server, profile_browser, catalog):
    phone = profile_browser
    page = phone.new_page()
    page.goto(live_server.url + "/")
    manifest = json.loads(page.evaluate(
        "fetch(document.querySelector('link[rel=manifest]').href).then(r => r.text())"))
    assert manifest["display"] == "standalone" and manifest["start_url"].startswith("/")
    registration_scope = page.evaluate(
        "navigator.serviceWorker.ready.then(r => r.scope)")
    assert registration_scope == live_server.url + "/"
    cdp = phone.new_cdp_session(page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert errors == [], errors
    manifest_report = cdp.send("Page.getAppManifest")
    assert manifest_report.get("errors", []) == []
