"""Helpers for the admin tests: real seller logins and the POST bodies the admin expects."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog.models import Product, ProductImage, Seller
from catalog.services import seller_create

PASSWORD = "a-long-Passphrase-42"


def make_seller(username: str, **overrides) -> Seller:
    """Return a seller created the way production creates them (Sellers group, staff)."""
    values = {"email": f"{username}@example.com", "password": PASSWORD,
              "display_name": f"{username.title()} Store"} | overrides
    return seller_create(username=username, **values)


def png_bytes(size: tuple[int, int] = (8, 8), color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def make_image(product: Product, *, alt_text: str = "", position: int = 0) -> ProductImage:
    """Return a stored image row with a 160w WebP variant listed, as the pipeline leaves it."""
    name = f"v{product.pk}-{position}"
    return ProductImage.objects.create(
        product=product,
        position=position,
        alt_text=alt_text,
        original=SimpleUploadedFile(f"{name}.png", png_bytes(), content_type="image/png"),
        content_hash=f"{name:0<64}"[:64],
        variants=[
            {"width": 160, "height": 160, "format": "webp",
             "name": f"products/v/aa/{name}-160.webp", "bytes": 900},
            {"width": 160, "height": 160, "format": "jpeg",
             "name": f"products/v/aa/{name}-160.jpg", "bytes": 1500},
        ],
        placeholder_color="#aa3300",
    )


def product_form_data(product: Product | None = None, *, images=(), **overrides) -> dict:
    """Return the change form's POST body for `product` (or an empty add form), inline included.

    `images` are existing ProductImage rows to list in the inline (by id).
    """
    data = {
        "title": "Handloom saree",
        "category": "",
        "description": "",
        "price": "499.00",
        "compare_at_price": "",
        "currency": "INR",
        "stock": "5",
        "status": Product.Status.DRAFT,
        "external_id": "",
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
    }
    if product is not None:
        data |= {
            "title": product.title,
            "category": str(product.category_id),
            "description": product.description,
            "price": str(product.price),
            "compare_at_price": "" if product.compare_at_minor is None
            else str(product.compare_at_price),
            "currency": product.currency,
            "stock": str(product.stock),
            "stock_seen": str(product.stock),
            "status": product.status,
            "external_id": product.external_id,
        }
    images = list(images)
    for index, image in enumerate(images):
        data |= {
            f"images-{index}-id": str(image.pk),
            f"images-{index}-product": str(image.product_id),
            f"images-{index}-alt_text": image.alt_text,
            f"images-{index}-position": str(image.position),
        }
    data["images-TOTAL_FORMS"] = data["images-INITIAL_FORMS"] = str(len(images))
    return data | {key: str(value) for key, value in overrides.items()}


def snapshot(*products: Product) -> list[tuple]:
    """Return what the isolation tests compare before and after an attack."""
    rows = Product.objects.filter(pk__in=[p.pk for p in products]).order_by("pk")
    return [
        (p.pk, p.seller_id, p.title, p.price_minor, p.stock, p.status, p.external_id,
         sorted((i.pk, i.alt_text, i.position, i.original.name) for i in p.images.all()))
        for p in rows.prefetch_related("images")
    ]
