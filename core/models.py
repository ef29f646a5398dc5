"""Rows the task plumbing keeps: live workers and the last run of each schedule."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    """One running worker process, refreshed every few seconds while it lives.

    A task left RUNNING by a worker whose heartbeat went stale was killed with
    it (kill -9, OOM, a lost machine) and is put back in the queue.
    """

    worker_id = models.CharField(_("worker"), max_length=64, primary_key=True)
    hostname = models.CharField(_("host"), max_length=255)
    pid = models.PositiveIntegerField(_("process id"))
    backend = models.CharField(_("backend"), max_length=32)
    started_at = models.DateTimeField(_("started"))
    seen_at = models.DateTimeField(_("last seen"), db_index=True)

    class Meta:
        verbose_name = _("worker")
        verbose_name_plural = _("workers")

    def __str__(self) -> str:
        return f"{self.hostname}:{self.pid}"


class ScheduledRun(models.Model):
    """When a periodic task (settings.SHOP_TASK_SCHEDULE) was last put in the queue.

    The conditional UPDATE on this row is the lock: of several workers ticking
    at once, exactly one moves `last_enqueued_at` forward and enqueues.
    """

    name = models.CharField(_("schedule"), max_length=64, primary_key=True)
    last_enqueued_at = models.DateTimeField(_("last queued"), null=True, blank=True)
    last_task_id = models.CharField(_("last task id"), max_length=64, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("scheduled task")
        verbose_name_plural = _("scheduled tasks")

    def __str__(self) -> str:
        return self.name
