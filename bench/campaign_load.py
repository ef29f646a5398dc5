"""The feed's throughput while a notification campaign sends: ratios to hello, idle and sending.

    .venv/bin/python bench/campaign_load.py [--shoppers 100000] [--rounds 3] [--seconds 5]
                                            [--no-write]

One SQLite database, served by one gunicorn (shop/gunicorn.conf.py, the same
environment as bench/throughput_compare.py: seed_demo --products 200
--shoppers 200 --events 5000) and written by one task worker
(`manage.py run_worker`, as scripts/serve.py starts it, but with
--no-schedule so only the campaign runs, not the hourly rebuilds). Beside
the demo data, `--shoppers` profiles in one region get one campaign, planned
by `campaign_plan` (one deferred row each). Their region's time zone is one
where it is daytime now, so the default quiet hours (21-8 local) hold
nothing back and the measurement does not depend on the hour it runs at.

Then `--rounds` rounds of two phases, idle then sending. In each phase, with
wrk (2 threads, 8 connections, `--seconds` each): hello, the feed API,
hello, the feed page; the ratio to the hello of the same phase is what
compares (absolute figures on a shared machine are noise). Idle: no worker
process. Sending: more of the campaign's rows are made due than one worker
can send during the phase (SEND_CEILING a second), a worker is started and
`notifications_deferred_send` queued; the phase's load starts once the first
message is sent, and the messages sent during the load give the send rate.
Then the worker sends the rest of what was released (no load) and stops on
TERM; the others stay held back (due far in the future) for the next phase.
Prints a Markdown table, writes JSON to bench/results/campaign-load.json
and, unless --no-write, the section "## Notifications: the feed while a
campaign sends" of docs/BENCHMARKS.md.
"""

# ruff: noqa: S603, S607 - a bench tool running our own commands (wrk, gunicorn, manage.py)
from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zoneinfo
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import throughput_compare as tc  # noqa: E402 - needs ROOT on the path

SECTION = "## Notifications: the feed while a campaign sends"
PORT = 8295
# Candidate zones for the campaign's shoppers; the first where it is between
# 09:00 and 18:59 now is used (outside the default quiet hours, 21-8, with
# two hours to spare for the run).
ZONES = ("Asia/Kolkata", "Asia/Dubai", "Europe/London", "America/Sao_Paulo",
         "America/New_York", "America/Los_Angeles", "Pacific/Auckland", "Asia/Tokyo")
# Campaign rows wait with this due date until a sending phase releases them.
HELD = dt.datetime(2999, 1, 1, tzinfo=dt.UTC)
# Messages per second released per sending phase: well above what one worker
# sends (237/s in-process on a quiet machine, 313-354/s here once the feed's
# impressions left the request path), so it never runs dry mid-load.
SEND_CEILING = 800


def daytime_zone(now: dt.datetime) -> str:
    for name in ZONES:
        if 9 <= now.astimezone(zoneinfo.ZoneInfo(name)).hour < 19:
            return name
    raise SystemExit("no candidate zone is in daytime now")  # cannot happen: they span 24 h


def setup(var: Path, shoppers: int) -> int:
    """Make and seed the database, plan the campaign (held back); return its id."""
    os.environ.update(tc._env(var, PORT))
    # Tasks go to the database for the worker, whatever the caller's shell says.
    os.environ["TASKS_BACKEND"] = "database"
    os.environ["DJANGO_SETTINGS_MODULE"] = "shop.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django_tasks_db.models import DBTaskResult

    from catalog.models import Region
    from notifications.campaigns import campaign_plan
    from notifications.models import Campaign, Notification
    from personalization.models import ShopperProfile

    call_command("migrate", verbosity=0, interactive=False)
    call_command("seed_demo", products=int(tc.PRODUCTS), shoppers=200, events=5000,
                 stdout=io.StringIO())
    # seed_demo queues its photos for a worker; bench/throughput_compare.py
    # never runs one, so its feeds show placeholder tiles. Drop them here too,
    # or the first sending phase would render photos instead of messages.
    DBTaskResult.objects.all().delete()
    now = dt.datetime.now(dt.UTC)
    zone = daytime_zone(now)
    region = Region.objects.create(code="BENCH-CAMPAIGN", name=f"Bench ({zone})",
                                   kind="country", time_zone=zone)
    for start in range(0, shoppers, 5000):
        ShopperProfile.objects.bulk_create(
            ShopperProfile(region=region) for _ in range(start, min(shoppers, start + 5000)))
    campaign = Campaign.objects.create(
        name="bench", title="Lamps from ₹99", body="Cash on delivery", link="/",
        region=region, send_on=now.astimezone(zoneinfo.ZoneInfo(zone)).date(), send_hour=0,
        status=Campaign.Status.SCHEDULED)
    started = time.perf_counter()
    planned = campaign_plan(campaign_id=campaign.pk)
    print(f"campaign {campaign.pk}: {planned} messages planned in "
          f"{time.perf_counter() - started:.1f} s for shoppers in {zone}", flush=True)
    Notification.objects.filter(dedupe_key=campaign.dedupe_key).update(send_after=HELD)
    connection.close()
    return campaign.pk


