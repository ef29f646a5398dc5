"""Measure background work and rewrite the "## Background tasks" section of docs/BENCHMARKS.md.

Run through `make bench` (bench/steps/55-tasks) or directly:
    .venv/bin/python bench/tasks_bench.py [--runs 5] [--before REV] [--fresh-run] [--no-write]

- Admin save of a product with one and with five 12 MP photos (4000x3000 JPEG),
  through Django's test client in this process (the upload is already in
  memory: no transfer time), before (TASKS_BACKEND=immediate: the photos are
  encoded inside the save, as every save did before the task engine) and
  after (database engine: the save stores the upload and queues its render).
- With --before REV (e.g. the last commit before the task engine): the same
  saves on a worktree of REV, where validation decoded each photo and the
  save decoded and encoded it again.
- Worker throughput: the queued 12 MP photos rendered by the database worker,
  in this process, in photos per minute.
- With --fresh-run: `make run` on a fresh clone of HEAD (the virtualenv of this
  checkout linked in, so dependencies count as installed) until the first page
  is served, and how many demo photos are ready a minute after that.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import secrets
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Background tasks"
PHOTO_SIZE = (4000, 3000)  # 12 MP


def setup_django(tmp: Path) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'tasks-bench.sqlite3'}"
    os.environ["SHOP_VAR_DIR"] = str(tmp)
    os.environ["DJANGO_MEDIA_ROOT"] = str(tmp / "media")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    os.environ["SHOP_PLAIN_STATIC"] = "1"
    os.environ["TASKS_BACKEND"] = "database"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-key-not-secret-000000000000000")
    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def camera_photos(count: int) -> list[bytes]:
    """Return `count` distinct 12 MP JPEGs of demo products (photographic texture and all)."""
    from PIL import Image

    from catalog.demo import draw_photo, product_spec

    photos = []
    for index in range(count):
        spec = product_spec(index, seed=7).photos[0]
        square = Image.open(io.BytesIO(draw_photo(spec, size=PHOTO_SIZE[0])))
        frame = square.crop((0, 500, PHOTO_SIZE[0], 500 + PHOTO_SIZE[1]))
        out = io.BytesIO()
        frame.save(out, "JPEG", quality=92)
        photos.append(out.getvalue())
    return photos


def admin_saves(photos: list[bytes], *, count: int, runs: int, engine: str) -> list[float]:
    """Return the seconds of each admin "add product" POST carrying `count` photos."""
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client, override_settings

    from catalog.models import Category

    try:
        from core.tasks import tasks_setting
    except ImportError:  # a checkout from before the task engine: --before-checkout
        tasks_setting = None

    user = get_user_model().objects.filter(username="bench").first() or \
        get_user_model().objects.create_superuser("bench", "b@example.com", secrets.token_hex(8))
    seller = _seller()
    category = Category.objects.get_or_create(slug="bench", defaults={"name": "Bench"})[0]
    client = Client()
    client.force_login(user)
    timings = []
    engine_settings = {"TASKS": tasks_setting(engine)} if tasks_setting else {}
    with override_settings(**engine_settings):
        for run in range(runs):
            data = {
                "seller": seller.pk, "title": f"Bench {engine} {count} {run}",
                "category": category.pk, "description": "", "price": "499", "currency": "INR",
                "compare_at_price": "", "stock": "3", "status": "draft", "external_id": "",
                "images-TOTAL_FORMS": str(count), "images-INITIAL_FORMS": "0",
                "images-MIN_NUM_FORMS": "0", "images-MAX_NUM_FORMS": "1000",
            }
            for index in range(count):
                data[f"images-{index}-original"] = SimpleUploadedFile(
                    f"IMG_{index}.jpg", photos[index], content_type="image/jpeg")
                data[f"images-{index}-alt_text"] = ""
                data[f"images-{index}-position"] = ""
            started = time.perf_counter()
            response = client.post("/admin/catalog/product/add/", data)
            timings.append(time.perf_counter() - started)
            if response.status_code != 302:
                raise SystemExit(f"admin save failed: {response.status_code}")
    return timings


def _seller():
    from catalog.models import Seller
    from catalog.services import seller_create

    return Seller.objects.filter(slug="bench-seller").first() or seller_create(
        username="bench-seller", email="s@example.com", password=secrets.token_hex(8),
        display_name="Bench seller")


def saves_at_revision(rev: str, *, runs: int) -> dict[int, list[float]]:
    """Return {photos: [seconds]} of the admin saves measured on a worktree of `rev`."""
    import json

    with tempfile.TemporaryDirectory(prefix="tasks-before-") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(tree), rev],  # noqa: S603, S607
                       cwd=ROOT, check=True)
        try:
            (tree / ".venv").symlink_to(ROOT / ".venv")
            script = tree / "bench" / "tasks_bench.py"
            script.write_text(Path(__file__).read_text())
            result = subprocess.run(  # noqa: S603
                [sys.executable, str(script), "--runs", str(runs), "--saves-only"], cwd=tree,
                capture_output=True, text=True, check=True)
            return {int(k): v for k, v in json.loads(result.stdout.splitlines()[-1]).items()}
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)],  # noqa: S603, S607
                           cwd=ROOT, check=False)


def worker_throughput() -> tuple[int, float]:
    """Run every queued task in this process; return (photos rendered, seconds)."""
    from django_tasks_db.management.commands.db_worker import Worker

    from catalog.models import ProductImage

    pending = ProductImage.objects.filter(status="pending").count()
    started = time.perf_counter()
    Worker(queue_names=["default"], interval=0, batch=True, backend_name="default",
           startup_delay=False, max_tasks=None, worker_id="bench",
           excluded_queue_names=[]).run()
    elapsed = time.perf_counter() - started
    if ProductImage.objects.filter(status="pending").exists():
        raise SystemExit("the worker left photos pending")
    return pending, elapsed


def fresh_make_run(timeout: float = 600) -> dict:
    """Time `make run` on a fresh clone of HEAD to its first page; then count ready photos."""
    with tempfile.TemporaryDirectory(prefix="fresh-run-") as tmp:
        clone = Path(tmp) / "shop"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)  # noqa: S603, S607
        (clone / ".venv").symlink_to(ROOT / ".venv")
        # Dependencies count as installed: the stamp must not look older than pyproject.toml.
        os.utime(clone / "pyproject.toml", (0, 0))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if k not in {
            "DATABASE_URL", "SHOP_VAR_DIR", "DJANGO_MEDIA_ROOT", "TASKS_BACKEND",
            "SHOP_PLAIN_STATIC", "DJANGO_ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE"}}
        env["PORT"] = str(port)
        started = time.monotonic()
        run = subprocess.Popen(["make", "run"], cwd=clone, env=env,  # noqa: S607
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
        first_page = None
        try:
            while time.monotonic() - started < timeout:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:  # noqa: S310
                        if r.status == 200:
                            first_page = time.monotonic() - started
                            break
                except OSError:
                    time.sleep(0.25)
            if first_page is None:
                raise SystemExit("make run served no page in time")
            time.sleep(60)
            with sqlite3.connect(clone / "var" / "shop.sqlite3", timeout=20) as db:
                (ready,) = db.execute(
                    "SELECT COUNT(*) FROM catalog_productimage WHERE status = 'ready'").fetchone()
                # One drawing task per demo photo was queued by seed_demo.
                (total,) = db.execute(
                    "SELECT COUNT(*) FROM django_tasks_database_dbtaskresult "
                    "WHERE task_path = 'catalog.tasks.demo_photo_task'").fetchone()
        finally:
            os.killpg(run.pid, 2)  # Ctrl-C, as a person stops it
            run.wait(timeout=60)
        return {"first_page": first_page, "ready_after_minute": ready or 0, "photos": total}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--fresh-run", action="store_true")
    parser.add_argument("--before", metavar="REV", help="also time the saves at git REV")
    parser.add_argument("--saves-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tasks-bench-") as tmp:
        setup_django(Path(tmp))
        photos = camera_photos(5)
        if args.saves_only:  # the child of --before, on the old revision
            import json

            print(json.dumps({count: admin_saves(photos, count=count, runs=args.runs,
                                                 engine="immediate") for count in (1, 5)}))
            return 0
        saves = {}
        for engine in ("immediate", "database"):
            for count in (1, 5):
                saves[engine, count] = admin_saves(photos, count=count, runs=args.runs,
                                                   engine=engine)
        rendered, seconds = worker_throughput()
    before = saves_at_revision(args.before, runs=args.runs) if args.before else None
    fresh = fresh_make_run() if args.fresh_run else None

    def median_ms(engine: str, count: int) -> str:
        return f"{statistics.median(saves[engine, count]) * 1000:,.0f} ms"

    def before_ms(count: int) -> str:
        return f"{statistics.median(before[count]) * 1000:,.0f} ms" if before else "not run"

    lines = [
        SECTION, "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores (shared), by `bench/tasks_bench.py --runs {args.runs}"
        f"{f' --before {args.before}' if before else ''}{' --fresh-run' if fresh else ''}`.", "",
        "Admin \"add product\" with 12 MP JPEG photos (4000x3000, about "
        f"{statistics.mean(map(len, photos)) / 1e6:.1f} MB each), median of {args.runs} saves, "
        "in-process test client (no upload transfer):", "",
        f"| photos | before ({args.before or 'old revision'}) | now, rendered in the save "
        "(TASKS_BACKEND=immediate) | now, render queued (database engine) |",
        "| ---: | ---: | ---: | ---: |",
        f"| 1 | {before_ms(1)} | {median_ms('immediate', 1)} | {median_ms('database', 1)} |",
        f"| 5 | {before_ms(5)} | {median_ms('immediate', 5)} | {median_ms('database', 5)} |",
        "",
        f"Worker: {rendered} queued 12 MP photos rendered (decode, sanitise, master, 15 variants,"
        f" placeholder) in {seconds:.1f} s by one database-engine worker: "
        f"**{rendered / seconds * 60:.0f} photos per minute** per worker process "
        "(one core each; run one per core).", "",
    ]
    if fresh:
        lines += [
            f"`make run` on a fresh clone (dependencies installed): first page served after "
            f"**{fresh['first_page']:.0f} s**; a minute later {fresh['ready_after_minute']} of "
            f"the {fresh['photos']} demo photos were ready (one worker drawing and encoding "
            "them while the shop serves; listings show their placeholder tile until then).", "",
        ]
    section = "\n".join(lines)
    print(section)
    if not args.no_write:
        sys.path.insert(0, str(ROOT / "bench"))
        from sections import write_section

        write_section(SECTION, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
