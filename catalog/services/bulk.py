"""A seller's bulk listing upload: check, confirm, write (catalog.bulk has the rules).

1. `bulk_upload_create` (the upload page): every row and the ZIP are checked
   in the request, nothing is written but the job row; a good upload keeps its
   files in storage and waits in `checked`, a bad one is `invalid`, with the
   errors and their line numbers, and keeps no file.
2. `bulk_upload_confirm` (the seller's "Write N listings"): `queued`, and the
   task is queued in the same transaction.
3. `bulk_upload_run` (the task): checks again (a category may have gone
   meanwhile), stores the photos (the slow part, outside any transaction, so
   its progress can be seen on SQLite too), then writes every listing and photo
   row in one transaction that also marks the job `done`: "done" and the rows
   commit together or not at all. Listings are keyed by the seller's external
   id, so a run repeated after a killed worker updates what a finished run
   wrote and never adds a second copy; other sellers' listings cannot be
   reached (the seller is implied and `seller` cells naming others are errors).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import secrets
from contextlib import contextmanager
from typing import BinaryIO

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import OperationalError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from catalog import bulk, importers
from catalog import tasks as catalog_tasks
from catalog.models import BulkUpload, Seller
from core.datasets import MAX_REPORTED_ERRORS, DatasetError
from core.tasks import enqueue_on_commit, tasks_config

from . import images as image_services
from .sellers import actor_sees_all, actor_seller, scope_to_actor

logger = logging.getLogger("shop.catalog")

State = BulkUpload.State
# Shares of the job's progress bar: checking, storing photos, writing.
CHECK_SHARE, PHOTOS_SHARE = 20, 60
# A checked upload waits this long for the seller's "Write" before its files go.
CHECKED_KEPT_FOR = dt.timedelta(days=1)
# A confirmed upload not finished after this has lost its task for good (5,000
# rows take a minute or two; a task is retried for well under an hour).
STUCK_AFTER = dt.timedelta(hours=6)
# What the task retries with backoff (a locked database, storage hiccups).
RETRIED_ERRORS = (OSError, OperationalError)
TEMPLATE_HEADER = "id,title,category,price,regions,stock,description,image"


def bulk_uploads_for_actor(actor) -> QuerySet:
    """Return the jobs `actor` may see: a seller's own; every one for staff."""
    return scope_to_actor(BulkUpload.objects.select_related("seller"), actor=actor)


def bulk_template_csv(*, categories: list[str]) -> str:
    """Return the template a seller downloads: the header and two example rows."""
    first = categories[0] if categories else "clothes"
    return (
        TEMPLATE_HEADER + "\n"
        f'SKU-001,Cotton kurta (blue),{first},499.00,,10,"Soft cotton, machine wash",'
        "kurta-blue.jpg\n"
        f"SKU-002,Steel water bottle 1 l,{first},249,,25,,\n"
    )


def _source(*, seller: Seller, name: str, csv_data: bytes, photos) -> importers.ProductSource:
    limits = bulk.bulk_limits()

    @contextmanager
    def open_csv():
        yield io.BytesIO(csv_data)

    return importers.ProductSource(name=name, open=open_csv, photos=photos,
                                   seller_slug=seller.slug, max_rows=limits["MAX_ROWS"],
                                   refuse_formulas=True)


def _errors_json(errors: list, *, extra: list[str] = ()) -> list[dict]:
    rows = [{"line": None, "message": message} for message in extra]
    rows += [{"line": error.line, "message": error.message} for error in errors]
    return rows[:MAX_REPORTED_ERRORS]


def _size(upload) -> int:
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
    upload.seek(0)
    return size


def _file_name(upload, default: str) -> str:
    name = (getattr(upload, "name", "") or default).replace("\x00", "")
    return name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200] or default


