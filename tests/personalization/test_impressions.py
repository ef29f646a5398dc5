"""Feed impressions leave the request path: a writer thread per process, a graceful exit.

The rest of the suite writes impressions in the request (scripts/test.sh sets
SHOP_IMPRESSIONS_FLUSH_SECONDS=0) so a test sees them when its GET returns;
here the writer runs as in production.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from django.utils import timezone

from personalization.importers import datetime_adapter
from personalization.impressions import ImpressionBuffer
from personalization.models import Event
from tests.factories import make_products


def _views():
    return Event.objects.filter(type="view", context="feed")


def _row(product_id, event_type="view"):
    return (None, product_id, event_type, "feed", datetime_adapter()(timezone.now()), None)


@pytest.mark.django_db(transaction=True)
def test_a_feed_page_answers_first_and_the_writer_writes_its_impressions_soon_after(
        client, settings):
    settings.SHOP_IMPRESSIONS_FLUSH_SECONDS = 0.3
    products = make_products(4)
    assert client.get("/").status_code == 200
    # The writer's interval has not passed yet: nothing was written in the request.
    assert _views().count() == 0
    deadline = time.monotonic() + 10
    while _views().count() < 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sorted(_views().values_list("product_id", flat=True)) == sorted(p.pk for p in products)
    assert _views().exclude(shopper=None).count() == 4


@pytest.mark.django_db
def test_flush_writes_what_waits_once():
    products = make_products(3)
    buffer = ImpressionBuffer(background=False)
    buffer.add([_row(p.pk) for p in products])
    assert buffer.flush() == 3
    assert buffer.flush() == 0
    assert _views().count() == 3


@pytest.mark.django_db
def test_a_refused_write_keeps_every_row_for_the_next_try():
    products = make_products(2)
    buffer = ImpressionBuffer(background=False)
    # A row the database refuses (NOT NULL type): the whole batch rolls back.
    buffer.add([_row(products[0].pk), _row(products[1].pk, event_type=None)])
    assert buffer.flush() == 0
    assert _views().count() == 0
    assert [row[1] for row in buffer.pending()] == [products[0].pk, products[1].pk]


def test_past_its_cap_the_buffer_drops_the_oldest_rows_and_counts_them():
    buffer = ImpressionBuffer(background=False, max_rows=5)
    buffer.add([_row(pk) for pk in range(1, 9)])
    assert [row[1] for row in buffer.pending()] == [4, 5, 6, 7, 8]
    assert buffer.dropped == 3


@pytest.mark.slow
def test_a_gunicorn_worker_that_stops_writes_the_impressions_it_held(tmp_path):
    from tests.orders.live import LiveShop

    live = LiveShop(tmp_path, workers=1)
    # An hour between writes: only the graceful exit can write them.
    live.env["SHOP_IMPRESSIONS_FLUSH_SECONDS"] = "3600"
    live.start()
    try:
        live.seed("buyers", count=0, stock=5, quantity=0, title="Brass lamp")
        for _ in range(3):
            assert live.request("GET", "/").status == 200
        assert live.seed("impressions")["count"] == 0
        os.killpg(live.process.pid, signal.SIGTERM)
        live.process.wait(timeout=30)
        assert live.seed("impressions")["count"] == 3
    finally:
        live.stop()