def _campaign_rows(campaign_id: int):
    from notifications.models import Notification

    return Notification.objects.filter(dedupe_key=f"campaign:{campaign_id}")


def sent_count(campaign_id: int) -> int:
    from django.db import connection

    from notifications.models import Notification

    try:
        return _campaign_rows(campaign_id).filter(status=Notification.Status.SENT).count()
    finally:
        connection.close()  # no connection (or snapshot) held open under load


def release(campaign_id: int, count: int) -> int:
    """Make the next `count` held rows of the campaign due now; return how many are due."""
    from django.db import connection

    from notifications.models import Notification

    held = _campaign_rows(campaign_id).filter(status=Notification.Status.DEFERRED,
                                              send_after=HELD).order_by("pk")
    last = held.values_list("pk", flat=True)[count - 1:count].first() \
        or held.values_list("pk", flat=True).last()
    if last is None:
        raise SystemExit("the campaign has no messages left; plan more with --shoppers")
    released = held.filter(pk__lte=last).update(send_after=dt.datetime.now(dt.UTC))
    connection.close()
    return released


def due_count(campaign_id: int) -> int:
    from django.db import connection

    from notifications.models import Notification

    try:
        return _campaign_rows(campaign_id).filter(
            status=Notification.Status.DEFERRED,
            send_after__lte=dt.datetime.now(dt.UTC)).count()
    finally:
        connection.close()


class Worker:
    """One `manage.py run_worker --no-schedule` sending part of the campaign.

    A phase makes due only what one worker cannot send before the load ends
    (`count`), and then waits for the release task to finish: holding the
    rest back mid-phase is no way to stop it, because a write from another
    connection waits on SQLite's lock until the running release batch is
    done (seconds), and TERM lets the worker finish its task first.
    """

    def __init__(self):
        self.process = None
        self.task = None

    def start(self, campaign_id: int, count: int) -> int:
        """Release `count` messages, start the worker; return once it sends."""
        from django.db import connection

        from notifications.tasks import notifications_deferred_send

        before = sent_count(campaign_id)
        released = release(campaign_id, count)
        self.process = subprocess.Popen(
            [tc.PY, "manage.py", "run_worker", "--no-schedule"], cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        self.task = notifications_deferred_send.enqueue()
        connection.close()
        for _ in range(300):
            if self.process.poll() is not None:
                raise SystemExit(f"the worker exited with status {self.process.returncode}")
            if sent_count(campaign_id) > before:
                return released
            time.sleep(0.1)
        raise SystemExit("the worker sent nothing in 30 s")

    def stop(self) -> None:
        """Wait for the release task to send what was due, then stop the worker."""
        from django.db import connection

        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            self.task.refresh()
            connection.close()
            if self.task.is_finished:
                break
            time.sleep(0.5)
        else:
            raise SystemExit("the release task did not finish in 10 min")
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=120)
        self.process = None


def measure(port: int, targets: dict) -> dict[str, float]:
    """Hello, feed API, hello, feed page with wrk; return req/s and the two ratios."""
    figures = {}
    for name in ("feed API", "feed page"):
        hello = tc.wrk(port, *targets["hello"])
        value = tc.wrk(port, *targets[name])
        figures[f"hello ({name})"] = hello
        figures[name] = value
        figures[f"{name} ratio"] = value / hello
    return figures


