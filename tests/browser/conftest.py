"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

Never downloads a browser: the system Chromium is used, and every test here
skips with the reason when it (or Playwright) is missing.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
# Playwright's sync API keeps an event loop running in the test thread, which
# makes Django refuse ORM calls from fixtures; the ORM work here is plain sync
# test setup, not code running inside that loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path(os.environ.get("SHOP_CHROMIUM", "/usr/bin/chromium"))
# The storefront's share of the team's port plan (8100-8199).
PORTS = range(int(os.environ.get("SHOP_BROWSER_PORT_FIRST", 8100)),
              int(os.environ.get("SHOP_BROWSER_PORT_LAST", 8199)) + 1)
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
MOBILE = {"viewport": {"width": 360, "height": 640}, "device_scale_factor": 2,
          "is_mobile": True, "has_touch": True}


def _settle() -> None:
    # Requests the page started last (a beacon, the worker's precache) may
    # still run in the live server's threads; on PostgreSQL the flush after
    # the test would then deadlock with them. Give them a moment to finish.
    time.sleep(0.5)


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, on a free port of our range (not a random one)."""
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer(f"127.0.0.1:{_free_port()}")
    yield server
    server.stop()


# Module scope, not session: Playwright's sync API refuses to start while
# another instance's event loop runs in this thread, and browser tests in other
# folders (admin, orders, analytics, reliability) start their own.
@pytest.fixture(scope="module")
def playwright_driver():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: browser tests need Debian's chromium package")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (make install-dev)")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_driver):
    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM),
                                                args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def profile_browser(playwright_driver, tmp_path):
    """A phone with a real (non-incognito) profile: Chromium refuses to install
    web apps from incognito contexts, which is what plain contexts are."""
    context = playwright_driver.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, **MOBILE
    )
    yield context
    context.close()
    _settle()


@pytest.fixture
def phone(browser):
    """A fresh 360x640 phone context (no cookies, no service worker) per test."""
    context = browser.new_context(**MOBILE)
    yield context
    context.close()
    _settle()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# transactional_db waits for the live server to be quiet before its flush:
# tests/conftest.py, for every live-server test in every folder.
