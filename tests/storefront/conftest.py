"""Storefront fixtures: products with real pipeline photos, and a gzip helper."""

from __future__ import annotations

import gzip
import re

import pytest

from tests.factories import ProductImageFactory, make_image_upload, make_products

# One drawn photo, encoded once per test session: the pipeline's output
# (variants, placeholder, dimensions) is real, and re-adding the same upload
# costs little since its files are content-addressed.
_UPLOAD_BYTES: dict[int, bytes] = {}


def _upload(seed: int):
    if seed not in _UPLOAD_BYTES:
        _UPLOAD_BYTES[seed] = make_image_upload(seed=seed, width=480, height=480).read()
    return make_image_upload(data=_UPLOAD_BYTES[seed])


@pytest.fixture
def upload(db):
    """Return a function giving a fresh upload of drawn photo number `seed` (480x480)."""
    return _upload


@pytest.fixture
def products_with_photos(db):
    """Return a function making `n` active products, each with one real photo."""

    def make(n: int, *, distinct_photos: int | None = None, **overrides):
        """`distinct_photos`: how many different pictures to cycle through (default: all)."""
        products = make_products(n, **overrides)
        for index, product in enumerate(products):
            seed = index % distinct_photos if distinct_photos else index
            ProductImageFactory(product=product, upload=_upload(seed),
                                alt_text=f"Photo of {product.title}")
        return products

    return make


def gzip_size(data: bytes) -> int:
    # Level 6: what Django's GZipMiddleware (and nginx's default) sends.
    return len(gzip.compress(data, compresslevel=6))


def card_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<li class="card" data-p="(\d+)"', html)]
