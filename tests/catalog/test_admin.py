"""The catalog admin as a seller and as staff uses it: forms, lists, photos, budgets."""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import Product, ProductImage, Seller
from catalog.services import SELLERS_GROUP_NAME
from tests.catalog.admin_support import (
    PASSWORD,
    make_image,
    make_seller,
    png_bytes,
    product_form_data,
)
from tests.factories import CategoryFactory, ProductFactory, RegionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller(client):
    seller = make_seller("chitra")
    client.force_login(seller.user)
    return seller


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    client.force_login(user)
    return user


def url(name: str, *args) -> str:
    return reverse(f"admin:catalog_{name}", args=args)


def form_errors(response) -> dict:
    """Return the product form's field errors from a re-rendered change form."""
    return response.context["adminform"].form.errors


# --- adding and changing as a seller ------------------------------------------------


def test_seller_adds_a_product_with_decimal_prices_and_a_photo(client, seller):
    category = CategoryFactory()
    data = product_form_data(category=category.pk, title="Brass lamp", price="1499.50",
                             compare_at_price="1999", stock="3", status="active",
                             **{"images-TOTAL_FORMS": "1", "images-0-alt_text": "A lamp"})
    data["images-0-original"] = SimpleUploadedFile("lamp.png", png_bytes((400, 300)),
                                                   content_type="image/png")

    response = client.post(url("product_add"), data)

    assert response.status_code == 302, form_errors(response)
    product = Product.objects.get(title="Brass lamp")
    assert (product.seller, product.price_minor, product.compare_at_minor, product.stock) == (
        seller, 149950, 199900, 3
    )
    image = ProductImage.objects.get(product=product)
    assert image.alt_text == "A lamp"
    # Saved through the pipeline: variants exist and the thumbnail resolves.
    assert image.variant_url("webp", 160)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"price": "abc"}, "price"),
        ({"price": "499.999"}, "price"),
        ({"price": "-1"}, "price"),
        ({"price": ""}, "price"),
        ({"price": "499", "compare_at_price": "399"}, "compare_at_price"),
        ({"stock": "-1"}, "stock"),
        ({"currency": "XYZ"}, "currency"),
    ],
)
def test_bad_prices_and_stock_are_form_errors_and_nothing_is_written(
    client, seller, overrides, field
):
    data = product_form_data(category=CategoryFactory().pk, title="Lamp", **overrides)

    response = client.post(url("product_add"), data)

    assert response.status_code == 200
    assert field in form_errors(response)
    assert not Product.objects.exists()


def test_bad_photo_is_a_form_error_and_the_product_is_not_saved(client, seller):
    data = product_form_data(category=CategoryFactory().pk, title="Lamp",
                             **{"images-TOTAL_FORMS": "1"})
    data["images-0-original"] = SimpleUploadedFile("lamp.png", b"not an image at all",
                                                   content_type="image/png")

    response = client.post(url("product_add"), data)

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.errors[0]["original"]
    assert not Product.objects.exists()
    assert not ProductImage.objects.exists()


def test_duplicate_external_id_is_a_form_error(client, seller):
    existing = ProductFactory(seller=seller, external_id="SKU-9")
    data = product_form_data(category=existing.category_id, title="Twin", external_id="SKU-9")

    response = client.post(url("product_add"), data)

    assert response.status_code == 200
    assert "external_id" in form_errors(response)
    assert Product.objects.count() == 1


def test_change_form_shows_prices_as_decimals(client, seller):
    product = ProductFactory(seller=seller, price_minor=49900, compare_at_minor=79900)

    text = client.get(url("product_change", product.pk)).content.decode()

    assert 'name="price" value="499.00"' in text
    assert 'name="compare_at_price" value="799.00"' in text
    assert 'name="price_minor"' not in text


