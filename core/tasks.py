"""Background work on Django's tasks API: settings, enqueueing, retries, the schedule, workers.

Tasks are written against `django_tasks` (the backport of `django.tasks`, built
in from Django 6.0: on upgrade the import changes, nothing else). Two engines:

- "database" (the embedded default): tasks are rows in the shop's own
  database, run by `manage.py run_worker` (which `make run` starts beside
  gunicorn). Nothing else to operate.
- "rq": tasks in Redis, run by RQ workers on any number of machines
  (docs/DEPLOY.md). RQ rather than Celery: django-tasks-rq comes from the
  backport's own author and maps the API one to one, and RQ needs Redis and
  nothing else (no broker and result-backend choices, no beat process of its
  own: the schedule below works on either engine).

This module imports no domain app; tasks live in their apps' tasks.py.
"""

from __future__ import annotations

import functools
import logging
import os
import random
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.db.models import Min, Q
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger("shop.tasks")

BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
QUEUES = ["default"]

DEFAULTS = {
    # A worker writes its heartbeat this often (seconds) and ticks the schedule.
    "HEARTBEAT_SECONDS": 5.0,
    # A RUNNING task whose worker has not been seen for this long is re-queued.
    "WORKER_STALE_SECONDS": 30.0,
    # Runs of one task (retries and re-runs after a dead worker) before it is failed.
    "MAX_ATTEMPTS": 5,
    # First retry delay (seconds); doubled each attempt, with jitter.
    "RETRY_BACKOFF_SECONDS": 10.0,
}


# --- Settings helpers (called from shop/settings.py) -------------------------------


def tasks_setting(name: str) -> dict:
    """Return Django's TASKS setting for the engine called `name` (TASKS_BACKEND)."""
    from django.core.exceptions import ImproperlyConfigured

    name = (name or "database").strip().lower()
    if name not in BACKENDS:
        raise ImproperlyConfigured(
            f"TASKS_BACKEND={name!r}: expected one of {', '.join(sorted(BACKENDS))}"
        )
    return {"default": {"BACKEND": BACKENDS[name], "QUEUES": list(QUEUES)}}


def rq_queues_setting(redis_url: str) -> dict:
    """Return django-rq's RQ_QUEUES for `redis_url`."""
    # A job is killed after this long; the rebuilds are the longest tasks.
    return {name: {"URL": redis_url, "DEFAULT_TIMEOUT": 1800} for name in QUEUES}


def tasks_config() -> dict:
    """Return the task settings (settings.SHOP_TASKS over DEFAULTS), read at call time."""
    return {**DEFAULTS, **getattr(settings, "SHOP_TASKS", {})}


def _backend(alias: str = "default"):
    from django_tasks import task_backends

    return task_backends[alias]


def backend_kind(alias: str = "default") -> str:
    """Return "database", "rq", "immediate" (or the class name) for the backend `alias`."""
    path = f"{type(_backend(alias)).__module__}.{type(_backend(alias)).__name__}"
    for kind, dotted in BACKENDS.items():
        if path == dotted or path.startswith(dotted.rsplit(".", 1)[0] + "."):
            return kind
    return type(_backend(alias)).__name__


# --- Enqueueing --------------------------------------------------------------------


def enqueue_on_commit(task, *args: Any, **kwargs: Any):
    """Enqueue `task` so that it runs only if the caller's transaction commits.

    On the database engine the task row is written in the caller's own
    transaction: it commits or rolls back with the data it is about, so a crash
    can neither lose the task nor run it on rows that never existed. Other
    engines enqueue once the transaction has committed (a worker on another
    machine must find the rows). The immediate engine (tests) runs it now.
    Return the TaskResult when enqueued at once, else None.
    """
    kind = backend_kind(task.backend)
    if kind in ("database", "immediate"):
        return task.enqueue(*args, **kwargs)
    transaction.on_commit(lambda: task.enqueue(*args, **kwargs))
    return None


def retry_delay(attempt: int, *, base: float | None = None) -> float:
    """Return the seconds to wait before attempt `attempt + 1`: doubling, with jitter."""
    base = tasks_config()["RETRY_BACKOFF_SECONDS"] if base is None else base
    return base * 2 ** max(0, attempt - 1) * random.uniform(0.8, 1.2)


