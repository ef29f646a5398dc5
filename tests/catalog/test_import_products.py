"""`import_dataset --products`: what lands in the database, and what never does."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.demo import PhotoSpec, draw_photo
from catalog.importers import import_products
from catalog.models import Product, ProductImage, Region, Seller
from core.datasets import DatasetError
from tests.factories import CategoryFactory, ProductFactory, RegionFactory, SellerFactory

pytestmark = pytest.mark.django_db

HEADER = "id,title,category,price,seller,regions,stock,created_at,description,image\n"


@pytest.fixture
def vocabulary():
    india = RegionFactory(code="IN", name="India", currency="INR")
    maharashtra = RegionFactory(code="IN-MH", name="Maharashtra", kind="state", parent=india)
    pune = RegionFactory(code="IN-MH-PUN", name="Pune", kind="city", parent=maharashtra)
    fashion = CategoryFactory(slug="fashion", name="Fashion")
    kurtas = CategoryFactory(slug="kurtas", name="Kurtas", parent=fashion)
    seller = SellerFactory(slug="pune-looms", region=pune)
    return {"pune": pune, "maharashtra": maharashtra, "kurtas": kurtas, "seller": seller}


def write(tmp_path: Path, text: str, name: str = "products.csv", bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def photo(tmp_path: Path, name: str = "kurta.jpg") -> Path:
    path = tmp_path / name
    path.write_bytes(draw_photo(PhotoSpec("kurta", (52, 62, 140), seed=7, angle=0), size=400))
    return path


def run(path: Path) -> str:
    out = io.StringIO()
    call_command("import_dataset", products=str(path), stdout=out)
    return out.getvalue()


def media_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_good_file_imports_every_field(tmp_path, vocabulary, settings):
    # given a file using every column, with the category by name and a relative image path
    photo(tmp_path)
    path = write(tmp_path, HEADER + (
        'k-1,Chikan kurta,kurtas,499.50,pune-looms,IN-MH|IN-MH-PUN,12,'
        '2025-03-01T10:00:00+05:30,"Soft, cool cotton",kurta.jpg\n'
        "k-2,Khadi kurta,KURTAS,1299,pune-looms,,0,1700000000,,\n"
    ))

    # when it is imported
    output = run(path)

    # then both listings exist with exact values
    assert "products: 2 rows imported" in output
    first = Product.objects.get(external_id="k-1")
    assert first.seller == vocabulary["seller"]
    assert first.category == vocabulary["kurtas"]
    assert (first.price_minor, first.currency, first.stock) == (49950, "INR", 12)
    assert first.description == "Soft, cool cotton"
    assert first.status == Product.Status.ACTIVE
    assert first.created_at == datetime(2025, 3, 1, 4, 30, tzinfo=UTC)
    assert set(first.regions.values_list("code", flat=True)) == {"IN-MH", "IN-MH-PUN"}
    second = Product.objects.get(external_id="k-2")
    assert second.price_minor == 129900
    assert second.created_at == datetime.fromtimestamp(1700000000, tz=UTC)
    assert not second.regions.exists()  # empty: sold everywhere
    # and the photo went through the pipeline: a master and its variants on disk
    image = first.images.get()
    assert image.alt_text == "Chikan kurta"
    assert {v["format"] for v in image.variants} == {"avif", "webp", "jpeg"}
    assert max(v["width"] for v in image.variants) <= 400
    stored = {p.relative_to(settings.MEDIA_ROOT).as_posix() for p in media_files(settings)}
    assert {v["name"] for v in image.variants} | {image.original.name} <= stored
    assert not second.images.exists()


def test_byte_order_mark_is_accepted(tmp_path, vocabulary):
    # given a file saved by a spreadsheet with a BOM before the header
    path = write(tmp_path, "id,title,category,price\nb-1,Kurta,kurtas,250\n", bom=True)

    # when it is imported, the first column is still "id"
    import_products(path)

    # then
    product = Product.objects.get(external_id="b-1")
    assert product.price_minor == 25000


def test_rows_without_a_seller_go_to_the_import_seller(tmp_path, vocabulary):
    # given a file without a seller column
    path = write(tmp_path, "id,title,category,price\nx-1,Kurta,kurtas,99\nx-2,Kurta 2,kurtas,99\n")

    # when it is imported twice
    import_products(path)
    import_products(path)

    # then one "import" seller holds both listings, created once
    seller = Seller.objects.get(slug="import")
    assert seller.user.is_staff and not seller.user.is_superuser
    assert sorted(seller.products.values_list("external_id", flat=True)) == ["x-1", "x-2"]


def test_reimport_updates_the_same_listing(tmp_path, vocabulary):
    # given an imported listing that the seller then archived
    photo(tmp_path)
    path = write(tmp_path, HEADER + "u-1,Kurta,kurtas,499,pune-looms,IN-MH,5,,Old,kurta.jpg\n")
    import_products(path)
    product = Product.objects.get(external_id="u-1")
    listed_at = product.created_at
    Product.objects.filter(pk=product.pk).update(status=Product.Status.ARCHIVED)

    # when a corrected file with the same id (and the same photo) is imported
    path = write(tmp_path, HEADER + "u-1,Kurta (new),kurtas,549.00,pune-looms,IN-MH-PUN,7,,New,"
                                    "kurta.jpg\n")
    import_products(path)

    # then the listing is updated in place: no second listing, no second photo
    product.refresh_from_db()
    assert Product.objects.filter(external_id="u-1").count() == 1
    assert (product.title, product.price_minor, product.stock, product.description) == (
        "Kurta (new)", 54900, 7, "New")
    assert list(product.regions.values_list("code", flat=True)) == ["IN-MH-PUN"]
    assert product.status == Product.Status.ARCHIVED  # an import never touches status
    assert product.created_at == listed_at  # an empty created_at keeps the first one
    assert product.images.count() == 1


def test_update_leaves_columns_the_file_does_not_have(tmp_path, vocabulary):
    # given a listing with stock, description and regions
    existing = ProductFactory(seller=vocabulary["seller"], external_id="p-9", stock=40,
                              description="Kept", regions=[vocabulary["pune"]])

    # when a file with only the required columns names it
    import_products(write(tmp_path, "id,title,category,price,seller\n"
                                    "p-9,Renamed,kurtas,10,pune-looms\n"))

    # then only those columns changed
    existing.refresh_from_db()
    assert (existing.title, existing.price_minor) == ("Renamed", 1000)
    assert (existing.stock, existing.description) == (40, "Kept")
    assert list(existing.regions.all()) == [vocabulary["pune"]]


def test_every_bad_row_is_reported_and_nothing_is_written(tmp_path, vocabulary, settings):
    # given a file with good rows and one bad row of every kind
    photo(tmp_path)
    (tmp_path / "notes.jpg").write_text("not a picture")
    path = write(tmp_path, HEADER + (
        "g-1,Good kurta,kurtas,499,pune-looms,,1,,,kurta.jpg\n"   # line 2: good
        "b-1,,kurtas,499,,,,,,\n"                                 # 3: no title
        "b-2,Kurta,kurtas,4.99.0,,,,,,\n"                         # 4: bad price
        "b-3,Kurta,kurtas,499,,,-3,,,\n"                          # 5: negative stock
        "b-4,Kurta,saris,499,,,,,,\n"                             # 6: unknown category
        "b-5,Kurta,kurtas,499,,XX-99,,,,\n"                       # 7: unknown region
        "b-6,Kurta,kurtas,499,nobody,,,,,\n"                      # 8: unknown seller
        "b-7,Kurta,kurtas,499,,,,,,notes.jpg\n"                   # 9: not an image
        "g-1,Again,kurtas,499,pune-looms,,,,,\n"                  # 10: duplicate id
        "b-8,Kurta,kurtas,499,,,,yesterday,,\n"                   # 11: bad created_at
        "b-9,Kurta,kurtas,499,,,,,,missing.jpg\n"                 # 12: no such image
        "b-10,Kurta,kurtas,1.234,,,,,,\n"                         # 13: too precise
        "b-11,Kurta,kurtas\n"                                     # 14: too few fields
    ))
    before = (Product.objects.count(), ProductImage.objects.count(), Seller.objects.count())

    # when it is imported
    with pytest.raises(CommandError) as raised:
        run(path)

    # then each bad line is named with its reason
    message = str(raised.value)
    for line, reason in [
        (3, "title is required"), (4, "bad price"), (5, "stock cannot be negative"),
        (6, "unknown category 'saris'"), (7, "unknown region code(s): XX-99"),
        (8, "unknown seller 'nobody'"), (9, "notes.jpg"),
        (10, "duplicate id 'g-1' (first on line 2)"),
        (11, "bad created_at"), (12, "cannot read image"), (13, "at most 2 decimal places"),
        (14, "expected 10 fields, found 3"),
    ]:
        assert f"line {line}: " in message and reason in message, (line, reason)
    assert "line 2:" not in message
    assert "12 error(s)" in message
    # and nothing was written: no rows, no "import" seller, no image files
    assert (Product.objects.count(), ProductImage.objects.count(), Seller.objects.count()) == before
    assert media_files(settings) == []


def test_header_problems_are_reported_on_line_one(tmp_path, vocabulary):
    # given a header with a typo in a column name and a required column missing
    path = write(tmp_path, "id,title,categroy,price\nq-1,Kurta,kurtas,499\n")

    # when / then
    with pytest.raises(DatasetError) as raised:
        import_products(path)
    assert [e.line for e in raised.value.errors] == [1, 1]
    assert "missing required column(s): category" in str(raised.value)
    assert "unknown column(s): categroy" in str(raised.value)
    assert not Product.objects.exists()


def test_a_file_that_is_not_utf8_is_refused_with_its_line(tmp_path, vocabulary):
    # given a Latin-1 file whose third line has a non-ASCII byte
    path = tmp_path / "latin1.csv"
    path.write_bytes("id,title,category,price\na,Kurta,kurtas,1\nb,Café kurta,kurtas,1\n"
                     .encode("latin-1"))

    # when / then
    with pytest.raises(DatasetError) as raised:
        import_products(path)
    assert raised.value.errors[0].line == 3
    assert "UTF-8" in raised.value.errors[0].message
    assert not Product.objects.exists()


def test_missing_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="cannot open"):
        call_command("import_dataset", products=str(tmp_path / "nope.csv"))


def test_nothing_to_import_is_a_command_error():
    with pytest.raises(CommandError, match="nothing to import"):
        call_command("import_dataset")


@pytest.mark.parametrize("rows", [20, 1000])
def test_import_query_count_does_not_grow_with_rows(tmp_path, vocabulary, rows):
    # given a file of `rows` listings, half of which already exist (upserts)
    for i in range(0, rows, 2):
        ProductFactory(seller=vocabulary["seller"], category=vocabulary["kurtas"],
                       external_id=f"n-{i}")
    lines = [f"n-{i},Kurta {i},kurtas,{100 + i}.50,pune-looms,IN-MH|IN-MH-PUN,{i},1700000000,"
             f"Row {i},\n" for i in range(rows)]
    path = write(tmp_path, HEADER + "".join(lines))

    # when it is imported
    # CPU time, not wall time: the figure must not depend on what else the
    # machine runs (SQLite's work is in-process, so it is counted too).
    started = time.process_time()
    with CaptureQueriesContext(connection) as queries:
        assert import_products(path) == rows
    elapsed = time.process_time() - started

    # then the queries are a constant few per batch of 1000: savepoints, the
    # vocabulary (categories, regions, sellers), the existing ids, the inserts
    # and the update (split by SQLite's 999-parameter limit), the region rows
    assert len(queries) <= 45, [q["sql"][:80] for q in queries.captured_queries]
    assert elapsed < 8, elapsed
    assert Product.objects.filter(external_id__startswith="n-").count() == rows
    assert Region.objects.get(code="IN-MH").products.count() == rows
    last = Product.objects.get(external_id=f"n-{rows - 1}")
    assert last.price_minor == (100 + rows - 1) * 100 + 50


def test_two_sellers_may_use_the_same_id(tmp_path, vocabulary):
    # given a second seller whose ids overlap with the first's
    SellerFactory(slug="lucknow-looms")

    # when both list "k-1" in one file
    import_products(write(tmp_path, "id,title,category,price,seller\n"
                                    "k-1,Kurta A,kurtas,100,pune-looms\n"
                                    "k-1,Kurta B,kurtas,200,lucknow-looms\n"))

    # then each seller has their own listing
    assert dict(Product.objects.filter(external_id="k-1").values_list(
        "seller__slug", "title")) == {"pune-looms": "Kurta A", "lucknow-looms": "Kurta B"}


def test_a_wholly_wrong_file_reports_the_first_errors_and_the_total(tmp_path, vocabulary):
    # given 60 rows, each with a bad price
    path = write(tmp_path, "id,title,category,price\n" + "".join(
        f"w-{i},Kurta,kurtas,free\n" for i in range(60)))

    # when / then: 50 lines listed, the rest counted
    with pytest.raises(CommandError) as raised:
        run(path)
    message = str(raised.value)
    assert "60 error(s)" in message and "... and 10 more" in message
    assert "line 51: bad price 'free'" in message and "line 52:" not in message
    assert not Product.objects.exists()


def test_products_then_shoppers_then_events_in_one_command(tmp_path, vocabulary):
    from personalization.models import Event, ShopperProfile

    # given three files whose events refer to products and shoppers in the other two
    products = write(tmp_path, "id,title,category,price,seller\ne-1,Kurta,kurtas,99,pune-looms\n",
                     "p.csv")
    shoppers = write(tmp_path, "id,region,age,gender,language\ns-1,IN-MH-PUN,27,f,hi\n", "s.csv")
    events = write(tmp_path, "shopper,product,type,timestamp\ns-1,e-1,view,1700000000\n"
                             "s-1,e-1,purchase,2023-11-14T22:20:00Z\n", "e.csv")

    # when they are given in any order on one command line
    out = io.StringIO()
    call_command("import_dataset", events=str(events), shoppers=str(shoppers),
                 products=str(products), stdout=out)

    # then products went first, so the events could refer to them
    output = out.getvalue()
    assert output.index("products: 1 rows") < output.index("shoppers: 1 rows") \
        < output.index("events: 2 rows")
    assert ShopperProfile.objects.get(external_id="s-1").region == vocabulary["pune"]
    assert set(Event.objects.values_list("product__external_id", flat=True)) == {"e-1"}


def test_categories_and_regions_files_import_the_vocabulary_products_name(tmp_path):
    # Given a catalogue whose categories and regions the shop does not have yet
    categories = write(tmp_path, "slug,name,parent\nfood,Food,\nrice,Rice,food\n", "cats.csv")
    regions = write(tmp_path, "code,name,kind,parent,currency,language\n"
                              "TW,Taiwan,country,,USD,en\nTW-TPE,Taipei,state,TW,,\n"
                              "TW-115,Area 115,city,TW-TPE,,\n", "regions.csv")
    products = write(tmp_path, "id,title,category,price,regions\nP1,Rice 1kg,rice,40,TW-115\n")
    out = io.StringIO()

    # When all three are given in one import_dataset
    call_command("import_dataset", products=str(products), categories=str(categories),
                 regions=str(regions), stdout=out)

    # Then the vocabulary came first and the product found it
    product = Product.objects.get(external_id="P1")
    assert product.category.slug == "rice" and product.category.parent.slug == "food"
    city = Region.objects.get(code="TW-115")
    assert city.ancestor_codes() == ["TW", "TW-TPE", "TW-115"]
    assert (city.currency, city.language) == ("USD", "en")
    assert list(product.regions.values_list("code", flat=True)) == ["TW-115"]


def test_bad_vocabulary_rows_are_reported_by_line_and_nothing_is_written(tmp_path):
    regions = write(tmp_path, "code,name,kind,parent\nTW,Taiwan,country,\n"
                              "TW-X,X,city,TW\nTW-Y,Y,state,ZZ\nTW-Z,Z,planet,\n", "regions.csv")

    with pytest.raises(CommandError) as raised:
        call_command("import_dataset", regions=str(regions), stdout=io.StringIO())

    message = str(raised.value)
    assert "line 3: the parent of a city must be a state" in message
    assert "line 4: unknown parent 'ZZ'" in message
    assert "line 5: kind 'planet'" in message
    assert not Region.objects.filter(code__startswith="TW").exists()