def test_changing_the_title_keeps_an_order_decrement_made_meanwhile(client, seller):
    product = ProductFactory(seller=seller, stock=10, title="Old")
    data = product_form_data(product, title="New")  # the page was opened with stock 10
    Product.objects.filter(pk=product.pk).update(stock=9)  # an order came in

    response = client.post(url("product_change", product.pk), data)

    assert response.status_code == 302, form_errors(response)
    row = Product.objects.get(pk=product.pk)
    assert (row.title, row.stock) == ("New", 9)


def test_setting_stock_on_a_stale_page_is_refused_with_the_new_figure(client, seller):
    product = ProductFactory(seller=seller, stock=10)
    data = product_form_data(product, stock="15")
    Product.objects.filter(pk=product.pk).update(stock=8)

    response = client.post(url("product_change", product.pk), data)

    assert response.status_code == 200
    assert "from 10 to 8" in str(form_errors(response)["stock"])
    assert Product.objects.get(pk=product.pk).stock == 8
    # Saving again from the re-rendered form (which now knows 8) goes through.
    data["stock_seen"] = response.context["adminform"].form.data["stock_seen"]
    assert client.post(url("product_change", product.pk), data).status_code == 302
    assert Product.objects.get(pk=product.pk).stock == 15


def test_seller_can_replace_the_alt_text_and_delete_own_photo(client, seller):
    product = ProductFactory(seller=seller)
    keep, drop = make_image(product, alt_text="front"), make_image(product, position=1)
    data = product_form_data(product, images=[keep, drop],
                             **{"images-0-alt_text": "Front view", "images-1-DELETE": "on"})

    response = client.post(url("product_change", product.pk), data)

    assert response.status_code == 302, response.context and form_errors(response)
    assert list(ProductImage.objects.values_list("pk", "alt_text")) == [(keep.pk, "Front view")]


def test_a_write_refused_by_the_service_after_the_form_passed_is_a_message_not_a_500(
    client, seller, monkeypatch
):
    # A concurrent request can make the service refuse what the form accepted
    # a moment before; the admin must say so, and nothing is written.
    from django.core.exceptions import ValidationError

    import catalog.admin.products

    def refuse(**kwargs):
        raise ValidationError({"external_id": "You already have a product with this id."})

    monkeypatch.setattr(catalog.admin.products, "product_update", refuse)
    product = ProductFactory(seller=seller, title="Before")

    response = client.post(url("product_change", product.pk),
                           product_form_data(product, title="After"), follow=True)

    assert response.status_code == 200
    assert "You already have a product with this id." in response.content.decode()
    assert Product.objects.get(pk=product.pk).title == "Before"


# --- the list -----------------------------------------------------------------------------


def test_price_column_groups_thousands_and_keeps_the_currency_on_one_line(client, seller):
    ProductFactory(seller=seller, price_minor=123456789, currency="AED")

    text = client.get(url("product_changelist")).content.decode()

    assert "AED\u00a01,234,567.89" in text


def test_changelist_shows_thumbnail_price_stock_and_status(client, seller):
    product = ProductFactory(seller=seller, title="Clay pot", price_minor=12345, stock=4,
                             status=Product.Status.ACTIVE)
    make_image(product)

    text = client.get(url("product_changelist")).content.decode()

    assert f'src="/media/products/v/aa/v{product.pk}-0-160.webp"' in text
    assert "₹123.45" in text
    assert "Clay pot" in text
    assert 'class="field-stock">4<' in text
    assert '<small class="listing-status status-active">Active</small>' in text
    # Staff-only columns stay off a seller's narrow screen.
    assert "column-seller" not in text