def bulk_upload_create(*, actor, csv_upload: BinaryIO, zip_upload: BinaryIO | None = None
                       ) -> BulkUpload:
    """Check a seller's CSV (and ZIP of photos) and return the job: `checked` or `invalid`.

    Only sellers upload (staff use `import_dataset`). Nothing but the job row
    is written; a good upload's files are kept in storage for the task.
    """
    seller = actor_seller(actor)
    if seller is None:
        raise PermissionDenied("Only sellers upload listings in bulk.")
    limits = bulk.bulk_limits()
    csv_name = _file_name(csv_upload, "listings.csv")
    zip_name = _file_name(zip_upload, "photos.zip") if zip_upload is not None else ""
    job = BulkUpload(seller=seller, created_by=actor, csv_name=csv_name, zip_name=zip_name)
    file_problems: list[str] = []
    csv_size = _size(csv_upload)
    if csv_size > limits["CSV_MAX_BYTES"]:
        file_problems.append(f"the CSV is {csv_size / bulk.MB:.1f} MB; at most "
                             f"{limits['CSV_MAX_BYTES'] // bulk.MB} MB are allowed "
                             f"(split it into several files)")
    photos = bulk.NoPhotos()
    if zip_upload is not None:
        zip_size = _size(zip_upload)
        if zip_size > limits["ZIP_MAX_BYTES"]:
            file_problems.append(f"the ZIP is {zip_size / bulk.MB:.1f} MB; at most "
                                 f"{limits['ZIP_MAX_BYTES'] // bulk.MB} MB are allowed")
        else:
            photos = bulk.ZipPhotos(zip_upload, limits=limits)
            file_problems += photos.problems
    if file_problems:
        # The rows are not read: a file over the limits, or a hostile ZIP, costs no more.
        job.state = State.INVALID
        job.errors = _errors_json([], extra=file_problems)
        job.errors_total = len(file_problems)
        job.full_clean()
        job.save()
        return job
    csv_data = csv_upload.read()
    source = _source(seller=seller, name=csv_name, csv_data=csv_data, photos=photos)
    check = importers.products_check(source, vocabulary=importers.Vocabulary(),
                                     now=timezone.now())
    job.rows_total, job.rows_bad = check.rows, check.bad_rows
    job.photos_total = len(check.photos)
    job.errors = _errors_json(check.errors.reported)
    job.errors_total = check.errors.total
    job.state = State.CHECKED if check.ok else State.INVALID
    if check.ok:
        # Unguessable folder: storage may be public (S3) and these are not listings yet.
        folder = f"bulk/{seller.pk}/{secrets.token_hex(16)}"
        job.csv_file = default_storage.save(f"{folder}/listings.csv", ContentFile(csv_data))
        if zip_upload is not None:
            zip_upload.seek(0)
            job.zip_file = default_storage.save(f"{folder}/photos.zip",
                                                ContentFile(zip_upload.read()))
    job.full_clean()
    try:
        job.save()
    except BaseException:
        _delete_files(job)
        raise
    return job


def bulk_upload_confirm(*, actor, upload: BulkUpload) -> BulkUpload:
    """Queue the writing of a checked upload; return it. Only its own seller may."""
    seller = actor_seller(actor)
    if seller is None or upload.seller_id != seller.pk:
        raise PermissionDenied("This upload is not yours.")
    with transaction.atomic():
        claimed = BulkUpload.objects.filter(pk=upload.pk, seller=seller,
                                            state=State.CHECKED).update(
            state=State.QUEUED, stage="Waiting for a worker", progress=0)
        if not claimed:
            upload.refresh_from_db()
            if upload.state in (State.QUEUED, State.RUNNING, State.DONE):
                return upload  # a double tap on the button: already on its way
            raise ValidationError("This upload cannot be written: it has errors.")
        enqueue_on_commit(catalog_tasks.bulk_upload_run_task, upload_id=upload.pk)
    upload.refresh_from_db()
    return upload


def bulk_upload_run(*, upload_id: int) -> str:
    """Write a confirmed upload (the task's body); return the job's state.

    Idempotent: a done or failed job is left as it is; a queued or running
    one (a worker killed mid-run) is run again from the start, which is safe
    because the write is one transaction keyed by (seller, external id).
    """
    job = BulkUpload.objects.select_related("seller").filter(pk=upload_id).first()
    if job is None:
        return "gone"
    if job.state not in (State.QUEUED, State.RUNNING):
        return job.state
    BulkUpload.objects.filter(pk=job.pk).update(
        state=State.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1,
        stage="Checking the rows", progress=0)
    job.refresh_from_db()
    stored: set[str] = set()
    try:
        return _run(job, stored)
    except DatasetError as exc:
        image_services.image_files_release(names=stored)
        _fail(job, exc.errors, total=exc.total or len(exc.errors))
        return State.FAILED
    except Exception as exc:
        image_services.image_files_release(names=stored)
        # The task retries these (catalog.tasks); anything else, or the last try, ends the job.
        if isinstance(exc, RETRIED_ERRORS) and job.attempts < tasks_config()["MAX_ATTEMPTS"]:
            _set_stage(job, "Stopped by an error; trying again shortly", job.progress)
        else:
            _fail(job, [], extra=["An unexpected error stopped the upload; nothing was "
                                  "written. Try again, or ask the shop for help."])
        raise


