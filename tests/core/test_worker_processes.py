"""Real worker processes on a real database file: kill -9 mid-task, two workers and a schedule.

Each worker is `manage.py run_worker`, as `make run` and production start it,
against a migrated SQLite file of its own (the suite's in-memory database
cannot be shared with another process).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
RENDER = "catalog.tasks.product_image_render_task"
REBUILD = "personalization.tasks.affinities_rebuild_task"

ADD_PHOTO = """
from tests.factories import ProductFactory, make_image_bytes
from catalog.services.images import product_image_add
import io, json
image = product_image_add(product=ProductFactory(),
                          upload=io.BytesIO(make_image_bytes(width=4000, height=3000, seed=5)))
print(json.dumps({"image": image.pk}))
"""


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    var = tmp_path_factory.mktemp("var")
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "REDIS_URL", "TASKS_REDIS_URL", "DATABASE_REPLICA_URL"}}
    env |= {
        "DJANGO_SETTINGS_MODULE": "shop.settings", "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50), "SHOP_VAR_DIR": str(var),
        "DJANGO_MEDIA_ROOT": str(var / "media"), "TASKS_BACKEND": "database",
        # Quick heartbeats so a dead worker is noticed within seconds.
        "SHOP_TASKS_HEARTBEAT_SECONDS": "0.3", "SHOP_TASKS_WORKER_STALE_SECONDS": "2",
        "SHOP_REBUILD_AFFINITIES_EVERY": "0", "SHOP_REFRESH_ANALYTICS_EVERY": "0",
        "SHOP_IMAGE_SWEEP_EVERY": "0", "DJANGO_LOG_LEVEL": "WARNING",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    return {"env": env, "db": var / "shop.sqlite3", "media": var / "media", "manage": manage}


def start_worker(shop, worker_id: str, **env) -> subprocess.Popen:
    return subprocess.Popen(
        [*shop["manage"], "run_worker", "--worker-id", worker_id, "--interval", "0.1"],
        cwd=ROOT, env=shop["env"] | env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def query(shop, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(shop["db"], timeout=20) as db:
        return db.execute(sql, params).fetchall()


def wait_for(predicate, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def task_rows(shop, path: str) -> list[tuple]:
    return query(shop, "SELECT status, worker_ids FROM django_tasks_database_dbtaskresult "
                       "WHERE task_path = ?", path)


def test_a_task_whose_worker_is_killed_runs_again_and_its_result_is_complete_and_unique(shop):
    # given a 12 MP photo queued for rendering
    added = subprocess.run([*shop["manage"], "shell", "-c", ADD_PHOTO], cwd=ROOT,
                           env=shop["env"], capture_output=True, text=True, timeout=120)
    assert added.returncode == 0, added.stderr
    image_id = json.loads(added.stdout.strip().splitlines()[-1])["image"]

    # when a worker starts it and is killed with SIGKILL half way through
    first = start_worker(shop, "doomed")
    try:
        wait_for(lambda: [row[0] for row in task_rows(shop, RENDER)] == ["RUNNING"],
                 timeout=60, what="the render to start")
        time.sleep(0.3)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop(first)
    # then the task is left RUNNING and the photo unfinished
    assert [row[0] for row in task_rows(shop, RENDER)] == ["RUNNING"]
    assert query(shop, "SELECT status FROM catalog_productimage WHERE id = ?",
                 image_id) == [("pending",)]

    # when another worker comes up
    second = start_worker(shop, "survivor")
    try:
        wait_for(lambda: query(shop, "SELECT status FROM catalog_productimage WHERE id = ?",
                               image_id) == [("ready",)], timeout=90, what="the re-run")
    finally:
        stop(second)

    # then the same task ran again, on the second worker, and succeeded
    [(status, worker_ids)] = task_rows(shop, RENDER)
    assert (status, json.loads(worker_ids)) == ("SUCCESSFUL", ["doomed", "survivor"])
    # and the photo is complete: 5 widths x 3 formats, each a distinct file
    [(original, variants)] = query(
        shop, "SELECT original, variants FROM catalog_productimage WHERE id = ?", image_id)
    names = {variant["name"] for variant in json.loads(variants)}
    assert len(names) == len(json.loads(variants)) == 15
    # and storage holds exactly the row's files: no second copies, no upload left over
    stored = {str(path.relative_to(shop["media"])) for path in shop["media"].rglob("*")
              if path.is_file()}
    assert stored == names | {original}
    assert original.startswith("products/masters/")


def test_two_workers_run_a_scheduled_rebuild_once_per_interval(shop):
    # given two workers started together, with the rebuild due every hour
    every_hour = {"SHOP_REBUILD_AFFINITIES_EVERY": "3600"}
    workers = [start_worker(shop, name, **every_hour) for name in ("one", "two")]
    try:
        # when both have ticked the schedule many times (a tick every 0.3 s)
        wait_for(lambda: [row[0] for row in task_rows(shop, REBUILD)] == ["SUCCESSFUL"],
                 timeout=90, what="the rebuild")
        time.sleep(2)
    finally:
        for worker in workers:
            stop(worker)
    # then the rebuild was queued and run exactly once
    assert [row[0] for row in task_rows(shop, REBUILD)] == ["SUCCESSFUL"]
    assert [worker.returncode for worker in workers] == [0, 0]
    # and both workers said goodbye (their heartbeats are gone)
    assert query(shop, "SELECT worker_id FROM core_workerheartbeat "
                       "WHERE worker_id IN ('one', 'two')") == []


def probe(shop, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*shop["manage"], "tasks_probe", *args], cwd=ROOT, env=shop["env"],
                          capture_output=True, text=True, timeout=120)


def test_tasks_probe_times_the_queue_through_a_running_worker(shop):
    # given a worker polling every 0.1 s
    worker = start_worker(shop, "prober")
    try:
        # when an operator probes the queue three times
        done = probe(shop, "--count", "3", "--interval", "0", "--json")
    finally:
        stop(worker)
    # then each probe was taken by the worker and timed from enqueue to start
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["probes"] == 3
    assert 0 <= summary["waited_ms_p50"] <= summary["waited_ms_max"] <= summary["done_ms_max"]
    assert summary["done_ms_max"] < 30_000
    ran = query(shop, "SELECT status, worker_ids FROM django_tasks_database_dbtaskresult "
                      "WHERE task_path = 'core.probes.queue_probe_task' ORDER BY enqueued_at")
    assert [(status, json.loads(ids)) for status, ids in ran][-3:] == [
        ("SUCCESSFUL", ["prober"])] * 3


def test_tasks_probe_without_a_worker_says_so_instead_of_waiting_forever(shop):
    done = probe(shop, "--count", "1", "--timeout", "1")
    assert done.returncode == 1
    assert "no worker started the probe task" in done.stderr
    assert "run_worker" in done.stderr