def run(var: Path, shoppers: int, rounds: int) -> dict:
    campaign_id = setup(var, shoppers)
    served = tc.Served("HEAD", ROOT, var, PORT)
    worker = Worker()
    phases = []
    served.start()
    try:
        targets = served.targets()
        for path, headers in targets.values():  # warm every gunicorn worker
            tc.wrk(PORT, path, headers)
        for number in range(1, rounds + 1):
            for state in ("idle", "sending"):
                if state == "sending":
                    # Four loads of `seconds` and wrk's start-ups, at a rate
                    # above what one worker sends on an idle machine.
                    worker.start(campaign_id, SEND_CEILING * (4 * tc.SECONDS + 4))
                sent_before, started = sent_count(campaign_id), time.monotonic()
                figures = measure(PORT, targets)
                seconds = time.monotonic() - started
                sent = sent_count(campaign_id) - sent_before
                # Still some due at the end: the worker was busy the whole phase.
                due_left = due_count(campaign_id)
                if state == "sending":
                    worker.stop()
                    if not due_left:
                        print("warning: the worker ran out of due messages before the "
                              "load ended; raise SEND_CEILING", flush=True)
                phase = {"round": number, "state": state, **figures, "sent": sent,
                         "seconds": seconds, "sent_per_s": sent / seconds, "due_left": due_left}
                phases.append(phase)
                print(f"round {number} {state}: feed API {figures['feed API ratio']:.3f}, "
                      f"feed page {figures['feed page ratio']:.3f} of hello "
                      f"(hello {figures['hello (feed API)']:.0f}/s); "
                      f"{sent} sent ({sent / seconds:.0f}/s)", flush=True)
    finally:
        if worker.process:  # failed mid-phase: the scratch database goes anyway
            os.killpg(worker.process.pid, signal.SIGKILL)
            worker.process.wait()
        served.stop()
    return {"shoppers": shoppers, "rounds": rounds, "seconds": tc.SECONDS,
            "products": int(tc.PRODUCTS), "workers": int(tc.WORKERS), "phases": phases}


def table(result: dict) -> list[str]:
    rows = ["| phase | feed API / hello (median; rounds) | feed page / hello (median; rounds) "
            "| req/s hello, feed API, feed page (medians) "
            "| messages sent per second (median; rounds) |",
            "|---|---|---|---|---|"]
    for state in ("idle", "sending"):
        phases = [p for p in result["phases"] if p["state"] == state]
        cells = []
        for key in ("feed API ratio", "feed page ratio"):
            values = [p[key] for p in phases]
            cells.append(f"{statistics.median(values):.3f} "
                         f"({', '.join(f'{v:.2f}' for v in values)})")
        hello = statistics.median(p[f"hello ({name})"] for p in phases
                                  for name in ("feed API", "feed page"))
        rates = [p["sent_per_s"] for p in phases]
        sending = (f"{statistics.median(rates):.0f} ({', '.join(f'{r:.0f}' for r in rates)})"
                   if state == "sending" else "0 (no worker)")
        label = "idle (no worker)" if state == "idle" else "sending (one worker)"
        api, page = (statistics.median(p[name] for p in phases)
                     for name in ("feed API", "feed page"))
        rows.append(f"| {label} | {cells[0]} | {cells[1]} | {hello:.0f}, {api:.0f}, {page:.1f} "
                    f"| {sending} |")
    return rows


def section(result: dict, rows: list[str]) -> str:
    return "\n".join([
        SECTION,
        "",
        f"Measured by `bench/campaign_load.py --shoppers {result['shoppers']} --rounds "
        f"{result['rounds']} --seconds {result['seconds']}` on "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"{os.cpu_count()} cores shared by gunicorn ({result['workers']} sync workers), the "
        f"task worker and wrk, Python {platform.python_version()}, SQLite (WAL). One "
        f"database: seed_demo --products {result['products']} --shoppers 200 --events 5000 "
        f"(photos left queued, as in the throughput comparison above) and a campaign to "
        f"{result['shoppers']:,} more shoppers, planned by `campaign_plan`. Rounds of two "
        "phases, idle (no worker process) then sending (one `manage.py run_worker` releasing "
        "and delivering the campaign: caps, quiet hours, inbox, events; Web Push off); in "
        f"each, with wrk (2 threads, 8 connections, {result['seconds']} s each): hello, the "
        "feed API, hello, the feed page. Messages per second are those sent while the "
        "phase's load ran.",
        "",
        *rows,
        "",
        "Reproduce: `.venv/bin/python bench/campaign_load.py` or `bench/steps/67-campaign-load` "
        "(options --shoppers, --rounds, --seconds; env COMPARE_PRODUCTS, WEB_CONCURRENCY as "
        "for bench/throughput_compare.py).",
        "",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shoppers", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    tc.SECONDS = args.seconds  # the shared wrk runner reads its duration from its module
    var = Path(tempfile.mkdtemp(prefix="campaign-load-"))
    try:
        result = run(var, args.shoppers, args.rounds)
    finally:
        shutil.rmtree(var, ignore_errors=True)
    rows = table(result)
    print("\n".join(rows))
    out = ROOT / "bench" / "results" / "campaign-load.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    if not args.no_write:
        from bench.sections import write_section

        write_section(SECTION, section(result, rows))


if __name__ == "__main__":
    main()
