"""`seed_demo`: the shape of the demo catalog, and that running it again changes nothing."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image, ImageStat

from catalog.demo import (
    CATEGORIES,
    SELLERS,
    PhotoSpec,
    draw_photo,
    product_spec,
)
from catalog.models import Category, Product, ProductImage, Region, Seller
from catalog.services.sellers import SELLERS_GROUP_NAME

pytestmark = pytest.mark.django_db

# Small, so the photos (half a second of encoding each) keep the test quick.
PRODUCTS = 5


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Each demo seller gets a random password; hashing twelve of them with the
    # production PBKDF2 cost would take ten seconds per test and prove nothing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", products=PRODUCTS, shoppers=0, events=0,
                 stdout=out, **options)
    return out.getvalue()


def snapshot() -> dict:
    """Return every demo row's natural key and content; created_at relative to the newest."""
    products = list(Product.objects.order_by("external_id").values_list(
        "external_id", "seller__slug", "category__slug", "title", "description", "currency",
        "price_minor", "compare_at_minor", "stock", "status", "created_at",
    ))
    newest = max(row[-1] for row in products)
    return {
        "products": [row[:-1] + (newest - row[-1],) for row in products],
        "regions": sorted(Product.regions.through.objects.values_list(
            "product__external_id", "region__code")),
        "images": sorted(ProductImage.objects.values_list(
            "product__external_id", "position", "content_hash", "alt_text")),
    }


def row_counts() -> dict[str, int]:
    models = [Region, Category, Seller, get_user_model(), Product, ProductImage,
              Product.regions.through]
    return {model.__name__: model.objects.count() for model in models}


def test_seed_demo_creates_a_realistic_catalog():
    # when the demo is seeded
    output = seed()

    # then there are 12 sellers, each with a staff login in the Sellers group
    assert Seller.objects.count() == 12
    for seller in Seller.objects.select_related("user", "region"):
        assert seller.user.is_staff and not seller.user.is_superuser
        assert seller.user.groups.filter(name=SELLERS_GROUP_NAME).exists()
        assert seller.region is not None
    # 15 categories in two levels, each with an icon
    assert Category.objects.count() == 15
    tops = Category.objects.filter(parent__isnull=True)
    assert tops.count() == 6
    assert Category.objects.filter(parent__in=tops).count() == 9
    assert not Category.objects.filter(parent__parent__isnull=False).exists()
    assert not Category.objects.filter(icon="").exists()
    # regions: three countries with their currency and language, three levels deep
    countries = {r.code: (r.currency, r.language) for r in Region.objects.countries()}
    assert countries == {"IN": ("INR", "hi"), "AE": ("AED", "ar"), "NP": ("NPR", "en")}
    assert Region.objects.count() >= 8
    pune = Region.objects.get(code="IN-MH-PUN")
    assert pune.path == "/IN/IN-MH/IN-MH-PUN/" and pune.currency == "INR"
    assert Region.objects.filter(kind="city", parent__parent__kind="country").count() >= 5
    # the listings, numbered, in leaf categories, priced in their seller's currency
    products = list(Product.objects.select_related("seller__region", "category"))
    assert sorted(p.external_id for p in products) == [
        f"demo-p{n:04d}" for n in range(1, PRODUCTS + 1)]
    for product in products:
        assert product.category.parent_id is not None
        assert product.currency == product.seller.region.currency
        assert product.price_minor > 0 and product.price_minor % 100 == 0
        assert product.compare_at_minor is None or product.compare_at_minor > product.price_minor
        assert product.created_at <= Product.objects.latest("created_at").created_at
    # and each listing with photos has them processed into every format up to 640 w
    for product in products:
        spec = product_spec(int(product.external_id[-4:]) - 1, seed=42)
        images = list(product.images.all())
        assert len(images) == len(spec.photos)
        for image in images:
            assert (image.width, image.height) == (720, 720)
            assert {(v["format"], v["width"]) for v in image.variants} >= {
                ("avif", 640), ("webp", 320), ("jpeg", 160)}
            assert image.placeholder_color.startswith("#")
    assert f"products: {PRODUCTS} ({PRODUCTS} new)" in output
    assert "shoppers/events: none asked for" in output


def test_second_run_creates_nothing():
    # given a seeded demo
    seed()
    before = row_counts()
    state = snapshot()

    # when it is seeded again
    with CaptureQueriesContext(connection) as queries:
        output = seed()

    # then no row was added or changed, after a few reads: regions, categories,
    # sellers, existing ids, listings without photos (and savepoints)
    assert len(queries) <= 12, [q["sql"][:60] for q in queries.captured_queries]
    assert row_counts() == before
    assert snapshot() == state
    assert f"products: {PRODUCTS} (0 new)" in output
    assert "photos: 0 new" in output


