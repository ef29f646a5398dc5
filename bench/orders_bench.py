"""Measure checkout through the real server; rewrite "## Orders and checkout" in docs/BENCHMARKS.md.

gunicorn from shop/gunicorn.conf.py (4 sync workers) on a migrated SQLite
file, and on PostgreSQL too when DATABASE_URL points at one (a scratch
`<name>_live` database is created and dropped). Buyers are token shoppers
made in the server's database, each with the item in their cart; requests go
over HTTP from threads in this process (ports 8300-8399).

Scenarios:
- rush: 100 buyers, stock 10, all released at once by a barrier;
- steady: 200 buyers, plenty of stock, 8 clients placing one after another;
- double tap: one checkout sent 20 times at once with the same key.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sections import write_section  # noqa: E402  (needs ROOT on the path)
from tests.orders.live import LiveShop  # noqa: E402

SECTION = "## Orders and checkout"
HEADER = (
    "| database | rush: 100 buyers, stock 10, all at once | rush: all answered in "
    "| steady: 200 buyers, 8 clients | double tap: 1 checkout × 20 at once, one key |\n"
    "|---|---|---|---|---|"
)
ADDRESS = {"name": "Asha Patil", "phone": "98765 43210", "postal_code": "411038",
           "address": "Flat 4, Shanti Apartments\nNear Ganesh temple, Kothrud",
           "region": "IN-MH-PUN", "payment_method": "cod"}


def _auth(token: str) -> dict:
    return {"Authorization": f"Shopper {token}"}


def _body(shop: LiveShop, token: str) -> dict:
    cart = shop.request("GET", "/api/v1/cart/", headers=_auth(token)).json()
    return {**ADDRESS, "cart_signature": cart["signature"]}


def _timed_checkout(shop: LiveShop, token: str, body: dict, key: str):
    start = time.perf_counter()
    response = shop.request("POST", "/api/v1/checkout/", body=body,
                            headers={**_auth(token), "Idempotency-Key": key})
    return response.status, (time.perf_counter() - start) * 1000, response


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def rush(shop: LiveShop, buyers: int = 100, stock: int = 10) -> dict:
    seeded = shop.seed("buyers", count=buyers, stock=stock, title="Rush item")
    tokens = seeded["tokens"]
    bodies = [_body(shop, token) for token in tokens]
    barrier = threading.Barrier(buyers + 1, timeout=120)

    def run(i):
        barrier.wait()
        return _timed_checkout(shop, tokens[i], bodies[i], f"rush-{i:04d}-key")

    with ThreadPoolExecutor(max_workers=buyers) as pool:
        futures = [pool.submit(run, i) for i in range(buyers)]
        barrier.wait()
        start = time.perf_counter()
        results = [f.result() for f in futures]
        wall = time.perf_counter() - start
    state = shop.seed("state", product=seeded["product"])
    statuses = Counter(status for status, _ms, _r in results)
    latencies = [ms for _s, ms, _r in results]
    return {"wall_s": wall, "statuses": statuses, "p50": _pct(latencies, .5),
            "p95": _pct(latencies, .95), "max": max(latencies), "state": state,
            "ok": statuses.get(201) == stock and state["stock"] == 0
            and state["orders"] == stock and sum(statuses.values()) == buyers
            and statuses.get(409) == buyers - stock}


def steady(shop: LiveShop, buyers: int = 200, clients: int = 8) -> dict:
    seeded = shop.seed("buyers", count=buyers, stock=buyers * 10, title="Steady item")
    tokens = seeded["tokens"]
    bodies = [_body(shop, token) for token in tokens]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(
            lambda i: _timed_checkout(shop, tokens[i], bodies[i], f"steady-{i:04d}-key"),
            range(buyers)))
    wall = time.perf_counter() - start
    state = shop.seed("state", product=seeded["product"])
    latencies = [ms for _s, ms, _r in results]
    statuses = Counter(status for status, _ms, _r in results)
    return {"wall_s": wall, "per_s": buyers / wall, "p50": _pct(latencies, .5),
            "p95": _pct(latencies, .95), "statuses": statuses, "state": state,
            "ok": statuses.get(201) == buyers and state["orders"] == buyers}


def double_tap(shop: LiveShop, sends: int = 20) -> dict:
    seeded = shop.seed("buyers", count=1, stock=100, title="Double tap item")
    token = seeded["tokens"][0]
    body = _body(shop, token)
    barrier = threading.Barrier(sends, timeout=60)

    def run(_i):
        barrier.wait()
        return _timed_checkout(shop, token, body, "same-key-every-time")

    with ThreadPoolExecutor(max_workers=sends) as pool:
        results = list(pool.map(run, range(sends)))
    state = shop.seed("state", product=seeded["product"])
    statuses = Counter(status for status, _ms, _r in results)
    ids = {r.json()["id"] for _s, _ms, r in results if r.status in (200, 201)}
    return {"statuses": statuses, "orders": state["orders"], "ids": len(ids),
            "p95": _pct([ms for _s, ms, _r in results], .95),
            "ok": state["orders"] == 1 and len(ids) == 1 and statuses.get(201) == 1
            and statuses.get(200) == sends - 1}


def measure(label: str, database_url: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="orders-bench-") as tmp:
        shop = LiveShop(Path(tmp), workers=4, database_url=database_url)
        try:
            shop.start()
            return {"label": label, "rush": rush(shop), "steady": steady(shop),
                    "double": double_tap(shop)}
        finally:
            shop.stop()


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-write", action="store_true", help="print, do not edit the doc")
    args = parser.parse_args()
    runs = [measure("SQLite (WAL, IMMEDIATE)", "")]
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        runs.append(measure("PostgreSQL", url))
    load = _load()

    rows = []
    for run in runs:
        r, s, d = run["rush"], run["steady"], run["double"]
        rows.append(
            f"| {run['label']} | {r['statuses'].get(201, 0)} placed, "
            f"{r['statuses'].get(409, 0)} × 409 out of stock, "
            f"{sum(v for k, v in r['statuses'].items() if k >= 500)} × 5xx; "
            f"stock left {r['state']['stock']} | {r['wall_s']:.2f} s "
            f"(p50 {r['p50']:.0f} ms, p95 {r['p95']:.0f} ms) "
            f"| {s['per_s']:.1f} orders/s (p50 {s['p50']:.0f} ms, p95 {s['p95']:.0f} ms) "
            f"| {d['orders']} order, {d['statuses'].get(201, 0)} × 201 + "
            f"{d['statuses'].get(200, 0)} × 200 |"
        )
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = f"""{SECTION}

