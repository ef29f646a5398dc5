"""Cart, checkout and orders API: shapes, idempotency, isolation, query counts, schema."""

from __future__ import annotations

import pytest

from catalog.models import Product
from orders import services
from orders.models import CartLine, Order
from personalization.services import shopper_create_anonymous
from tests.factories import ProductFactory, make_products

from .conftest import PUNE_ADDRESS, as_shopper

pytestmark = pytest.mark.django_db


def auth(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Shopper {token}"}


def checkout_body(client, token, **overrides) -> dict:
    cart = client.get("/api/v1/cart/", **auth(token)).json()
    return {**PUNE_ADDRESS, "region": "IN-MH-PUN", "cart_signature": cart["signature"],
            **overrides}


def checkout(client, token, key="api-key-0001", body=None, **overrides):
    body = body or checkout_body(client, token, **overrides)
    return client.post("/api/v1/checkout/", body, content_type="application/json",
                       HTTP_IDEMPOTENCY_KEY=key, **auth(token))


def test_cart_lines_add_update_remove(client, token_shopper):
    _shopper, token = token_shopper
    product = ProductFactory(stock=5, price_minor=25000, title="Bangles")

    added = client.post("/api/v1/cart/lines/", {"product": product.pk, "quantity": 2},
                        content_type="application/json", **auth(token))
    assert added.status_code == 201
    cart = added.json()
    assert cart["count"] == 2 and cart["total_minor"] == 50000 and cart["currency"] == "INR"
    (line,) = cart["lines"]
    assert (line["title"], line["stock"], line["price_changed"]) == ("Bangles", 5, False)
    assert added["Cache-Control"] == "private, no-store"

    updated = client.patch(f"/api/v1/cart/lines/{line['id']}/", {"quantity": 3},
                           content_type="application/json", **auth(token))
    assert updated.status_code == 200 and updated.json()["count"] == 3

    removed = client.delete(f"/api/v1/cart/lines/{line['id']}/", **auth(token))
    assert removed.status_code == 204
    assert client.get("/api/v1/cart/", **auth(token)).json()["lines"] == []


def test_adding_more_than_the_stock_is_a_400_in_the_error_shape(client, token_shopper):
    _shopper, token = token_shopper
    product = ProductFactory(stock=1)
    response = client.post("/api/v1/cart/lines/", {"product": product.pk, "quantity": 2},
                           content_type="application/json", **auth(token))
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"quantity": ["Only 1 left."]}
    assert not CartLine.objects.exists()


def test_another_shoppers_line_is_a_404(client, token_shopper):
    _shopper, token = token_shopper
    other, _other_token = shopper_create_anonymous()
    line = services.cart_line_add(shopper=other, product_id=ProductFactory().pk, quantity=1)
    patched = client.patch(f"/api/v1/cart/lines/{line.pk}/", {"quantity": 2},
                           content_type="application/json", **auth(token))
    deleted = client.delete(f"/api/v1/cart/lines/{line.pk}/", **auth(token))
    assert patched.status_code == deleted.status_code == 404
    assert CartLine.objects.get(pk=line.pk).quantity == 1


def test_without_a_shopper_the_api_is_a_401_and_creates_nothing(client):
    from personalization.models import ShopperProfile

    response = client.get("/api/v1/cart/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert not ShopperProfile.objects.exists()


def test_cookie_callers_need_the_csrf_token_for_writes(shopper):
    from django.test import Client

    client = as_shopper(Client(enforce_csrf_checks=True), shopper)
    product = ProductFactory()
    response = client.post("/api/v1/cart/lines/", {"product": product.pk},
                           content_type="application/json")
    assert response.status_code == 403
    assert not CartLine.objects.exists()


def test_checkout_places_the_order_and_a_replay_returns_it(client, token_shopper, regions):
    shopper, token = token_shopper
    product = ProductFactory(stock=5, price_minor=49900)
    services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=2)
    body = checkout_body(client, token)

    first = checkout(client, token, body=body)
    replay = checkout(client, token, body=body)

    assert first.status_code == 201 and replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    order = Order.objects.get()
    assert first.json()["id"] == replay.json()["id"] == order.public_id
    assert first["Location"] == f"/api/v1/orders/{order.public_id}/"
    data = first.json()
    assert data["status"] == "confirmed" and data["total_minor"] == 99800
    assert data["payment_method"] == "cod" and data["payment_status"] == "pending_collection"
    assert data["phone"] == "+919876543210" and data["region"] == "IN-MH-PUN"
    assert [(line["title"], line["quantity"]) for line in data["lines"]] == [
        (product.title, 2)]
    assert Product.objects.get(pk=product.pk).stock == 3


