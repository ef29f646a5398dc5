"""How long a task waits in the queue right now: a no-op task sent through the
real engine and timed from enqueue to start (operators' `manage.py tasks_probe`,
the reliability bench's queue latency under mixed load)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.utils import timezone
from django_tasks import TaskResultStatus, task

from .tasks import backend_kind


class ProbeError(Exception):
    """The probe could not be sent or no worker took it in time."""


@dataclass(frozen=True)
class ProbeTiming:
    waited_ms: float  # enqueued -> started by a worker: the queue latency
    total_ms: float  # enqueued -> finished, as the caller saw it


@task()
def queue_probe_task(*, sent_at: str) -> str:
    """Do nothing: the task's own enqueued/started times are the measurement."""
    return sent_at


def queue_probe_send(*, timeout: float = 30.0, poll: float = 0.05) -> ProbeTiming:
    """Return the timings of one probe task run by whichever worker takes it."""
    if backend_kind(queue_probe_task.backend) == "immediate":
        raise ProbeError("TASKS_BACKEND=immediate runs tasks in the caller: there is no queue "
                         "to measure.")
    result = queue_probe_task.enqueue(sent_at=timezone.now().isoformat())
    deadline = time.monotonic() + timeout
    while True:
        result.refresh()
        if result.status == TaskResultStatus.SUCCESSFUL:
            break
        if result.status == TaskResultStatus.FAILED:
            raise ProbeError(f"the probe task {result.id} failed: {result.errors}")
        if time.monotonic() > deadline:
            raise ProbeError(f"no worker started the probe task {result.id} within "
                             f"{timeout:g} s: is `manage.py run_worker` running?")
        time.sleep(poll)
    waited = (result.started_at - result.enqueued_at).total_seconds()
    total = (timezone.now() - result.enqueued_at).total_seconds()
    return ProbeTiming(waited_ms=max(waited, 0.0) * 1000, total_ms=max(total, 0.0) * 1000)
