"""The strict Content-Security-Policy in a real browser: zero violations anywhere.

Headless Chromium against the production setup (gunicorn, DEBUG off) with a
demo catalog: the feed, a product page, the offline page, the service worker,
the admin (login, product list, adding a product with a photo through the
inline, its change form) and the API docs. Violations are caught both ways
Chromium reports them: the `securitypolicyviolation` DOM event (installed
before any page script runs) and the console.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.reliability.hostile_files import valid_jpeg
from tests.reliability.live_load import ReliabilityShop

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path(os.environ.get("SHOP_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SELLER_PASSWORD = "Quartz-Mango-4471-river"  # tests/orders/live_seed.py's live seller
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} ` +
                    `at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing")
    live = ReliabilityShop(tmp_path_factory.mktemp("csp"), workers=2, database_url="")
    try:
        live.start()
        # Photos drawn and rendered in the command (no task worker runs here).
        live.manage("seed_demo", "--products", "6", "--shoppers", "0", "--events", "0",
                    extra_env={"TASKS_BACKEND": "immediate"})
        live.seed("buyers", count=0, stock=5, quantity=0, title="Seller's own item")
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def browser(shop):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Watch:
    """Collect CSP violations from DOM events and console messages of one browser context."""

    def __init__(self, context):
        self.console: list[str] = []
        self.pages = []
        context.add_init_script(RECORD_VIOLATIONS)
        context.on("console", self._console)
        context.on("page", lambda page: self.pages.append(page))

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.console.append(message.text)

    def violations(self, page) -> list[str]:
        return page.evaluate("window.__csp") + self.console


def test_storefront_pages_and_service_worker_run_without_a_violation(shop, browser):
    context = browser.new_context(viewport={"width": 360, "height": 640}, is_mobile=True)
    watch = Watch(context)
    page = context.new_page()
    page.goto(shop.url + "/", wait_until="load")
    assert page.locator("li.card").count() >= 1
    # The service worker registers on load and installs (precaching the shell).
    state = page.evaluate("""async () => {
        const reg = await navigator.serviceWorker.ready;
        return reg.active ? reg.active.state : null;
    }""")
    assert state in ("activating", "activated")
    assert watch.violations(page) == []
    # A listing with a photo (a listing without one shows the placeholder icon).
    product_url = page.locator("li.card:has(img) a").first.get_attribute("href")
    page.goto(shop.url + product_url, wait_until="load")
    assert page.locator("h1").count() == 1
    assert page.evaluate("document.querySelectorAll('img').length") >= 1
    assert watch.violations(page) == []
    for path in ("/offline/", "/search/?q=a", "/cart/"):
        page.goto(shop.url + path, wait_until="load")
        assert watch.violations(page) == [], path
    # The worker answers a reload of a page from its controller, still in policy.
    page.reload(wait_until="load")
    assert page.evaluate("!!navigator.serviceWorker.controller")
    assert watch.violations(page) == []
    context.close()


def test_admin_login_list_and_photo_inline_run_without_a_violation(shop, browser, tmp_path):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    watch = Watch(context)
    page = context.new_page()
    page.goto(shop.url + "/admin/login/", wait_until="load")
    assert watch.violations(page) == []
    page.fill("#id_username", "live-seller")
    page.fill("#id_password", SELLER_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))
    page.goto(shop.url + "/admin/catalog/product/", wait_until="load")
    assert "Seller's own item" in page.content()
    assert watch.violations(page) == []
    # Open the seller's product and add a photo through the inline.
    page.click("text=Seller's own item")
    page.wait_for_selector("#product_form")
    assert watch.violations(page) == []
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(valid_jpeg())
    page.set_input_files("input[name='images-0-original']", str(photo))
    page.fill("input[name='images-0-alt_text']", "Front view")
    page.click("input[name='_continue']")
    page.wait_for_load_state("load")
    assert "was changed successfully" in page.content(), page.content()[:3000]
    assert page.locator(".inline-related img, .inline-related a[href*='/media/']").count() >= 1
    assert watch.violations(page) == []
    # The add form (empty inline rows, JavaScript "add another").
    page.goto(shop.url + "/admin/catalog/product/add/", wait_until="load")
    assert watch.violations(page) == []
    context.close()


def test_api_docs_render_under_the_policy(shop, browser):
    context = browser.new_context()
    watch = Watch(context)
    page = context.new_page()
    page.goto(shop.url + "/api/v1/docs/", wait_until="load")
    # Swagger UI renders the operations from the locally served schema.
    page.wait_for_selector(".opblock", timeout=30000)
    assert page.locator(".opblock").count() >= 5
    assert watch.violations(page) == []
    context.close()


def test_the_policy_really_blocks_what_it_should(shop, browser):
    # Control: an inline script without the nonce is reported, so an empty
    # list above means "nothing was blocked", not "nothing was watched".
    context = browser.new_context()
    watch = Watch(context)
    page = context.new_page()
    page.goto(shop.url + "/", wait_until="load")
    page.evaluate("""() => {
        const s = document.createElement("script");
        s.textContent = "window.__ran = true";
        document.body.appendChild(s);
    }""")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__ran === undefined")
    assert any("script-src" in v for v in watch.violations(page)), watch.violations(page)
    context.close()
