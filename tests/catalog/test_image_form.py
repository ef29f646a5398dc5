"""ProductImageForm: every bad upload is a form error on the photo field, never an exception."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from django.forms import inlineformset_factory
from django.test import override_settings
from PIL import Image

from catalog.forms import ProductImageForm, ProductImageInlineFormSet
from catalog.models import Product, ProductImage
from catalog.services.images import image_file_names
from tests.factories import (
    ProductFactory,
    ProductImageFactory,
    make_image,
    make_image_bytes,
    make_image_upload,
)

pytestmark = pytest.mark.django_db


def stored_files(settings) -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() \
        else set()


def form_for(upload, *, instance=None, **data) -> ProductImageForm:
    instance = instance or ProductImage(product=ProductFactory())
    return ProductImageForm(data={"alt_text": "", "position": "", **data},
                            files={"original": upload} if upload else {}, instance=instance)


def pillow_bytes(fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    make_image(width=300, height=300).save(buffer, fmt, **options)
    return buffer.getvalue()


def bomb_png() -> bytes:
    data = make_image_bytes(fmt="PNG", width=200, height=200)
    ihdr = bytearray(data[8:33])
    ihdr[8:16] = struct.pack(">II", 30000, 30000)
    ihdr[21:25] = struct.pack(">I", zlib.crc32(bytes(ihdr[4:21])))
    return data[:8] + bytes(ihdr) + data[33:]


def psd_bytes() -> bytes:
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, 200, 200, 8, 3)
    return header + struct.pack(">IIIH", 0, 0, 0, 0) + bytes(3 * 200 * 200)


def eps_bytes() -> bytes:
    buffer = io.BytesIO()
    make_image(width=200, height=200).save(buffer, "EPS")
    return buffer.getvalue()


BAD_UPLOADS = {
    "decompression bomb": (bomb_png, "megapixels"),
    "truncated JPEG": (lambda: make_image_bytes(width=400, height=300)[:3000], "damaged"),
    "PNG with HTML appended": (
        lambda: make_image_bytes(fmt="PNG") + b"<html><script>alert(1)</script></html>",
        "extra data"),
    "JPEG with data after EOI": (lambda: make_image_bytes() + b"#!/bin/sh\nrm -rf /\n",
                                 "extra data"),
    "SVG": (lambda: b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>', "SVG"),
    "PSD renamed .jpg": (psd_bytes, "PSD"),
    "TIFF renamed .jpg": (lambda: pillow_bytes("TIFF"), "TIFF"),
    "EPS renamed .jpg": (eps_bytes, "EPS"),
    "GIF renamed .jpg": (lambda: pillow_bytes("GIF"), "GIF"),
    "too thin (1000x10)": (lambda: make_image_bytes(fmt="PNG", width=1000, height=10),
                           "too small"),
    "empty file": (lambda: b"", None),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_bad_uploads_are_form_errors_and_write_nothing(case, settings):
    make_data, says = BAD_UPLOADS[case]
    form = form_for(make_image_upload(name="photo.jpg", data=make_data()))

    assert not form.is_valid()

    assert list(form.errors) == ["original"]
    if says:
        assert says in form.errors["original"][0], form.errors["original"][0]
    assert not ProductImage.objects.exists()
    assert stored_files(settings) == set()


@override_settings(SHOP_UPLOAD_MAX_BYTES=10_000)
def test_an_oversized_file_is_a_form_error(settings):
    upload = make_image_upload(width=1200, height=900)
    assert upload.size > 10_000

    form = form_for(upload)

    assert not form.is_valid()
    assert "larger than" in form.errors["original"][0]


def test_a_good_upload_saves_through_the_service_with_a_content_hashed_name(settings):
    product = ProductFactory()
    upload = make_image_upload(name="IMG_0001.php\x00.jpg", width=640, height=480)
    form = form_for(upload, instance=ProductImage(product=product), alt_text="Front view")

    assert form.is_valid(), form.errors
    image = form.save()

    image.refresh_from_db()
    assert (image.product, image.alt_text, image.position) == (product, "Front view", 0)
    assert image.original.name.startswith("products/masters/")
    assert "IMG_0001" not in " ".join(stored_files(settings))
    assert stored_files(settings) == image_file_names(image)
    assert sorted({v["width"] for v in image.variants}) == [160, 320, 480, 640]


def test_editing_alt_text_keeps_the_photo_without_reuploading():
    image = ProductImageFactory(alt_text="Old")
    form = ProductImageForm(data={"alt_text": "New", "position": "2"}, files={}, instance=image)

    assert form.is_valid(), form.errors
    saved = form.save()

    saved.refresh_from_db()
    assert (saved.alt_text, saved.position) == ("New", 2)
    assert saved.variants == image.variants
    assert saved.original.name == image.original.name


def test_a_new_photo_without_a_file_is_required():
    form = form_for(None)
    assert not form.is_valid()
    assert list(form.errors) == ["original"]


def test_a_negative_position_is_a_field_error():
    form = form_for(make_image_upload(), position="-1")
    assert not form.is_valid()
    assert list(form.errors) == ["position"]


def test_the_inline_formset_adds_and_deletes_through_the_service(
    settings, django_capture_on_commit_callbacks
):
    # given a product with one photo, edited through the admin's inline formset
    product = ProductFactory()
    existing = ProductImageFactory(product=product)
    formset_class = inlineformset_factory(
        Product, ProductImage, form=ProductImageForm, formset=ProductImageInlineFormSet,
        fields=["alt_text"], extra=1, can_delete=True,
    )
    prefix = formset_class.get_default_prefix()
    data = {
        f"{prefix}-TOTAL_FORMS": "2", f"{prefix}-INITIAL_FORMS": "1",
        f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000",
        f"{prefix}-0-id": str(existing.pk), f"{prefix}-0-alt_text": existing.alt_text,
        f"{prefix}-0-position": "0", f"{prefix}-0-DELETE": "on",
        f"{prefix}-1-alt_text": "Side view", f"{prefix}-1-position": "",
    }
    files = {f"{prefix}-1-original": make_image_upload(seed=77)}

    # when it is saved deleting the old photo and adding a new one
    formset = formset_class(data, files, instance=product, prefix=prefix)
    assert formset.is_valid(), formset.errors
    with django_capture_on_commit_callbacks(execute=True):
        formset.save()

    # then only the new photo remains, and only its files are stored
    (added,) = ProductImage.objects.filter(product=product)
    assert added.alt_text == "Side view"
    assert stored_files(settings) == image_file_names(added)
    assert Image.open(Path(settings.MEDIA_ROOT) / added.original.name).format == "JPEG"
