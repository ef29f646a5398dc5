"""The distributed engine: the same tasks on RQ, against a real Redis (skipped without one).

CI's second pass sets REDIS_URL; a local run uses database 13 of the Redis on
127.0.0.1 when it answers.
"""

from __future__ import annotations

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import ProductImage
from catalog.services.images import image_file_names, product_image_add
from core.tasks import rq_queues_setting, tasks_setting, worker_readiness
from tests.factories import ProductFactory, make_image_bytes

REDIS_URL = os.environ.get("TASKS_REDIS_URL") or os.environ.get("REDIS_URL") \
    or "redis://127.0.0.1:6379/13"


def _redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not _redis_answers(), reason=f"no Redis answering at {REDIS_URL}"),
]


@pytest.fixture
def rq_tasks(settings):
    import django_rq

    settings.RQ_QUEUES = rq_queues_setting(REDIS_URL)
    settings.TASKS = tasks_setting("rq")
    queue = django_rq.get_queue("default")
    queue.empty()
    yield queue
    queue.empty()


def run_rq_burst() -> None:
    """Run what is queued in this process (it sees the test's uncommitted rows)."""
    import django_rq
    from django_tasks_rq import Job
    from rq import SimpleWorker

    django_rq.get_worker("default", job_class=Job, worker_class=SimpleWorker).work(burst=True)


def test_an_upload_is_rendered_by_an_rq_worker_after_the_commit(
    rq_tasks, settings, django_capture_on_commit_callbacks
):
    # when a photo is added
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        image = product_image_add(product=ProductFactory(), upload=io.BytesIO(
            make_image_bytes(width=1000, height=750)))
    # then the request path stored it pending and queued one job in Redis, on commit
    assert len(callbacks) == 1
    assert image.status == ProductImage.Status.PENDING
    assert rq_tasks.count == 1
    readiness = worker_readiness()
    assert (readiness["backend"], readiness["queue_depth"]) == ("rq", 1)

    # when an RQ worker runs
    run_rq_burst()

    # then the variants exist
    image.refresh_from_db()
    assert image.status == ProductImage.Status.READY and len(image.variants) == 15
    assert rq_tasks.count == 0
    root = settings.MEDIA_ROOT
    stored = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    assert stored == image_file_names(image)


def test_a_refused_decode_is_recorded_on_the_image_on_rq_too(
    rq_tasks, django_capture_on_commit_callbacks
):
    from tests.core.test_images import png_with_bad_pixels

    with django_capture_on_commit_callbacks(execute=True):
        image = product_image_add(product=ProductFactory(), upload=SimpleUploadedFile(
            "bad.png", png_with_bad_pixels(), content_type="image/png"))
    run_rq_burst()
    image.refresh_from_db()
    assert image.status == ProductImage.Status.FAILED and image.error
