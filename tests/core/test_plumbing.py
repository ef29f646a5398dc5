"""core.tasks: retries with backoff, dead workers' tasks, the schedule lock, readiness."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core.models import ScheduledRun, WorkerHeartbeat
from core.tasks import (
    abandoned_requeue,
    heartbeat,
    schedule_run_now,
    schedule_tick,
    worker_readiness,
)
from tests.catalog.admin_support import PASSWORD, make_seller
from tests.core import tasks_for_tests
from tests.core.support import run_queued_tasks

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("database_tasks")]

REBUILD = "personalization.tasks.affinities_rebuild_task"


@pytest.fixture
def one_schedule(settings):
    settings.SHOP_TASK_SCHEDULE = {"rebuild_affinities": {"task": REBUILD, "every": 600}}


def queued(path: str) -> int:
    return DBTaskResult.objects.filter(task_path=path).count()


def test_a_failing_task_is_retried_later_with_a_growing_delay_then_given_up(settings):
    settings.SHOP_TASKS = {"RETRY_BACKOFF_SECONDS": 60}
    tasks_for_tests.CALLS.clear()
    # given a task that always fails with a retryable error
    tasks_for_tests.always_fails_task.enqueue(marker=7)

    # when the worker runs it
    run_queued_tasks()

    # then the run failed, with its error kept, and a second attempt waits a minute or so
    first, second = DBTaskResult.objects.order_by("enqueued_at")
    assert first.status == "FAILED" and "storage unreachable" in first.traceback
    assert second.status == "READY" and second.args_kwargs["kwargs"]["_attempt"] == 2
    delay = (second.run_after - timezone.now()).total_seconds()
    assert 40 < delay < 75
    # and attempts go on, each delay about twice the last, until the limit of three
    DBTaskResult.objects.filter(pk=second.pk).update(run_after=timezone.now())
    run_queued_tasks()
    third = DBTaskResult.objects.get(status="READY")
    assert third.args_kwargs["kwargs"]["_attempt"] == 3
    assert 90 < (third.run_after - timezone.now()).total_seconds() < 150
    DBTaskResult.objects.filter(pk=third.pk).update(run_after=timezone.now())
    run_queued_tasks()
    assert not DBTaskResult.objects.filter(status="READY").exists()
    assert DBTaskResult.objects.filter(status="FAILED").count() == 3
    assert tasks_for_tests.CALLS == [7, 7, 7]


def test_an_error_that_is_not_retryable_fails_once():
    tasks_for_tests.refuses_task.enqueue()
    run_queued_tasks()
    assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["FAILED"]


def test_a_dead_workers_task_is_queued_again_and_a_live_ones_is_left_alone(settings):
    settings.SHOP_TASKS = {"WORKER_STALE_SECONDS": 30, "MAX_ATTEMPTS": 3}
    now = timezone.now()
    long_ago = now - timedelta(minutes=5)
    heartbeat(worker_id="alive", backend="database", started_at=long_ago)
    WorkerHeartbeat.objects.create(worker_id="dead", hostname="h", pid=1, backend="database",
                                   started_at=long_ago, seen_at=long_ago)

    def running(worker_ids, started_at=long_ago):
        result = tasks_for_tests.refuses_task.enqueue()
        DBTaskResult.objects.filter(pk=result.id).update(
            status="RUNNING", started_at=started_at, worker_ids=worker_ids)
        return result.id

    of_dead = running(["dead"])
    of_alive = running(["alive"])
    just_claimed = running(["unknown-yet"], started_at=now)
    killed_too_often = running(["dead", "dead", "dead"])

    # when a worker looks for abandoned tasks
    requeued = abandoned_requeue(now=now)

    # then only the dead worker's task is ready again; one that killed three workers failed
    status = {str(pk): value for pk, value in DBTaskResult.objects.values_list("id", "status")}
    assert requeued == [str(of_dead)]
    assert status[of_dead] == "READY"
    assert status[of_alive] == status[just_claimed] == "RUNNING"
    assert status[killed_too_often] == "FAILED"


def test_two_workers_ticking_the_schedule_queue_one_run_per_interval(one_schedule):
    start = timezone.now()
    # given two workers that tick at the same moments
    ticks = [schedule_tick(now=start), schedule_tick(now=start)]
    # then one of them queued the rebuild
    assert sorted(map(len, ticks)) == [0, 1] and queued(REBUILD) == 1
    # and within the interval nobody queues it again
    assert schedule_tick(now=start + timedelta(seconds=599)) == []
    # and after it, exactly one does
    later = start + timedelta(seconds=600)
    assert len(schedule_tick(now=later)) + len(schedule_tick(now=later)) == 1
    assert queued(REBUILD) == 2


def test_staff_run_now_queues_the_task_and_restarts_its_interval(client, one_schedule):
    staff = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    client.force_login(staff)
    url = reverse("admin:core_scheduledrun_changelist")
    assert b"rebuild_affinities" in client.get(url).content

    response = client.post(url, {"action": "run_now", "_selected_action": ["rebuild_affinities"]})

    assert response.status_code == 302
    assert queued(REBUILD) == 1
    assert ScheduledRun.objects.get().last_enqueued_at is not None
    assert schedule_tick() == []  # the interval starts again from the manual run


def test_the_task_list_shows_state_duration_and_error_to_staff_only(client):
    tasks_for_tests.refuses_task.enqueue()
    run_queued_tasks()
    staff = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    client.force_login(staff)
    page = client.get(reverse("admin:django_tasks_database_dbtaskresult_changelist"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "refuses_task" in body and "Failed" in body
    assert "ValueError: not worth retrying" in body and " s</td>" in body

    client.force_login(make_seller("chitra").user)
    assert client.get(
        reverse("admin:django_tasks_database_dbtaskresult_changelist")).status_code == 403
    assert client.get(reverse("admin:core_scheduledrun_changelist")).status_code == 403


def test_run_now_of_an_unknown_schedule_is_an_error(one_schedule):
    with pytest.raises(KeyError):
        schedule_run_now(name="nope")


def test_readyz_reports_the_queue_and_the_workers(client, settings):
    # given no worker and a task waiting for a minute
    result = tasks_for_tests.refuses_task.enqueue()
    DBTaskResult.objects.filter(pk=result.id).update(
        enqueued_at=timezone.now() - timedelta(seconds=60))
    body = client.get("/readyz").json()
    # then the web side is ready and the worker is reported missing, with the backlog
    assert body["status"] == "ok"
    assert body["worker"]["status"] == "no_worker"
    assert body["worker"]["queue_depth"] == 1
    assert 59 <= body["worker"]["oldest_waiting_seconds"] < 70

    # when a worker is alive
    heartbeat(worker_id="w1", backend="database", started_at=timezone.now())
    assert worker_readiness()["status"] == "ok"
    assert worker_readiness()["workers"] == 1
