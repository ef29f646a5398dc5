"""Seller B against seller A's rows in the admin: every door tried, every one shut.

Each test tries one way in and then checks two things: nothing of A's leaked
into the response, and A's rows in the database are exactly as before.
Django's admin answers a hidden object's change, delete and history URL with a
redirect to the index and a "doesn't exist" message; that is accepted here as
long as no data of A's is in any response.
"""

from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from catalog.models import Category, Product, ProductImage, Region, Seller
from tests.catalog.admin_support import (
    make_image,
    make_seller,
    product_form_data,
    snapshot,
)
from tests.factories import CategoryFactory, ProductFactory, RegionFactory

pytestmark = pytest.mark.django_db

REFUSED = (302, 403, 404)


@pytest.fixture
def world(client):
    """Return sellers A and B, each with a product and a photo; the client is logged in as B."""
    category = CategoryFactory(name="Sarees")
    a, b = make_seller("asha"), make_seller("bala")
    pa = ProductFactory(seller=a, category=category, title="ASHA-SECRET-SAREE",
                        external_id="ASHA-SKU", status=Product.Status.ACTIVE, stock=7)
    pb = ProductFactory(seller=b, category=category, title="Bala kurta",
                        external_id="BALA-SKU", status=Product.Status.ACTIVE, stock=3)
    ia = make_image(pa, alt_text="ASHA-SECRET-PHOTO")
    ib = make_image(pb, alt_text="Bala photo")
    client.force_login(b.user)
    return SimpleNamespace(a=a, b=b, pa=pa, pb=pb, ia=ia, ib=ib, category=category)


def url(name: str, *args) -> str:
    return reverse(f"admin:catalog_{name}", args=args)


def body(response) -> str:
    return response.content.decode()


def assert_nothing_of_a(response, world) -> None:
    text = body(response)
    for secret in ("ASHA-SECRET-SAREE", "ASHA-SECRET-PHOTO", "ASHA-SKU", "Asha Store"):
        assert secret not in text


def test_changelist_lists_only_own_products(client, world):
    response = client.get(url("product_changelist"))

    assert response.status_code == 200
    assert "Bala kurta" in body(response)
    assert_nothing_of_a(response, world)


def test_search_by_external_id_does_not_find_another_sellers_product(client, world):
    response = client.get(url("product_changelist"), {"q": "ASHA-SKU"})

    assert response.status_code == 200
    # The search term itself is echoed back; the product behind it is not.
    assert "ASHA-SECRET-SAREE" not in body(response)
    assert "Bala kurta" not in body(response)
    assert response.context["cl"].result_count == 0


@pytest.mark.parametrize("view", ["product_change", "product_delete", "product_history"])
def test_opening_another_sellers_product_by_url_is_refused(client, world, view):
    response = client.get(url(view, world.pa.pk), follow=True)

    assert response.redirect_chain == [] or response.redirect_chain[-1][1] in REFUSED
    if response.redirect_chain:
        assert response.redirect_chain[-1][0] == reverse("admin:index")
    else:
        assert response.status_code in (403, 404)
    assert_nothing_of_a(response, world)


def test_posting_a_change_to_another_sellers_product_changes_nothing(client, world):
    before = snapshot(world.pa)
    data = product_form_data(world.pa, images=[world.ia], title="Pwned", price="1.00",
                             stock="0", status="archived", **{"images-0-alt_text": "pwned"})

    response = client.post(url("product_change", world.pa.pk), data, follow=True)

    assert response.status_code in (200, 403, 404)
    assert_nothing_of_a(response, world)
    assert snapshot(world.pa) == before


def test_deleting_another_sellers_product_is_refused(client, world):
    before = snapshot(world.pa)

    response = client.post(url("product_delete", world.pa.pk), {"post": "yes"}, follow=True)

    assert_nothing_of_a(response, world)
    assert snapshot(world.pa) == before


@pytest.mark.parametrize(
    "action", ["mark_active", "mark_draft", "mark_archived", "delete_selected"]
)
def test_bulk_actions_with_forged_ids_touch_only_own_rows(client, world, action):
    world.pa.status = world.pb.status = Product.Status.DRAFT if action == "mark_active" else (
        Product.Status.ACTIVE)
    Product.objects.filter(pk__in=[world.pa.pk, world.pb.pk]).update(status=world.pa.status)
    before = snapshot(world.pa)

    response = client.post(
        url("product_changelist"),
        {"action": action, "_selected_action": [world.pa.pk, world.pb.pk], "post": "yes",
         "index": "0"},
        follow=True,
    )

    assert response.status_code == 200
    assert_nothing_of_a(response, world)
    assert snapshot(world.pa) == before
    # The action did run on B's own row, so it was not refused for another reason.
    if action == "delete_selected":
        assert not Product.objects.filter(pk=world.pb.pk).exists()
    else:
        expected = action.removeprefix("mark_")
        assert Product.objects.get(pk=world.pb.pk).status == expected