def retrying(
    *, attempts: int | None = None, retry_on: tuple[type[BaseException], ...] = (Exception,),
) -> Callable:
    """Decorate a task function (under @task) so failures run it again later, with backoff.

    The failed run keeps its error (the staff task list shows it) and a new run
    is queued with `_attempt` + 1 and `run_after` pushed out. Engines that
    cannot defer (immediate) just fail. The function must be idempotent:
    a retry, or a re-run after a killed worker, may repeat work already done.
    """

    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def run(*args: Any, _attempt: int = 1, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except retry_on:
                limit = attempts or tasks_config()["MAX_ATTEMPTS"]
                task = import_string(f"{func.__module__}.{func.__qualname__}")
                if _attempt < limit and task.get_backend().supports_defer:
                    when = timezone.now() + timedelta(seconds=retry_delay(_attempt))
                    task.using(run_after=when).enqueue(*args, _attempt=_attempt + 1, **kwargs)
                    logger.warning("task %s failed (attempt %d of %d); retrying at %s",
                                   task.name, _attempt, limit, when.isoformat())
                raise

        return run

    return decorate


# --- The schedule --------------------------------------------------------------------


def schedule() -> dict[str, dict]:
    """Return settings.SHOP_TASK_SCHEDULE: {name: {"task": dotted path, "every": seconds}}."""
    return {
        name: entry for name, entry in getattr(settings, "SHOP_TASK_SCHEDULE", {}).items()
        if entry.get("every", 0) > 0
    }


def schedule_tick(*, now: datetime | None = None) -> list[str]:
    """Enqueue every scheduled task whose interval has passed; return their names.

    Safe on any number of workers at once: each run is claimed by one
    conditional UPDATE, which only one of them can win per interval.
    """
    from core.models import ScheduledRun

    now = now or timezone.now()
    entries = schedule()
    if not entries:
        return []
    ScheduledRun.objects.bulk_create(
        [ScheduledRun(name=name) for name in entries], ignore_conflicts=True
    )
    started = []
    for name, entry in entries.items():
        due = Q(last_enqueued_at__isnull=True) | Q(
            last_enqueued_at__lte=now - timedelta(seconds=entry["every"])
        )
        with transaction.atomic():
            won = ScheduledRun.objects.filter(due, name=name).update(last_enqueued_at=now)
            if won:
                _enqueue_scheduled(name, entry)
                started.append(name)
    return started


def schedule_run_now(*, name: str) -> None:
    """Enqueue the scheduled task `name` now (staff's "refresh now") and restart its interval."""
    from core.models import ScheduledRun

    entries = schedule()
    if name not in entries:
        raise KeyError(name)
    with transaction.atomic():
        ScheduledRun.objects.update_or_create(
            name=name, defaults={"last_enqueued_at": timezone.now()}
        )
        _enqueue_scheduled(name, entries[name])


def _enqueue_scheduled(name: str, entry: dict) -> None:
    from core.models import ScheduledRun

    task = import_string(entry["task"])
    if backend_kind(task.backend) in ("database", "immediate"):
        result = task.enqueue()
        ScheduledRun.objects.filter(name=name).update(last_task_id=str(result.id))
    else:
        transaction.on_commit(lambda: task.enqueue())


# --- Workers: heartbeats, dead workers, readiness ----------------------------------------


def heartbeat(*, worker_id: str, backend: str, started_at: datetime) -> None:
    """Record that worker `worker_id` is alive now."""
    from core.models import WorkerHeartbeat

    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={"hostname": socket.gethostname()[:255], "pid": os.getpid(),
                  "backend": backend, "started_at": started_at, "seen_at": timezone.now()},
    )


