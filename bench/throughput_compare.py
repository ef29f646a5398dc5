"""Throughput of two commits side by side: feed page and feed API against hello, with wrk.

    .venv/bin/python bench/throughput_compare.py [BEFORE [AFTER]]   (default: 026816c HEAD)

Each commit is checked out in a scratch worktree and served by its own
gunicorn (shop/gunicorn.conf.py, 4 sync workers) on the same SQLite data: the
database is made and seeded once by BEFORE (photos included), copied, and
migrated by AFTER, so both serve the same rows. Then, in ROUNDS interleaved
rounds, each commit is measured in turn: hello, the feed API, hello, the feed
page, each for SECONDS with wrk (2 threads, 8 keep-alive connections) and
with the Python load generator of bench/steps/50-api (8 threads in 2
processes). Only one load runs at a time; the ratio to the hello view of the
same gunicorn in the same round is what compares (absolute figures on a
shared machine are noise). Prints a Markdown table and writes JSON to
bench/results/throughput-compare.json.
"""

# ruff: noqa: S603, S607 - a bench tool running our own commands (git, wrk, gunicorn)
from __future__ import annotations

import http.client
import json
import multiprocessing as mp
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ROUNDS = int(os.environ.get("COMPARE_ROUNDS", "3"))
SECONDS = int(os.environ.get("COMPARE_SECONDS", "5"))
PRODUCTS = os.environ.get("COMPARE_PRODUCTS", "200")
WORKERS = os.environ.get("WEB_CONCURRENCY", "4")


def _env(var: Path, port: int) -> dict:
    env = {**os.environ, "SHOP_VAR_DIR": str(var), "DATABASE_URL": f"sqlite:///{var}/shop.sqlite3",
           "DJANGO_DEBUG": "0", "SHOP_PLAIN_STATIC": "1", "SHOP_BENCH_HELLO": "1",
           "DJANGO_SECRET_KEY": "bench-only-key-not-secret-" + "0" * 30, "PORT": str(port),
           "WEB_CONCURRENCY": WORKERS, "GUNICORN_ACCESS_LOG": "/dev/null",
           "DJANGO_LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    return env


def _run(cmd: list[str], cwd: Path, env: dict) -> None:
    result = subprocess.run(cmd, cwd=cwd, env={**env, "PYTHONPATH": str(cwd)},
                            capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}:\n{result.stdout}\n{result.stderr}")


class Served:
    def __init__(self, ref: str, tree: Path, var: Path, port: int):
        self.ref, self.tree, self.var, self.port = ref, tree, var, port
        self.process = None

    def start(self) -> None:
        env = {**_env(self.var, self.port), "PYTHONPATH": str(self.tree)}
        self.process = subprocess.Popen([PY, "-m", "gunicorn", "-c", "shop/gunicorn.conf.py"],
                                        cwd=self.tree, env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        for _ in range(200):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"gunicorn for {self.ref} did not start")

    def stop(self) -> None:
        if self.process:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)

    def targets(self) -> dict[str, tuple[str, dict]]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("POST", "/api/v1/shoppers/", body=b"",
                     headers={"Content-Type": "application/json"})
        token = json.loads(conn.getresponse().read())["token"]
        plain = {"Accept-Encoding": "gzip"}
        conn.request("GET", "/", headers=plain)
        first = conn.getresponse()
        first.read()
        # Every cookie the first page set (the shopper's sid, the CSRF cookie),
        # sent back as a browser would: a shopper scrolling the feed is not a
        # new visitor on every page, whose CSRF secret would be made anew.
        sid = [c.split(";")[0].strip() for c in first.headers.get_all("Set-Cookie") or []]
        return {
            "hello": ("/api/v1/bench/hello/", plain),
            "feed API": ("/api/v1/feed/?limit=20", {**plain, "Authorization": f"Shopper {token}"}),
            "feed page": ("/", {**plain, "Cookie": "; ".join(sid + ["welcomed=1"])}),
        }


