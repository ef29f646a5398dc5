"""A seller's bulk upload on a 360x640 phone in Chromium: a bad file, then a good one.

200 rows with a ZIP of 200 photos. The first file has one bad row: the page
names its line and nothing is written. The corrected file is checked, the
seller taps "Write", watches the progress while a worker writes it, and finds
the 200 listings. Every page is checked for sideways scrolling; screenshots
go to artifacts/.
"""

from __future__ import annotations

import io
import zipfile

import pytest

from catalog.models import BulkUpload, Product, ProductImage
from catalog.services import bulk as bulk_services
from catalog.services.images import product_image_render
from tests.catalog.admin_support import PASSWORD, make_seller
from tests.factories import CategoryFactory, RegionFactory, make_image_bytes

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PlaywrightError = pytest.importorskip("playwright.sync_api").Error

ROWS = 200
BAD_ROW = 56  # on line 57: the header is line 1


@pytest.fixture
def shop_data(transactional_db, settings):
    from core.tasks import tasks_setting

    # Tasks wait in the database for a worker (the test plays it), as in production.
    settings.TASKS = tasks_setting("database")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    india = RegionFactory(code="IN", name="India", currency="INR")
    CategoryFactory(name="Clothes", slug="clothes")
    return {"seller": make_seller("meena", region=india, display_name="Meena Handlooms")}


def listings_csv(*, bad_row: int | None = None) -> bytes:
    lines = ["id,title,category,price,stock,description,image"]
    for i in range(1, ROWS + 1):
        price = "12 rupees" if i == bad_row else f"{200 + i}.00"
        lines.append(f"MH-{i:03d},Handloom cotton saree {i},clothes,{price},{i % 9 + 1},"
                     f'"Soft cotton, {i % 5 + 2} m",saree-{i:03d}.jpg')
    return ("\n".join(lines) + "\n").encode()


def photos_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(1, ROWS + 1):
            archive.writestr(f"photos/saree-{i:03d}.jpg",
                             make_image_bytes(width=200, height=200, seed=i))
    return buffer.getvalue()


def fits(page, name: str, artifacts) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 360, f"{page.url} scrolls sideways: {width}px"
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def submit(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def goto(page, url: str) -> None:
    """Open url; a job page that is working reloads itself (meta refresh), and
    that reload may land while we navigate to the same page: that is the page
    we asked for, so wait for it to load instead of failing."""
    try:
        page.goto(url)
    except PlaywrightError as exc:
        if "interrupted by another navigation" not in str(exc):
            raise
        page.wait_for_load_state()
    assert page.url == url, f"asked for {url}, got {page.url}"


def send(page, base: str, csv_path, zip_path) -> None:
    page.goto(base + "/admin/catalog/bulkupload/add/")
    page.set_input_files("#id_listings", str(csv_path))
    page.set_input_files("#id_photos", str(zip_path))
    submit(page, "input[type=submit].default")


def test_bad_file_then_good_file_with_progress(live_server, phone, shop_data, artifacts,
                                               tmp_path):
    base = live_server.url
    zip_path = tmp_path / "photos.zip"
    zip_path.write_bytes(photos_zip())
    bad_csv = tmp_path / "sarees-draft.csv"
    bad_csv.write_bytes(listings_csv(bad_row=BAD_ROW))
    good_csv = tmp_path / "sarees.csv"
    good_csv.write_bytes(listings_csv())

    page = phone.new_page()
    page.goto(base + "/admin/login/?next=/admin/catalog/product/")
    page.fill("#id_username", "meena")
    page.fill("#id_password", PASSWORD)
    submit(page, "input[type=submit]")
    submit(page, "text=Upload many (CSV)")
    assert "Download the template (CSV)" in page.inner_text("#content")
    fits(page, "seller-bulk-upload-360", artifacts)

    # A file with one bad row: the line is named, nothing is written.
    send(page, base, bad_csv, zip_path)
    errors = page.inner_text("#bu-errors")
    assert f"Line {BAD_ROW + 1}" in errors and "bad price '12 rupees'" in errors
    assert page.inner_text("#bu-rows-ok") == str(ROWS - 1)
    assert page.locator("#bu-confirm").count() == 0
    fits(page, "seller-bulk-errors-360", artifacts)
    assert Product.objects.count() == 0 and ProductImage.objects.count() == 0

    # The corrected file: checked, then written once the seller taps "Write".
    send(page, base, good_csv, zip_path)
    assert page.inner_text("#bu-rows-ok") == str(ROWS)
    assert Product.objects.count() == 0
    fits(page, "seller-bulk-checked-360", artifacts)
    submit(page, "#bu-confirm")
    assert "Writing your listings" in page.inner_text("#content")
    assert page.locator("#bu-progress").count() == 1
    fits(page, "seller-bulk-queued-360", artifacts)
    job = BulkUpload.objects.get(state=BulkUpload.State.QUEUED)

    # A worker writes it; half way through the photos the seller looks again.
    seen: list[int] = []
    real = bulk_services._set_stage

    def look(j, stage, progress):
        real(j, stage, progress)
        if not seen and progress >= 50:
            goto(page, f"{base}/admin/catalog/bulkupload/{job.pk}/change/")
            seen.append(int(page.get_attribute("#bu-progress", "value")))
            assert "Storing photos" in page.inner_text("#content")
            fits(page, "seller-bulk-progress-360", artifacts)

    bulk_services._set_stage = look
    try:
        assert bulk_services.bulk_upload_run(upload_id=job.pk) == BulkUpload.State.DONE
    finally:
        bulk_services._set_stage = real
    assert seen and 50 <= seen[0] < 100

    goto(page, f"{base}/admin/catalog/bulkupload/{job.pk}/change/")
    assert "All written" in page.inner_text("#content")
    assert page.inner_text("#bu-created") == str(ROWS)
    fits(page, "seller-bulk-done-360", artifacts)
    assert Product.objects.filter(seller=shop_data["seller"]).count() == ROWS
    assert ProductImage.objects.filter(status="pending").count() == ROWS

    # The render tasks (a worker's next work) make the photos ready.
    # (the newest first, as the products list shows them)
    for image_id in ProductImage.objects.order_by("-product_id").values_list("pk",
                                                                          flat=True)[:25]:
        assert product_image_render(image_id=image_id) == "ready"
    page.goto(base + "/admin/catalog/bulkupload/")
    jobs = page.inner_text("#result_list")
    assert "sarees.csv" in jobs and "200 new, 0 updated" in jobs and "1 error(s)" in jobs
    fits(page, "seller-bulk-jobs-360", artifacts)
    page.goto(f"{base}/admin/catalog/bulkupload/{job.pk}/change/")
    submit(page, "text=See your listings")
    assert "Handloom cotton saree 200" in page.inner_text("#result_list")
    assert page.locator("#result_list img").count() == 25
    fits(page, "seller-bulk-listings-360", artifacts)
