"""Photo writes: files in storage, rows in the database, and what the browser gets."""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.test import override_settings
from PIL import Image

from catalog.models import ProductImage
from catalog.services.images import (
    image_file_names,
    image_files_release,
    product_image_add,
    product_image_delete,
    product_image_regenerate,
    product_image_update,
)
from storefront.cards import CardImage, image_sources
from tests.catalog.test_product_services import real_concurrency, run_together  # noqa: F401
from tests.factories import ProductFactory, ProductImageFactory, make_image_upload

pytestmark = pytest.mark.django_db

HASHED_NAME = re.compile(r"products/(masters|v)/[0-9a-f]{2}/[0-9a-f]{20}(-\d+)?\.(jpg|webp|avif)")
VARIANT_NAME = re.compile(r"^products/v/([0-9a-f]{2})/(\1[0-9a-f]{18})-(\d+)\.(avif|webp|jpg)$")


def stored_files(settings) -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    if not root.exists():
        return set()
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_adding_a_photo_stores_master_and_variants_and_records_them(settings):
    # given a product and a 700px-wide upload
    product = ProductFactory()

    # when the photo is added
    image = product_image_add(product=product, upload=make_image_upload(width=700, height=525),
                              alt_text="Blue kurta, front")

    # then the row describes the sanitised master and every variant up to 640w
    image.refresh_from_db()
    assert (image.product, image.alt_text, image.position) == (product, "Blue kurta, front", 0)
    assert (image.width, image.height) == (700, 525)
    assert len(image.content_hash) == 64
    assert re.fullmatch(r"#[0-9a-f]{6}", image.placeholder_color)
    assert image.placeholder_data.startswith("data:image/webp;base64,")
    assert sorted({v["width"] for v in image.variants}) == [160, 320, 480, 640]
    assert sorted(v["format"] for v in image.variants) == sorted(["avif", "webp", "jpeg"] * 4)
    for variant in image.variants:
        match = VARIANT_NAME.match(variant["name"])
        assert match, variant["name"]
        assert int(match.group(3)) == variant["width"]
        assert default_storage.size(variant["name"]) == variant["bytes"]
        with default_storage.open(variant["name"]) as fh:
            assert Image.open(fh).size == (variant["width"], variant["height"])
    # and the files on disk are exactly the master plus the variants: no raw upload
    assert stored_files(settings) == image_file_names(image)
    assert image.original.name.startswith("products/masters/")


def test_the_upload_name_is_never_used(settings):
    # given an upload whose name tries NUL bytes, traversal and a double extension
    upload = make_image_upload(name="../../evil.php\x00.jpg.exe", seed=9)

    image = product_image_add(product=ProductFactory(), upload=upload)

    # then every stored name is a content hash and nothing escaped the media folder
    for name in stored_files(settings):
        assert "evil" not in name and "php" not in name and ".exe" not in name
        assert HASHED_NAME.fullmatch(name), name
    assert image.original.name in stored_files(settings)


def test_the_same_upload_twice_gives_the_same_names_and_no_duplicate_files(settings):
    first = product_image_add(product=ProductFactory(), upload=make_image_upload(seed=1))
    files_after_first = stored_files(settings)

    second = product_image_add(product=ProductFactory(), upload=make_image_upload(seed=1))

    assert second.variants == first.variants
    assert second.original.name == first.original.name
    assert stored_files(settings) == files_after_first


def test_positions_follow_the_existing_photos_unless_given():
    product = ProductFactory()
    first = product_image_add(product=product, upload=make_image_upload(seed=1))
    second = product_image_add(product=product, upload=make_image_upload(seed=2))
    pinned = product_image_add(product=product, upload=make_image_upload(seed=3), position=7)
    after = product_image_add(product=product, upload=make_image_upload(seed=4))
    assert [first.position, second.position, pinned.position, after.position] == [0, 1, 7, 8]


def test_a_rejected_upload_writes_nothing(settings):
    product = ProductFactory()
    polyglot = make_image_upload(
        data=make_image_upload(fmt="PNG").read() + b"<html><script>alert(1)</script></html>",
        name="photo.png", content_type="image/png",
    )

    with pytest.raises(ValidationError) as info:
        product_image_add(product=product, upload=polyglot)

    assert "original" in info.value.message_dict
    assert "extra data" in info.value.message_dict["original"][0]
    assert not ProductImage.objects.exists()
    assert stored_files(settings) == set()


def test_a_failed_row_save_removes_the_files_it_wrote(settings):
    # alt_text longer than the column: the row is refused after the files were written
    with pytest.raises(ValidationError):
        product_image_add(product=ProductFactory(), upload=make_image_upload(), alt_text="x" * 201)

    assert not ProductImage.objects.exists()
    assert stored_files(settings) == set()


