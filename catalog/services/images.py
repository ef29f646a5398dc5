"""Product photo writes: add, replace, render, regenerate, delete.

A web request only checks an upload's header (format, declared size, no
trailing payload) and stores the file as received, in a pending image row; the
decode and the dozen encodes run in a task (catalog.tasks), off the request
path and outside any transaction. Files are content-addressed: the same bytes
always get the same name, writing is idempotent, and a name is only deleted
once no image row refers to it. So a render killed half way and run again
writes the same files under the same names, never a second set.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from catalog import images
from catalog import tasks as catalog_tasks
from catalog.models import Product, ProductImage
from core.tasks import enqueue_on_commit

# Folders the pipeline writes to; nothing else lives there. Uploads wait in
# "incoming" (as received: possibly with GPS data, under an unguessable
# content-hash name, never linked from a shopper's page) until rendered.
STORAGE_FOLDERS = ("products/masters", "products/v", "products/incoming")
# How many names one reference check looks up at a time (one OR of lookups each).
RELEASE_BATCH = 200

# Longest side of the stored master: enough for a zoomed product view on any
# phone and for every variant width, a fraction of a camera original's size.
MASTER_MAX_SIDE = 2048


def product_image_add(
    *, product: Product, upload: BinaryIO, alt_text: str = "", position: int | None = None
) -> ProductImage:
    """Check `upload`, store it and return the new, pending image of `product`.

    Its variants are made by the `product_image_render_task` queued with it
    (in the same transaction on the database engine). Raises
    ValidationError({"original": ...}) when the upload is not an acceptable
    photo; nothing is written in that case.
    """
    received = _receive(upload)
    names = {received.name}
    try:
        with transaction.atomic():
            # The product row lock serialises concurrent adds, so two photos
            # uploaded at once still get distinct "next" positions.
            list(Product.objects.select_for_update().filter(pk=product.pk).order_by()
                 .values_list("pk"))
            if position is None:
                position = _next_position(product)
            image = ProductImage(product=product, position=position, alt_text=alt_text)
            _apply_received(image, received)
            image.full_clean()
            image.save()
            render = enqueue_on_commit(catalog_tasks.product_image_render_task,
                                       image_id=image.pk)
    except BaseException:
        _release(names)
        raise
    return _rendered(image, render)


def product_image_update(
    *, image: ProductImage, upload: BinaryIO | None = None, alt_text: str | None = None,
    position: int | None = None,
) -> ProductImage:
    """Change the photo, alt text or position of `image`; return it saved.

    A new photo makes the image pending again until its render task has run.
    """
    received = _receive(upload) if upload is not None else None
    new_names = {received.name} if received else set()
    try:
        with transaction.atomic():
            image = ProductImage.objects.select_for_update().get(pk=image.pk)
            old_names = _file_names(image)
            if alt_text is not None:
                image.alt_text = alt_text
            if position is not None:
                image.position = position
            if received is not None:
                _apply_received(image, received)
            image.full_clean()
            image.save()
            render = None
            if received is not None:
                render = enqueue_on_commit(catalog_tasks.product_image_render_task,
                                           image_id=image.pk)
                transaction.on_commit(lambda: _release(old_names - new_names))
    except BaseException:
        _release(new_names)
        raise
    return _rendered(image, render)


def product_image_render(*, image_id: int) -> str:
    """Decode a pending image's upload, store its master and variants; return its status.

    Idempotent: a ready or rejected image, or one deleted meanwhile, is left
    as it is. Safe to kill at any point: files are content-addressed, so a
    second run writes the same names (nothing twice), and the row changes in
    one transaction, only if it still holds the upload this run started from.
    A file the decode refuses marks the image rejected, with the reason for
    the seller; reading the storage failing raises (the task retries).
    """
    image = ProductImage.objects.filter(pk=image_id).first()
    if image is None or image.status != ProductImage.Status.PENDING:
        return "gone" if image is None else image.status
    source = image.original.name
    with default_storage.open(source, "rb") as stored:
        data = stored.read()
    try:
        processed = images.process_upload(
            data, limits=images.Limits.from_settings(), widths=settings.SHOP_IMAGE_WIDTHS,
            formats=settings.SHOP_IMAGE_FORMATS, master_side=MASTER_MAX_SIDE,
        )
    except images.ImageRejected as exc:
        with transaction.atomic():
            rejected = ProductImage.objects.filter(
                pk=image_id, status=ProductImage.Status.PENDING, original=source
            ).update(status=ProductImage.Status.FAILED, error=exc.message[:300])
        return ProductImage.Status.FAILED if rejected else "superseded"
    names = _store(processed.master, processed.rendition)
    with transaction.atomic():
        image = ProductImage.objects.select_for_update().filter(pk=image_id).first()
        superseded = (image is None or image.status != ProductImage.Status.PENDING
                      or image.original.name != source)
        if not superseded:
            _apply(image, processed.master, processed.rendition)
            image.status, image.error = ProductImage.Status.READY, ""
            image.full_clean()
            image.save()
    # After the row changed (a worker runs outside any transaction): the upload
    # as received, or our files if the image was deleted or replaced meanwhile,
    # are deleted unless some row still refers to them.
    _release(names if superseded else {source} - names)
    return "superseded" if superseded else ProductImage.Status.READY


def product_images_pending_requeue(*, older_than: dt.timedelta) -> list[int]:
    """Queue the render of pending images older than `older_than` again; return their ids.

    For engines that enqueue after commit (RQ): a crash between the commit and
    the enqueue leaves an image pending with no task. Rendering is idempotent,
    so an image whose task is merely slow loses nothing by a second one.
    """
    cutoff = timezone.now() - older_than
    ids = list(ProductImage.objects.filter(
        status=ProductImage.Status.PENDING, created_at__lt=cutoff
    ).values_list("pk", flat=True))
    for image_id in ids:
        catalog_tasks.product_image_render_task.enqueue(image_id=image_id)
    return ids


def product_image_regenerate(*, image: ProductImage) -> ProductImage:
    """Re-encode the variants and placeholder of `image` from its stored master.

    Idempotent: with unchanged settings the same files come out under the same
    names, and nothing is written or deleted.
    """
    master_name = image.original.name
    try:
        with default_storage.open(master_name, "rb") as master_file:
            data = master_file.read()
    except OSError as exc:
        raise ValidationError(
            {"original": f"The stored photo {master_name} cannot be read: {exc}"},
            code="missing_master",
        ) from exc
    try:
        rendition = images.render_master(
            data, limits=images.Limits.from_settings(), widths=settings.SHOP_IMAGE_WIDTHS,
            formats=settings.SHOP_IMAGE_FORMATS,
        )
    except images.ImageRejected as exc:
        raise ValidationError({"original": exc.message}, code=exc.code) from exc
    new_names = _store(None, rendition)
    with transaction.atomic():
        image = ProductImage.objects.select_for_update().get(pk=image.pk)
        if image.original.name != master_name:
            # The photo was replaced while we worked; its own upload made fresh variants.
            transaction.on_commit(lambda: _release(new_names))
            return image
        old_names = _file_names(image)
        image.variants = [variant.as_variant() for variant in rendition.variants]
        image.placeholder_color = rendition.placeholder_color
        image.placeholder_data = rendition.placeholder_data
        image.save(update_fields=["variants", "placeholder_color", "placeholder_data"])
        transaction.on_commit(lambda: _release(old_names - _file_names(image)))
    return image


def product_image_delete(*, image: ProductImage) -> None:
    """Delete `image` and every file of it that no other image still uses."""
    with transaction.atomic():
        names = _file_names(image)
        image.delete()
        # After commit: a rolled-back delete must still find its files.
        transaction.on_commit(lambda: _release(names))


def image_files_prune(*, older_than: dt.timedelta = dt.timedelta(hours=1)) -> list[str]:
    """Delete stored photo files no image refers to, if older than `older_than`; return them.

    Cascading deletes (a product and its photos) and crashed requests leave
    such files behind. An upload writes its files before its row commits, so
    young files are left alone, and every candidate is checked again against
    the rows right before it is deleted.
    """
    return files_prune_unreferenced(folders=STORAGE_FOLDERS, images=ProductImage.objects.all(),
                                    names_of=_file_names, older_than=older_than)


def files_prune_unreferenced(*, folders: Iterable[str], images: QuerySet,
                             names_of: Callable[[Any], set[str]],
                             older_than: dt.timedelta) -> list[str]:
    """Delete files under `folders` that no row of `images` names, if older than `older_than`.

    Shared by every owner of pipeline files (product photos, review photos),
    each over its own folders and rows; returns the deleted names.
    """
    referenced: set[str] = set()
    for original, variants in images.values_list("original", "variants").iterator(
        chunk_size=2000
    ):
        referenced.add(original)
        referenced.update(variant["name"] for variant in variants or [])
    cutoff = timezone.now() - older_than
    candidates = []
    for folder in folders:
        for name in _walk(folder):
            if name in referenced:
                continue
            try:
                modified = default_storage.get_modified_time(name)
            except (NotImplementedError, OSError):
                continue  # a storage that cannot tell the age: never guess
            if modified < cutoff:
                candidates.append(name)
    removed = []
    for start in range(0, len(candidates), RELEASE_BATCH):
        removed += files_release_unused(names=candidates[start:start + RELEASE_BATCH],
                                        images=images, names_of=names_of)
    return removed


def image_files_release(*, names: Iterable[str]) -> list[str]:
    """Delete those of `names` that no image row refers to; return the deleted ones.

    For writers that stored photos and then rolled back (an import that failed
    on a later row): the files of their images are released, shared ones kept.
    """
    return _release(names)


def image_file_names(image: ProductImage) -> set[str]:
    """Return the storage names of the master and every variant of `image`."""
    return _file_names(image)


# --- Internals --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedUpload:
    """An upload that passed the header checks, stored as received (not yet decoded)."""

    name: str
    sha256: str
    width: int
    height: int


_Received = ReceivedUpload


def image_upload_receive(*, upload: BinaryIO, folder: str = "products",
                         field: str = "original") -> ReceivedUpload:
    """Check the header of `upload` and store its bytes as received under `folder`/incoming.

    The one gate every photo passes (product photos, review photos): format
    allowlist, declared size, no trailing payload. Raises
    ValidationError({field: ...}) and stores nothing when the upload is refused.
    """
    limits = images.Limits.from_settings()
    try:
        data = images.read_upload(upload, max_bytes=limits.max_bytes)
        header = images.open_validated(data, limits=limits, decode=False)
    except images.ImageRejected as exc:
        raise ValidationError({field: ValidationError(exc.message, code=exc.code)}) from exc
    digest = hashlib.sha256(data).hexdigest()
    extension = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp"}[header.format]
    # The full digest: the name is the only thing keeping an unprocessed upload private.
    name = f"{folder}/incoming/{digest[:2]}/{digest}.{extension}"
    _write_once(name, data)
    return ReceivedUpload(name=name, sha256=digest, width=header.width, height=header.height)


def image_files_store(*, master: images.EncodedImage | None, rendition: images.Rendition,
                      folder: str = "products") -> set[str]:
    """Write the master and variants not stored yet under `folder`; return every name."""
    files = [(variant.variant_name(folder), variant.data) for variant in rendition.variants]
    if master is not None:
        files.append((master.master_name(folder), master.data))
    for name, data in files:
        _write_once(name, data)
    return {name for name, _data in files}


def _receive(upload: BinaryIO) -> ReceivedUpload:
    return image_upload_receive(upload=upload)


def _rendered(image: ProductImage, render) -> ProductImage:
    # An engine that ran the render already (immediate, in tests) changed the row.
    if render is not None and render.is_finished:
        image.refresh_from_db()
    return image


def _apply_received(image: ProductImage, received: _Received) -> None:
    image.original.name = received.name
    image.width, image.height = received.width, received.height
    image.content_hash = received.sha256
    image.variants = []
    image.placeholder_data = ""
    image.status, image.error = ProductImage.Status.PENDING, ""


def _apply(image: ProductImage, master: images.EncodedImage, rendition: images.Rendition) -> None:
    # Setting the name (not assigning a File) keeps Django from writing the
    # file again under upload_to; it is already stored under its hash.
    image.original.name = master.master_name()
    image.width, image.height = master.width, master.height
    # content_hash stays the upload's (set on receipt): re-importing the same
    # file finds its twin whether or not the first one has been rendered yet.
    image.variants = [variant.as_variant() for variant in rendition.variants]
    image.placeholder_color = rendition.placeholder_color
    image.placeholder_data = rendition.placeholder_data


def _next_position(product: Product) -> int:
    highest = ProductImage.objects.filter(product=product).aggregate(top=Max("position"))["top"]
    return 0 if highest is None else highest + 1


def _store(master: images.EncodedImage | None, rendition: images.Rendition) -> set[str]:
    return image_files_store(master=master, rendition=rendition)


def _write_once(name: str, data: bytes) -> None:
    if default_storage.exists(name):
        return  # same name, same bytes: content-addressed
    saved = default_storage.save(name, ContentFile(data))
    if saved != name:
        # A concurrent upload of the same content stored it first and the
        # storage picked another name for ours: keep theirs, which is identical.
        default_storage.delete(saved)


def _file_names(image: ProductImage) -> set[str]:
    names = {variant["name"] for variant in image.variants or []}
    if image.original.name:
        names.add(image.original.name)
    return names


def _walk(folder: str) -> Iterator[str]:
    try:
        folders, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for file_name in files:
        yield f"{folder}/{file_name}"
    for sub in folders:
        yield from _walk(f"{folder}/{sub}")


def _release(names: Iterable[str]) -> list[str]:
    """Delete those of `names` that no image row refers to any more; return them."""
    return files_release_unused(names=names, images=ProductImage.objects.all(),
                                names_of=_file_names)


def files_release_unused(*, names: Iterable[str], images: QuerySet,
                         names_of: Callable[[Any], set[str]]) -> list[str]:
    """Delete those of `names` that no row of `images` refers to; return the deleted ones.

    `images` is a queryset of a model with `original` and `variants` (product
    photos, review photos); `names_of(row)` returns the names one row uses.
    """
    names = set(names)
    if not names:
        return []
    # One query for the rows that might still use any of the names. Masters
    # are matched exactly; variant names inside the JSON list by substring
    # (portable across SQLite and PostgreSQL), then checked exactly below.
    lookups = [Q(original__in=names)] + [Q(variants__icontains=name) for name in names]
    in_use: set[str] = set()
    for row in images.filter(functools.reduce(operator.or_, lookups)).only(
        "original", "variants"
    ):
        in_use |= names_of(row)
    unused = sorted(names - in_use)
    for name in unused:
        default_storage.delete(name)
    return unused
