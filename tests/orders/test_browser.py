"""From the feed to a placed cash-on-delivery order in real headless Chromium at 360x640.

Once with JavaScript on and once with it off: the cart and checkout are plain
forms and must work either way. Screenshots of the cart, checkout and order
pages go to artifacts/ for a person to look at.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from .conftest import PUNE_ADDRESS
from .live import ROOT, LiveShop

CHROMIUM = os.environ.get("SHOP_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not shutil.which("chromium"),
                       reason=f"Chromium is not installed at {CHROMIUM}"),
]


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    live = LiveShop(tmp_path_factory.mktemp("live-browser"), workers=2)
    try:
        yield live.start()
    finally:
        live.stop()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def listings(shop):
    """Both runs' listings, created before any feed is served: new shoppers share a
    ranking each gunicorn worker caches for a minute, so a listing created after
    the first run's feed could be missing from the second run's."""
    return {label: shop.seed("buyers", count=0, stock=3, title=f"Handloom saree {label}")
            for label in ("js", "nojs")}


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_feed_to_placed_cod_order(shop, listings, browser, javascript):
    label = "js" if javascript else "nojs"
    title = f"Handloom saree {label}"
    seeded = listings[label]
    context = browser.new_context(viewport={"width": 360, "height": 640},
                                  java_script_enabled=javascript, base_url=shop.url)
    # Nothing may load from another origin.
    foreign = []
    context.on("request", lambda request: foreign.append(request.url)
               if not request.url.startswith((shop.url, "data:")) else None)
    page = context.new_page()
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        page.goto("/")
        page.get_by_role("link", name=re.compile(re.escape(title))).first.click()
        page.wait_for_url(re.compile(rf"/p/{seeded['product']}/"))
        page.get_by_role("button", name=re.compile("Add to cart")).click()

        page.wait_for_url(re.compile(r"/cart/$"))
        assert page.get_by_text(title).is_visible()
        assert page.get_by_text("Only 3 left.").is_visible()
        page.screenshot(path=str(ARTIFACTS / f"orders-cart-{label}.png"), full_page=True)
        page.get_by_role("link", name=re.compile("Checkout")).click()

        page.wait_for_url(re.compile(r"/checkout/$"))
        assert page.get_by_text("To pay on delivery").is_visible()
        page.get_by_label("Full name").fill(PUNE_ADDRESS["name"])
        page.get_by_label("Mobile number").fill(PUNE_ADDRESS["phone"])
        page.get_by_label("Address").fill(PUNE_ADDRESS["address"])
        page.get_by_label("City or region").select_option(label="Pune, Maharashtra")
        page.get_by_label("PIN / postal code").fill(PUNE_ADDRESS["postal_code"])
        page.screenshot(path=str(ARTIFACTS / f"orders-checkout-{label}.png"), full_page=True)
        page.get_by_role("button", name=re.compile("Place order")).click()

        page.wait_for_url(re.compile(r"/orders/[0-9A-Z]{12}/$"))
        assert page.get_by_text("Your order is placed").is_visible()
        assert "Status: Confirmed" in page.locator("#order-status").inner_text()
        page.screenshot(path=str(ARTIFACTS / f"orders-order-{label}.png"), full_page=True)
        # No sideways scrolling at 360 px.
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        context.close()

    state = shop.seed("state", product=seeded["product"])
    assert state["orders"] == 1 and state["stock"] == 2
    assert foreign == []
