"""Catalog background tasks: rendering uploaded photos, writing sellers' bulk uploads."""

from __future__ import annotations

import datetime as dt

from django.db import OperationalError
from django_tasks import task

from catalog import demo
from catalog.services import bulk as bulk_services
from catalog.services import images as image_services
from core.tasks import retrying

# A pending photo this old without its variants has probably lost its task.
PENDING_REQUEUE_AFTER = dt.timedelta(minutes=10)


@task()
# Storage or a locked database: worth another try. A refused file is not (it is
# recorded on the image, for the seller).
@retrying(retry_on=(OSError, OperationalError))
def product_image_render_task(*, image_id: int) -> str:
    """Make the master, variants and placeholder of a just-uploaded photo."""
    return image_services.product_image_render(image_id=image_id)


@task()
def product_images_sweep() -> int:
    """Queue again the renders of photos left pending too long; return how many."""
    return len(image_services.product_images_pending_requeue(older_than=PENDING_REQUEUE_AFTER))


@task()
@retrying(retry_on=(OSError, OperationalError))
def demo_photo_task(*, product_id: int, external_id: str, title: str, photo: dict) -> bool:
    """Draw a demo listing's photo and add it (its render is queued in turn)."""
    return demo.demo_photo_add(product_id=product_id, external_id=external_id, title=title,
                               photo=photo)


@task()
# A locked database or a storage hiccup: run again (the write is one transaction
# keyed by the seller's external ids, so a repeat never duplicates a listing).
@retrying(retry_on=(OSError, OperationalError))  # = bulk_services.RETRIED_ERRORS
def bulk_upload_run_task(*, upload_id: int) -> str:
    """Write a seller's confirmed bulk upload (catalog.services.bulk)."""
    return bulk_services.bulk_upload_run(upload_id=upload_id)


@task()
def bulk_uploads_sweep() -> int:
    """Close bulk uploads that will never be written (unconfirmed, or lost); return how many."""
    return bulk_services.bulk_uploads_expire()
