"""`manage.py run_worker`: run queued tasks, keep the schedule, re-queue dead workers' tasks.

One command for either engine (settings.TASKS): on the database engine it
runs django-tasks-db's worker loop, on RQ an RQ worker. Beside it a heartbeat
thread marks the worker alive (for /readyz and for finding tasks of killed
workers) and ticks the periodic schedule; any number of workers may run.
"""

from __future__ import annotations

import logging

from django.core.management.base import BaseCommand, CommandError
from django.utils.crypto import get_random_string

from core.tasks import QUEUES, Heartbeat, backend_kind

logger = logging.getLogger("shop.tasks")


class Command(BaseCommand):
    help = "Run background tasks (and the periodic schedule) until stopped with Ctrl-C or TERM."

    def add_arguments(self, parser):
        parser.add_argument("--burst", action="store_true",
                            help="run what is queued, then exit")
        parser.add_argument("--interval", type=float, default=1.0,
                            help="seconds between polls of an empty database queue (default 1)")
        parser.add_argument("--no-schedule", action="store_true",
                            help="do not enqueue the periodic tasks from this worker")
        parser.add_argument("--worker-id", default="",
                            help="unique id of this worker (default: random)")

    def handle(self, *args, burst, interval, no_schedule, worker_id, **options):
        kind = backend_kind()
        if kind == "immediate":
            raise CommandError("TASKS_BACKEND=immediate runs tasks in the caller; "
                               "there is nothing for a worker to do.")
        if interval < 0:
            raise CommandError(f"--interval: expected zero or more, got {interval}")
        worker_id = worker_id or get_random_string(24)
        beat = Heartbeat(worker_id=worker_id, backend=kind, scheduler=not no_schedule)
        # Before the first task is claimed: a task of ours must never look abandoned.
        beat.beat()
        beat.start()
        self.stdout.write(f"worker {worker_id}: {kind} engine, queues {','.join(QUEUES)}")
        self.stdout.flush()
        try:
            if kind == "database":
                self._run_database(worker_id, interval=interval, burst=burst)
            else:
                self._run_rq(worker_id, burst=burst)
        finally:
            beat.stop()

    def _run_database(self, worker_id: str, *, interval: float, burst: bool) -> None:
        from django_tasks_db.management.commands.db_worker import Worker

        worker = Worker(
            queue_names=list(QUEUES), interval=interval, batch=burst, backend_name="default",
            startup_delay=not burst, max_tasks=None, worker_id=worker_id,
            excluded_queue_names=[],
        )
        # Ctrl-C or TERM: finish the running task, then stop; a second one stops at once.
        worker.configure_signals()
        try:
            worker.run()
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise

    def _run_rq(self, worker_id: str, *, burst: bool) -> None:
        import django_rq
        from django_tasks_rq import Job

        worker = django_rq.get_worker(*QUEUES, job_class=Job, name=worker_id)
        # The RQ scheduler moves deferred tasks (retries with backoff) into the queue.
        worker.work(burst=burst, with_scheduler=True)