def test_deleting_keeps_files_another_image_still_uses(
    settings, django_capture_on_commit_callbacks
):
    shared_a = ProductImageFactory(upload=make_image_upload(seed=11))
    shared_b = ProductImageFactory(upload=make_image_upload(seed=11))
    own = ProductImageFactory(upload=make_image_upload(seed=12))
    shared_names, own_names = image_file_names(shared_a), image_file_names(own)

    with django_capture_on_commit_callbacks(execute=True):
        product_image_delete(image=shared_a)
    assert shared_names <= stored_files(settings)  # shared_b still shows them

    with django_capture_on_commit_callbacks(execute=True):
        product_image_delete(image=shared_b)
        product_image_delete(image=own)
    assert stored_files(settings) == set()
    assert not ProductImage.objects.exists()
    assert own_names.isdisjoint(shared_names)


def test_replacing_the_photo_swaps_the_files_and_keeps_the_row(
    settings, django_capture_on_commit_callbacks
):
    image = ProductImageFactory(upload=make_image_upload(seed=21), alt_text="Old")
    old_names = image_file_names(image)

    with django_capture_on_commit_callbacks(execute=True):
        updated = product_image_update(image=image, upload=make_image_upload(seed=22),
                                       alt_text="New", position=3)

    updated.refresh_from_db()
    assert (updated.pk, updated.alt_text, updated.position) == (image.pk, "New", 3)
    assert stored_files(settings) == image_file_names(updated)
    assert old_names.isdisjoint(image_file_names(updated))


def test_regenerate_is_idempotent_and_rebuilds_missing_variants(
    settings, django_capture_on_commit_callbacks
):
    image = ProductImageFactory()
    before = list(image.variants)
    victim = before[0]["name"]
    default_storage.delete(victim)

    with django_capture_on_commit_callbacks(execute=True):
        regenerated = product_image_regenerate(image=image)

    assert regenerated.variants == before
    assert default_storage.exists(victim)
    assert stored_files(settings) == image_file_names(regenerated)


def test_regenerate_after_a_width_change_adds_and_removes_variants(
    settings, django_capture_on_commit_callbacks
):
    image = ProductImageFactory(upload=make_image_upload(width=700, height=500))
    settings.SHOP_IMAGE_WIDTHS = (200, 400)

    with django_capture_on_commit_callbacks(execute=True):
        regenerated = product_image_regenerate(image=image)

    assert sorted({v["width"] for v in regenerated.variants}) == [200, 400]
    assert stored_files(settings) == image_file_names(regenerated)


def test_regenerate_images_command_reports_progress_and_is_idempotent(settings):
    images = [ProductImageFactory() for _ in range(3)]
    settings.SHOP_IMAGE_FORMATS = ("webp",)  # a change worth regenerating for
    out = io.StringIO()

    call_command("regenerate_images", "--progress-every", "2", stdout=out)

    assert "2/3 photos processed" in out.getvalue()
    assert "3/3 photos processed" in out.getvalue()
    assert "Regenerated 3 photo(s), 0 already up to date, 0 failed." in out.getvalue()
    for image in images:
        image.refresh_from_db()
        assert {v["format"] for v in image.variants} == {"webp"}

    again = io.StringIO()
    call_command("regenerate_images", stdout=again)
    assert "Regenerated 0 photo(s), 3 already up to date, 0 failed." in again.getvalue()


def test_regenerate_images_reports_a_missing_master_and_carries_on():
    broken, fine = ProductImageFactory(), ProductImageFactory()
    default_storage.delete(broken.original.name)
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match="1 of 2 photos could not be regenerated"):
        call_command("regenerate_images", stdout=out, stderr=err)

    assert f"image {broken.pk} " in err.getvalue()
    assert "Regenerated 0 photo(s), 1 already up to date, 1 failed." in out.getvalue()
    fine.refresh_from_db()
    assert fine.variants


def test_regenerate_images_rejects_a_bad_option():
    with pytest.raises(CommandError, match="--progress-every"):
        call_command("regenerate_images", "--progress-every", "0")


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("avif", "image/avif"), ("webp", "image/webp"), ("jpeg", "image/jpeg")],
)
def test_variants_are_served_with_their_type_and_cached_for_a_year(client, fmt, content_type):
    image = ProductImageFactory()
    url = image.variant_url(fmt, 320)
    assert url.startswith("/media/products/v/")

    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    body = b"".join(response.streaming_content)
    assert len(body) == next(v["bytes"] for v in image.variants
                             if v["format"] == fmt and v["width"] == 320)


@pytest.mark.parametrize("path", ["/media/../shop/settings.py", "/media/%2e%2e/manage.py",
                                  "/media/products/nothing-here.jpg"])
def test_media_outside_the_folder_or_missing_is_not_found(client, path):
    assert client.get(path).status_code == 404


def test_media_never_serves_non_images(client, settings):
    target = Path(settings.MEDIA_ROOT) / "products" / "page.html"
    target.parent.mkdir(parents=True)
    target.write_text("<script>alert(1)</script>")
    assert client.get("/media/products/page.html").status_code == 404


