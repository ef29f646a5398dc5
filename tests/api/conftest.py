"""Helpers for the API tests: clients with and without a shopper token."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from catalog.models import ProductImage
from personalization.services import shopper_create_anonymous


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Sellers' users are made with a real password; PBKDF2's cost is for
    # production, not for hundreds of factory rows.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_microcache(settings):
    # Tests change data between requests and expect to see it; the micro-cache
    # has its own test (test_products.py).
    settings.SHOP_API_MICROCACHE_SECONDS = 0


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def shopper_and_token(db):
    return shopper_create_anonymous()


@pytest.fixture
def shopper_api(shopper_and_token):
    _shopper, token = shopper_and_token
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Shopper {token}")
    return client


def add_card_image(product, *, color: str = "#112233") -> ProductImage:
    """Attach an image row with variants, without running the Pillow pipeline (fast)."""
    variants = [
        {"width": w, "height": w * 3 // 4, "format": fmt,
         "name": f"products/v/ab/h{product.pk}-{w}.{fmt}", "bytes": w * 10}
        for fmt in ("avif", "webp", "jpeg")
        for w in (160, 320, 480, 640)
    ]
    return ProductImage.objects.create(
        product=product, original=f"products/masters/{product.pk}.jpg", width=640, height=480,
        content_hash=f"h{product.pk}", variants=variants, placeholder_color=color,
        placeholder_data="data:image/webp;base64,AAAA",
    )


def assert_error(response, status: int, code: str) -> dict:
    """Assert the one error shape and return its `fields`."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert response["Cache-Control"] == "no-store"
    return body["error"]["fields"]
