"""Photos off the request path: the admin answers first, the worker makes the variants."""

from __future__ import annotations

import io
import struct
import time
import zlib

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from catalog.models import Product, ProductImage
from catalog.services.images import image_file_names, product_image_add
from tests.catalog.admin_support import PASSWORD, make_seller, product_form_data
from tests.core.support import run_queued_tasks
from tests.factories import CategoryFactory, ProductFactory, make_image_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("database_tasks")]


def stored_files(settings) -> set[str]:
    root = settings.MEDIA_ROOT
    if not root.exists():
        return set()
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def png_with_bad_pixels() -> bytes:
    """A PNG whose chunks (and their CRCs) are all in order but whose pixel data is garbage.

    The header and container checks pass; only the decode finds it out.
    """
    data = bytearray(make_image_bytes(fmt="PNG", width=640, height=480, seed=3))
    start = data.index(b"IDAT") - 4
    (length,) = struct.unpack(">I", data[start:start + 4])
    payload = start + 8
    for offset in range(payload + length // 3, payload + length // 3 + 64):
        data[offset] ^= 0x5A
    crc = zlib.crc32(bytes(data[start + 4:payload + length]))
    data[payload + length:payload + length + 4] = struct.pack(">I", crc)
    return bytes(data)


def test_an_admin_upload_returns_before_the_variants_exist_and_the_worker_makes_them(
    client, settings
):
    # given a seller adding a product with a photo in the admin
    seller = make_seller("chitra")
    client.force_login(seller.user)
    data = product_form_data(category=CategoryFactory().pk, title="Brass lamp",
                             status="active", **{"images-TOTAL_FORMS": "1"})
    data["images-0-original"] = SimpleUploadedFile(
        "lamp.jpg", make_image_bytes(width=1200, height=900), content_type="image/jpeg")

    # when the form is saved
    response = client.post(reverse("admin:catalog_product_add"), data)

    # then the save answered with the photo stored but not processed: no variants, one task
    assert response.status_code == 302
    image = ProductImage.objects.get(product__title="Brass lamp")
    assert (image.status, image.variants) == (ProductImage.Status.PENDING, [])
    assert image.original.name.startswith("products/incoming/")
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    # and the seller's list says so, and shoppers are not shown the unprocessed file
    listing = client.get(reverse("admin:catalog_product_changelist")).content.decode()
    assert "Processing…" in listing
    assert not ProductImage.objects.shown().exists()
    assert image.original.name not in client.get("/").content.decode()

    # when the worker runs
    run_queued_tasks()

    # then the photo is ready with every variant, and only its own files are stored
    image.refresh_from_db()
    assert image.status == ProductImage.Status.READY
    assert len(image.variants) == 5 * 3
    assert image.original.name.startswith("products/masters/")
    assert stored_files(settings) == image_file_names(image)
    listing = client.get(reverse("admin:catalog_product_changelist")).content.decode()
    assert "Processing…" not in listing and image.variant_url("webp", 160) in listing
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_a_photo_the_decode_refuses_becomes_a_message_on_the_product(client, settings):
    # given a photo whose header passes but whose pixels are damaged
    seller = make_seller("chitra")
    client.force_login(seller.user)
    product = ProductFactory(seller=seller)
    image = product_image_add(product=product, upload=SimpleUploadedFile(
        "cut.png", png_with_bad_pixels(), content_type="image/png"))
    assert image.status == ProductImage.Status.PENDING

    # when the worker tries it
    run_queued_tasks()

    # then the image is rejected with the reason, and the product page tells the seller
    image.refresh_from_db()
    assert image.status == ProductImage.Status.FAILED
    assert image.error == (
        "The file is damaged or incomplete and cannot be read as a photo. Upload it again.")
    page = client.get(reverse("admin:catalog_product_change", args=[product.pk]))
    assert "Photo 1 was rejected" in page.content.decode()
    # nothing of it is left in storage but the upload the row still names
    assert stored_files(settings) == {image.original.name}
    assert not ProductImage.objects.shown().exists()


def test_rendering_again_changes_nothing(settings):
    # given a rendered photo
    image = product_image_add(product=ProductFactory(),
                              upload=io.BytesIO(make_image_bytes(width=700, height=500)))
    run_queued_tasks()
    image.refresh_from_db()
    files, variants = stored_files(settings), image.variants

    # when its render runs again (a retry, a duplicate from the sweep)
    from catalog.tasks import product_image_render_task

    product_image_render_task.enqueue(image_id=image.pk)
    run_queued_tasks()

    # then nothing changed
    image.refresh_from_db()
    assert (stored_files(settings), image.variants) == (files, variants)


@pytest.mark.parametrize("photos", [1, 5])
def test_admin_save_time_does_not_include_encoding(client, photos):
    # given 5 MP photos (the suite's budget; docs/BENCHMARKS.md measures 12 MP)
    user = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    client.force_login(user)
    seller = make_seller("asha")
    data = product_form_data(category=CategoryFactory().pk, title="Lamp", seller=seller.pk,
                             **{"images-TOTAL_FORMS": str(photos)})
    for index in range(photos):
        data[f"images-{index}-original"] = SimpleUploadedFile(
            f"p{index}.jpg", make_image_bytes(width=2560, height=1920, seed=index),
            content_type="image/jpeg")

    # when the product is saved
    started = time.perf_counter()
    response = client.post(reverse("admin:catalog_product_add"), data)
    elapsed = time.perf_counter() - started

    # then it answered without decoding: far below one photo's render (about 1 s here)
    assert response.status_code == 302
    assert Product.objects.get(title="Lamp").images.filter(status="pending").count() == photos
    assert elapsed < 0.5 * photos + 0.5


def test_the_content_hash_is_the_uploads_before_and_after_rendering():
    # Re-imports find an existing photo by it, rendered or not yet.
    import hashlib

    data = make_image_bytes(width=640, height=480, seed=11)
    image = product_image_add(product=ProductFactory(), upload=io.BytesIO(data))
    assert image.content_hash == hashlib.sha256(data).hexdigest()
    run_queued_tasks()
    image.refresh_from_db()
    assert (image.status, image.content_hash) == ("ready", hashlib.sha256(data).hexdigest())


def test_a_demo_photo_queued_twice_is_drawn_rendered_and_added_once():
    # (seed_demo run again before the worker caught up)
    from catalog.tasks import demo_photo_task

    product = ProductFactory()
    photo = {"shape": "pot", "colour": [200, 80, 40], "seed": 1, "angle": 0}
    for _ in range(2):
        demo_photo_task.enqueue(product_id=product.pk, external_id="demo-p1", title="Pot",
                                photo=photo)
    run_queued_tasks()
    assert list(product.images.values_list("position", "status")) == [(0, "ready")]