def test_bulk_action_with_only_foreign_ids_changes_nothing(client, world):
    before = snapshot(world.pa, world.pb)

    client.post(url("product_changelist"),
                {"action": "mark_archived", "_selected_action": [world.pa.pk]})

    assert snapshot(world.pa, world.pb) == before


@pytest.mark.parametrize("attack", [
    {"images-0-alt_text": "pwned", "images-0-position": "9"},
    {"images-0-DELETE": "on"},
], ids=["change", "delete"])
def test_inline_cannot_change_or_delete_another_sellers_image_through_own_product(
    client, world, attack
):
    before = snapshot(world.pa, world.pb)
    # B's own change form, with A's image id slipped into the photo inline:
    # the inline's queryset holds only B's product's photos, so the id
    # matches no row (a form error, or a deleted form with nothing to delete).
    data = product_form_data(world.pb, images=[world.ia], **attack)

    response = client.post(url("product_change", world.pb.pk), data)

    assert response.status_code in (200, 302)
    assert_nothing_of_a(response, world)
    assert snapshot(world.pa, world.pb) == before
    assert ProductImage.objects.get(pk=world.ia.pk).alt_text == "ASHA-SECRET-PHOTO"


def new_photo_fields(index: int = 0) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.catalog.admin_support import png_bytes

    return {f"images-{index}-original": SimpleUploadedFile(
        "new.png", png_bytes((64, 64), "blue"), content_type="image/png"
    ), f"images-{index}-alt_text": "planted"}


def test_adding_a_photo_to_another_sellers_product_by_its_url_is_refused(client, world):
    before = snapshot(world.pa)
    data = product_form_data(world.pa, images=[world.ia]) | {"images-TOTAL_FORMS": "2"}

    response = client.post(url("product_change", world.pa.pk), data | new_photo_fields(1),
                           follow=True)

    assert_nothing_of_a(response, world)
    assert snapshot(world.pa) == before
    assert not ProductImage.objects.filter(alt_text="planted").exists()


def test_a_photo_added_on_own_form_cannot_be_aimed_at_another_sellers_product(client, world):
    before = snapshot(world.pa)
    data = product_form_data(world.pb) | {"images-TOTAL_FORMS": "1",
                                          "images-0-product": str(world.pa.pk)}

    client.post(url("product_change", world.pb.pk), data | new_photo_fields(0))

    assert snapshot(world.pa) == before
    # Either refused, or attached to B's own product: never to A's.
    assert set(ProductImage.objects.filter(alt_text="planted")
               .values_list("product_id", flat=True)) <= {world.pb.pk}


def test_inline_cannot_move_own_image_onto_another_sellers_product(client, world):
    before = snapshot(world.pa, world.pb)
    data = product_form_data(world.pb, images=[world.ib],
                             **{"images-0-product": world.pa.pk})

    client.post(url("product_change", world.pb.pk), data)

    assert snapshot(world.pa, world.pb) == before
    assert ProductImage.objects.get(pk=world.ib.pk).product_id == world.pb.pk


def test_seller_field_posted_on_add_is_ignored(client, world):
    data = product_form_data(category=world.category.pk, title="New by Bala",
                             seller=world.a.pk)

    response = client.post(url("product_add"), data)

    assert response.status_code == 302, body(response)
    created = Product.objects.get(title="New by Bala")
    assert created.seller == world.b
    assert world.a.products.count() == 1


def test_seller_field_posted_on_change_is_ignored(client, world):
    data = product_form_data(world.pb, seller=world.a.pk, title="Bala kurta v2")

    response = client.post(url("product_change", world.pb.pk), data)

    assert response.status_code == 302, body(response)
    row = Product.objects.get(pk=world.pb.pk)
    assert (row.title, row.seller) == ("Bala kurta v2", world.b)


def test_seller_form_never_shows_the_seller_field(client, world):
    for target in (url("product_add"), url("product_change", world.pb.pk)):
        text = body(client.get(target))
        assert 'name="seller"' not in text
        assert "Asha Store" not in text