Measured by `bench/steps/60-orders` (`bench/orders_bench.py`) on {now};
machine: {os.cpu_count()} cores, Python {platform.python_version()}; gunicorn from
`shop/gunicorn.conf.py` with 4 sync workers, DEBUG off, on a scratch database
(a migrated SQLite file; PostgreSQL when DATABASE_URL points at one), clients
are threads in the bench process speaking HTTP to 127.0.0.1. 1-minute load
average at the end: {load}.
Reproduce: `make bench`, or `.venv/bin/python bench/orders_bench.py` for this
section alone (add `DATABASE_URL=postgres://...` for the PostgreSQL row).

{HEADER}
""" + "\n".join(rows) + """

- Every rush ends with exactly as many orders as there was stock, stock 0,
  and every other buyer a 409 `out_of_stock`; never a 5xx (the same checks as
  `tests/orders/test_live_concurrency.py`).
- Each checkout is one transaction: lock the cart, claim the idempotency
  key, one conditional `UPDATE ... WHERE stock >= q` per line, insert the
  lines, empty the cart, record the purchase events. On SQLite the
  transactions queue on the single writer lock (IMMEDIATE + busy timeout);
  latency above the single-request time is that queue and the other jobs
  on the machine.
"""
    if not args.no_write:
        write_section(SECTION, section)
    print(section)
    failed = [run["label"] for run in runs
              if not (run["rush"]["ok"] and run["steady"]["ok"] and run["double"]["ok"])]
    if failed:
        raise SystemExit(f"checkout guarantees broken on: {', '.join(failed)}")


if __name__ == "__main__":
    main()