@pytest.mark.parametrize("n", [2, 20])
def test_changelist_query_count_is_flat(client, seller, django_assert_max_num_queries, n):
    category = CategoryFactory()
    for product in [ProductFactory(seller=seller, category=category) for _ in range(n)]:
        make_image(product)
        make_image(product, position=1)

    # session, user, seller profile, Sellers group check, user perms, group perms,
    # count, page of products (+seller, category, parent), their photos, category filter
    with django_assert_max_num_queries(10):
        response = client.get(url("product_changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count == n


def changelist_queries(client, name: str = "product_changelist") -> int:
    """Return how many queries one changelist page takes."""
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url(name)).status_code == 200
    return len(ctx.captured_queries)


def test_changelist_query_count_is_the_same_for_2_and_20_products(client, seller):
    for product in ProductFactory.create_batch(2, seller=seller):
        make_image(product)
    few = changelist_queries(client)
    for product in ProductFactory.create_batch(18, seller=seller):
        make_image(product)

    assert changelist_queries(client) == few


def test_staff_changelist_query_count_is_flat(client, staff):
    parent = CategoryFactory()
    sellers = [make_seller(f"s{i}") for i in range(3)]
    for i in range(2):
        make_image(ProductFactory(seller=sellers[i], category=CategoryFactory(parent=parent)))
    few = changelist_queries(client)
    for i in range(18):
        make_image(ProductFactory(seller=sellers[i % 3],
                                  category=CategoryFactory(parent=parent)))

    assert changelist_queries(client) == few


def test_staff_seller_list_query_count_is_flat(client, staff):
    region = RegionFactory(code="IN")
    for i in range(2):
        make_seller(f"few{i}", region=region)
    few = changelist_queries(client, "seller_changelist")
    for i in range(18):
        make_seller(f"many{i}", region=region)

    assert changelist_queries(client, "seller_changelist") == few


def test_a_malformed_category_filter_is_not_a_server_error(client, seller):
    ProductFactory(seller=seller)

    response = client.get(url("product_changelist"), {"category": "abc"})

    assert response.status_code == 302
    assert "e=1" in response["Location"]


def test_category_filter_includes_subcategories(client, seller):
    top = CategoryFactory(name="Home")
    sub = CategoryFactory(name="Lamps", parent=top)
    ProductFactory(seller=seller, category=sub, title="In lamps")
    ProductFactory(seller=seller, category=CategoryFactory(), title="Elsewhere")

    text = client.get(url("product_changelist"), {"category": top.pk}).content.decode()

    assert "In lamps" in text and "Elsewhere" not in text


# --- staff ----------------------------------------------------------------------------------


def test_staff_pick_the_seller_when_adding(client, staff):
    chosen = make_seller("dev")
    data = product_form_data(category=CategoryFactory().pk, title="Staff-made",
                             seller=chosen.pk)

    response = client.post(url("product_add"), data)

    assert response.status_code == 302, form_errors(response)
    assert Product.objects.get(title="Staff-made").seller == chosen


def test_staff_cannot_move_a_product_to_another_seller(client, staff):
    product = ProductFactory(seller=make_seller("eka"))
    other = make_seller("fay")

    client.post(url("product_change", product.pk), product_form_data(product, seller=other.pk))

    assert Product.objects.get(pk=product.pk).seller == product.seller


def test_staff_create_a_seller_login_from_the_seller_add_form(client, staff):
    region = RegionFactory(code="IN")

    response = client.post(url("seller_add"), {
        "username": "gita", "email": "gita@example.com", "password1": PASSWORD,
        "password2": PASSWORD, "display_name": "Gita Crafts", "region": region.pk,
        "phone": "+91 5",
    })

    assert response.status_code == 302
    seller = Seller.objects.select_related("user").get(display_name="Gita Crafts")
    assert seller.user.username == "gita" and seller.user.is_staff
    assert not seller.user.is_superuser
    assert seller.user.groups.filter(name=SELLERS_GROUP_NAME).exists()
    assert (seller.region, seller.phone, seller.slug) == (region, "+91 5", "gita-crafts")
    client.logout()
    assert client.login(username="gita", password=PASSWORD)
    assert client.get(url("product_add")).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password2": "something-else-42"}, "password2"),
        ({"password1": "123", "password2": "123"}, "password2"),
        ({"username": "root"}, "username"),
        ({"email": "nope"}, "email"),
        ({"display_name": ""}, "display_name"),
    ],
)
def test_seller_add_form_shows_field_errors_and_creates_nothing(
    client, staff, overrides, field
):
    data = {"username": "hari", "email": "hari@example.com", "password1": PASSWORD,
            "password2": PASSWORD, "display_name": "Hari", "phone": ""} | overrides

    response = client.post(url("seller_add"), data)

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Seller.objects.exists()
    assert get_user_model().objects.count() == 1