def test_the_same_seed_gives_the_same_catalog():
    # given the catalog seeded once, then removed
    seed(seed=7)
    first = snapshot()
    ProductImage.objects.all().delete()
    Product.objects.all().delete()

    # when it is seeded again with the same seed
    seed(seed=7)

    # then every listing, region and photo is the same, byte for byte
    assert snapshot() == first


def test_a_run_interrupted_before_the_photos_is_completed_by_the_next():
    # given a demo whose photos were lost (an interrupted first run)
    seed()
    expected = ProductImage.objects.count()
    ProductImage.objects.all().delete()

    # when it is seeded again
    seed()

    # then the photos are back and nothing else was duplicated
    assert ProductImage.objects.count() == expected
    assert Product.objects.count() == PRODUCTS


def test_listings_do_not_depend_on_how_many_are_asked_for():
    # the first listings of a small demo are the first listings of the full one
    assert [product_spec(i, seed=42) for i in range(5)] == [
        product_spec(i, seed=42) for i in range(5)]
    assert product_spec(0, seed=42) != product_spec(0, seed=43)


def test_default_catalog_is_varied():
    # given the default 600 listings
    specs = [product_spec(i, seed=42) for i in range(600)]

    # then they spread over every leaf category and seller, statuses, stock and regions
    assert {s.category for s in specs} == {c.slug for c in CATEGORIES if c.parent}
    assert {s.seller for s in specs} == {s.slug for s in SELLERS}
    statuses = [s.status for s in specs]
    assert statuses.count("active") > 500 and "draft" in statuses and "archived" in statuses
    assert 10 < sum(s.stock == 0 for s in specs) < 120
    everywhere = sum(not s.regions for s in specs)
    assert everywhere > 300
    assert {len(code.split("-")) for s in specs for code in s.regions} == {1, 2, 3}
    assert 100 < sum(s.compare_at_minor is not None for s in specs) < 400
    assert max(s.age for s in specs) <= timedelta(days=90)
    assert len({s.title for s in specs}) > 400
    for spec in specs:  # each sentence of a description starts as a sentence does
        assert all(sentence[0].isupper() or sentence[0].isdigit()
                   for sentence in spec.description.split(". ")), spec.description
    assert {len(s.photos) for s in specs} >= {0, 1, 2, 3}


def test_photos_look_like_photos_not_swatches():
    # given one photo of each kind
    for shape in ("kurta", "saree", "case", "charger", "pot", "jar", "bottle", "bowl", "toy"):
        data = draw_photo(PhotoSpec(shape, (214, 40, 118), seed=3, angle=0))

        # then it is a 720 px JPEG with many colours and real contrast
        image = Image.open(io.BytesIO(data))
        assert (image.format, image.size) == ("JPEG", (720, 720))
        assert len(image.getcolors(maxcolors=1 << 20)) > 2000, shape
        assert min(ImageStat.Stat(image.convert("L")).stddev) > 8, shape
        # and the same spec draws the same bytes
        assert draw_photo(PhotoSpec(shape, (214, 40, 118), seed=3, angle=0)) == data


def test_negative_numbers_are_refused():
    with pytest.raises(CommandError, match="expected zero or more"):
        call_command("seed_demo", products=-1)
    with pytest.raises(CommandError):
        call_command("seed_demo", "--products", "-5")


def test_shoppers_and_events_are_skipped_when_none_are_asked_for():
    out = io.StringIO()
    call_command("seed_demo", products=0, shoppers=0, events=0, stdout=out)
    assert "none asked for" in out.getvalue()
    from personalization.models import Event, ShopperProfile

    assert not ShopperProfile.objects.exists() and not Event.objects.exists()


def test_seed_demo_hands_shoppers_and_events_to_personalization():
    from personalization.models import Event, ShopperProfile

    # when the demo is seeded with a few shoppers and events
    out = io.StringIO()
    call_command("seed_demo", products=PRODUCTS, shoppers=30, events=300,
                 stdout=out)

    # then personalization made them, against the demo catalog, with the same seed
    assert ShopperProfile.objects.count() == 30
    assert Event.objects.exists()
    assert not Event.objects.exclude(product__external_id__startswith="demo-p").exists()
    assert "skipped" not in out.getvalue()
