"""Helpers for the task tests: run queued database tasks in this process."""

from __future__ import annotations

from django_tasks_db.management.commands.db_worker import Worker


def run_queued_tasks(*, worker_id: str = "test-worker") -> None:
    """Run every task queued on the database engine, here, until none is ready."""
    Worker(
        queue_names=["default"], interval=0, batch=True, backend_name="default",
        startup_delay=False, max_tasks=None, worker_id=worker_id, excluded_queue_names=[],
    ).run()
