"""Shared fixtures: media in a temporary folder, an empty cache per test."""

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