def heartbeat_forget(*, worker_id: str) -> None:
    """Remove the heartbeat of a worker that stopped cleanly."""
    from core.models import WorkerHeartbeat

    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def abandoned_requeue(*, now: datetime | None = None) -> list[str]:
    """Put tasks back in the queue whose worker died mid-run; return their ids.

    Database engine only (RQ finds its own abandoned jobs). A task is abandoned
    when it is RUNNING, started a while ago, and its worker has not been seen
    for WORKER_STALE_SECONDS. One that has already killed MAX_ATTEMPTS workers
    is failed instead of being allowed to kill another.
    """
    from django_tasks_db.models import DBTaskResult

    from core.models import WorkerHeartbeat

    config = tasks_config()
    now = now or timezone.now()
    stale = now - timedelta(seconds=config["WORKER_STALE_SECONDS"])
    alive = set(WorkerHeartbeat.objects.filter(seen_at__gte=stale)
                .values_list("worker_id", flat=True))
    requeued = []
    for row in DBTaskResult.objects.filter(status="RUNNING", started_at__lt=stale).only(
        "id", "worker_ids", "status"
    ):
        if row.worker_ids and row.worker_ids[-1] in alive:
            continue
        # Conditional on the row being unchanged: a worker that was only slow
        # to heartbeat and finishes now wins, and nothing is run twice at once.
        claimed = DBTaskResult.objects.filter(
            pk=row.pk, status="RUNNING", worker_ids=row.worker_ids
        )
        if len(row.worker_ids) >= config["MAX_ATTEMPTS"]:
            claimed.update(
                status="FAILED", finished_at=now,
                exception_class_path="core.tasks.WorkerDied",
                traceback=f"WorkerDied: the worker running this task died "
                          f"{len(row.worker_ids)} times; not retried again.",
            )
            continue
        if claimed.update(status="READY", started_at=None):
            requeued.append(str(row.pk))
            logger.warning("task %s: worker %s died mid-run; queued again",
                           row.pk, (row.worker_ids or ["?"])[-1])
    return requeued


class WorkerDied(Exception):
    """A task's worker was killed while running it too often."""


def worker_readiness(*, now: datetime | None = None) -> dict:
    """Return the queue depth, the age of the oldest waiting task and the live workers."""
    from core.models import WorkerHeartbeat

    now = now or timezone.now()
    config = tasks_config()
    kind = backend_kind()
    workers = WorkerHeartbeat.objects.filter(
        seen_at__gte=now - timedelta(seconds=config["WORKER_STALE_SECONDS"])
    ).count()
    depth, oldest = _queue_state(kind, now)
    age = round((now - oldest).total_seconds(), 1) if oldest else 0.0
    status = "ok" if kind == "immediate" or workers else "no_worker"
    return {"status": status, "backend": kind, "workers": workers, "queue_depth": depth,
            "oldest_waiting_seconds": max(0.0, age)}


def _queue_state(kind: str, now: datetime) -> tuple[int, datetime | None]:
    if kind == "database":
        from django_tasks_db.models import DBTaskResult

        waiting = DBTaskResult.objects.ready()
        state = waiting.aggregate(oldest=Min("enqueued_at"))
        return waiting.count(), state["oldest"]
    if kind == "rq":
        import django_rq

        depth, oldest = 0, None
        for name in QUEUES:
            queue = django_rq.get_queue(name)
            depth += queue.count
            first = queue.get_jobs(0, 1)
            if first and first[0].enqueued_at:
                when = first[0].enqueued_at
                when = when if timezone.is_aware(when) else when.replace(tzinfo=timezone.utc)
                oldest = when if oldest is None else min(oldest, when)
        return depth, oldest
    return 0, None


class Heartbeat(threading.Thread):
    """Beside a worker's main loop: heartbeat, tick the schedule, re-queue dead workers' tasks.

    A thread, so a long task never makes its own worker look dead. It uses its
    own database connection (Django's connections are per thread).
    """

    def __init__(self, *, worker_id: str, backend: str, scheduler: bool = True) -> None:
        super().__init__(name=f"heartbeat-{worker_id}", daemon=True)
        self.worker_id = worker_id
        self.backend = backend
        self.scheduler = scheduler
        self.started_at = timezone.now()
        self.stopped = threading.Event()

    def beat(self) -> None:
        """Do one round of the thread's work (also called once before the worker starts)."""
        close_old_connections()
        heartbeat(worker_id=self.worker_id, backend=self.backend, started_at=self.started_at)
        if self.scheduler:
            for name in schedule_tick():
                logger.info("schedule: %s queued", name)
        if self.backend == "database":
            abandoned_requeue()

    def run(self) -> None:
        interval = tasks_config()["HEARTBEAT_SECONDS"]
        try:
            while not self.stopped.wait(interval):
                try:
                    self.beat()
                except Exception:  # noqa: BLE001 - a locked or lost database must not end the thread
                    logger.exception("worker heartbeat failed; trying again")
        finally:
            connections.close_all()

    def stop(self) -> None:
        self.stopped.set()
        if self.is_alive():
            self.join(timeout=5)
        try:
            heartbeat_forget(worker_id=self.worker_id)
        except Exception:  # noqa: BLE001 - shutting down; the row just goes stale
            logger.exception("could not remove the worker's heartbeat")
