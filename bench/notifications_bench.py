"""Measure campaign planning and sending; rewrite "## Notifications" in docs/BENCHMARKS.md.

Run through `make bench` (bench/steps/65-notifications) or directly:
    .venv/bin/python bench/notifications_bench.py [--shoppers 100000] [--send 5000] [--no-write]

On a fresh SQLite file (or DATABASE_URL if given): `--shoppers` profiles in
three regions of two time zones, one campaign to all of them, planned by
`campaign_plan` (one deferred row per shopper, bulk INSERTs), then `--send`
of them released and delivered by one worker's loop
(`notifications_deferred_send`'s body: caps, quiet hours, stops, the inbox
delivery and the events; Web Push is off, so this is the shop's own cost per
message, not a push service's latency).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Notifications"


def setup_django(tmp: Path) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'notifications-bench.sqlite3'}")
    os.environ["SHOP_VAR_DIR"] = str(tmp)
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    os.environ["TASKS_BACKEND"] = "immediate"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-key-not-secret-000000000000000")
    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def run(shoppers: int, send: int) -> dict:
    from django.db import transaction
    from django.test.utils import override_settings

    from catalog.models import Region
    from notifications import services
    from notifications.campaigns import campaign_plan
    from notifications.models import Campaign, Notification
    from personalization.models import ShopperProfile

    india = Region.objects.create(code="IN", name="India", kind="country", currency="INR",
                                  time_zone="Asia/Kolkata")
    pune = Region.objects.create(code="IN-MH", name="Maharashtra", kind="state", parent=india)
    uae = Region.objects.create(code="AE", name="UAE", kind="country", currency="AED",
                                time_zone="Asia/Dubai")
    regions = [india, pune, uae]
    started = time.perf_counter()
    for start in range(0, shoppers, 5000):
        ShopperProfile.objects.bulk_create(
            ShopperProfile(region=regions[i % 3]) for i in range(start, min(shoppers,
                                                                            start + 5000)))
    seeded = time.perf_counter() - started
    today = dt.date.today()
    campaign = Campaign.objects.create(name="bench", title="Lamps from ₹99", body="COD",
                                       link="/", send_on=today, send_hour=0,
                                       status=Campaign.Status.SCHEDULED)
    started = time.perf_counter()
    planned = campaign_plan(campaign_id=campaign.pk)
    plan_seconds = time.perf_counter() - started
    # Release a sample, as one worker does, outside quiet hours and caps.
    with override_settings(NOTIFICATIONS={"QUIET_HOURS": (0, 0), "DAILY_CAP": 100}):
        ids = list(Notification.objects.filter(status="deferred").order_by("pk")
                   .values_list("pk", flat=True)[send:])
        with transaction.atomic():
            Notification.objects.filter(pk__in=ids).update(
                send_after=dt.datetime(2999, 1, 1, tzinfo=dt.UTC))
        started = time.perf_counter()
        released = 0
        while True:
            sent = services.notifications_deferred_release(limit=1000)
            for pk in sent:
                services.notification_deliver(notification_id=pk)
            released += len(sent)
            if not sent:
                break
        send_seconds = time.perf_counter() - started
    return {"shoppers": shoppers, "seed_s": seeded, "planned": planned,
            "plan_s": plan_seconds, "sent": released, "send_s": send_seconds}


def section(result: dict) -> str:
    from django.db import connection

    plan_rate = result["planned"] / result["plan_s"]
    send_rate = result["sent"] / result["send_s"]
    eta = result["planned"] / send_rate
    rows = [
        (f"campaign planned for {result['planned']:,} shoppers (`campaign_plan`, bulk INSERTs)",
         f"{result['plan_s']:.1f} s ({plan_rate:,.0f} rows/s)"),
        (f"sent by one worker (release + inbox + events, Web Push off), "
         f"sample of {result['sent']:,}",
         f"{result['send_s']:.1f} s: **{send_rate:,.0f} messages/s per worker**"),
        (f"so {result['planned']:,} messages with one worker",
         f"about {eta / 60:.0f} min (more workers divide it; SQLite has one writer)"),
    ]
    table = "\n".join(f"| {step} | {figure} |" for step, figure in rows)
    return f"""{SECTION}

Measured by `bench/notifications_bench.py` on {platform.node()} ({os.cpu_count()} CPUs,
{connection.vendor}), {dt.date.today().isoformat()}.

| step | figure |
|---|---|
{table}

The feed's throughput while a campaign sends (a worker beside gunicorn on one
SQLite database): the next section, by `bench/campaign_load.py`. Not measured
yet: Web Push's own cost per message against a real push service.
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shoppers", type=int, default=100_000)
    parser.add_argument("--send", type=int, default=5000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        setup_django(Path(tmp))
        result = run(args.shoppers, args.send)
        text = section(result)
        print(text)
        if not args.no_write:
            sys.path.insert(0, str(ROOT / "bench"))
            from sections import write_section

            write_section(SECTION, text)


if __name__ == "__main__":
    main()
