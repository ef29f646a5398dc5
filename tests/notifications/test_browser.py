"""The inbox in real headless Chromium at 360x640 with JavaScript off, against a live server."""

from __future__ import annotations

import pytest

from notifications import services
from notifications.models import Kind, Notification, Preference
from notifications.stoplinks import stop_path
from personalization.services import shopper_create
from tests.browser import conftest as browser_fixtures
from tests.orders.conftest import cookie_for

from .conftest import NOON_IST

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The storefront's browser fixtures (system Chromium, our port range, 360x640).
MOBILE = browser_fixtures.MOBILE
playwright_driver = browser_fixtures.playwright_driver
browser = browser_fixtures.browser
live_server = browser_fixtures.live_server
artifacts = browser_fixtures.artifacts


@pytest.fixture
def inbox_shopper(transactional_db):
    shopper = shopper_create()
    for i in range(3):
        services.notification_send(
            shopper=shopper, kind=Kind.ORDER_SHIPPED,
            title=f"Order 0123456789AB{i} shipped with a rather long title for a small screen",
            body="On its way. Keep ₹1,29,999 in cash ready for the courier. "
                 "Averyveryverylongwordwithoutanyspacesthatcouldpushthelayoutsideways",
            link="/orders/", dedupe_key=f"b{i}", now=NOON_IST)
    return shopper


def test_inbox_fits_360px_and_works_with_javascript_off(live_server, browser, inbox_shopper,
                                                        artifacts):
    context = browser.new_context(java_script_enabled=False, **MOBILE)
    name, value = cookie_for(inbox_shopper)
    context.add_cookies([{"name": name, "value": value, "url": live_server.url}])
    page = context.new_page()
    page.goto(live_server.url + "/notifications/")
    assert page.locator("li.n-i").count() == 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(artifacts / "notifications-inbox-360.png"), full_page=True)
    # A plain form: mark the newest read, the page comes back with two unread.
    with page.expect_navigation():
        page.locator("li.n-i").first.get_by_role("button", name="Mark read").click()
    assert page.locator("li.n-u").count() == 2
    # A plain link: the tap is recorded and lands on the message's link.
    with page.expect_navigation(url="**/orders/"):
        page.locator("li.n-u a.n-t").first.click()
    assert Notification.objects.filter(read_at__isnull=True).count() == 1
    context.close()


def test_a_messages_stop_link_opened_on_another_phone_is_one_button(live_server, browser,
                                                                     inbox_shopper, artifacts):
    """An SMS or forwarded stop link: no cookie, no JS; one tap on the button stops the kind."""
    note = Notification.objects.filter(shopper=inbox_shopper).first()
    context = browser.new_context(java_script_enabled=False, **MOBILE)
    page = context.new_page()
    page.goto(live_server.url + stop_path(note))
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(artifacts / "notifications-stop-link-360.png"), full_page=True)
    with page.expect_navigation():
        page.get_by_role("button", name="No phone alerts for these").click()
    assert page.get_by_role("status").inner_text().startswith("Stopped:")
    page.screenshot(path=str(artifacts / "notifications-stop-done-360.png"), full_page=True)
    assert Preference.objects.get(shopper=inbox_shopper).muted_kinds == ["order_shipped"]
    context.close()
