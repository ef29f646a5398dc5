"""Helpers for the task tests: run queued database tasks in this process."""

from __future__ import annotations

from unittest import mock

from django_tasks_db.management.commands import db_worker


def run_queued_tasks(*, worker_id: str = "test-worker") -> None:
    """Run every task queued on the database engine, here, until none is ready.

    The worker loop closes stale connections between tasks, as a long-lived
    process should; here that connection is the test's own, holding its
    transaction (with CONN_MAX_AGE=0 PostgreSQL would lose it), so that one
    housekeeping call is skipped.
    """
    with mock.patch.object(db_worker, "close_old_connections", lambda: None):
        db_worker.Worker(
            queue_names=["default"], interval=0, batch=True, backend_name="default",
            startup_delay=False, max_tasks=None, worker_id=worker_id, excluded_queue_names=[],
        ).run()