def wrk(port: int, path: str, headers: dict) -> float:
    args = ["wrk", "-t2", "-c8", f"-d{SECONDS}s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, f"http://127.0.0.1:{port}{path}"], capture_output=True,
                         text=True, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise SystemExit(f"{path}: {non_2xx.group(1)} non-2xx responses\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def _client(port, path, headers, deadline, out):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    done = 0
    while time.monotonic() < deadline:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"{path}: {response.status}")
        done += 1
    out.put(done)


def _process(port, path, headers, deadline, out):
    threads = [threading.Thread(target=_client, args=(port, path, headers, deadline, out))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def generator(port: int, path: str, headers: dict) -> float:
    out = mp.Queue()
    started = time.monotonic()
    deadline = started + SECONDS
    procs = [mp.Process(target=_process, args=(port, path, headers, deadline, out))
             for _ in range(2)]
    for p in procs:
        p.start()
    total = sum(out.get() for _ in range(8))
    for p in procs:
        p.join()
    return total / (time.monotonic() - started)


def _write_doc(refs: list[str], table: list[str]) -> None:
    import datetime as dt
    import platform

    sys.path.insert(0, str(ROOT))
    from bench.sections import write_section

    section = "\n".join([
        "## Throughput across commits (feed page and API against hello)",
        "",
        f"Measured by `bench/throughput_compare.py {' '.join(refs)}` on "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"{os.cpu_count()} cores shared with the load generators, Python "
        f"{platform.python_version()}: each commit served by its own gunicorn "
        f"(shop/gunicorn.conf.py, {WORKERS} sync workers, SQLite) on the same rows "
        f"(seed_demo --products {PRODUCTS} --shoppers 200 --events 5000 made by the first "
        "commit, copied and migrated by the second), photos included. "
        f"{ROUNDS} rounds interleave the commits; in each, hello then the endpoint for "
        f"{SECONDS} s with wrk (2 threads, 8 connections) and with the Python generator of "
        "bench/steps/50-api (8 keep-alive clients), one load at a time. The feed page "
        "is asked for with the cookies the shopper's first page set (sid, csrftoken), "
        "as a browser sends them. Budget "
        "(DESIGN.md, issue 11): feed page >= 0.25 and feed API >= 0.35 of hello.",
        "",
        *table,
        "",
        "026816c is main before the layers split (issue 11); the second row is the code "
        "after it. Reproduce: `.venv/bin/python bench/throughput_compare.py 026816c HEAD` "
        "(env COMPARE_ROUNDS, COMPARE_SECONDS, COMPARE_PRODUCTS, WEB_CONCURRENCY; "
        "COMPARE_WRITE_DOC=1 rewrites this section).",
        "",
    ])
    write_section("## Throughput across commits (feed page and API against hello)", section)


def main() -> None:
    refs = (sys.argv[1:] + ["026816c", "HEAD"][len(sys.argv[1:]):])[:2]
    work = Path(tempfile.mkdtemp(prefix="throughput-compare-"))
    served: list[Served] = []
    try:
        for index, ref in enumerate(refs):
            tree = work / f"tree-{index}"
            subprocess.run(["git", "worktree", "add", "--detach", str(tree), ref], cwd=ROOT,
                           check=True, capture_output=True)
            var = work / f"var-{index}"
            var.mkdir()
            served.append(Served(ref, tree, var, 8290 + index))
        first = served[0]
        env = _env(first.var, first.port)
        _run([PY, "manage.py", "migrate", "--noinput", "-v0"], first.tree, env)
        _run([PY, "manage.py", "seed_demo", "--products", PRODUCTS, "--shoppers", "200",
              "--events", "5000"], first.tree, env)
        for other in served[1:]:
            shutil.copy(first.var / "shop.sqlite3", other.var / "shop.sqlite3")
            if (first.var / "media").exists():
                shutil.copytree(first.var / "media", other.var / "media", dirs_exist_ok=True)
            _run([PY, "manage.py", "migrate", "--noinput", "-v0"], other.tree,
                 _env(other.var, other.port))
        for s in served:
            s.start()
        targets = {s.ref: s.targets() for s in served}
        ratios: dict = {s.ref: {tool: {"feed API": [], "feed page": []}
                                for tool in ("wrk", "generator")} for s in served}
        # Warm every worker of every server first (imports, caches, compiled
        # statements, ranking snapshots): a cold worker's first seconds are
        # not what either commit serves.
        for s in served:
            for path, headers in targets[s.ref].values():
                wrk(s.port, path, headers)
        for _round in range(ROUNDS):
            for s in served:
                for tool, measure in (("wrk", wrk), ("generator", generator)):
                    for name in ("feed API", "feed page"):
                        hello = measure(s.port, *targets[s.ref]["hello"])
                        value = measure(s.port, *targets[s.ref][name])
                        ratios[s.ref][tool][name].append(value / hello)
                        print(f"{s.ref} {tool} {name}: {value:.0f}/s, hello {hello:.0f}/s, "
                              f"ratio {value / hello:.3f}", flush=True)
        table = ["| commit | load generator | feed API / hello (median; rounds) "
                 "| feed page / hello (median; rounds) |", "|---|---|---|---|"]
        for s in served:
            commit = subprocess.run(["git", "rev-parse", "--short", s.ref], cwd=ROOT,
                                    capture_output=True, text=True).stdout.strip() or s.ref
            for tool in ("wrk", "generator"):
                cells = []
                for name in ("feed API", "feed page"):
                    values = ratios[s.ref][tool][name]
                    cells.append(f"{statistics.median(values):.3f} "
                                 f"({', '.join(f'{v:.2f}' for v in values)})")
                table.append(f"| {s.ref} ({commit}) | {tool} | {cells[0]} | {cells[1]} |")
        print("\n".join(table))
        if os.environ.get("COMPARE_WRITE_DOC") == "1":
            _write_doc(refs, table)
        out = ROOT / "bench" / "results" / "throughput-compare.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps({"refs": refs, "rounds": ROUNDS, "seconds": SECONDS,
                                   "ratios": ratios}, indent=1))
    finally:
        for s in served:
            s.stop()
            subprocess.run(["git", "worktree", "remove", "--force", str(s.tree)], cwd=ROOT,
                           capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