def test_seller_autocomplete_lists_only_the_seller_itself(client, world):
    response = client.get(reverse("admin:autocomplete"), {
        "app_label": "catalog", "model_name": "product", "field_name": "seller", "term": "",
    })

    # Either refused outright, or only B's own profile.
    if response.status_code == 200:
        names = [item["text"] for item in response.json()["results"]]
        assert names == ["Bala Store"]
    else:
        assert response.status_code == 403


def test_seller_sees_and_edits_only_own_seller_profile(client, world):
    listing = client.get(url("seller_changelist"))
    refused = client.get(url("seller_change", world.a.pk), follow=True)
    client.post(url("seller_change", world.a.pk), {"display_name": "Pwned", "phone": "1"})

    assert "Bala Store" in body(listing)
    assert "Asha Store" not in body(listing)
    assert "Asha Store" not in body(refused)
    assert Seller.objects.get(pk=world.a.pk).display_name == "Asha Store"


def test_seller_may_edit_own_display_name_and_phone_but_not_verified(client, world):
    response = client.post(url("seller_change", world.b.pk),
                           {"display_name": "Bala Brothers", "phone": "+91 77", "verified": "on",
                            "region": "", "slug": "hijack"})

    assert response.status_code == 302, body(response)
    row = Seller.objects.get(pk=world.b.pk)
    assert (row.display_name, row.phone, row.verified, row.slug) == (
        "Bala Brothers", "+91 77", False, world.b.slug
    )


def test_seller_cannot_add_or_delete_seller_profiles(client, world):
    assert client.get(url("seller_add")).status_code == 403
    client.post(url("seller_delete", world.b.pk), {"post": "yes"})
    client.post(url("seller_delete", world.a.pk), {"post": "yes"})

    assert Seller.objects.count() == 2


@pytest.mark.parametrize("path", ["/admin/auth/user/", "/admin/auth/group/",
                                  "/admin/auth/user/add/"])
def test_seller_cannot_reach_users_or_groups(client, world, path):
    assert client.get(path).status_code == 403


def test_users_and_groups_are_absent_from_the_sellers_index(client, world):
    text = body(client.get(reverse("admin:index")))

    assert "/admin/auth/user/" not in text
    assert "/admin/auth/group/" not in text


def test_seller_may_view_but_not_change_categories_and_regions(client, world):
    region = RegionFactory(code="IN", name="India")
    before = (list(Category.objects.values_list("name", flat=True)),
              list(Region.objects.values_list("name", flat=True)))

    view = client.get(url("category_change", world.category.pk))
    change = client.post(url("category_change", world.category.pk),
                         {"name": "Pwned", "slug": "pwned", "position": 0})
    add = client.post(url("region_add"), {"code": "XX", "name": "X", "kind": "country"})
    delete = client.post(url("region_delete", region.pk), {"post": "yes"})

    assert view.status_code == 200 and 'name="_save"' not in body(view)
    assert change.status_code == 403
    assert add.status_code == 403
    assert delete.status_code == 403
    assert before == (list(Category.objects.values_list("name", flat=True)),
                      list(Region.objects.values_list("name", flat=True)))


def test_orphaned_seller_login_sees_no_products(client, world):
    # The profile is gone but the login stays in the Sellers group.
    orphan = get_user_model().objects.create_user("ghost", password="x", is_staff=True)
    orphan.groups.add(world.b.user.groups.get())
    client.force_login(orphan)

    text = body(client.get(url("product_changelist")))

    assert "Bala kurta" not in text
    assert "ASHA-SECRET-SAREE" not in text
    assert client.get(url("product_add")).status_code == 403


# --- staff -----------------------------------------------------------------------------


def test_superuser_sees_and_opens_every_sellers_products(client, world):
    admin_user = get_user_model().objects.create_superuser("root", "r@example.com", "x")
    client.force_login(admin_user)

    listing = body(client.get(url("product_changelist")))
    change = client.get(url("product_change", world.pa.pk))

    assert "ASHA-SECRET-SAREE" in listing and "Bala kurta" in listing
    assert change.status_code == 200 and "ASHA-SECRET-SAREE" in body(change)


def test_operator_staff_with_catalog_permissions_sees_everything(client, world):
    operator = get_user_model().objects.create_user("ops", password="x", is_staff=True)
    operator.user_permissions.add(*Permission.objects.filter(content_type__app_label="catalog"))
    client.force_login(operator)

    listing = body(client.get(url("product_changelist")))
    response = client.post(
        url("product_changelist"),
        {"action": "mark_archived", "_selected_action": [world.pa.pk, world.pb.pk]},
    )

    assert "ASHA-SECRET-SAREE" in listing and "Bala kurta" in listing
    assert response.status_code == 302
    assert set(Product.objects.values_list("status", flat=True)) == {"archived"}
