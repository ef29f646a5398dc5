"""Mixed shopper traffic against a real gunicorn, and what must hold afterwards.

Used by tests/reliability/test_crash.py (short runs) and bench/reliability/
(minutes, SQLite then PostgreSQL). Each client thread is one shopper with its
own API token, looping over the requests shoppers make: a feed page, the feed
API, a batch of events, and add-to-cart + checkout. Every write the server
acknowledged (2xx) is recorded, so after the run, or after a crash, the
database can be checked against what clients were told:

- every acknowledged event id and order id is stored;
- starting stock == stock left + units in stored orders (nothing oversold,
  nothing lost);
- no 5xx, and no "database is locked" in the server log.
"""

from __future__ import annotations

import http.client
import itertools
import sqlite3
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tests.orders.conftest import PUNE_ADDRESS
from tests.orders.live import LiveShop

EVENTS_PER_BATCH = 10
KINDS = ("feed_page", "feed_api", "events", "checkout")


class ReliabilityShop(LiveShop):
    ports = range(8800, 8900)  # this suite's share of the live-server ports


@dataclass
class LoadResult:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    acked_events: set[str] = field(default_factory=set)
    acked_orders: set[str] = field(default_factory=set)
    connection_errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            self.statuses[kind][status] += 1

    @property
    def server_errors(self) -> int:
        return sum(n for by_status in self.statuses.values()
                   for status, n in by_status.items() if status >= 500)

    def percentile(self, kind: str, q: float) -> float:
        values = sorted(self.latencies[kind])
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(q * len(values)))]


def _auth(token: str) -> dict:
    return {"Authorization": f"Shopper {token}"}


def _one_round(shop: LiveShop, token: str, product: int, kind: str, result: LoadResult) -> None:
    started = time.perf_counter()
    if kind == "feed_page":
        response = shop.request("GET", "/", headers={"Accept-Language": "hi"})
    elif kind == "feed_api":
        response = shop.request("GET", "/api/v1/feed/?limit=20", headers=_auth(token))
    elif kind == "events":
        ids = [f"ev-{uuid.uuid4().hex}" for _ in range(EVENTS_PER_BATCH)]
        response = shop.request("POST", "/api/v1/events/", headers=_auth(token), body={
            "events": [{"id": i, "type": "click", "product": product, "context": "feed"}
                       for i in ids]})
        if response.status == 200:
            body = response.json()
            # 200 means every event in the batch was stored (or already was).
            if body["accepted"] + body["duplicates"] == len(ids):
                with result.lock:
                    result.acked_events.update(ids)
    else:
        added = shop.request("POST", "/api/v1/cart/lines/", headers=_auth(token),
                             body={"product": product, "quantity": 1})
        if added.status >= 500:
            result.record(kind, added.status, time.perf_counter() - started)
            return
        cart = shop.request("GET", "/api/v1/cart/", headers=_auth(token))
        if cart.status != 200:
            result.record(kind, cart.status, time.perf_counter() - started)
            return
        response = shop.request(
            "POST", "/api/v1/checkout/",
            headers={**_auth(token), "Idempotency-Key": f"load-{uuid.uuid4().hex}"},
            body={**PUNE_ADDRESS, "region": "IN-MH-PUN",
                  "cart_signature": cart.json()["signature"]})
        if response.status == 201:
            with result.lock:
                result.acked_orders.add(response.json()["id"])
    result.record(kind, response.status, time.perf_counter() - started)


def run_load(shop: LiveShop, *, tokens: list[str], product: int, seconds: float,
             stop: threading.Event | None = None, result: LoadResult | None = None,
             kinds: tuple[str, ...] = KINDS) -> LoadResult:
    """Drive one thread per token for `seconds` (or until `stop` is set)."""
    result = result or LoadResult()
    stop = stop or threading.Event()
    deadline = time.monotonic() + seconds

    def client(index: int, token: str) -> None:
        for kind in itertools.islice(itertools.cycle(kinds), index % len(kinds), None):
            if stop.is_set() or time.monotonic() > deadline:
                return
            try:
                _one_round(shop, token, product, kind, result)
            except (OSError, http.client.HTTPException):
                # The server went away (the crash test kills it), possibly halfway
                # through an answer: not an acknowledgement.
                with result.lock:
                    result.connection_errors += 1
                if stop.is_set():
                    return
                time.sleep(0.05)

    threads = [threading.Thread(target=client, args=(i, t), daemon=True)
               for i, t in enumerate(tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    return result


@dataclass
class StoredState:
    integrity: str
    stock: int
    units_ordered: int
    missing_events: int
    missing_orders: int


def stored_state(conn, *, product: int, result: LoadResult, integrity: str,
                 param: str = "?") -> StoredState:
    """Return what the database holds of `result`'s writes (a sqlite3 or psycopg connection)."""

    def rows(sql: str, params: tuple = (product,)) -> list[tuple]:
        return conn.execute(sql.replace("?", param), params).fetchall()

    stock = rows("SELECT stock FROM catalog_product WHERE id = ?")[0][0]
    units = rows("SELECT COALESCE(SUM(quantity), 0) FROM orders_orderline "
                 "WHERE product_id = ?")[0][0]
    stored_events = {row[0] for row in rows(
        "SELECT client_event_id FROM personalization_event WHERE product_id = ?")}
    stored_orders = {row[0] for row in rows("SELECT public_id FROM orders_order", ())}
    return StoredState(integrity, stock, units, len(result.acked_events - stored_events),
                       len(result.acked_orders - stored_orders))


def sqlite_state(db: Path, *, product: int, result: LoadResult) -> StoredState:
    """Read the SQLite file directly (the server may be dead): what survived?"""
    conn = sqlite3.connect(db)
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        return stored_state(conn, product=product, result=result, integrity=integrity)
    finally:
        conn.close()


def locked_lines(log: str) -> int:
    return log.count("database is locked")