def _run(job: BulkUpload, stored: set[str]) -> str:
    try:
        with default_storage.open(job.csv_file, "rb") as handle:
            csv_data = handle.read()
    except FileNotFoundError:
        _fail(job, [], extra=["The uploaded files are gone; upload them again."])
        return State.FAILED
    with _photos(job) as photos:
        if not photos.ok:  # the ZIP was checked at upload: only a changed limit gets here
            _fail(job, [], extra=photos.problems)
            return State.FAILED
        source = _source(seller=job.seller, name=job.csv_name, csv_data=csv_data,
                         photos=photos)
        rows = max(job.rows_total, 1)
        check = importers.products_check(
            source, vocabulary=importers.Vocabulary(), now=timezone.now(),
            progress=lambda n: _set_stage(job, "Checking the rows", CHECK_SHARE * n // rows))
        if not check.ok:
            _fail(job, check.errors.reported, total=check.errors.total)
            return State.FAILED
        # The photos first, outside the transaction: the slow part, whose
        # progress the seller sees. Content-addressed, so a second run finds
        # them already stored; released below if the write fails.
        keys = sorted(check.photos)
        for done, key in enumerate(keys, start=1):
            with photos.open(key) as data:
                stored.add(image_services.image_upload_receive(upload=data).name)
            if done % 10 == 0 or done == len(keys):
                _set_stage(job, f"Storing photos ({done} of {len(keys)})",
                           CHECK_SHARE + PHOTOS_SHARE * done // len(keys))
        _set_stage(job, f"Writing {check.rows} listings", CHECK_SHARE + PHOTOS_SHARE)

        def finish(written: int, created: int) -> None:
            # Inside the write's transaction: the job is done exactly when the rows are.
            locked = BulkUpload.objects.select_for_update().get(pk=job.pk)
            if locked.state == State.DONE:
                raise _AlreadyDone
            BulkUpload.objects.filter(pk=job.pk).update(
                state=State.DONE, stage="Done", progress=100, created_count=created,
                updated_count=written - created, finished_at=timezone.now(), errors=[],
                errors_total=0)

        try:
            importers.products_write(source, total=check.rows, needs_import_seller=False,
                                     now=timezone.now(), before_commit=finish)
        except _AlreadyDone:
            return State.DONE
    _delete_files(job)
    return State.DONE


class _AlreadyDone(Exception):
    """Another run of the same job committed first: roll this one back."""


@contextmanager
def _photos(job: BulkUpload):
    if not job.zip_file:
        yield bulk.NoPhotos()
        return
    with default_storage.open(job.zip_file, "rb") as handle:
        yield bulk.ZipPhotos(handle)


def _set_stage(job: BulkUpload, stage: str, progress: int) -> None:
    # Outside any transaction: the job page (another connection) sees it at once.
    job.stage, job.progress = stage, max(0, min(100, progress))
    BulkUpload.objects.filter(pk=job.pk, state=State.RUNNING).update(stage=job.stage,
                                                                     progress=job.progress)


def _fail(job: BulkUpload, errors: list, *, total: int | None = None,
          extra: list[str] = ()) -> None:
    # Never over a done job: a second run that lost the race must not undo the first.
    BulkUpload.objects.filter(pk=job.pk).exclude(state=State.DONE).update(
        state=State.FAILED, stage="Failed, nothing written",
        errors=_errors_json(errors, extra=extra),
        errors_total=(total if total is not None else len(errors)) + len(extra),
        finished_at=timezone.now())
    logger.info("bulk upload %s of seller %s failed: %d error(s)", job.pk, job.seller_id,
                len(errors) + len(extra))


def _delete_files(job: BulkUpload) -> None:
    for name in (job.csv_file, job.zip_file):
        if name:
            default_storage.delete(name)


def bulk_uploads_expire(*, older_than: dt.timedelta = CHECKED_KEPT_FOR,
                        stuck_after: dt.timedelta = STUCK_AFTER) -> int:
    """Close the jobs that will never finish; delete their files; return how many.

    Checked uploads nobody confirmed in time (their files would otherwise stay
    in storage for ever; the seller uploads again), and queued or running ones
    whose task is long gone (failed for good after killing too many workers).
    A run still going would mark its job done over this: "done" always wins.
    """
    now = timezone.now()
    closing = [
        (State.CHECKED, Q(created_at__lt=now - older_than),
         "Not written within a day of the check; upload the file again."),
        (State.QUEUED, Q(created_at__lt=now - stuck_after),
         "The upload never started; nothing was written. Upload the file again."),
        (State.RUNNING, Q(started_at__lt=now - stuck_after),
         "The upload stopped; nothing was written. Upload the file again."),
    ]
    expired = 0
    for state, when, message in closing:
        for job in BulkUpload.objects.filter(when, state=state):
            won = BulkUpload.objects.filter(pk=job.pk, state=state).update(
                state=State.INVALID if state == State.CHECKED else State.FAILED, stage="",
                errors=[{"line": None, "message": message}], errors_total=1, csv_file="",
                zip_file="", finished_at=now)
            if won:  # not confirmed or finished meanwhile: its files are ours to delete
                _delete_files(job)
                expired += 1
    return expired


def bulk_upload_actor_may_view(actor, upload: BulkUpload) -> bool:
    """Return whether `actor` may open `upload`: its seller, or staff."""
    if actor_sees_all(actor):
        return True
    seller = actor_seller(actor)
    return seller is not None and upload.seller_id == seller.pk
