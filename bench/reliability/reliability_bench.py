"""`make bench` step 60-reliability: the long runs of the reliability suite.

1. Hostile uploads through gunicorn: the seller admin's change form with the
   photo inline, posted as multipart, once per crafted file
   (tests/reliability/hostile_files.py): accepted, 5xx, time per file.
2. Lost writes under load: minutes of mixed traffic (feed page, feed API,
   event batches, cart + checkout) on file SQLite, then PostgreSQL when it
   answers; acknowledged vs stored, stock arithmetic, 5xx, "database is
   locked", p50/p99 per request type.
3. Crash: kill -9 of master and workers mid-write on SQLite, several rounds;
   integrity_check and every acknowledged write found.
4. Schemathesis over the whole API (both fuzz suites, more examples).

Rewrites the "## Reliability" section of docs/BENCHMARKS.md. Ports 8800-8899.
Environment: RELIABILITY_LOAD_SECONDS (default 180), RELIABILITY_CLIENTS (16),
RELIABILITY_CRASH_ROUNDS (3), RELIABILITY_PG_URL (default
postgres://postgres@127.0.0.1:5432/h_prod), SHOP_FUZZ_EXAMPLES (60).
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")  # only to import the pipeline's messages here

import django  # noqa: E402

django.setup()

import requests  # noqa: E402

from bench.sections import write_section  # noqa: E402
from tests.reliability.hostile_files import (  # noqa: E402
    high_entropy_photos,
    hostile_files,
    oversized_files,
)
from tests.reliability.hostile_requests import hostile_requests  # noqa: E402
from tests.reliability.live_load import (  # noqa: E402
    KINDS,
    ReliabilityShop,
    locked_lines,
    run_load,
    sqlite_state,
    stored_state,
)

LOAD_SECONDS = int(os.environ.get("RELIABILITY_LOAD_SECONDS", "180"))
CLIENTS = int(os.environ.get("RELIABILITY_CLIENTS", "16"))
CRASH_ROUNDS = int(os.environ.get("RELIABILITY_CRASH_ROUNDS", "3"))
PG_URL = os.environ.get("RELIABILITY_PG_URL", "postgres://postgres@127.0.0.1:5432/h_prod")
FUZZ_EXAMPLES = os.environ.get("SHOP_FUZZ_EXAMPLES", "60")
WORKERS = 5
STOCK = 1_000_000
# tests/orders/live_seed.py's seller in a throwaway live database, not a real account.
SELLER_PASSWORD = "Quartz-Mango-4471-river"  # noqa: S105


def log(message: str) -> None:
    print(message, flush=True)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


# --- 1. hostile uploads --------------------------------------------------------------------

def uploads(tmp: Path) -> dict:
    shop = ReliabilityShop(tmp / "uploads", workers=2, database_url="")
    shop.tmp_dir.mkdir()
    shop.start()
    try:
        product = shop.seed("buyers", count=0, stock=5, quantity=0,
                            title="Upload target")["product"]
        category = shop.manage("shell", "-c", (
            "from catalog.models import Product;"
            f"print(Product.objects.get(pk={product}).category_id)")).stdout.split()[-1]
        session = requests.Session()
        login = f"{shop.url}/admin/login/"
        session.get(login, timeout=30)
        answer = session.post(login, data={
            "username": "live-seller", "password": SELLER_PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"], "next": "/admin/"},
            headers={"Referer": login}, timeout=30)
        assert answer.url.endswith("/admin/"), "seller login failed"
        change = f"{shop.url}/admin/catalog/product/{product}/change/"
        page = session.get(change, timeout=30).text
        stock_seen = re.search(r'name="stock_seen" value="(\d+)"', page).group(1)
        form = {
            "title": "Upload target", "category": category, "description": "",
            "price": "299.00", "compare_at_price": "", "currency": "INR", "stock": "5",
            "stock_seen": stock_seen, "status": "active", "external_id": "",
            "images-TOTAL_FORMS": "1", "images-INITIAL_FORMS": "0",
            "images-MIN_NUM_FORMS": "0", "images-MAX_NUM_FORMS": "1000",
            "images-0-alt_text": "photo", "images-0-position": "0",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        }
        cases = hostile_files() + oversized_files(15 * 1024 * 1024)
        media = shop.tmp_dir / "media"
        before = {p for p in media.rglob("*") if p.is_file()} if media.exists() else set()
        durations, accepted, server_errors, statuses = [], [], [], {}

        def post(case):
            started = time.perf_counter()
            response = session.post(change, data=form, headers={"Referer": change},
                                    files={"images-0-original": (case.name, case.data,
                                                                 case.content_type)},
                                    allow_redirects=False, timeout=120)
            durations.append(time.perf_counter() - started)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            return response

        for case in cases:
            response = post(case)
            if response.status_code >= 500:
                server_errors.append(case.label)
            elif response.status_code != 200 or "errorlist" not in response.text:
                accepted.append(case.label)
        rows = shop.manage("shell", "-c", (
            "from catalog.models import ProductImage;"
            "print(ProductImage.objects.count())")).stdout.split()[-1]
        after = {p for p in media.rglob("*") if p.is_file()} if media.exists() else set()
        # Honest but incompressible photos (noise, high ISO): each must be stored.
        honest = high_entropy_photos()
        stored, honest_errors = 0, []
        for case in honest:
            response = post(case)
            if response.status_code >= 500:
                server_errors.append(case.label)
                honest_errors.append(case.label)
            elif response.status_code == 302:
                stored += 1
            else:
                honest_errors.append(case.label)
        return {"files": len(cases), "accepted": len(accepted), "accepted_labels": accepted,
                "honest": len(honest), "honest_stored": stored, "honest_errors": honest_errors,
                "server_errors": len(server_errors), "rows": int(rows),
                "new_files": len(after - before), "statuses": statuses,
                "median": statistics.median(durations), "max": max(durations),
                "p90": sorted(durations)[int(0.9 * len(durations))],
                "over_2s": sum(d >= 2 for d in durations)}
    finally:
        shop.stop()


# --- 1b. hostile API requests -------------------------------------------------------------

def _raw(shop, case, token: str) -> tuple[int, bytes]:
    """Send `case` byte for byte (urllib would re-quote the path) and return (status, body)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", shop.port, timeout=120)
    headers = {"Authorization": f"Shopper {token}", "Accept-Encoding": "identity",
               **case.headers}
    if case.content_type:
        headers["Content-Type"] = case.content_type
    try:
        conn.putrequest(case.method, case.path, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value.encode("utf-8"))
        conn.putheader("Content-Length", str(len(case.body or b"")))
        try:
            conn.endheaders(case.body or None)
        except ConnectionError:
            pass  # refused mid-send (a 413 answered before the body): the answer is waiting
        response = conn.getresponse()
        return response.status, response.read()
    except (ConnectionError, http.client.HTTPException):
        return 0, b""  # closed without an answer
    finally:
        conn.close()


