"""A seller's bulk upload in the admin: hostile files refused whole, good files written once.

Every hostile file goes through the real admin page as a seller's browser
sends it, and must end as an `invalid` job with a message saying why, a page
under 500, and nothing written: no listing, no photo row, no file left in
storage.
"""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from catalog.importers import formula_problem
from catalog.models import BulkUpload, Product, ProductImage
from catalog.services import bulk as bulk_services
from catalog.tasks import bulk_upload_run_task
from tests.catalog.admin_support import make_seller
from tests.factories import CategoryFactory, ProductFactory, RegionFactory, make_image_bytes

pytestmark = pytest.mark.django_db

ADD = "/admin/catalog/bulkupload/add/"
HEADER = "id,title,category,price,stock,description,image\n"


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def shop():
    india = RegionFactory(code="IN", name="India", currency="INR")
    clothes = CategoryFactory(slug="clothes", name="Clothes")
    seller_a = make_seller("asha", region=india)
    seller_b = make_seller("bala", region=india)
    return {"a": seller_a, "b": seller_b, "clothes": clothes, "india": india}


def client_for(seller) -> Client:
    client = Client()
    client.force_login(seller.user)
    return client


def photo(seed: int = 0, fmt: str = "JPEG") -> bytes:
    return make_image_bytes(width=200, height=200, seed=seed, fmt=fmt)


