"""Review photos through the catalog's image pipeline.

The same gate as a product photo (catalog.services.images.image_upload_receive:
format allowlist, declared size, no trailing payload), so a hostile file is
refused exactly as it is in the seller admin; the decode and encodes then run
in a task (reviews.tasks), off the request path. Files live under reviews/,
content-addressed like product photos, and are deleted only when no review
photo still names them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import BinaryIO

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from catalog import images
from catalog.services.images import (
    MASTER_MAX_SIDE,
    files_prune_unreferenced,
    files_release_unused,
    image_files_store,
    image_upload_receive,
)

from .models import PHOTO_WIDTHS, STORAGE_FOLDER, ReviewPhoto

# A pending photo this old without its variants has probably lost its task.
PENDING_REQUEUE_AFTER = dt.timedelta(minutes=10)
# Uploads write their files before their row commits: young files are left alone.
PRUNE_FILES_OLDER_THAN = dt.timedelta(hours=1)


def review_photo_receive(*, upload: BinaryIO):
    """Check `upload`'s header and store it as received; raise ValidationError({"photos": ...})."""
    return image_upload_receive(upload=upload, folder=STORAGE_FOLDER, field="photos")


def review_photo_render(*, photo_id: int) -> str:
    """Decode a pending review photo, store its master and variants; return its status.

    Idempotent like product_image_render: a ready or rejected photo, or one
    deleted meanwhile, is left alone; files are content-addressed.
    """
    photo = ReviewPhoto.objects.filter(pk=photo_id).first()
    if photo is None or photo.status != ReviewPhoto.Status.PENDING:
        return "gone" if photo is None else photo.status
    source = photo.original
    with default_storage.open(source, "rb") as stored:
        data = stored.read()
    try:
        processed = images.process_upload(
            data, limits=images.Limits.from_settings(),
            widths=[w for w in settings.SHOP_IMAGE_WIDTHS if w in PHOTO_WIDTHS],
            formats=settings.SHOP_IMAGE_FORMATS, master_side=MASTER_MAX_SIDE,
        )
    except images.ImageRejected as exc:
        ReviewPhoto.objects.filter(pk=photo_id, status=ReviewPhoto.Status.PENDING).update(
            status=ReviewPhoto.Status.FAILED, error=exc.message[:300])
        return ReviewPhoto.Status.FAILED
    names = image_files_store(master=processed.master, rendition=processed.rendition,
                              folder=STORAGE_FOLDER)
    rendition = processed.rendition
    with transaction.atomic():
        updated = ReviewPhoto.objects.filter(
            pk=photo_id, status=ReviewPhoto.Status.PENDING, original=source
        ).update(
            original=processed.master.master_name(STORAGE_FOLDER),
            width=processed.master.width, height=processed.master.height,
            variants=[variant.as_variant(STORAGE_FOLDER) for variant in rendition.variants],
            placeholder_color=rendition.placeholder_color, status=ReviewPhoto.Status.READY,
            error="",
        )
    # The upload as received goes; so do our files if the photo went meanwhile.
    review_photo_files_release(names=names if not updated else {source} - names)
    return ReviewPhoto.Status.READY if updated else "superseded"


def review_photo_file_names(photo: ReviewPhoto) -> set[str]:
    """Return the storage names of the master (or upload) and every variant of `photo`."""
    names = {variant["name"] for variant in photo.variants or []}
    if photo.original:
        names.add(photo.original)
    return names


def review_photo_files_release(*, names: Iterable[str]) -> list[str]:
    """Delete those of `names` that no review photo refers to any more; return them."""
    return files_release_unused(names=names, images=ReviewPhoto.objects.all(),
                                names_of=review_photo_file_names)


def review_photos_delete(*, photos: Iterable[ReviewPhoto]) -> None:
    """Delete these photos' rows, and their files once the transaction commits."""
    photos = list(photos)
    names = set().union(*(review_photo_file_names(photo) for photo in photos)) if photos \
        else set()
    ReviewPhoto.objects.filter(pk__in=[photo.pk for photo in photos]).delete()
    transaction.on_commit(lambda: review_photo_files_release(names=names))


def review_photos_pending(*, older_than: dt.timedelta = PENDING_REQUEUE_AFTER) -> list[int]:
    """Return the ids of photos pending for longer than `older_than` (their render was lost).

    An engine that enqueues after commit (RQ) and crashed in between leaves a
    photo pending with no task; rendering is idempotent, so queueing a merely
    slow one again loses nothing.
    """
    cutoff = timezone.now() - older_than
    return list(ReviewPhoto.objects.filter(status=ReviewPhoto.Status.PENDING,
                                           created_at__lt=cutoff).values_list("pk", flat=True))


def review_photo_files_prune(*, older_than: dt.timedelta = PRUNE_FILES_OLDER_THAN) -> list[str]:
    """Delete files under reviews/ that no review photo names, if older than `older_than`.

    Deleting a product cascades to its reviews and their photos past the
    services, so their files stay until this runs (the catalog's prune never
    walks reviews/).
    """
    return files_prune_unreferenced(
        folders=[f"{STORAGE_FOLDER}/{sub}" for sub in ("masters", "v", "incoming")],
        images=ReviewPhoto.objects.all(), names_of=review_photo_file_names,
        older_than=older_than)
