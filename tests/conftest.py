"""Shared fixtures: media in a temporary folder, an empty cache per test, a quiet
live server before a transactional flush."""

import threading
import time

import pytest


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    from core.content_cache import clear_local_copies
    from core.throttle_cache import throttle_cache
    from storefront.shell import forget_shells

    cache.clear()
    throttle_cache().clear()
    clear_local_copies()
    forget_shells()
    yield
    cache.clear()
    throttle_cache().clear()
    clear_local_copies()
    forget_shells()


@pytest.fixture
def keep_db_connection():
    """Keep the test's connection open across in-process WSGI calls (Schemathesis), as
    Django's test client does: the handler would otherwise close it, and its transaction,
    after each request (PostgreSQL then answers "the connection is closed")."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def database_tasks(settings):
    """Queue tasks as rows in the test database (the embedded engine) instead of running them."""
    from core.tasks import tasks_setting

    settings.TASKS = tasks_setting("database")


class _InFlight:
    """Requests the live server is still answering, counted by Django's own signals."""

    def __init__(self) -> None:
        self.count = 0
        self.last_change = time.monotonic()
        self._lock = threading.Lock()

    def started(self, **kwargs) -> None:
        with self._lock:
            self.count += 1
            self.last_change = time.monotonic()

    def finished(self, **kwargs) -> None:
        with self._lock:
            self.count = max(0, self.count - 1)
            self.last_change = time.monotonic()

    def wait_idle(self, *, quiet: float = 0.5, timeout: float = 10.0) -> None:
        """Return once nothing has been in flight for `quiet` seconds (or at `timeout`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                idle_for = time.monotonic() - self.last_change if self.count == 0 else 0.0
            if idle_for >= quiet:
                return
            time.sleep(0.05)


_in_flight = _InFlight()


@pytest.fixture
def transactional_db(transactional_db, request):
    """The database, flushed only once the live server has stopped writing to it.

    A page's last requests (a beacon sent as its context closes, the service
    worker's precache) can still be written by the live server's threads when
    the test ends; the flush then meets "database table is locked" (SQLite's
    shared cache does not wait) or a deadlock (PostgreSQL), and a failed flush
    leaves rows to the next test. Every test with a live server (browser
    tests in any folder) waits for quiet; the others do not wait at all.
    """
    if "live_server" not in request.fixturenames:
        yield transactional_db
        return
    from django.core.signals import request_finished, request_started

    request_started.connect(_in_flight.started, dispatch_uid="browser.in_flight.started")
    request_finished.connect(_in_flight.finished, dispatch_uid="browser.in_flight.finished")
    yield transactional_db
    _in_flight.wait_idle()