def test_same_key_with_another_payload_is_a_409(client, token_shopper, regions):
    shopper, token = token_shopper
    services.cart_line_add(shopper=shopper, product_id=ProductFactory().pk, quantity=1)
    body = checkout_body(client, token)
    assert checkout(client, token, body=body).status_code == 201
    response = checkout(client, token, body={**body, "name": "Someone Else"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_conflict"
    assert Order.objects.count() == 1


def test_checkout_without_the_header_or_with_bad_fields_is_a_400(client, token_shopper,
                                                                 regions):
    shopper, token = token_shopper
    product = ProductFactory(stock=3)
    services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1)
    body = checkout_body(client, token, phone="123", region="XX-NOPE")
    response = client.post("/api/v1/checkout/", body, content_type="application/json",
                           **auth(token))
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"Idempotency-Key"}
    response = checkout(client, token, body=body)
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"region": ["Unknown region code."]}
    response = checkout(client, token, body={**body, "region": "IN-MH-PUN"})
    assert response.status_code == 400 and "phone" in response.json()["error"]["fields"]
    response = checkout(client, token, key="bad key!", body={**body, "region": "IN-MH-PUN",
                                                             "phone": "9876543210"})
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["fields"]
    assert not Order.objects.exists() and Product.objects.get(pk=product.pk).stock == 3


def test_out_of_stock_is_a_409_naming_the_item(client, token_shopper, regions):
    shopper, token = token_shopper
    product = ProductFactory(stock=2, title="Brass lamp")
    services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=2)
    body = checkout_body(client, token)
    Product.objects.filter(pk=product.pk).update(stock=0)
    response = checkout(client, token, body=body)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "out_of_stock" and "Brass lamp" in error["message"]
    assert error["items"] == [{"product": product.pk, "title": "Brass lamp", "available": 0}]
    assert not Order.objects.exists()


def test_changed_price_is_a_409_cart_changed(client, token_shopper, regions):
    shopper, token = token_shopper
    product = ProductFactory(price_minor=10000)
    services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1)
    body = checkout_body(client, token)
    Product.objects.filter(pk=product.pk).update(price_minor=12000)
    response = checkout(client, token, body=body)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "cart_changed"
    cart = client.get("/api/v1/cart/", **auth(token)).json()
    assert cart["price_changed"] and cart["lines"][0]["unit_price_seen_minor"] == 10000
    assert not Order.objects.exists()


def test_orders_are_listed_and_shown_to_their_shopper_only(client, regions):
    owner, owner_token = shopper_create_anonymous()
    other, other_token = shopper_create_anonymous()
    services.cart_line_add(shopper=owner, product_id=ProductFactory().pk, quantity=1)
    order_id = checkout(client, owner_token).json()["id"]

    assert [o["id"] for o in client.get("/api/v1/orders/", **auth(owner_token))
            .json()["results"]] == [order_id]
    assert client.get("/api/v1/orders/", **auth(other_token)).json()["results"] == []
    assert client.get(f"/api/v1/orders/{order_id}/", **auth(owner_token)).status_code == 200
    response = client.get(f"/api/v1/orders/{order_id}/", **auth(other_token))
    assert response.status_code == 404
    assert PUNE_ADDRESS["name"] not in response.content.decode()


@pytest.mark.parametrize("n", [2, 20])
def test_cart_api_query_count_is_flat(client, token_shopper, django_assert_max_num_queries, n):
    shopper, token = token_shopper
    for product in make_products(n):
        services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1)
    # token -> profile, cart lines + products
    with django_assert_max_num_queries(3):
        response = client.get("/api/v1/cart/", **auth(token))
    assert len(response.json()["lines"]) == n


@pytest.mark.parametrize("n", [2, 20])
def test_orders_api_query_count_is_flat(client, token_shopper, regions,
                                        django_assert_max_num_queries, n):
    shopper, token = token_shopper
    for i, product in enumerate(make_products(n)):
        services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1)
        if i % 2:
            assert checkout(client, token, key=f"flat-key-{i:04d}").status_code == 201
    # token -> profile, orders + regions, lines
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/orders/", **auth(token))
    assert sum(len(o["lines"]) for o in response.json()["results"]) == n


def test_schema_describes_the_orders_endpoints(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    for path in ("/api/v1/cart/", "/api/v1/cart/lines/", "/api/v1/cart/lines/{line_id}/",
                 "/api/v1/checkout/", "/api/v1/orders/", "/api/v1/orders/{public_id}/"):
        assert path in paths, path
    post = paths["/api/v1/checkout/"]["post"]
    assert {"201", "200", "409", "400"} <= set(post["responses"])
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" and p["required"]
               for p in post["parameters"])
