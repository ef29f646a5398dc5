"""Review photos pass the same gate as product photos: every hostile file the seller
admin refuses is refused here too, with nothing stored (rows or files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from reviews.models import Review, ReviewPhoto
from reviews.services import review_create
from tests.reliability.hostile_files import hostile_files, oversized_files, valid_png

pytestmark = pytest.mark.django_db


def _media_files(settings) -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() \
        else set()


def _upload(case) -> SimpleUploadedFile:
    return SimpleUploadedFile(case.name, case.data, content_type=case.content_type)


def _refused(buyer, product, case) -> bool:
    try:
        review_create(shopper=buyer, product_id=product.pk, rating=4, text="ok",
                      photos=[SimpleUploadedFile("fine.png", valid_png(), "image/png"),
                              _upload(case)])
    except ValidationError as exc:
        return "photos" in exc.message_dict
    return False


@pytest.mark.parametrize("index", range(0, 200, 9))
def test_a_hostile_photo_is_refused_and_nothing_is_stored(buyer, product, settings, index):
    case = hostile_files()[index]
    assert _refused(buyer, product, case), case.label
    assert not Review.objects.exists() and not ReviewPhoto.objects.exists()
    # The clean photo received before the hostile one was released again.
    assert _media_files(settings) == set()


@pytest.mark.slow
def test_every_hostile_file_the_admin_refuses_is_refused_here(buyer, product, settings):
    cases = hostile_files() + oversized_files(settings.SHOP_UPLOAD_MAX_BYTES)
    accepted = [case.label for case in cases if not _refused(buyer, product, case)]
    assert accepted == []
    assert not ReviewPhoto.objects.exists()
    assert _media_files(settings) == set()


def test_a_real_photo_under_a_hostile_name_is_stored_under_its_content_hash(
    buyer, product, settings
):
    review = review_create(shopper=buyer, product_id=product.pk, rating=5, photos=[
        SimpleUploadedFile("../../etc/passwd.png", valid_png(), "image/png")])
    photo = review.photos.get()
    stored = {photo.original} | {variant["name"] for variant in photo.variants}
    assert all(name.startswith("reviews/") and "passwd" not in name for name in stored)
    # The upload as received is gone once rendered: only the master and variants stay.
    assert _media_files(settings) == stored


def test_the_sweep_requeues_lost_renders_and_prunes_orphaned_files(
    buyer, product, settings, database_tasks
):
    import datetime as dt

    from django.utils import timezone

    from reviews import tasks as review_tasks
    from reviews.photos import review_photo_render, review_photos_pending
    from tests.factories import make_image_upload

    # given a photo whose render task was queued but never ran (a lost task)
    review = review_create(shopper=buyer, product_id=product.pk, rating=4,
                           photos=[make_image_upload(seed=11)])
    photo = review.photos.get()
    assert photo.status == "pending"
    ReviewPhoto.objects.filter(pk=photo.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=1))
    assert review_photos_pending() == [photo.pk]
    # when it is rendered (what the requeued task does), then deleted with its product
    review_photo_render(photo_id=photo.pk)
    stored = _media_files(settings)
    assert stored and all(name.startswith("reviews/") for name in stored)
    product.delete()  # cascades past the services: the files stay behind
    assert _media_files(settings) == stored
    # then the sweep removes the files no photo names any more (once old enough)
    assert review_tasks.review_photos_sweep.call()["pruned"] == 0  # young files are kept
    from reviews.photos import review_photo_files_prune

    assert set(review_photo_files_prune(older_than=dt.timedelta(0))) == stored
    assert _media_files(settings) == set()
