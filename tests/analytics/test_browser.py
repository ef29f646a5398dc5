"""The dashboards in real headless Chromium at 360x640: no sideways scrolling, legible charts.

Uses the system Chromium (never downloads one) on a port of the analytics
range (8700-8749); skips with the reason when Chromium or Playwright is missing.
"""

from __future__ import annotations

import os
import time

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from analytics.refresh import analytics_refresh
from tests.browser.conftest import ARTIFACTS

from .browser import CHROMIUM, CHROMIUM_ARGS, free_port
from .test_notifications import built  # noqa: F401 (fixture)

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
# Playwright's sync API runs an event loop in the test thread; the ORM calls
# here are plain test setup, not code running inside that loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def analytics_server():
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer(f"127.0.0.1:{free_port()}")
    yield server
    # Requests the page started last (static files) may still hold a
    # connection in the server's threads; PostgreSQL would then refuse to
    # drop the test database. Let them finish first.
    time.sleep(0.5)
    server.stop()


@pytest.fixture
def phone():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (make install-dev)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 360, "height": 640}, is_mobile=True,
                                      has_touch=True)
        yield context
        context.close()
        browser.close()


def _login(phone, client, user, base: str) -> None:
    client.force_login(user)
    phone.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME,
                        "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                        "url": base}])


# Measured in the page: the widest the document gets, and the smallest
# rendered size of any chart text (font-size x the SVG's scale on screen).
_MEASURE = """() => {
  const sizes = [];
  for (const svg of document.querySelectorAll('svg[role=img]')) {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    for (const t of svg.querySelectorAll('text')) {
      sizes.push(parseFloat(getComputedStyle(t).fontSize) * scale);
    }
  }
  return {width: document.documentElement.scrollWidth, charts: document.querySelectorAll(
    'svg[role=img]').length, smallest: sizes.length ? Math.min(...sizes) : null};
}"""


def test_dashboards_fit_a_360px_phone_with_legible_charts(analytics_server, phone, client,
                                                          shop, k3, staff_user):
    analytics_refresh(now=shop.now)
    base = analytics_server.url
    _login(phone, client, staff_user, base)
    page = phone.new_page()
    seller = f"?seller={shop.seller_a.pk}"
    for name, charts in (("changelist", 1), ("audience", 2), ("growth", 3), ("ranking", 3)):
        url = reverse(f"admin:analytics_snapshot_{name}")
        if name in ("changelist", "audience"):
            url += seller
        response = page.goto(base + url)
        assert response.status == 200, url
        measured = page.evaluate(_MEASURE)
        # The page never scrolls sideways; wide tables scroll in their own box.
        assert measured["width"] <= 360, (url, measured)
        assert measured["charts"] == charts, (url, measured)
        assert measured["smallest"] >= 12, (url, measured)
        assert page.get_by_text("Data as of").count() == 1
    page.close()


def test_a_seller_reads_orders_by_referral_on_a_phone(analytics_server, phone, client,
                                                      referred_shop):
    seller, _other = referred_shop
    base = analytics_server.url
    _login(phone, client, seller.user, base)
    page = phone.new_page()
    assert page.goto(base + reverse("admin:analytics_snapshot_changelist")).status == 200
    section = page.locator("section[aria-labelledby=an-referrals]")
    section.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "analytics-referrals.png"))
    text = section.inner_text()
    assert "Kurta" in text and text.count("too few to show") == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.close()


def test_notifications_dashboard_fits_a_360px_phone(analytics_server, phone, client, built,  # noqa: F811
                                                    staff_user):
    """The notifications page: tables scroll in their boxes, tap-rate bars stay legible."""
    base = analytics_server.url
    _login(phone, client, staff_user, base)
    page = phone.new_page()
    response = page.goto(base + reverse("admin:analytics_snapshot_notifications"))
    assert response.status == 200
    measured = page.evaluate(_MEASURE)
    assert measured["width"] <= 360, measured
    # One tap-rate chart per table: campaigns (Diwali), regions (both), age band and
    # gender (both), kinds (Offers).
    assert measured["charts"] == 4, measured
    assert measured["smallest"] >= 12, measured
    artifacts = django_settings.BASE_DIR / "artifacts"
    artifacts.mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts / "analytics-notifications-360.png"), full_page=True)
    page.close()