def make_zip(members, *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    """Return a ZIP of `members`: (name or ZipInfo, bytes) pairs."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def rows_csv(n: int, *, photos: bool = False, start: int = 1) -> str:
    lines = [HEADER]
    for i in range(start, start + n):
        image = f"p{i}.jpg" if photos else ""
        lines.append(f"SKU-{i},Cotton kurta {i},clothes,{100 + i}.50,{i % 7},Soft cotton,"
                     f"{image}\n")
    return "".join(lines)


def upload(client: Client, csv: bytes | str, zip_data: bytes | None = None, *,
           csv_name: str = "listings.csv", zip_name: str = "photos.zip"):
    data = {"listings": SimpleUploadedFile(
        csv_name, csv.encode() if isinstance(csv, str) else csv, content_type="text/csv")}
    if zip_data is not None:
        data["photos"] = SimpleUploadedFile(zip_name, zip_data, content_type="application/zip")
    return client.post(ADD, data, follow=True)


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def patch_central_size(data: bytes, size: int) -> bytes:
    """Make the ZIP's central directory declare `size` bytes for its first member."""
    at = data.index(b"PK\x01\x02")
    return data[:at + 24] + struct.pack("<I", size) + data[at + 28:]


def symlink_zip() -> bytes:
    info = zipfile.ZipInfo("p1.jpg")
    info.create_system = 3
    info.external_attr = (0o120777 << 16)
    return make_zip([(info, b"/etc/passwd")])


def encrypted_zip() -> bytes:
    data = make_zip([("p1.jpg", photo())], compression=zipfile.ZIP_STORED)
    at = data.index(b"PK\x01\x02")  # the central directory's flags: "encrypted"
    return data[:at + 8] + struct.pack("<H", 0x1) + data[at + 10:]


def duplicate_names_zip() -> bytes:
    with pytest.warns(UserWarning):
        return make_zip([("p1.jpg", photo(1)), ("p1.jpg", photo(2))])


ONE_ROW = rows_csv(1, photos=True)
ZEROS = b"\x00" * (20 * 1024 * 1024)

# (label, csv, zip or None, settings overrides, a word the error must contain)
HOSTILE = [
    ("zip bomb: one member expanding to 20 MB of zeros", ONE_ROW,
     lambda: make_zip([("p1.jpg", ZEROS)]), {}, "MB"),
    ("zip bomb: ten 2 MB members of zeros", ONE_ROW,
     lambda: make_zip([(f"p{i}.jpg", ZEROS[:2 * 1024 * 1024]) for i in range(10)]), {},
     "zip bomb"),
    ("zip bomb: directory declares 3 GB", ONE_ROW,
     lambda: patch_central_size(make_zip([("p1.jpg", photo())]), 3 * 1024 ** 3), {},
     "expand"),
    ("member shorter than its directory entry claims", ONE_ROW,
     lambda: patch_central_size(make_zip([("p1.jpg", photo())],
                                         compression=zipfile.ZIP_STORED), 100), {},
     "p1.jpg"),
    ("traversal: ../p1.jpg", ONE_ROW, lambda: make_zip([("../p1.jpg", photo())]), {}, ".."),
    ("traversal: deep a/../../p1.jpg", ONE_ROW,
     lambda: make_zip([("a/../../p1.jpg", photo())]), {}, ".."),
    ("absolute name /etc/p1.jpg", ONE_ROW, lambda: make_zip([("/etc/p1.jpg", photo())]), {},
     "absolute"),
    ("drive letter C:/p1.jpg", ONE_ROW, lambda: make_zip([("C:/p1.jpg", photo())]), {},
     "absolute"),
    ("backslash traversal ..\\p1.jpg", ONE_ROW, lambda: make_zip([("..\\p1.jpg", photo())]),
     {}, "backslash"),
    ("control character in a name", ONE_ROW, lambda: make_zip([("p\x01.jpg", photo())]), {},
     "control"),
    ("symlink member", ONE_ROW, symlink_zip, {}, "symbolic link"),
    ("nested zip by name", ONE_ROW,
     lambda: make_zip([("inner.zip", make_zip([("p1.jpg", photo())]))]), {}, "archive"),
    ("nested zip renamed .jpg", ONE_ROW,
     lambda: make_zip([("p1.jpg", make_zip([("x.jpg", photo())]))]), {}, "archive"),
    ("gzip renamed .jpg", ONE_ROW, lambda: make_zip([("p1.jpg", gzip.compress(photo()))]), {},
     "archive"),
    ("tar.gz member", ONE_ROW, lambda: make_zip([("photos.tar.gz", b"x" * 10)]), {}, "archive"),
    ("non-image member: notes.txt", ONE_ROW,
     lambda: make_zip([("p1.jpg", photo()), ("notes.txt", b"hello")]), {}, "not a photo"),
    ("non-image member: evil.exe", ONE_ROW,
     lambda: make_zip([("p1.jpg", photo()), ("evil.exe", b"MZ\x90\x00")]), {}, "not a photo"),
    ("HTML renamed .jpg", ONE_ROW,
     lambda: make_zip([("p1.jpg", b"<html><script>alert(1)</script></html>")]), {}, "p1.jpg"),
    ("SVG photo", ONE_ROW, lambda: make_zip([("p1.svg", b"<svg onload=alert(1)>")]), {},
     "not a photo"),
    ("encrypted member", ONE_ROW, encrypted_zip, {}, "encrypted"),
    ("duplicate member names", ONE_ROW, duplicate_names_zip, {}, "twice"),
    ("not a ZIP at all", ONE_ROW, lambda: b"this is not a zip file", {}, "not a ZIP"),
    ("too many entries", ONE_ROW,
     lambda: make_zip([(f"d{i}/", b"") for i in range(6)]), {"ZIP_MAX_ENTRIES": 5}, "at most"),
    ("ZIP over the size limit", ONE_ROW, lambda: make_zip([("p1.jpg", photo())]),
     {"ZIP_MAX_BYTES": 1000}, "at most"),
    ("formula injection: =HYPERLINK title", HEADER + 'SKU-1,"=HYPERLINK(""http://x"")",'
     "clothes,100,1,,\n", None, {}, "formula"),
    ("formula injection: @SUM title", HEADER + "SKU-1,@SUM(A1:A9),clothes,100,1,,\n", None, {},
     "formula"),
    ("formula injection: DDE in description", HEADER + "SKU-1,Kurta,clothes,100,1,"
     "\"-2+3+cmd|' /C calc'!A0\",\n", None, {}, "formula"),
    ("formula injection: +cmd in id", HEADER + "\"+cmd|' /C calc'!A0\",Kurta,clothes,100,1,,\n",
     None, {}, "formula"),
    ("formula injection: tab-led title", HEADER + "SKU-1,\"\t=1+1\",clothes,100,1,,\n", None, {},
     "formula"),
    ("wrong encoding: Latin-1", (HEADER + "SKU-1,Caf\xe9 kurta,clothes,100,1,,\n").encode(
        "latin-1"), None, {}, "UTF-8"),
    ("wrong encoding: UTF-16", (HEADER + "SKU-1,Kurta,clothes,100,1,,\n").encode("utf-16"),
     None, {}, "UTF-16"),
    ("100k rows", "id,title,category,price\n" + "".join(
        f"S{i},Kurta {i},clothes,1\n" for i in range(100_000)), None, {},
     "more than 5,000 rows"),
    ("CSV over the size limit", rows_csv(50), None, {"CSV_MAX_BYTES": 1000}, "at most"),
    ("duplicate ids", HEADER + "SKU-1,A,clothes,1,1,,\nSKU-2,B,clothes,1,1,,\n"
     "SKU-1,C,clothes,1,1,,\n", None, {}, "first on line 2"),
    ("another seller in the seller column", "id,title,category,price,seller\n"
     "SKU-1,Kurta,clothes,100,asha\n", None, {}, "not you"),
    ("an unknown column", "id,title,category,price,colour\nSKU-1,Kurta,clothes,100,red\n",
     None, {}, "unknown column"),
    ("a required column missing", "id,title,price\nSKU-1,Kurta,100\n", None, {}, "missing"),
    ("NUL in a cell", HEADER + "SKU-1,Ku\x00rta,clothes,100,1,,\n", None, {}, "NUL"),
    ("a photo renamed .csv", photo(), None, {}, "UTF-8"),
    ("a giant field", HEADER + "SKU-1,Kurta,clothes,100,1," + "x" * 200_000 + ",\n", None, {},
     "CSV"),
    ("an unclosed quote", HEADER + 'SKU-1,"Kurta,clothes,100,1,,\n', None, {}, "CSV"),
    ("an image but no ZIP", ONE_ROW, None, {}, "no ZIP"),
    ("an image not in the ZIP", ONE_ROW, lambda: make_zip([("other.jpg", photo())]), {},
     "not in the ZIP"),
    ("one good row and one bad price", HEADER + "SKU-1,Kurta,clothes,100,1,,\n"
     "SKU-2,Kurta,clothes,12abc,1,,\n", None, {}, "bad price"),
    ("negative stock", HEADER + "SKU-1,Kurta,clothes,100,-4,,\n", None, {}, "negative"),
    ("an unknown category", HEADER + "SKU-1,Kurta,weapons,100,1,,\n", None, {},
     "unknown category"),
    ("an empty file", "", None, {}, "empty"),
    ("a header and no rows", HEADER, None, {}, "no rows"),
]


@pytest.mark.parametrize("label,csv,make_zip_data,limits,expected", HOSTILE,
                         ids=[case[0] for case in HOSTILE])
def test_hostile_bulk_file_is_refused_whole_and_writes_nothing(
    shop, settings, label, csv, make_zip_data, limits, expected
):
    # given a seller with one listing already, and the limits of the case
    if limits:
        settings.SHOP_BULK_UPLOAD = limits
    existing = ProductFactory(seller=shop["b"], category=shop["clothes"], external_id="SKU-1",
                              title="Untouched")
    before = list(Product.objects.values_list("pk", "title", "price_minor", "stock"))

    # when the seller uploads the hostile file
    response = upload(client_for(shop["b"]), csv,
                      make_zip_data() if make_zip_data is not None else None)

    # then the page says why, and nothing was written or kept
    assert response.status_code == 200, label
    body = response.content.decode()
    if not csv:
        # The form itself refuses an empty upload; no job is made.
        assert "The submitted file is empty" in body
        assert not BulkUpload.objects.exists()
        return
    job = BulkUpload.objects.get()
    assert job.state == BulkUpload.State.INVALID, (label, job.errors)
    messages = " ".join(e["message"] for e in job.errors)
    assert expected in messages, (label, messages)
    assert "Nothing was written" in body or "nothing was written" in body
    assert 'id="bu-confirm"' not in body
    assert list(Product.objects.values_list("pk", "title", "price_minor", "stock")) == before
    assert ProductImage.objects.count() == 0
    assert stored_files(settings) == []
    assert existing.title == "Untouched"


def test_there_are_at_least_thirty_hostile_files():
    assert len(HOSTILE) >= 30


def test_row_errors_carry_their_line_numbers_on_the_page(shop):
    csv = (HEADER + "SKU-1,Kurta,clothes,100,1,,\n"
           + "SKU-2,,clothes,100,1,,\n"
           + "\n"  # a blank line still counts in the numbering
           + "SKU-3,Kurta,clothes,abc,1,,\n")

    response = upload(client_for(shop["a"]), csv)

    body = response.content.decode()
    assert "Line 3</strong> title is required" in body
    assert "Line 5</strong> bad price" in body
    job = BulkUpload.objects.get()
    assert (job.rows_total, job.rows_bad, job.rows_ok) == (3, 2, 1)
    assert Product.objects.count() == 0


def test_formula_rule_lets_ordinary_text_through():
    for text in ("-20% off", "- cotton (washable)", "+91 98765 43210", "-1.5 kg", "Kurta"):
        assert formula_problem("title", text) is None, text
    for text in ("=1+1", "@SUM(A1)", "+cmd|' /C calc'!A0", "-2+3", "-SUM(A1)", "\tx"):
        assert formula_problem("title", text) is not None, text


def test_good_upload_with_photos_is_checked_then_written_by_the_task(
    shop, settings, database_tasks
):
    # given a 200-row file naming a photo per row, and the ZIP of those photos
    from django_tasks_db.models import DBTaskResult

    zip_data = make_zip([(f"photos/p{i}.jpg", photo(i)) for i in range(1, 201)])
    client = client_for(shop["a"])

    # when the seller uploads it
    response = upload(client, rows_csv(200, photos=True), zip_data)

    # then the preview says all 200 rows are fine and nothing is written yet
    job = BulkUpload.objects.get()
    assert job.state == BulkUpload.State.CHECKED, job.errors
    assert (job.rows_total, job.rows_ok, job.photos_total) == (200, 200, 200)
    assert "Write 200 listings" in response.content.decode()
    assert Product.objects.count() == 0

    # when they confirm, the task is queued (not run in the request)
    response = client.post(f"/admin/catalog/bulkupload/{job.pk}/confirm/", follow=True)
    job.refresh_from_db()
    assert job.state == BulkUpload.State.QUEUED
    assert 'id="bu-progress"' in response.content.decode()
    assert Product.objects.count() == 0
    queued = DBTaskResult.objects.filter(task_path__endswith="bulk_upload_run_task")
    assert queued.count() == 1

    # and a worker runs it
    seen: list[int] = []
    real = bulk_services._set_stage
    bulk_services._set_stage = lambda j, stage, progress: (seen.append(progress),
                                                           real(j, stage, progress))
    try:
        assert bulk_services.bulk_upload_run(upload_id=job.pk) == BulkUpload.State.DONE
    finally:
        bulk_services._set_stage = real

    # then all 200 listings are the seller's, each with a photo waiting for its render
    job.refresh_from_db()
    assert (job.state, job.created_count, job.updated_count, job.progress) == (
        BulkUpload.State.DONE, 200, 0, 100)
    assert seen == sorted(seen) and len(seen) > 5  # progress moved forward, step by step
    products = Product.objects.filter(seller=shop["a"])
    assert products.count() == 200
    first = products.get(external_id="SKU-7")
    assert (first.title, first.price_minor, first.stock, first.status) == (
        "Cotton kurta 7", 10750, 0, Product.Status.ACTIVE)
    assert ProductImage.objects.filter(status="pending").count() == 200
    renders = DBTaskResult.objects.filter(task_path__endswith="product_image_render_task")
    assert renders.count() == 200
    # the files were taken out of storage once written
    assert not any("bulk/" in str(p) for p in stored_files(settings))

    # and a render makes a photo ready through the normal pipeline
    from catalog.services.images import product_image_render

    image = first.images.get()
    assert product_image_render(image_id=image.pk) == "ready"
    image.refresh_from_db()
    assert image.variants


def test_photos_render_through_the_pipeline_with_the_immediate_engine(shop):
    zip_data = make_zip([("p1.jpg", photo(1)), ("p2.png", photo(2, "PNG"))])
    csv = HEADER + "SKU-1,Kurta,clothes,100,1,,p1.jpg\nSKU-2,Shawl,clothes,200,1,,p2.png\n"
    client = client_for(shop["a"])
    upload(client, csv, zip_data)
    job = BulkUpload.objects.get()

    client.post(f"/admin/catalog/bulkupload/{job.pk}/confirm/")

    job.refresh_from_db()
    assert job.state == BulkUpload.State.DONE
    assert ProductImage.objects.filter(status="ready").count() == 2


def test_a_rerun_after_a_killed_worker_writes_each_listing_once(shop, database_tasks):
    # given a confirmed upload whose first run dies inside the write
    client = client_for(shop["a"])
    upload(client, rows_csv(30, photos=True),
           make_zip([(f"p{i}.jpg", photo(i)) for i in range(1, 31)]))
    job = BulkUpload.objects.get()
    client.post(f"/admin/catalog/bulkupload/{job.pk}/confirm/")
    real_write = bulk_services.importers.products_write

    def killed(*args, **kwargs):
        def die(written, created):
            raise KeyboardInterrupt  # the worker is killed before the commit
        return real_write(*args, **{**kwargs, "before_commit": die})

    bulk_services.importers.products_write = killed
    try:
        with pytest.raises(KeyboardInterrupt):
            bulk_services.bulk_upload_run(upload_id=job.pk)
    finally:
        bulk_services.importers.products_write = real_write
    job.refresh_from_db()
    assert job.state == BulkUpload.State.RUNNING
    assert Product.objects.count() == 0 and ProductImage.objects.count() == 0

    # when the task runs again (the dead worker's task re-queued), and once more
    assert bulk_upload_run_task.call(upload_id=job.pk) == BulkUpload.State.DONE
    assert bulk_upload_run_task.call(upload_id=job.pk) == BulkUpload.State.DONE

    # then every listing and photo exists exactly once
    job.refresh_from_db()
    assert (job.state, job.created_count, job.attempts) == (BulkUpload.State.DONE, 30, 2)
    assert Product.objects.filter(seller=shop["a"]).count() == 30
    assert ProductImage.objects.count() == 30


def test_uploading_the_same_ids_again_updates_them(shop):
    client = client_for(shop["a"])
    for price in ("100", "150"):
        upload(client, HEADER + f"SKU-1,Kurta,clothes,{price},3,,\n")
        job = BulkUpload.objects.order_by("-pk").first()
        client.post(f"/admin/catalog/bulkupload/{job.pk}/confirm/")

    product = Product.objects.get()
    assert (product.external_id, product.price_minor) == ("SKU-1", 15000)
    job.refresh_from_db()
    assert (job.created_count, job.updated_count) == (0, 1)


def test_another_sellers_ids_never_reach_their_listings(shop):
    # given seller A's listing with external id SKU-1
    theirs = ProductFactory(seller=shop["a"], category=shop["clothes"], external_id="SKU-1",
                            title="A's kurta", price_minor=99900)
    client = client_for(shop["b"])

    # when seller B uploads the same id (without a seller column, and naming A)
    upload(client, "id,title,category,price,seller\nSKU-1,Mine now,clothes,1,asha\n")
    refused = BulkUpload.objects.get()
    upload(client, HEADER + "SKU-1,B's own kurta,clothes,5,1,,\n")
    job = BulkUpload.objects.exclude(pk=refused.pk).get()
    client.post(f"/admin/catalog/bulkupload/{job.pk}/confirm/")

    # then naming A is refused, and the id is B's own new listing; A's is untouched
    assert refused.state == BulkUpload.State.INVALID
    theirs.refresh_from_db()
    assert (theirs.title, theirs.price_minor, theirs.seller) == ("A's kurta", 99900, shop["a"])
    mine = Product.objects.get(seller=shop["b"])
    assert (mine.external_id, mine.title) == ("SKU-1", "B's own kurta")


def test_a_category_deleted_before_the_task_runs_fails_the_job_and_writes_nothing(
    shop, database_tasks
):
    other = CategoryFactory(slug="shawls", name="Shawls")
    client = client_for(shop["a"])
    upload(client, HEADER + "SKU-1,Kurta,clothes,100,1,,\nSKU-2,Shawl,shawls,100,1,,\n")
    job = BulkUpload.objects.get()
    client.post(f"/admin/catalog/bulkupload/{job.pk}/confirm/")
    other.delete()

    assert bulk_services.bulk_upload_run(upload_id=job.pk) == BulkUpload.State.FAILED

    job.refresh_from_db()
    assert job.errors == [{"line": 3, "message": "unknown category 'shawls'"}]
    assert Product.objects.count() == 0
    body = client.get(f"/admin/catalog/bulkupload/{job.pk}/change/").content.decode()
    assert "Nothing was written" in body and "Line 3" in body


def test_a_seller_cannot_open_or_confirm_another_sellers_job(shop):
    upload(client_for(shop["a"]), HEADER + "SKU-1,PRIVATE-A-TITLE,clothes,100,1,,\n",
           csv_name="asha-private.csv")
    job = BulkUpload.objects.get()
    intruder = client_for(shop["b"])

    pages = [intruder.get(f"/admin/catalog/bulkupload/{job.pk}/change/"),
             intruder.get(f"/admin/catalog/bulkupload/{job.pk}/history/"),
             intruder.post(f"/admin/catalog/bulkupload/{job.pk}/confirm/")]
    listing = intruder.get("/admin/catalog/bulkupload/")

    assert [page.status_code for page in pages] == [404, 404, 404]
    assert listing.status_code == 200
    assert "asha-private.csv" not in listing.content.decode()
    job.refresh_from_db()
    assert job.state == BulkUpload.State.CHECKED
    assert Product.objects.count() == 0
    # the owner does see it
    owner = client_for(shop["a"])
    own = owner.get(f"/admin/catalog/bulkupload/{job.pk}/change/")
    assert own.status_code == 200 and "asha-private.csv" in own.content.decode()
    assert owner.get(f"/admin/catalog/bulkupload/{job.pk}/history/").status_code == 200


def test_the_template_downloads_and_passes_its_own_check(shop):
    client = client_for(shop["a"])
    response = client.get("/admin/catalog/bulkupload/template.csv")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="listings-template.csv"'
    template = response.content

    upload(client, template, make_zip([("kurta-blue.jpg", photo())]))

    job = BulkUpload.objects.get()
    assert job.state == BulkUpload.State.CHECKED, job.errors
    assert job.rows_total == 2


def test_staff_see_every_job_but_do_not_upload(shop, admin_client):
    upload(client_for(shop["a"]), HEADER + "SKU-1,Kurta,clothes,100,1,,\n")
    job = BulkUpload.objects.get()

    assert admin_client.get(f"/admin/catalog/bulkupload/{job.pk}/change/").status_code == 200
    assert admin_client.get(ADD).status_code == 403
    assert admin_client.post(f"/admin/catalog/bulkupload/{job.pk}/confirm/").status_code == 403


def test_the_products_list_links_sellers_to_the_bulk_upload(shop):
    body = client_for(shop["a"]).get("/admin/catalog/product/").content.decode()
    assert 'href="/admin/catalog/bulkupload/add/"' in body


@pytest.mark.parametrize("n", [2, 20])
def test_job_list_query_count_is_flat(shop, django_assert_max_num_queries, n):
    for _ in range(n):
        BulkUpload.objects.create(seller=shop["a"], state="invalid", csv_name="x.csv")
    client = client_for(shop["a"])
    client.get("/admin/catalog/bulkupload/")  # warm the session and the user's groups
    # session, user, seller, (groups), count, page of jobs
    with django_assert_max_num_queries(7):
        assert client.get("/admin/catalog/bulkupload/").status_code == 200


def test_a_checked_upload_nobody_confirms_expires_with_its_files(shop, settings):
    import datetime as dt

    from django.utils import timezone

    upload(client_for(shop["a"]), HEADER + "SKU-1,Kurta,clothes,100,1,,\n")
    job = BulkUpload.objects.get()
    assert any("bulk/" in str(p) for p in stored_files(settings))
    BulkUpload.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(days=2))

    assert bulk_services.bulk_uploads_expire() == 1

    job.refresh_from_db()
    assert job.state == BulkUpload.State.INVALID and "upload the file again" in str(job.errors)
    assert stored_files(settings) == []
    response = client_for(shop["a"]).post(f"/admin/catalog/bulkupload/{job.pk}/confirm/",
                                          follow=True)
    assert "cannot be written" in response.content.decode()
    assert Product.objects.count() == 0


def test_a_job_whose_task_was_lost_is_closed_and_writes_nothing(shop, settings,
                                                               database_tasks):
    import datetime as dt

    from django.utils import timezone

    client = client_for(shop["a"])
    upload(client, HEADER + "SKU-1,Kurta,clothes,100,1,,\n")
    job = BulkUpload.objects.get()
    client.post(f"/admin/catalog/bulkupload/{job.pk}/confirm/")
    BulkUpload.objects.filter(pk=job.pk).update(
        state=BulkUpload.State.RUNNING, started_at=timezone.now() - dt.timedelta(hours=7))

    assert bulk_services.bulk_uploads_expire() == 1

    job.refresh_from_db()
    assert job.state == BulkUpload.State.FAILED and "stopped" in str(job.errors)
    assert stored_files(settings) == []
    # a late re-run of the lost task leaves the closed job alone
    assert bulk_services.bulk_upload_run(upload_id=job.pk) == BulkUpload.State.FAILED
    assert Product.objects.count() == 0