def bad_requests(tmp: Path, backend: str) -> dict:
    url = PG_URL if backend == "PostgreSQL" else ""
    shop = ReliabilityShop(tmp / f"requests-{backend}", workers=2, database_url=url)
    shop.tmp_dir.mkdir()
    # Throttles off for this run: a 429 would answer before the body is even parsed.
    shop.env.update(SHOP_API_RATE_SHOPPER_WRITE="1000000/min", SHOP_API_RATE_IP_WRITE="1000000/min")
    shop.start()
    try:
        schema = shop.request("GET", "/api/v1/schema/?format=json").json()
        cases = hostile_requests(schema)
        tokens = shop.seed("buyers", count=len(cases), stock=5, quantity=0,
                           title="Fuzz target")["tokens"]
        statuses, server_errors, wrong_shape, dropped = {}, [], [], 0
        for case, token in zip(cases, tokens, strict=True):
            status, body = _raw(shop, case, token)
            statuses[status] = statuses.get(status, 0) + 1
            if status == 0:
                dropped += 1
            elif status >= 500:
                server_errors.append(case.label)
            elif status >= 400 and b'"error"' not in body[:20]:
                wrong_shape.append(case.label)
        return {"backend": backend, "requests": len(cases), "statuses": statuses,
                "server_errors": server_errors, "wrong_shape": wrong_shape, "dropped": dropped}
    finally:
        shop.stop()