def test_srcset_lists_each_width_of_one_format_in_order():
    image = ProductImageFactory(upload=make_image_upload(width=500, height=400))
    srcset = image_sources(CardImage.from_model(image), max_width=960).srcset["avif"]
    assert [entry.rsplit(" ", 1)[1] for entry in srcset.split(", ")] == ["160w", "320w", "480w"]
    assert all(url.endswith(".avif") for url in re.findall(r"(\S+) \d+w", srcset))


@override_settings(SHOP_UPLOAD_MAX_BYTES=2000)
def test_an_oversized_upload_is_a_field_error():
    with pytest.raises(ValidationError) as info:
        product_image_add(product=ProductFactory(), upload=make_image_upload())
    assert "larger than" in info.value.message_dict["original"][0]


def test_prune_removes_old_unreferenced_files_only(settings):
    # given a live photo, the files of a product deleted with its photos
    # (cascade: no service ran), and a file an upload in flight just wrote
    live = ProductImageFactory(upload=make_image_upload(seed=31))
    gone = ProductImageFactory(upload=make_image_upload(seed=32))
    orphaned = image_file_names(gone)
    gone.product.delete()
    in_flight = "products/v/ab/ab00000000000000000-320.webp"
    default_storage.save(in_flight, ContentFile(b"RIFF"))
    an_hour_ago = time.time() - 2 * 3600
    for name in stored_files(settings) - {in_flight}:
        os.utime(Path(settings.MEDIA_ROOT) / name, (an_hour_ago, an_hour_ago))
    out = io.StringIO()

    # when the command prunes
    call_command("regenerate_images", "--prune", stdout=out)

    # then only the orphans went
    assert stored_files(settings) == image_file_names(live) | {in_flight}
    assert f"Pruned {len(orphaned)} unused file(s)." in out.getvalue()


def test_release_deletes_only_files_no_row_uses(settings):
    kept = ProductImageFactory(upload=make_image_upload(seed=41))
    stray = "products/v/cd/cd000000000000000000-160.avif"
    default_storage.save(stray, ContentFile(b"bytes"))

    removed = image_files_release(names=image_file_names(kept) | {stray})

    assert removed == [stray]
    assert stored_files(settings) == image_file_names(kept)


# --- under concurrency and query budgets ------------------------------------------------------


@pytest.mark.usefixtures("real_concurrency")
def test_photos_added_at_the_same_moment_get_distinct_positions():
    product = ProductFactory()

    results = run_together(
        *[lambda seed=seed: product_image_add(product=product, upload=make_image_upload(seed=seed))
          for seed in (51, 52, 53)]
    )

    assert all(isinstance(r, ProductImage) for r in results), results
    assert sorted(ProductImage.objects.filter(product=product).values_list(
        "position", flat=True)) == [0, 1, 2]


@pytest.mark.usefixtures("real_concurrency")
def test_the_same_photo_uploaded_twice_at_once_is_stored_once(settings):
    products = [ProductFactory(), ProductFactory()]

    results = run_together(
        *[lambda p=p: product_image_add(product=p, upload=make_image_upload(seed=61))
          for p in products]
    )

    assert all(isinstance(r, ProductImage) for r in results), results
    first, second = results
    assert first.variants == second.variants
    # no "name_x7Yz.avif" second copies: every stored file is one the rows name
    assert stored_files(settings) == image_file_names(first)


@pytest.mark.parametrize("existing", [0, 6])
def test_adding_a_photo_costs_the_same_queries_however_many_the_product_has(
    django_assert_max_num_queries, existing, settings
):
    product = ProductFactory()
    for seed in range(existing):
        ProductImageFactory(product=product, upload=make_image_upload(seed=100 + seed))
    # The request's share: the render is queued, not run.
    from core.tasks import tasks_setting

    settings.TASKS = tasks_setting("database")

    # savepoint, lock the product, highest position, product check in full_clean,
    # two check constraints (dimensions, status) each in savepoint + check + release
    # (full_clean), insert, the task row, release savepoint
    with django_assert_max_num_queries(13):
        product_image_add(product=product, upload=make_image_upload(seed=99))


def test_variant_url_picks_the_narrowest_wide_enough_else_the_widest():
    image = ProductImage(variants=[
        {"width": w, "height": w, "format": "webp", "name": f"products/v/aa/aa-{w}.webp",
         "bytes": 1} for w in (160, 320, 480)
    ])
    assert image.variant_url("webp", 300) == "/media/products/v/aa/aa-320.webp"
    assert image.variant_url("webp", 320) == "/media/products/v/aa/aa-320.webp"
    assert image.variant_url("webp", 960) == "/media/products/v/aa/aa-480.webp"
    assert image.variant_url("avif", 320) is None
    card_image = CardImage(variants=image.variants, width=480, height=480,
                           placeholder_color="#000000", alt_text="", original="")
    assert image_sources(card_image, max_width=320).srcset["webp"] == (
        "/media/products/v/aa/aa-160.webp 160w, /media/products/v/aa/aa-320.webp 320w")
