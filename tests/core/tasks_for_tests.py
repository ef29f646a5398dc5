"""Tasks the tests enqueue: module-level, as the tasks API requires."""

from django_tasks import task

from core.tasks import retrying

CALLS: list[int] = []


@task()
@retrying(attempts=3, retry_on=(OSError,))
def always_fails_task(*, marker: int) -> None:
    CALLS.append(marker)
    raise OSError("storage unreachable")


@task()
@retrying(attempts=3, retry_on=(OSError,))
def refuses_task() -> None:
    raise ValueError("not worth retrying")