# --- 2. load -------------------------------------------------------------------------------

def pg_reachable() -> bool:
    host_port = PG_URL.split("@", 1)[-1].split("/", 1)[0]
    host, _, port = host_port.partition(":")
    try:
        with socket.create_connection((host, int(port or 5432)), timeout=2):
            return True
    except OSError:
        return False


def pg_state(shop, *, product: int, result) -> dict:
    import psycopg

    with psycopg.connect(shop.env["DATABASE_URL"]) as conn:
        stored = stored_state(conn, product=product, result=result,
                              integrity="n/a (PostgreSQL)", param="%s")
    return as_row(stored)


def as_row(stored) -> dict:
    return {"integrity": stored.integrity, "stock": stored.stock, "units": stored.units_ordered,
            "missing_events": stored.missing_events, "missing_orders": stored.missing_orders}


def load(tmp: Path, backend: str) -> dict:
    url = PG_URL if backend == "PostgreSQL" else ""
    shop = ReliabilityShop(tmp / f"load-{backend}", workers=WORKERS, database_url=url)
    shop.tmp_dir.mkdir()
    shop.start()
    try:
        # Photos drawn and rendered in the command: no task worker runs beside this server.
        shop.manage("seed_demo", "--products", "60", "--shoppers", "200", "--events", "3000",
                    extra_env={"TASKS_BACKEND": "immediate"}, timeout=900)
        shop.manage("rebuild_affinities", timeout=600)
        seeded = shop.seed("buyers", count=CLIENTS, stock=STOCK, quantity=0,
                           title="Load test item")
        product, tokens = seeded["product"], seeded["tokens"]
        log(f"   {backend}: {CLIENTS} clients for {LOAD_SECONDS} s against {WORKERS} workers"
            " and one task worker, probing the queue every 2 s")
        # The task worker as `make run` starts it (1 s polls, the schedule on), and
        # probes through it while the clients run: the queue latency under this load.
        worker = subprocess.Popen([sys.executable, "manage.py", "run_worker"], cwd=ROOT,
                                  env=shop.env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        probes: dict = {}
        count = max(1, LOAD_SECONDS // 2 - 5)
        prober = threading.Thread(target=lambda: probes.update(json.loads(shop.manage(
            "tasks_probe", "--count", str(count), "--interval", "2", "--json",
            timeout=LOAD_SECONDS * 3).stdout.strip().splitlines()[-1])))
        prober.start()
        try:
            result = run_load(shop, tokens=tokens, product=product, seconds=LOAD_SECONDS)
            prober.join(timeout=LOAD_SECONDS * 3)
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=60)
        if backend == "PostgreSQL":
            state = pg_state(shop, product=product, result=result)
        else:
            state = as_row(sqlite_state(shop.tmp_dir / "shop.sqlite3", product=product,
                                        result=result))
        return {"backend": backend, "result": result, "state": state,
                "locked": locked_lines(shop.server_log()), "probes": probes}
    finally:
        shop.stop()


# --- 3. crash ------------------------------------------------------------------------------

def crash(tmp: Path, round_no: int, rng: random.Random) -> dict:
    shop = ReliabilityShop(tmp / f"crash-{round_no}", workers=WORKERS, database_url="")
    shop.tmp_dir.mkdir()
    shop.start()
    try:
        seeded = shop.seed("buyers", count=CLIENTS, stock=STOCK, quantity=0, title="Crash item")
        product, tokens = seeded["product"], seeded["tokens"]
        stop, results = threading.Event(), {}
        worker = threading.Thread(target=lambda: results.update(r=run_load(
            shop, tokens=tokens, product=product, seconds=300, stop=stop,
            kinds=("events", "checkout"))))
        worker.start()
        delay = rng.uniform(5, 15)
        time.sleep(delay)
        os.killpg(shop.process.pid, signal.SIGKILL)
        shop.process.wait(timeout=10)
        stop.set()
        worker.join(timeout=300)
        result = results["r"]
        stored = sqlite_state(shop.tmp_dir / "shop.sqlite3", product=product, result=result)
        shop.log.close()
        shop.start()
        ready = shop.request("GET", "/readyz").status
        return {"after_s": delay, "events": len(result.acked_events),
                "orders": len(result.acked_orders), "integrity": stored.integrity,
                "missing_events": stored.missing_events, "missing_orders": stored.missing_orders,
                "stock_ok": STOCK == stored.stock + stored.units_ordered,
                "server_errors": result.server_errors, "readyz_after_restart": ready}
    finally:
        shop.stop()


# --- 4. schemathesis -----------------------------------------------------------------------

def fuzz() -> list[dict]:
    rows = []
    for suite in ("tests/api/test_schema_fuzz.py", "tests/orders/test_api_fuzz.py",
                  # The hostile-input and proxy suites of issue 12, as the gate they are.
                  "tests/reliability/test_hostile_requests.py",
                  "tests/reliability/test_request_fuzz.py",
                  "tests/reliability/test_proxy_throttles.py"):
        started = time.perf_counter()
        result = subprocess.run(  # noqa: S603 - our own test runner, fixed arguments
            ["bash", "scripts/test.sh", suite, "-q", "-p", "no:cacheprovider"],  # noqa: S607
            cwd=ROOT, capture_output=True, text=True, timeout=3600,
            env={**os.environ, "SHOP_FUZZ_EXAMPLES": FUZZ_EXAMPLES, "DJANGO_DEBUG": "0"})
        summary = (result.stdout.strip().splitlines() or ["(no output)"])[-1]
        rows.append({"suite": suite, "ok": result.returncode == 0, "summary": summary,
                     "seconds": time.perf_counter() - started})
    return rows


# --- report --------------------------------------------------------------------------------

def report(up: dict, bad: list[dict], loads: list[dict], crashes: list[dict],
           fuzzed: list[dict]) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## Reliability",
        "",
        f"`bench/steps/60-reliability` ({when}; 2 shared cores, other suites running). "
        "The short versions of each run are in `tests/reliability/` (`make test`).",
        "",
        "### Hostile uploads through the seller admin (gunicorn, multipart change form)",
        "",
        "| files | accepted | 5xx | ProductImage rows | files written | median | p90 | max "
        "| over 2 s |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {up['files']} | {up['accepted']} | {up['server_errors']} | {up['rows']} | "
        f"{up['new_files']} | {ms(up['median'])} ms | {ms(up['p90'])} ms | {ms(up['max'])} ms "
        f"| {up['over_2s']} |",
        "",
        "Polyglots (PNG/JPEG/WebP + HTML, PHP, SVG, shell, ZIP; GIFAR; JPEG+JAR), SVG with "
        "script/XXE/javascript: links, PSD/TIFF/EPS/PDF/GIF/BMP/HEIC/ICO/TGA/PPM/PCX/JPEG 2000/"
        "DDS renamed, animated GIF/PNG/WebP, pixel bombs up to 16M x 16M declared, truncated "
        "files, PNG bit flips, broken JPEG segments, hostile names (double extensions, "
        "traversal, NUL bytes), zero-byte and oversized files. Then "
        f"{up['honest']} honest high-entropy photos (8-bit noise PNG and JPEG, high-ISO "
        f"JPEG at 400x300, 1000x800, 2000x1500), which must be stored: {up['honest_stored']} "
        f"stored. Answers over all {up['files'] + up['honest']} uploads: "
        + ", ".join(f"{n} x {s}" for s, n in sorted(up["statuses"].items())) + ".",
        "",
        "### Hostile API requests through gunicorn (every schema operation)",
        "",
        "`tests/reliability/hostile_requests.py`, built from the OpenAPI schema: hostile path "
        "bytes (NUL, invalid and overlong UTF-8, encoded surrogates, traversal, CRLF, 300 "
        "characters), bodies on every operation (JSON 1,000 deep, 33 deep, lone surrogates, "
        "NUL, invalid UTF-8, UTF-16, latin-1, unknown charsets, NaN, a 5,000-digit number, "
        "forms, multipart, 10 MB), NUL and 5,000-character query strings, bad tokens; one "
        "fresh shopper token per request, throttles lifted so every body is read.",
        "",
        "| database | requests | 5xx | 4xx not in the error shape | answers |",
        "|---|---|---|---|---|",
        *[f"| {b['backend']} | {b['requests']} | {len(b['server_errors'])} | "
          f"{len(b['wrong_shape'])} | "
          + ", ".join(f"{n} x {'closed' if st == 0 else st}"
                      for st, n in sorted(b["statuses"].items())) + " |" for b in bad],
        "",
        f"### Lost writes under load ({CLIENTS} clients, {WORKERS} gunicorn sync workers, "
        f"{LOAD_SECONDS} s each)",
        "",
        "| database | requests | 5xx | events acknowledged / missing | orders acknowledged / "
        "missing | stock start = left + ordered | \"database is locked\" |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in loads:
        r, s = run["result"], run["state"]
        total = sum(len(v) for v in r.latencies.values())
        lines.append(
            f"| {run['backend']} | {total} | {r.server_errors} | {len(r.acked_events)} / "
            f"{s['missing_events']} | {len(r.acked_orders)} / {s['missing_orders']} | "
            f"{STOCK} = {s['stock']} + {s['units']}"
            f" ({'holds' if STOCK == s['stock'] + s['units'] else 'BROKEN'}) | {run['locked']} |")
    lines += ["", "| database | request | count | p50 | p99 | statuses |",
              "|---|---|---|---|---|---|"]
    for run in loads:
        r = run["result"]
        for kind in KINDS:
            statuses = ", ".join(f"{n} x {s}" for s, n in sorted(r.statuses[kind].items()))
            lines.append(f"| {run['backend']} | {kind} | {len(r.latencies[kind])} | "
                         f"{ms(r.percentile(kind, 0.5))} ms | {ms(r.percentile(kind, 0.99))} ms "
                         f"| {statuses} |")
    lines += [
        "",
        "`checkout` is one add-to-cart, one cart read and one checkout in a row; `events` is a "
        "batch of 10. Each client is one shopper token. The latencies are mostly queueing: "
        "the clients are closed loops with no think time, so they keep every worker of the "
        "two shared cores busy all the time (seed, other suites and the clients themselves "
        "share those cores). The figures this run exists for are the zeros above.",
        "",
        "Queue latency under that load (issue 14): one task worker as `make run` starts it "
        "(`run_worker`, 1 s polls, schedule on) beside the server, and `manage.py tasks_probe "
        "--interval 2` sending a no-op task through the engine every 2 s while the clients "
        "run; waited = enqueued to started by the worker, done = enqueued to the prober "
        "seeing it finished.",
        "",
        "| database | probes | waited, median | waited, max | done, median | done, max |",
        "|---|---|---|---|---|---|",
        *[f"| {run['backend']} | {p.get('probes', 0)} | {p.get('waited_ms_p50', 'n/a')} ms | "
          f"{p.get('waited_ms_max', 'n/a')} ms | {p.get('done_ms_p50', 'n/a')} ms | "
          f"{p.get('done_ms_max', 'n/a')} ms |" for run in loads for p in [run["probes"]]],
        "",
        "### kill -9 of gunicorn's master and workers during writes (SQLite file)",
        "",
        "| round | killed after | events acknowledged | orders acknowledged | integrity_check "
        "| acknowledged but missing | stock adds up | 5xx | /readyz after restart |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for i, c in enumerate(crashes, 1):
        lines.append(
            f"| {i} | {c['after_s']:.1f} s | {c['events']} | {c['orders']} | {c['integrity']} | "
            f"{c['missing_events'] + c['missing_orders']} | {'yes' if c['stock_ok'] else 'NO'} "
            f"| {c['server_errors']} | {c['readyz_after_restart']} |")
    lines += ["", f"### Schemathesis over the API ({FUZZ_EXAMPLES} examples per operation) and "
              "the hostile-input suites", "",
              "Both fuzz suites together cover every operation in the schema. Each case runs "
              "Schemathesis' full default check set (no 5xx, status codes, content types, "
              "headers and bodies conform to the schema, invalid input refused, undocumented "
              "methods 405...) minus two documented exclusions: positive_data_acceptance where "
              "a well-typed but unknown slug or region code is rightly a 400, and "
              "negative_data_rejection on the events batch, whose partly bad batches are a "
              "documented 207. Then the hostile-request suites: every case of "
              "`test_hostile_requests.py` (deep JSON, NUL, surrogates, 5,000-character URLs, "
              "10 MB bodies, bad tokens), the in-process request fuzz, and "
              "`test_proxy_throttles.py`: gunicorn with 3 workers and no Redis behind proxy "
              "stand-ins on 127.0.0.1 (client A's failures never lock B, a forged "
              "X-Forwarded-For from an untrusted peer changes nothing, a slowed account opens "
              "for its owner after the slow-down, 40 event posts against 30/min give exactly "
              "30 x 200).", "", "| suite | result | time |", "|---|---|---|"]
    for f in fuzzed:
        lines.append(f"| `{f['suite']}` | {'pass' if f['ok'] else 'FAIL'}: {f['summary']} | "
                     f"{f['seconds']:.0f} s |")
    return "\n".join(lines) + "\n"


def main() -> int:
    rng = random.Random(60)
    with tempfile.TemporaryDirectory(prefix="reliability-") as tmp_name:
        tmp = Path(tmp_name)
        log("== reliability: hostile uploads")
        up = uploads(tmp)
        log(f"   {up['files']} files, {up['accepted']} accepted, {up['server_errors']} 5xx, "
            f"median {ms(up['median'])} ms, max {ms(up['max'])} ms")
        bad = []
        for backend in ("SQLite", "PostgreSQL"):
            if backend == "PostgreSQL" and not pg_reachable():
                continue
            log(f"== reliability: hostile API requests on {backend}")
            bad.append(bad_requests(tmp, backend))
            log(f"   {bad[-1]['requests']} requests, {len(bad[-1]['server_errors'])} 5xx "
                f"{bad[-1]['server_errors'][:5]}, {len(bad[-1]['wrong_shape'])} off-shape "
                f"{bad[-1]['wrong_shape'][:5]}")
        loads = []
        for backend in ("SQLite", "PostgreSQL"):
            if backend == "PostgreSQL" and not pg_reachable():
                log("   PostgreSQL not reachable: skipped")
                continue
            log(f"== reliability: load on {backend}")
            loads.append(load(tmp, backend))
        crashes = []
        for round_no in range(1, CRASH_ROUNDS + 1):
            log(f"== reliability: crash round {round_no}")
            crashes.append(crash(tmp, round_no, rng))
            log(f"   {crashes[-1]}")
    log("== reliability: schemathesis")
    fuzzed = fuzz()
    section = report(up, bad, loads, crashes, fuzzed)
    write_section("## Reliability", section)
    log(section)
    failed = (up["accepted"] or up["server_errors"] or up["rows"] or up["new_files"]
              or up["honest_errors"]
              or any(b["server_errors"] or b["wrong_shape"] for b in bad)
              or any(run["result"].server_errors or run["locked"]
                     or run["state"]["missing_events"] or run["state"]["missing_orders"]
                     for run in loads)
              or any(c["integrity"] != "ok" or c["missing_events"] or c["missing_orders"]
                     or not c["stock_ok"] for c in crashes)
              or not all(f["ok"] for f in fuzzed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
