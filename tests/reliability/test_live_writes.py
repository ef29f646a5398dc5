"""Lost writes under load, and a kill -9 in the middle of it (short runs; the long ones
are bench/reliability/load.py).

A real gunicorn (shop/gunicorn.conf.py, several sync workers, DEBUG off) on a
SQLite file of its own, driven by one thread per shopper token through feed
reads, event batches and checkouts. Afterwards every write the server
acknowledged must be in the database, stock must add up, and nothing may have
answered 5xx or logged "database is locked".
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from tests.reliability.live_load import (
    KINDS,
    ReliabilityShop,
    locked_lines,
    run_load,
    sqlite_state,
)

pytestmark = pytest.mark.slow

CLIENTS = 8
STOCK = 100_000


@pytest.fixture
def shop(tmp_path):
    # SQLite on purpose (the crash test reads the file itself), whatever the run's database.
    live = ReliabilityShop(tmp_path, workers=3, database_url="")
    try:
        yield live.start()
    finally:
        live.stop()


def _seed(shop) -> tuple[int, list[str]]:
    seeded = shop.seed("buyers", count=CLIENTS, stock=STOCK, quantity=0, title="Load test item")
    return seeded["product"], seeded["tokens"]


def test_mixed_load_loses_no_acknowledged_write(shop):
    product, tokens = _seed(shop)

    result = run_load(shop, tokens=tokens, product=product, seconds=8)

    assert result.server_errors == 0, (dict(result.statuses), shop.server_log())
    assert result.connection_errors == 0
    for kind in KINDS:
        assert result.latencies[kind], f"no {kind} request completed"
    assert result.acked_events and result.acked_orders
    state = sqlite_state(shop.tmp_dir / "shop.sqlite3", product=product, result=result)
    assert state.integrity == "ok"
    assert (state.missing_events, state.missing_orders) == (0, 0)
    assert STOCK == state.stock + state.units_ordered
    assert state.units_ordered == len(result.acked_orders)
    assert locked_lines(shop.server_log()) == 0


def test_kill_9_during_writes_keeps_every_acknowledged_write_and_a_sound_file(shop):
    product, tokens = _seed(shop)
    stop = threading.Event()
    results = {}
    load = threading.Thread(target=lambda: results.update(
        r=run_load(shop, tokens=tokens, product=product, seconds=60, stop=stop,
                   kinds=("events", "checkout"))))
    load.start()
    time.sleep(4)

    # kill -9 the master and every worker at once (its own process group), mid-write.
    os.killpg(shop.process.pid, signal.SIGKILL)
    shop.process.wait(timeout=10)
    stop.set()
    load.join(timeout=120)
    result = results["r"]

    assert result.acked_events and result.acked_orders, "the kill came before any write"
    state = sqlite_state(shop.tmp_dir / "shop.sqlite3", product=product, result=result)
    assert state.integrity == "ok"
    assert (state.missing_events, state.missing_orders) == (0, 0)
    # Orders in flight at the kill either committed whole or not at all.
    assert STOCK == state.stock + state.units_ordered
    assert result.server_errors == 0

    # The shop comes back on the same file and takes orders again.
    shop.log.close()
    shop.start()
    assert shop.request("GET", "/readyz").status == 200
    after = run_load(shop, tokens=tokens[:2], product=product, seconds=2,
                     kinds=("checkout",))
    assert after.acked_orders and after.server_errors == 0
