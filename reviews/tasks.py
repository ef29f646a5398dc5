"""Reviews' background tasks: rendering a review photo, and the sweep (see reviews.photos)."""

from __future__ import annotations

from django.db import OperationalError
from django_tasks import task

from core.tasks import retrying

from . import photos


@task()
# Storage or a locked database: worth another try. A refused file is not (it is
# recorded on the photo and the photo is never shown).
@retrying(retry_on=(OSError, OperationalError))
def review_photo_render_task(*, photo_id: int) -> str:
    """Make the master, variants and placeholder of a just-uploaded review photo."""
    return photos.review_photo_render(photo_id=photo_id)


@task()
def review_photos_sweep() -> dict:
    """Queue lost renders again and delete review files no photo names; return the counts."""
    pending = photos.review_photos_pending()
    for photo_id in pending:
        review_photo_render_task.enqueue(photo_id=photo_id)
    return {"requeued": len(pending), "pruned": len(photos.review_photo_files_prune())}
