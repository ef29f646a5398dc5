"""Region-correct assortment in real Chromium at 360x640, against a live server.

An AE shopper's feed, search and category pages show dirham listings sold in
the UAE only; a visitor from India who never chose a region is guessed from
the browser's language and sees rupees only, with "Delivering to: India ·
change"; a cart holding what cannot come to Pune marks those lines.
Screenshots go to artifacts/region-*.png.
"""

from __future__ import annotations

import pytest

from orders import services
from personalization.models import ShopperProfile
from tests.browser.conftest import MOBILE
from tests.factories import ProductImageFactory, make_image_upload
from tests.region_world import INDIA_OUTSIDE_PUNE, UAE, make_world

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def world(transactional_db):
    world = make_world()
    # A few real photos, so the screenshots look like the shop.
    for seed, group in enumerate(("aed_uae", "inr_everywhere", "inr_india")):
        product = world.products[group][0]
        ProductImageFactory(product=product, alt_text=f"Photo of {product.title}",
                            upload=make_image_upload(seed=seed, width=480, height=480))
    return world


def _cards(page) -> tuple[set[int], set[str]]:
    """Return the listed ids and the price texts of the cards on the page."""
    ids = page.eval_on_selector_all("#feed li[data-p]", "els => els.map(e => +e.dataset.p)")
    prices = page.eval_on_selector_all("#feed li[data-p] .pr b",
                                       "els => els.map(e => e.textContent)")
    return set(ids), set(prices)


def _phone(browser, accept_language: str):
    return browser.new_context(locale=accept_language.split(",")[0],
                               extra_http_headers={"Accept-Language": accept_language},
                               **MOBILE)


def test_a_uae_shopper_sees_dirhams_sold_in_the_uae_everywhere(live_server, browser, world,
                                                              artifacts):
    context = _phone(browser, "en-AE,en;q=0.9")
    page = context.new_page()
    # The guess (en-AE) is shown, and the shopper confirms Dubai with the chooser
    page.goto(live_server.url + "/")
    assert "United Arab Emirates" in page.text_content(".dlv")
    page.click(".dlv a")
    page.screenshot(path=str(artifacts / "region-chooser.png"))
    page.check("input[value='AE-DU']")
    page.click("#region button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    assert "Dubai" in page.text_content(".dlv")
    expected = world.ids(*UAE)
    ids, prices = _cards(page)
    assert ids == expected and all(price.startswith("AED") for price in prices)
    page.screenshot(path=str(artifacts / "region-ae-feed.png"))
    for url, name in (("/search/?q=saree", "search"), ("/c/sarees/", "category")):
        page.goto(live_server.url + url)
        ids, prices = _cards(page)
        assert ids == expected, url
        assert prices and all(price.startswith("AED") for price in prices), url
        page.screenshot(path=str(artifacts / f"region-ae-{name}.png"))
    context.close()


def test_a_visitor_from_india_without_a_region_sees_rupees_only(live_server, browser, world,
                                                               artifacts):
    context = _phone(browser, "hi-IN,hi;q=0.9,en;q=0.8")
    page = context.new_page()
    page.goto(live_server.url + "/")
    ids, prices = _cards(page)
    assert ids == world.ids(*INDIA_OUTSIDE_PUNE)
    assert prices and all(price.startswith("₹") for price in prices)
    # The guess is visible in the first screen and leads to the chooser.
    where = page.locator(".dlv a")
    assert "भारत" in where.text_content() or "India" in where.text_content()
    assert where.bounding_box()["y"] < 640
    page.screenshot(path=str(artifacts / "region-in-visitor-feed.png"))
    for url in ("/search/?q=saree", "/c/sarees/"):
        page.goto(live_server.url + url)
        ids, prices = _cards(page)
        assert ids == world.ids(*INDIA_OUTSIDE_PUNE), url
        assert all(price.startswith("₹") for price in prices), url
    context.close()


def test_the_region_chooser_works_with_javascript_off(live_server, browser, world):
    context = browser.new_context(java_script_enabled=False, **MOBILE)
    page = context.new_page()
    page.goto(live_server.url + "/c/sarees/")
    page.click(".dlv a")
    page.check("input[value='NP']")
    page.click("#region button[type=submit]")
    page.wait_for_url(live_server.url + "/c/sarees/")
    assert _cards(page)[0] == world.ids("npr_nepal")
    context.close()


def test_a_mixed_cart_marks_its_lines(live_server, browser, world, artifacts):
    context = _phone(browser, "en-IN,en;q=0.9")
    page = context.new_page()
    page.goto(live_server.url + "/region/")
    page.check("input[value='IN-MH-PUN']")
    page.click("#region button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    shopper = ShopperProfile.objects.get(region__code="IN-MH-PUN")
    rupees = world.products["inr_everywhere"][0]
    dirhams = world.products["aed_uae"][0]
    dubai_only = world.products["inr_dubai"][0]
    for product in (rupees, dirhams, dubai_only):
        services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1)
    page.goto(live_server.url + "/cart/")
    marked = page.eval_on_selector_all("li.o-x a", "els => els.map(e => e.pathname)")
    assert sorted(marked) == sorted(f"/p/{p.pk}/" for p in (dirhams, dubai_only))
    # Each marked line says why, in the page language, and checkout is not offered
    assert page.locator("li.o-x .o-e").count() == 2
    assert page.locator("a[href='/checkout/']").count() == 0
    page.screenshot(path=str(artifacts / "region-mixed-cart.png"), full_page=True)
    context.close()
