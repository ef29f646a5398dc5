"""Staff pages for background work: recent tasks, the schedule (with "run now"), workers.

Only accounts with the models' view permission see them (superusers and any
staff given it); sellers' group has none of these permissions.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from core.models import ScheduledRun, WorkerHeartbeat
from core.tasks import schedule, schedule_run_now, tasks_config


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class TaskResultAdmin(DBTaskResultAdmin):
    """Recent tasks of the database engine: what ran, how long it took, how it failed."""

    list_display = ("task_name", "status", "enqueued_at", "duration", "attempt", "error")
    list_filter = ("status", "queue_name")
    search_fields = ("task_path", "=id")
    ordering = ["-enqueued_at"]
    list_per_page = 50
    show_full_result_count = False

    @admin.display(description=_("duration"))
    def duration(self, obj: DBTaskResult) -> str:
        if not obj.started_at:
            return "—"
        end = obj.finished_at or timezone.now()
        seconds = (end - obj.started_at).total_seconds()
        running = "" if obj.finished_at else " …"
        return f"{seconds:.1f} s{running}" if seconds < 600 else f"{seconds / 60:.0f} min{running}"

    @admin.display(description=_("attempt"))
    def attempt(self, obj: DBTaskResult) -> int:
        # Retries are new rows carrying `_attempt`; re-runs after a dead worker
        # add worker ids to the same row.
        kwargs = (obj.args_kwargs or {}).get("kwargs", {})
        return int(kwargs.get("_attempt", 1)) + max(0, len(obj.worker_ids or []) - 1)

    @admin.display(description=_("error"))
    def error(self, obj: DBTaskResult) -> str:
        if not obj.traceback:
            return ""
        last = obj.traceback.strip().splitlines()[-1]
        return last[:200]


@admin.register(ScheduledRun)
class ScheduledRunAdmin(ReadOnlyAdmin):
    """The periodic tasks (settings.SHOP_TASK_SCHEDULE) and a "run now" for staff."""

    list_display = ("name", "interval", "last_enqueued_at", "next_run", "last_task_id")
    actions = ["run_now"]

    def get_queryset(self, request: HttpRequest):
        # Rows for every configured schedule, also before a worker has ticked.
        ScheduledRun.objects.bulk_create(
            [ScheduledRun(name=name) for name in schedule()], ignore_conflicts=True
        )
        return super().get_queryset(request).filter(name__in=list(schedule()))

    @admin.display(description=_("every"))
    def interval(self, obj: ScheduledRun) -> str:
        seconds = schedule().get(obj.name, {}).get("every", 0)
        return f"{seconds // 60} min" if seconds >= 60 else f"{seconds} s"

    @admin.display(description=_("next run"))
    def next_run(self, obj: ScheduledRun):
        if obj.last_enqueued_at is None:
            return _("when a worker starts")
        return obj.last_enqueued_at + timedelta(seconds=schedule()[obj.name]["every"])

    def has_run_now_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("core.view_scheduledrun")

    @admin.action(description=_("Run selected now"), permissions=["run_now"])
    def run_now(self, request: HttpRequest, queryset) -> None:
        names = list(queryset.values_list("name", flat=True))
        for name in names:
            schedule_run_now(name=name)
        self.message_user(
            request,
            ngettext("%(names)s queued; the worker runs it next.",
                     "%(names)s queued; the worker runs them next.", len(names))
            % {"names": ", ".join(names)},
            messages.SUCCESS,
        )


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    """Workers seen recently; one not seen for WORKER_STALE_SECONDS is presumed dead."""

    list_display = ("worker_id", "hostname", "pid", "backend", "started_at", "seen_at", "alive")
    ordering = ["-seen_at"]

    @admin.display(description=_("alive"), boolean=True)
    def alive(self, obj: WorkerHeartbeat) -> bool:
        stale = timedelta(seconds=tasks_config()["WORKER_STALE_SECONDS"])
        return obj.seen_at >= timezone.now() - stale
