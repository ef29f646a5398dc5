"""Product and seller services: ownership, validation, and writes that lose nothing."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Product, Seller
from catalog.services import (
    SELLER_CATALOG_PERMISSIONS,
    SELLERS_GROUP_NAME,
    actor_sees_all,
    actor_seller,
    price_to_minor,
    product_create,
    product_delete,
    product_set_status,
    product_update,
    products_delete,
    products_for_actor,
    products_popularity_set,
    seller_create,
    seller_update,
    sellers_group_ensure,
)
from tests.factories import (
    CategoryFactory,
    ProductFactory,
    RegionFactory,
    SellerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return UserFactory(username="operator", is_staff=True)


def test_product_create_saves_a_draft_for_the_seller():
    seller, category = SellerFactory(), CategoryFactory()
    region = RegionFactory(code="IN")

    product = product_create(
        seller=seller, category=category, title="  Steel tumbler  ", price_minor=9900,
        compare_at_minor=12900, stock=4, regions=[region], external_id=" T-1 ",
    )

    row = Product.objects.get(pk=product.pk)
    assert (row.seller, row.title, row.price_minor, row.compare_at_minor, row.stock) == (
        seller, "Steel tumbler", 9900, 12900, 4
    )
    assert row.status == Product.Status.DRAFT
    assert row.currency == "INR"
    assert row.external_id == "T-1"
    assert list(row.regions.all()) == [region]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"price_minor": -1}, "price_minor"),
        ({"stock": -3}, "stock"),
        ({"title": "   "}, "title"),
        ({"currency": "XYZ"}, "currency"),
        ({"status": "sold"}, "status"),
        ({"compare_at_minor": 100}, "compare_at_minor"),  # below the price
    ],
)
def test_product_create_refuses_bad_values_and_writes_nothing(overrides, field):
    values = {"seller": SellerFactory(), "category": CategoryFactory(), "title": "Kurta",
              "price_minor": 49900} | overrides

    with pytest.raises(ValidationError) as excinfo:
        product_create(**values)

    assert field in excinfo.value.message_dict
    assert Product.objects.count() == 0


def test_product_create_refuses_a_duplicate_external_id_of_the_same_seller():
    existing = ProductFactory(external_id="SKU-1")

    with pytest.raises(ValidationError) as excinfo:
        product_create(seller=existing.seller, category=existing.category, title="Other",
                       price_minor=100, external_id="SKU-1")

    assert "external_id" in str(excinfo.value)
    assert Product.objects.count() == 1


def test_product_create_allows_the_same_external_id_for_another_seller():
    ProductFactory(external_id="SKU-1")

    other = product_create(seller=SellerFactory(), category=CategoryFactory(), title="Other",
                           price_minor=100, external_id="SKU-1")

    assert Product.objects.filter(external_id="SKU-1").count() == 2
    assert other.pk is not None


def test_product_update_by_owner_writes_only_the_given_fields():
    product = ProductFactory(title="Old", stock=10)
    # An order took one unit after the seller loaded the product.
    Product.objects.filter(pk=product.pk).update(stock=9)

    product_update(product=product, actor=product.seller.user, title="New title")

    row = Product.objects.get(pk=product.pk)
    assert row.title == "New title"
    assert row.stock == 9  # the order's decrement survived


def test_product_update_refuses_a_stock_figure_based_on_a_stale_view():
    product = ProductFactory(stock=10)
    Product.objects.filter(pk=product.pk).update(stock=7)

    with pytest.raises(ValidationError) as excinfo:
        product_update(product=product, actor=product.seller.user, stock=20, stock_seen=10)

    assert "stock" in excinfo.value.message_dict
    assert Product.objects.get(pk=product.pk).stock == 7


def test_product_update_sets_stock_when_nobody_changed_it_meanwhile():
    product = ProductFactory(stock=10)

    product_update(product=product, actor=product.seller.user, stock=25, stock_seen=10)

    assert Product.objects.get(pk=product.pk).stock == 25


def test_product_update_by_another_seller_is_refused_and_changes_nothing():
    product = ProductFactory(title="Mine", price_minor=49900)
    intruder = SellerFactory()

    with pytest.raises(PermissionDenied):
        product_update(product=product, actor=intruder.user, title="Stolen", price_minor=1)

    row = Product.objects.get(pk=product.pk)
    assert (row.title, row.price_minor) == ("Mine", 49900)


def test_product_update_cannot_move_a_listing_to_another_seller(staff):
    product = ProductFactory()

    with pytest.raises(ValueError, match="seller"):
        product_update(product=product, actor=staff, seller=SellerFactory())

    assert Product.objects.get(pk=product.pk).seller == product.seller


def test_product_update_refuses_compare_at_below_price():
    product = ProductFactory(price_minor=49900, compare_at_minor=79900)

    with pytest.raises(ValidationError) as excinfo:
        product_update(product=product, actor=product.seller.user, compare_at_minor=100)

    assert "compare_at_minor" in excinfo.value.message_dict
    assert Product.objects.get(pk=product.pk).compare_at_minor == 79900


def test_staff_may_update_any_product(staff):
    product = ProductFactory(title="Before")

    product_update(product=product, actor=staff, title="After")

    assert Product.objects.get(pk=product.pk).title == "After"


def test_product_set_status_touches_only_the_actors_rows_even_with_foreign_ids():
    mine = ProductFactory(status=Product.Status.ACTIVE)
    theirs = ProductFactory(status=Product.Status.ACTIVE)

    changed = product_set_status(
        actor=mine.seller.user, product_ids=[mine.pk, theirs.pk], status=Product.Status.ARCHIVED
    )

    assert changed == 1
    assert Product.objects.get(pk=mine.pk).status == Product.Status.ARCHIVED
    assert Product.objects.get(pk=theirs.pk).status == Product.Status.ACTIVE


def test_product_set_status_refuses_an_unknown_status():
    product = ProductFactory(status=Product.Status.ACTIVE)

    with pytest.raises(ValidationError):
        product_set_status(actor=product.seller.user, product_ids=[product.pk], status="gone")

    assert Product.objects.get(pk=product.pk).status == Product.Status.ACTIVE


def test_product_delete_by_another_seller_is_refused():
    product = ProductFactory()

    with pytest.raises(PermissionDenied):
        product_delete(product=product, actor=SellerFactory().user)

    assert Product.objects.filter(pk=product.pk).exists()


def test_products_delete_skips_foreign_ids():
    mine, theirs = ProductFactory(), ProductFactory()

    deleted = products_delete(actor=mine.seller.user, product_ids=[mine.pk, theirs.pk])

    assert deleted == 1
    assert list(Product.objects.values_list("pk", flat=True)) == [theirs.pk]


def test_products_for_actor_scopes_sellers_staff_and_orphans(staff):
    a, b = ProductFactory(), ProductFactory()
    orphan = UserFactory(is_staff=True)
    orphan.groups.add(sellers_group_ensure())

    assert list(products_for_actor(a.seller.user)) == [a]
    assert set(products_for_actor(staff)) == {a, b}
    # A seller login whose profile is gone sees nothing, never everything.
    assert list(products_for_actor(orphan)) == []
    assert actor_sees_all(orphan) is False
    assert actor_seller(orphan) is None


def test_price_to_minor_refuses_sub_cent_amounts():
    assert price_to_minor(Decimal("499.50"), "INR") == 49950
    with pytest.raises(ValidationError):
        price_to_minor(Decimal("499.505"), "INR")
    with pytest.raises(ValidationError):
        price_to_minor(Decimal("NaN"), "INR")


# --- sellers -------------------------------------------------------------------------


def test_seller_create_makes_a_staff_login_in_the_sellers_group():
    region = RegionFactory(code="IN")

    seller = seller_create(
        username="asha", email="asha@example.com", password="a-long-Passphrase-42",
        display_name="Asha Textiles", region=region, phone="+91 98000 00001",
    )

    user = seller.user
    assert user.is_staff and not user.is_superuser
    assert user.check_password("a-long-Passphrase-42")
    assert list(user.groups.values_list("name", flat=True)) == [SELLERS_GROUP_NAME]
    assert seller.slug == "asha-textiles"
    assert (seller.region, seller.verified) == (region, False)
    assert user.has_perm("catalog.change_product")
    assert not user.has_perm("catalog.change_category")
    assert not user.has_perm("auth.view_user")


def test_seller_create_gives_a_unique_slug_for_a_repeated_name():
    first = seller_create(username="a1", email="a1@example.com", password="a-long-Passphrase-42",
                          display_name="Asha")
    second = seller_create(username="a2", email="a2@example.com",
                           password="a-long-Passphrase-42", display_name="Asha")

    assert (first.slug, second.slug) == ("asha", "asha-2")


def test_seller_create_collects_every_field_error_and_writes_nothing():
    from django.contrib.auth import get_user_model

    UserFactory(username="taken")

    with pytest.raises(ValidationError) as excinfo:
        seller_create(username="Taken", email="not-an-email", password="123",
                      display_name="", phone="x" * 40)

    assert set(excinfo.value.message_dict) == {
        "username", "email", "password", "display_name", "phone"
    }
    assert get_user_model().objects.count() == 1
    assert not Group.objects.filter(name=SELLERS_GROUP_NAME).exists()


def test_sellers_group_ensure_is_idempotent_and_pins_catalog_permissions():
    from django.contrib.auth.models import Permission

    group = sellers_group_ensure()
    group.permissions.add(Permission.objects.get(codename="change_category"))

    again = sellers_group_ensure()
    sellers_group_ensure()

    assert again.pk == group.pk
    assert Group.objects.filter(name=SELLERS_GROUP_NAME).count() == 1
    assert sorted(again.permissions.values_list("codename", flat=True)) == sorted(
        SELLER_CATALOG_PERMISSIONS
    )


def test_seller_may_change_own_display_name_and_phone_but_not_verified():
    seller = SellerFactory(verified=False, display_name="Old")

    seller_update(seller=seller, actor=seller.user, display_name="New", phone="+91 1")
    with pytest.raises(PermissionDenied):
        seller_update(seller=seller, actor=seller.user, verified=True)

    seller.refresh_from_db()
    assert (seller.display_name, seller.phone, seller.verified) == ("New", "+91 1", False)


def test_seller_cannot_change_another_sellers_profile():
    victim, intruder = SellerFactory(display_name="Victim"), SellerFactory()

    with pytest.raises(PermissionDenied):
        seller_update(seller=victim, actor=intruder.user, display_name="Pwned")

    victim.refresh_from_db()
    assert victim.display_name == "Victim"


def test_staff_may_verify_a_seller(staff):
    seller = SellerFactory(verified=False)

    seller_update(seller=seller, actor=staff, verified=True)

    seller.refresh_from_db()
    assert seller.verified is True


# --- under concurrency ---------------------------------------------------------------------


@pytest.fixture
def real_concurrency(transactional_db):
    """Skip on an in-memory SQLite test database.

    It runs in shared-cache mode, whose table locks fail at once ("database
    table is locked") instead of waiting as the shop's SQLite (a WAL file with
    a busy timeout) does. These tests run on PostgreSQL, or on SQLite with
    SHOP_TEST_SQLITE_NAME pointing at a file.
    """
    from django.db import connection

    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("in-memory SQLite cannot wait for locks; run on PostgreSQL")


def run_together(*jobs):
    """Run `jobs` in threads released at the same moment; return each one's result or error."""
    import threading

    from django.db import connection

    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def worker(index, job):
        try:
            barrier.wait()
            results[index] = job()
        except Exception as exc:  # recorded and checked by the caller
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_simultaneous_signups_for_one_username_make_one_seller(real_concurrency):
    def signup(display_name):
        return lambda: seller_create(username="same", email="s@example.com",
                                     password="a-long-Passphrase-42", display_name=display_name)

    results = run_together(signup("First"), signup("Second"))

    created = [r for r in results if isinstance(r, Seller)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(created) == 1 and len(refused) == 1, results
    assert "username" in refused[0].message_dict
    assert Seller.objects.count() == 1


def test_a_stock_edit_racing_an_order_never_undoes_the_order(real_concurrency):
    from django.db.models import F

    for _ in range(5):
        product = ProductFactory(stock=10)

        def edit(product=product):
            return product_update(product=product, actor=product.seller.user, stock=20,
                                  stock_seen=10)

        def order(product=product):
            return Product.objects.filter(pk=product.pk, stock__gte=1).update(
                stock=F("stock") - 1
            )

        edited, ordered = run_together(edit, order)

        assert ordered == 1
        final = Product.objects.get(pk=product.pk).stock
        if isinstance(edited, ValidationError):
            assert final == 9  # the order came first; the stale figure was refused
        else:
            assert isinstance(edited, Product), edited
            assert final == 19  # the edit came first; the order took one from it


def test_products_popularity_set_writes_only_what_changed_and_zeroes_the_rest():
    # Given three listings with last rebuild's figures
    kept, moved, dropped = (ProductFactory(popularity=n) for n in (5, 3, 2))
    fresh = ProductFactory()
    before = {p.pk: p.updated_at for p in Product.objects.all()}

    # When the new figures arrive
    changed = products_popularity_set(counts={kept.pk: 5, moved.pk: 4, fresh.pk: 1,
                                              999_999: 8})

    # Then the changed ones (and the listing that no longer counts) are written,
    # an unknown id reaches nothing, and no listing looks edited by its seller
    assert changed == 4  # moved, fresh, dropped, and the unknown id's no-op
    assert dict(Product.objects.values_list("pk", "popularity")) == {
        kept.pk: 5, moved.pk: 4, dropped.pk: 0, fresh.pk: 1}
    assert {p.pk: p.updated_at for p in Product.objects.all()} == before
    # A rerun with the same figures writes nothing: one read, no UPDATE.
    with CaptureQueriesContext(connection) as queries:
        assert products_popularity_set(counts={kept.pk: 5, moved.pk: 4, fresh.pk: 1}) == 0
    assert [q["sql"] for q in queries if "UPDATE" in q["sql"].upper()] == []
    assert len([q for q in queries if q["sql"].upper().startswith("SELECT")]) == 1