def test_staff_may_verify_a_seller_in_the_admin(client, staff):
    seller = make_seller("indu")

    response = client.post(url("seller_change", seller.pk), {
        "display_name": seller.display_name, "slug": seller.slug, "region": "",
        "phone": "", "verified": "on",
    })

    assert response.status_code == 302
    assert Seller.objects.get(pk=seller.pk).verified is True


# --- on a phone -----------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
# This area's share of the machine's live-server ports (see the team rules).
LIVE_PORTS = range(8500, 8550)


@pytest.fixture
def admin_live_server(transactional_db):
    """Yield a live server on the first free port of this area's range."""
    from pytest_django.live_server_helper import LiveServer

    last_error = None
    for port in LIVE_PORTS:
        try:
            server = LiveServer(f"127.0.0.1:{port}")
        except Exception as exc:  # the thread reports "address in use" as a plain error
            last_error = exc
            continue
        server._live_server_modified_settings.enable()
        try:
            yield server
        finally:
            server._live_server_modified_settings.disable()
            server.stop()
        return
    pytest.skip(f"no free port in 8500-8549: {last_error}")


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed")
def test_seller_admin_fits_a_360px_phone(admin_live_server, client):
    from catalog.services.images import product_image_add

    playwright_api = pytest.importorskip("playwright.sync_api")
    seller = make_seller("jaya")
    category = CategoryFactory(name="Kitchen")
    products = [
        ProductFactory(seller=seller, category=category, price_minor=1234500 + i, stock=i,
                       title=f"Hand-beaten copper water bottle, 1 litre, no. {i}")
        for i in range(6)
    ]
    for i, product in enumerate(products):
        upload = SimpleUploadedFile(f"p{i}.png", png_bytes((640, 480), color=f"#{i}a6b3c"),
                                    content_type="image/png")
        product_image_add(product=product, upload=upload, alt_text="Front")
    client.force_login(seller.user)
    session = client.cookies["sessionid"].value
    base = admin_live_server.url
    pages = {
        "changelist": f"{base}{url('product_changelist')}",
        "change": f"{base}{url('product_change', products[0].pk)}",
        "add": f"{base}{url('product_add')}",
        "index": f"{base}{reverse('admin:index')}",
        "profile": f"{base}{url('seller_change', seller.pk)}",
    }
    ARTIFACTS.mkdir(exist_ok=True)
    foreign, overflow, broken_images = [], {}, {}

    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
        ])
        try:
            context = browser.new_context(viewport={"width": 360, "height": 640},
                                          device_scale_factor=2, is_mobile=True,
                                          has_touch=True)
            context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
            page = context.new_page()
            page.on("request", lambda r: r.url.startswith((base, "data:"))
                    or foreign.append(r.url))
            for name, address in pages.items():
                response = page.goto(address, wait_until="load")
                assert response.status == 200, name
                page.screenshot(path=str(ARTIFACTS / f"admin-seller-{name}-360.png"),
                                full_page=True)
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > 360:
                    overflow[name] = width
                broken_images[name] = page.evaluate(
                    "[...document.images].filter(i => i.complete && i.naturalWidth === 0)"
                    ".map(i => i.src)"
                )
            thumbnails = page.goto(pages["changelist"]) and page.locator(".field-thumbnail img")
            assert thumbnails.count() == 6
        finally:
            browser.close()

    assert foreign == []  # nothing from another origin
    assert overflow == {}  # no sideways scrolling of the page on a 360px screen
    assert broken_images == dict.fromkeys(pages, [])
