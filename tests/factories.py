"""Small factories for tests: real rows in a real database, sensible defaults."""

from __future__ import annotations

import io
import itertools
import random

import factory
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from catalog.models import Category, Product, ProductImage, Region, Seller

_seq = itertools.count(1)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct-horse-battery-staple")


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"C{n}")
    name = factory.LazyAttribute(lambda r: f"Region {r.code}")
    kind = Region.Kind.COUNTRY
    parent = None
    currency = "INR"
    language = "en"


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    icon = "🛍"


class SellerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Seller

    user = factory.SubFactory(UserFactory, is_staff=True)
    display_name = factory.Sequence(lambda n: f"Seller {n}")
    slug = factory.Sequence(lambda n: f"seller-{n}")
    phone = "+919800000000"
    verified = True


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        skip_postgeneration_save = True

    seller = factory.SubFactory(SellerFactory)
    category = factory.SubFactory(CategoryFactory)
    title = factory.Sequence(lambda n: f"Cotton kurta {n}")
    description = "Soft cotton, machine washable."
    currency = "INR"
    price_minor = 49900
    compare_at_minor = 79900
    stock = 10
    status = Product.Status.ACTIVE
    external_id = factory.Sequence(lambda n: f"P{n}")

    @factory.post_generation
    def regions(self, create, extracted, **kwargs):
        if create and extracted:
            self.regions.set(extracted)


def make_products(n: int, **overrides) -> list[Product]:
    """Return `n` active products spread over a few sellers and categories."""
    sellers = overrides.pop("sellers", None) or SellerFactory.create_batch(3)
    categories = overrides.pop("categories", None) or CategoryFactory.create_batch(3)
    return [
        ProductFactory(seller=sellers[i % len(sellers)], category=categories[i % len(categories)],
                       **overrides)
        for i in range(n)
    ]


def make_image(*, width: int = 480, height: int = 360, seed: int = 0,
               mode: str = "RGB") -> Image.Image:
    """Return a small drawn "photo" (gradient and shapes): real pixels, different per seed."""
    rng = random.Random(seed)
    ramp = Image.linear_gradient("L").resize((width, height))
    img = Image.merge("RGB", [ramp, ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
                              Image.new("L", (width, height), rng.randrange(256))])
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(max(2, min(width, height) // 10), max(3, min(width, height) // 3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in "rgb"))
    return img.convert(mode) if mode != "RGB" else img


def make_image_bytes(*, width: int = 480, height: int = 360, fmt: str = "JPEG", seed: int = 0,
                     mode: str = "RGB", **save_options) -> bytes:
    """Return a drawn image encoded as `fmt` ("JPEG", "PNG", "WEBP"...) with `save_options`."""
    buffer = io.BytesIO()
    make_image(width=width, height=height, seed=seed, mode=mode).save(buffer, fmt, **save_options)
    return buffer.getvalue()


def make_image_upload(*, name: str = "photo.jpg", data: bytes | None = None,
                      content_type: str = "image/jpeg", **image_options) -> SimpleUploadedFile:
    """Return an upload as the admin or API receives it (a drawn JPEG unless `data` is given)."""
    if data is None:
        data = make_image_bytes(**image_options)
    return SimpleUploadedFile(name, data, content_type=content_type)


class ProductImageFactory(factory.django.DjangoModelFactory):
    """A product photo made through the real pipeline (variants, placeholder and all)."""

    class Meta:
        model = ProductImage

    product = factory.SubFactory(ProductFactory)
    alt_text = factory.Sequence(lambda n: f"Product photo {n}")
    position = None
    upload = factory.Sequence(lambda n: make_image_upload(seed=n))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from catalog.services.images import product_image_add

        return product_image_add(**kwargs)
