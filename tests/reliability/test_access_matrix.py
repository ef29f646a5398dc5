"""Access-control matrix: seller B against seller A's objects, shopper B against shopper A's.

One row per (surface, object, operation). Each row performs the attack with
B's own, valid credentials and then asks two questions: did any of A's
private data reach B (markers only A's rows carry, never public), and did
any of A's rows change (a snapshot of every row A owns, before and after)?
Either one is a success for the attacker; the expected number is 0.

Surfaces: the admin (sellers), the storefront pages (cookies) and the API
(shopper tokens; a seller's session against the read-only catalog API).
Where a surface has no way to even name another's object (the API never
takes a shopper id: docs/API.md), the row tries the nearest thing an
attacker could send: a forged id in the body.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import BulkUpload, Product, ProductImage, Seller
from catalog.services import seller_create
from orders import services as order_services
from orders.models import CartLine, Order, OrderLine
from orders.selectors import cart_get
from personalization.models import Event, ShopperProfile
from personalization.services import (
    event_record,
    shopper_create_anonymous,
    shopper_profile_update,
)
from sellers.models import Remittance, SellerApplication
from tests.catalog.admin_support import make_image, product_form_data
from tests.factories import CategoryFactory, ProductFactory, RegionFactory, UserFactory
from tests.orders.conftest import as_shopper

pytestmark = pytest.mark.django_db

PASSWORD = "a-Long-enough-pass-9"
# Strings only A's private rows carry; none is on a public page.
MARKERS = ("VICTIM-DRAFT-TITLE", "VICTIM-ALT-TEXT", "Victim Shopper A", "98111 22333",
           "Victim Lane 7", "victim-event-1", "VICTIM-STORE-PHONE", "victimseller@example.com",
           "VICTIM-REMIT-REF", "VICTIM-APPLICANT-SHOP", "victim-applicant@example.com",
           "VICTIM-BULK-FILE", "VICTIM-BULK-ERROR")


@dataclass
class World:
    seller_a: Seller
    seller_b: Seller
    draft_a: Product
    image_a: ProductImage
    product_b: Product
    line_a: OrderLine          # the order line A (seller) must handle
    order_a: Order             # shopper A's order
    cart_line_a: CartLine      # shopper A's cart
    shopper_a: ShopperProfile
    shopper_b: ShopperProfile
    token_b: str
    event_a: Event
    token_a: str
    region: object
    remittance_a: Remittance   # cash the shop paid seller A
    application_a: SellerApplication  # applicant A's pending sign-up
    bulk_a: BulkUpload         # seller A's bulk upload, checked and waiting for A's "Write"


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world() -> World:
    pune = RegionFactory(code="IN", name="India")
    category = CategoryFactory()
    seller_a = seller_create(username="victimseller", email="victimseller@example.com",
                             password=PASSWORD, display_name="Store A",
                             phone="VICTIM-STORE-PHONE")
    seller_b = seller_create(username="attacker", email="attacker@example.com",
                             password=PASSWORD, display_name="Store B")
    draft_a = ProductFactory(seller=seller_a, category=category, title="VICTIM-DRAFT-TITLE",
                             status=Product.Status.DRAFT, stock=4)
    image_a = make_image(draft_a, alt_text="VICTIM-ALT-TEXT")
    active_a = ProductFactory(seller=seller_a, category=category, title="Public item A",
                              stock=20)
    product_b = ProductFactory(seller=seller_b, category=category, title="Item B", stock=20)

    shopper_a, token_a = shopper_create_anonymous()
    shopper_b, token_b = shopper_create_anonymous()
    shopper_profile_update(shopper=shopper_a, language="hi")
    # Shopper A buys A's item (so seller A has a line), and keeps one in the cart.
    order_services.cart_line_add(shopper=shopper_a, product_id=active_a.pk, quantity=2)
    details = order_services.checkout_details_clean(
        name="Victim Shopper A", phone="98111 22333", address="Victim Lane 7\nPune",
        postal_code="411038", payment_method="cod", region=pune)
    order_a = order_services.order_place(
        shopper=shopper_a, idempotency_key="victim-order-1", details=details,
        cart_signature_seen=cart_get(shopper=shopper_a).signature).order
    cart_line = order_services.cart_line_add(shopper=shopper_a, product_id=active_a.pk)
    # Shopper B has a cart of their own (so B's forms are real, not empty).
    order_services.cart_line_add(shopper=shopper_b, product_id=product_b.pk)
    event_record(shopper=shopper_a, product_id=active_a.pk, type="click", context="feed")
    event_a = Event.objects.filter(shopper=shopper_a, type="click").get()
    Event.objects.filter(pk=event_a.pk).update(client_event_id="victim-event-1")
    event_a.refresh_from_db()
    # Written directly: the matrix probes who may read and change the row, not
    # the rules for recording one (tests/sellers/).
    remittance_a = Remittance.objects.create(
        seller=seller_a, amount_minor=12345, currency="INR", paid_on=timezone.localdate(),
        reference="VICTIM-REMIT-REF", recorded_by=UserFactory(username="clerk", is_staff=True,
                                                             is_superuser=True))
    applicant = UserFactory(username="+919811100001", password=PASSWORD)
    application_a = SellerApplication.objects.create(
        user=applicant, display_name="VICTIM-APPLICANT-SHOP", phone="+919811100001",
        region=pune, email="victim-applicant@example.com", terms_version="2026-01")
    bulk_a = BulkUpload.objects.create(
        seller=seller_a, created_by=seller_a.user, state=BulkUpload.State.CHECKED,
        csv_name="VICTIM-BULK-FILE.csv", rows_total=3,
        errors=[{"line": 2, "message": "VICTIM-BULK-ERROR"}], errors_total=1)
    return World(seller_a, seller_b, draft_a, image_a, product_b,
                 order_a.lines.get(seller=seller_a), order_a,
                 CartLine.objects.get(pk=cart_line.pk), shopper_a, shopper_b, token_b, event_a,
                 token_a, pune, remittance_a, application_a, bulk_a)


def snapshot(w: World) -> dict:
    """Return every row A owns (as seller and as shopper), field by field."""
    return {
        "seller": list(Seller.objects.filter(pk=w.seller_a.pk).values()),
        "user": list(type(w.seller_a.user).objects.filter(pk=w.seller_a.user_id).values(
            "username", "email", "is_active", "is_staff", "password")),
        "products": list(Product.objects.filter(seller=w.seller_a).order_by("pk").values()),
        "images": list(ProductImage.objects.filter(product__seller=w.seller_a)
                       .order_by("pk").values()),
        "lines": list(OrderLine.objects.filter(seller=w.seller_a).order_by("pk").values()),
        "orders": list(Order.objects.filter(shopper=w.shopper_a).order_by("pk").values()),
        "cart": list(CartLine.objects.filter(cart__shopper=w.shopper_a).order_by("pk").values()),
        "events": list(Event.objects.filter(shopper=w.shopper_a).order_by("pk").values()),
        "profile": list(ShopperProfile.objects.filter(pk=w.shopper_a.pk).values()),
        "remittances": list(Remittance.objects.filter(seller=w.seller_a).order_by("pk").values()),
        "application": list(SellerApplication.objects.filter(pk=w.application_a.pk).values()),
        "bulk uploads": list(BulkUpload.objects.filter(seller=w.seller_a).order_by("pk")
                             .values()),
    }


# --- the attackers ------------------------------------------------------------------------

def seller_b(w: World) -> Client:
    client = Client()
    client.force_login(w.seller_b.user)
    return client


def shopper_b_pages(w: World) -> Client:
    return as_shopper(Client(), w.shopper_b)


def shopper_b_api(w: World) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Shopper {w.token_b}")
    return client


def _admin_product_post(w: World, **overrides) -> dict:
    return product_form_data(w.draft_a, **overrides)


def _b_form_with_a_image(w: World, **image_fields) -> dict:
    data = product_form_data(w.product_b, **{
        "images-TOTAL_FORMS": "1", "images-INITIAL_FORMS": "1",
        "images-0-id": str(w.image_a.pk), "images-0-product": str(w.product_b.pk),
        "images-0-alt_text": "PWNED", "images-0-position": "0"})
    return data | image_fields


ADMIN = "/admin"
P = f"{ADMIN}/catalog/product"
S = f"{ADMIN}/catalog/seller"
L = f"{ADMIN}/orders/orderline"
ORD = f"{ADMIN}/orders/order"
R = f"{ADMIN}/sellers/remittance"
APP = f"{ADMIN}/sellers/sellerapplication"
BU = f"{ADMIN}/catalog/bulkupload"

Attack = Callable[[World], object]

# (surface, object, operation) -> attack. Each returns the response(s) to scan.
CELLS: dict[tuple[str, str, str], Attack] = {
    # Admin: seller B against seller A.
    ("admin", "product", "list"): lambda w: [seller_b(w).get(f"{P}/"),
                                             seller_b(w).get(f"{P}/?q=VICTIM")],
    ("admin", "product", "read"): lambda w: seller_b(w).get(f"{P}/{w.draft_a.pk}/change/"),
    ("admin", "product", "history"): lambda w: seller_b(w).get(f"{P}/{w.draft_a.pk}/history/"),
    ("admin", "product", "create"): lambda w: seller_b(w).post(
        f"{P}/add/", product_form_data(title="Sneaky", seller=str(w.seller_a.pk),
                                       category=str(w.draft_a.category_id))),
    ("admin", "product", "update"): lambda w: seller_b(w).post(
        f"{P}/{w.draft_a.pk}/change/", _admin_product_post(w, title="PWNED", stock="0")),
    ("admin", "product", "delete"): lambda w: seller_b(w).post(
        f"{P}/{w.draft_a.pk}/delete/", {"post": "yes"}),
    ("admin", "product", "action:delete_selected"): lambda w: seller_b(w).post(
        f"{P}/", {"action": "delete_selected", "_selected_action": [w.draft_a.pk],
                  "post": "yes"}),
    ("admin", "product", "action:mark_active"): lambda w: seller_b(w).post(
        f"{P}/", {"action": "mark_active", "_selected_action": [w.draft_a.pk]}),
    ("admin", "product", "action:mark_archived"): lambda w: seller_b(w).post(
        f"{P}/", {"action": "mark_archived", "_selected_action": [w.draft_a.pk]}),
    ("admin", "product image", "read"): lambda w: seller_b(w).get(
        f"{P}/{w.image_a.product_id}/change/"),
    ("admin", "product image", "create"): lambda w: seller_b(w).post(
        f"{P}/{w.draft_a.pk}/change/", _admin_product_post(w, **{
            "images-TOTAL_FORMS": "1", "images-0-alt_text": "added by B"})),
    ("admin", "product image", "update"): lambda w: seller_b(w).post(
        f"{P}/{w.product_b.pk}/change/", _b_form_with_a_image(w)),
    ("admin", "product image", "delete"): lambda w: seller_b(w).post(
        f"{P}/{w.product_b.pk}/change/", _b_form_with_a_image(w, **{"images-0-DELETE": "on"})),
    ("admin", "seller profile", "list"): lambda w: seller_b(w).get(f"{S}/"),
    ("admin", "seller profile", "read"): lambda w: seller_b(w).get(f"{S}/{w.seller_a.pk}/change/"),
    ("admin", "seller profile", "update"): lambda w: seller_b(w).post(
        f"{S}/{w.seller_a.pk}/change/", {"display_name": "PWNED", "phone": "0"}),
    ("admin", "seller profile", "delete"): lambda w: seller_b(w).post(
        f"{S}/{w.seller_a.pk}/delete/", {"post": "yes"}),
    ("admin", "order line", "list"): lambda w: [seller_b(w).get(f"{L}/"),
                                                seller_b(w).get(f"{L}/?q=Victim")],
    ("admin", "order line", "read"): lambda w: seller_b(w).get(f"{L}/{w.line_a.pk}/change/"),
    ("admin", "order line", "update"): lambda w: seller_b(w).post(
        f"{L}/{w.line_a.pk}/change/", {"new_status": "shipped", "cod_collected": "1"}),
    ("admin", "order line", "next-step button"): lambda w: [
        seller_b(w).post(f"{L}/{w.line_a.pk}/step/", {"step": step, "back": "?q=Victim"},
                         follow=True)
        for step in ("ship:confirmed", "deliver:shipped", "collect:delivered")],
    ("admin", "order line", "delete"): lambda w: seller_b(w).post(
        f"{L}/{w.line_a.pk}/delete/", {"post": "yes"}),
    ("admin", "order line", "action:mark_shipped"): lambda w: [
        seller_b(w).post(f"{L}/", {"action": name, "_selected_action": [w.line_a.pk]})
        for name in ("mark_shipped", "mark_cancelled", "collect_cod_in_full", "reconcile_cod")],
    ("admin", "remittance", "list"): lambda w: [seller_b(w).get(f"{R}/", follow=True),
                                                seller_b(w).get(f"{R}/?q=VICTIM", follow=True)],
    ("admin", "remittance", "read"): lambda w: [
        seller_b(w).get(f"{R}/{w.remittance_a.pk}/change/", follow=True),
        seller_b(w).get(f"{R}/{w.remittance_a.pk}/history/", follow=True)],
    ("admin", "remittance", "read statement"): lambda w: [
        seller_b(w).get(f"{R}/{page}?seller={w.seller_a.pk}")
        for page in ("statement/", "statement.csv", "remittances.csv")],
    ("admin", "remittance", "create"): lambda w: seller_b(w).post(
        f"{R}/add/", {"seller": w.seller_a.pk, "amount": "1", "currency": "INR",
                      "paid_on": "2025-01-01", "reference": "B-1"}),
    ("admin", "remittance", "update"): lambda w: seller_b(w).post(
        f"{R}/{w.remittance_a.pk}/change/", {"amount": "1", "reference": "PWNED"}),
    ("admin", "remittance", "delete"): lambda w: [
        seller_b(w).post(f"{R}/{w.remittance_a.pk}/delete/", {"post": "yes"}),
        seller_b(w).post(f"{R}/", {"action": "delete_selected", "post": "yes",
                                   "_selected_action": [w.remittance_a.pk]})],
    ("admin", "seller application", "list"): lambda w: [seller_b(w).get(f"{APP}/"),
                                                        seller_b(w).get(f"{APP}/?q=VICTIM")],
    ("admin", "seller application", "read"): lambda w: seller_b(w).get(
        f"{APP}/{w.application_a.pk}/change/", follow=True),
    ("admin", "seller application", "action:approve/refuse"): lambda w: [
        seller_b(w).post(f"{APP}/", {"action": name, "_selected_action": [w.application_a.pk],
                                     "apply": "1", "reason": "Refused by B"})
        for name in ("approve", "refuse")],
    ("admin", "seller application", "delete"): lambda w: seller_b(w).post(
        f"{APP}/{w.application_a.pk}/delete/", {"post": "yes"}),
    ("admin", "bulk upload", "list"): lambda w: [seller_b(w).get(f"{BU}/"),
                                                 seller_b(w).get(f"{BU}/?q=VICTIM")],
    ("admin", "bulk upload", "read"): lambda w: [
        seller_b(w).get(f"{BU}/{w.bulk_a.pk}/change/"),
        seller_b(w).get(f"{BU}/{w.bulk_a.pk}/history/")],
    ("admin", "bulk upload", "confirm (update)"): lambda w: seller_b(w).post(
        f"{BU}/{w.bulk_a.pk}/confirm/"),
    ("admin", "bulk upload", "create as A"): lambda w: seller_b(w).post(
        f"{BU}/add/", {"listings": SimpleUploadedFile(
            "x.csv", f"id,title,category,price,seller\n{w.draft_a.external_id or 'x'},PWNED,"
                     f"{w.draft_a.category.slug},1,{w.seller_a.slug}\n".encode())},
        follow=True),
    ("admin", "bulk upload", "delete"): lambda w: [
        seller_b(w).post(f"{BU}/{w.bulk_a.pk}/delete/", {"post": "yes"}),
        seller_b(w).post(f"{BU}/", {"action": "delete_selected", "post": "yes",
                                    "_selected_action": [w.bulk_a.pk]})],
    ("pages", "seller application", "read"): lambda w: seller_b(w).get("/sell/status/"),
    ("pages", "seller application", "sign in as A"): lambda w: Client().post(
        "/sell/status/", {"phone": "+91 98111 00001", "password": "wrong-" + PASSWORD}),
    ("pages", "seller application", "re-apply over A"): lambda w: Client().post(
        "/sell/", {"display_name": "PWNED", "phone": "98111 00001", "region": w.region.pk,
                   "password": "Another-Pass-77x", "terms": "on"}),
    ("admin", "order", "list"): lambda w: seller_b(w).get(f"{ORD}/"),
    ("admin", "order", "read"): lambda w: seller_b(w).get(f"{ORD}/{w.order_a.pk}/change/"),
    ("admin", "order", "delete"): lambda w: seller_b(w).post(
        f"{ORD}/{w.order_a.pk}/delete/", {"post": "yes"}),
    ("admin", "shopper profile", "list"): lambda w: seller_b(w).get(
        f"{ADMIN}/personalization/shopperprofile/"),
    ("admin", "shopper profile", "read"): lambda w: seller_b(w).get(
        f"{ADMIN}/personalization/shopperprofile/{w.shopper_a.pk}/change/"),
    ("admin", "shopper profile", "delete"): lambda w: seller_b(w).post(
        f"{ADMIN}/personalization/shopperprofile/{w.shopper_a.pk}/delete/", {"post": "yes"}),
    ("admin", "events", "list"): lambda w: seller_b(w).get(f"{ADMIN}/personalization/event/"),
    ("admin", "events", "read"): lambda w: seller_b(w).get(
        f"{ADMIN}/personalization/event/{w.event_a.pk}/change/"),
    ("admin", "events", "delete"): lambda w: seller_b(w).post(
        f"{ADMIN}/personalization/event/{w.event_a.pk}/delete/", {"post": "yes"}),
    # Pages: seller B's session, and shopper B's cookie, against A.
    ("pages", "product", "read draft"): lambda w: seller_b(w).get(f"/p/{w.draft_a.pk}/"),
    ("pages", "order", "read"): lambda w: shopper_b_pages(w).get(
        f"/orders/{w.order_a.public_id}/"),
    ("pages", "order", "list"): lambda w: shopper_b_pages(w).get("/orders/"),
    ("pages", "order", "create from A's cart"): lambda w: shopper_b_pages(w).post(
        "/checkout/", {"name": "Bina Rao", "phone": "98765 43210",
                       "address": "12 Second Street\nKothrud", "postal_code": "411038",
                       "payment_method": "cod", "region": str(w.region.pk),
                       "cart_signature": cart_get(shopper=w.shopper_a).signature,
                       "idempotency_key": "b-steals-a-1"}),
    ("pages", "cart", "read"): lambda w: shopper_b_pages(w).get("/cart/"),
    ("pages", "cart", "update"): lambda w: shopper_b_pages(w).post(
        f"/cart/lines/{w.cart_line_a.pk}/", {"quantity": "9"}),
    ("pages", "cart", "delete"): lambda w: shopper_b_pages(w).post(
        f"/cart/lines/{w.cart_line_a.pk}/remove/"),
    ("pages", "order line", "read by seller session"): lambda w: seller_b(w).get(
        f"/orders/{w.order_a.public_id}/"),
    # API: shopper B's token against A; seller B's session against the catalog API.
    ("api", "product", "read draft"): lambda w: seller_b(w).get(
        f"/api/v1/products/{w.draft_a.pk}/"),
    ("api", "product", "update"): lambda w: [
        seller_b(w).generic(method, f"/api/v1/products/{w.draft_a.pk}/",
                            json.dumps({"title": "PWNED"}), content_type="application/json")
        for method in ("PUT", "PATCH")],
    ("api", "product", "delete"): lambda w: seller_b(w).delete(f"/api/v1/products/{w.draft_a.pk}/"),
    ("api", "product", "create"): lambda w: seller_b(w).post(
        "/api/v1/products/", {"title": "x", "seller": w.seller_a.pk},
        content_type="application/json"),
    ("api", "product", "list"): lambda w: seller_b(w).get("/api/v1/products/?q=VICTIM"),
    ("api", "order", "read"): lambda w: shopper_b_api(w).get(
        f"/api/v1/orders/{w.order_a.public_id}/"),
    ("api", "order", "list"): lambda w: shopper_b_api(w).get("/api/v1/orders/"),
    ("api", "order", "create from A's cart"): lambda w: shopper_b_api(w).post(
        "/api/v1/checkout/", {"name": "Bina Rao", "phone": "+919876543210",
                              "address": "12 Second Street\nKothrud",
                              "postal_code": "411038", "payment_method": "cod", "region": "IN",
                              "cart_signature": cart_get(shopper=w.shopper_a).signature},
        format="json", HTTP_IDEMPOTENCY_KEY="b-steals-a-2"),
    ("api", "cart", "read"): lambda w: shopper_b_api(w).get("/api/v1/cart/"),
    ("api", "cart", "create in A's cart"): lambda w: shopper_b_api(w).post(
        "/api/v1/cart/lines/", {"product": w.product_b.pk, "quantity": 1,
                                "shopper": str(w.shopper_a.public_id),
                                "cart": w.cart_line_a.cart_id}, format="json"),
    ("api", "cart", "update"): lambda w: shopper_b_api(w).patch(
        f"/api/v1/cart/lines/{w.cart_line_a.pk}/", {"quantity": 9}, format="json"),
    ("api", "cart", "delete"): lambda w: shopper_b_api(w).delete(
        f"/api/v1/cart/lines/{w.cart_line_a.pk}/"),
    ("api", "shopper profile", "read"): lambda w: [
        shopper_b_api(w).get("/api/v1/shoppers/me/"),
        shopper_b_api(w).get("/api/v1/shoppers/me/", {"shopper": str(w.shopper_a.public_id)})],
    ("api", "shopper profile", "update"): lambda w: shopper_b_api(w).patch(
        "/api/v1/shoppers/me/", {"language": "ar", "public_id": str(w.shopper_a.public_id),
                                 "id": w.shopper_a.pk}, format="json"),
    ("api", "shopper profile", "delete"): lambda w: shopper_b_api(w).delete(
        f"/api/v1/shoppers/me/?shopper={w.shopper_a.public_id}"),
    ("api", "shopper profile", "action:export"): lambda w: shopper_b_api(w).get(
        "/api/v1/shoppers/me/export/"),
    ("api", "events", "create as A"): lambda w: [
        shopper_b_api(w).post("/api/v1/events/", {"shopper": str(w.shopper_a.public_id), "events": [
            {"id": "b-1", "type": "hide", "product": w.product_b.pk}]}, format="json"),
        shopper_b_api(w).post("/api/v1/events/", {"events": [
            {"id": "b-2", "type": "hide", "product": w.product_b.pk,
             "shopper": str(w.shopper_a.public_id)}]}, format="json")],
    ("api", "events", "create with A's event id"): lambda w: shopper_b_api(w).post(
        "/api/v1/events/", {"events": [{"id": "victim-event-1", "type": "hide",
                                        "product": w.product_b.pk}]}, format="json"),
    ("api", "events", "list"): lambda w: shopper_b_api(w).get("/api/v1/events/"),
}


def _responses(result) -> list:
    return result if isinstance(result, list) else [result]


@pytest.mark.parametrize("cell", list(CELLS), ids=[" / ".join(cell) for cell in CELLS])
def test_b_gets_nothing_of_a(world, cell):
    before = snapshot(world)

    responses = _responses(CELLS[cell](world))

    for response in responses:
        assert response.status_code < 500, (cell, response.status_code)
        body = response.content.decode(errors="replace")
        leaked = [marker for marker in MARKERS if marker in body]
        assert leaked == [], (cell, response.status_code, leaked)
        # A's order number is private to A too (it is the key to the order page).
        assert world.order_a.public_id not in body, cell
    assert snapshot(world) == before, cell


@pytest.mark.parametrize("surface", ["admin", "pages", "api"])
def test_the_victim_sees_own_data_where_the_attacker_saw_none(world, surface):
    # Guard against a matrix that cannot fail: the same requests with A's own
    # credentials show A's markers, so the probes reach real, data-bearing pages.
    if surface == "admin":
        client = Client()
        client.force_login(world.seller_a.user)
        body = client.get(f"{P}/{world.draft_a.pk}/change/").content.decode()
        assert "VICTIM-DRAFT-TITLE" in body and "VICTIM-ALT-TEXT" in body
        body = client.get(f"{L}/{world.line_a.pk}/change/").content.decode()
        assert "Victim Shopper A" in body
        body = client.get(f"{R}/statement/").content.decode()
        assert "VICTIM-REMIT-REF" in body
        body = client.get(f"{BU}/{world.bulk_a.pk}/change/").content.decode()
        assert "VICTIM-BULK-FILE" in body and "VICTIM-BULK-ERROR" in body
        client = Client()
        client.force_login(world.application_a.user)
        assert "VICTIM-APPLICANT-SHOP" in client.get("/sell/status/").content.decode()
    elif surface == "pages":
        client = as_shopper(Client(), world.shopper_a)
        body = client.get(f"/orders/{world.order_a.public_id}/").content.decode()
        assert "Victim Lane 7" in body
    else:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Shopper {world.token_a}")
        response = client.get(f"/api/v1/orders/{world.order_a.public_id}/")
        assert response.status_code == 200
        assert "Victim Lane 7" in response.content.decode()
