"""Cart and placement services: limits, stock, idempotency, regions, line handling."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from catalog.models import Product
from orders import services
from orders.models import CartLine, LineStatus, Order, OrderLine, PaymentStatus
from orders.selectors import cart_get
from personalization.models import Event, EventType, LifecycleStage
from personalization.services import shopper_create, shopper_erase, shopper_export
from tests.factories import ProductFactory, SellerFactory

from .conftest import PUNE_ADDRESS, place_order

pytestmark = pytest.mark.django_db


def details(region, **overrides):
    fields = {**PUNE_ADDRESS, "region": region, **overrides}
    return services.checkout_details_clean(**fields)


place = place_order


# --- cart -----------------------------------------------------------------------------


def test_adding_twice_adds_to_one_line(shopper):
    product = ProductFactory(stock=5)
    services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1)
    services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=2)
    lines = list(CartLine.objects.filter(cart__shopper=shopper))
    assert [(line.product_id, line.quantity) for line in lines] == [(product.pk, 3)]


def test_adding_records_a_cart_event_for_the_feed(shopper):
    product = ProductFactory()
    services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1, context="product")
    assert list(Event.objects.filter(shopper=shopper).values_list("type", "product_id",
                                                                  "context")) == [
        (EventType.CART, product.pk, "product")]


def test_refused_add_records_no_event(shopper):
    product = ProductFactory(stock=0)
    with pytest.raises(ValidationError):
        services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1)
    assert not Event.objects.exists()


def test_cannot_add_more_than_the_stock(shopper):
    product = ProductFactory(stock=2)
    with pytest.raises(ValidationError) as exc:
        services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=3)
    assert exc.value.message_dict["quantity"] == ["Only 2 left."]
    assert not CartLine.objects.exists()


@pytest.mark.parametrize("status", [Product.Status.DRAFT, Product.Status.ARCHIVED])
def test_cannot_add_an_unlisted_product(shopper, status):
    product = ProductFactory(status=status)
    with pytest.raises(ValidationError) as exc:
        services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1)
    assert "product" in exc.value.message_dict
    assert not CartLine.objects.exists()


def test_quantity_limit_per_line(shopper, settings):
    settings.ORDERS_MAX_LINE_QUANTITY = 3
    product = ProductFactory(stock=50)
    services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=3)
    with pytest.raises(ValidationError) as exc:
        services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1)
    assert exc.value.message_dict["quantity"] == ["You can order at most 3 of one item."]
    assert CartLine.objects.get().quantity == 3


def test_another_shoppers_line_cannot_be_changed_or_removed(shopper):
    other = shopper_create()
    product = ProductFactory()
    line = services.cart_line_add(shopper=other, product_id=product.pk, quantity=1)
    with pytest.raises(CartLine.DoesNotExist):
        services.cart_line_update(shopper=shopper, line_id=line.pk, quantity=2)
    with pytest.raises(CartLine.DoesNotExist):
        services.cart_line_remove(shopper=shopper, line_id=line.pk)
    assert CartLine.objects.get(pk=line.pk).quantity == 1


def test_update_to_zero_removes_the_line(shopper):
    line = services.cart_line_add(shopper=shopper, product_id=ProductFactory().pk, quantity=2)
    assert services.cart_line_update(shopper=shopper, line_id=line.pk, quantity=0) is None
    assert not CartLine.objects.exists()


def test_cart_shows_a_changed_price(shopper):
    product = ProductFactory(price_minor=49900)
    services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=2)
    Product.objects.filter(pk=product.pk).update(price_minor=59900)
    cart = cart_get(shopper=shopper)
    (line,) = cart.lines
    assert line.price_changed and line.unit_price_seen_minor == 49900
    assert cart.total_minor == 2 * 59900


# --- placement ---------------------------------------------------------------------------


def test_placing_takes_stock_records_lines_and_clears_the_cart(shopper, regions):
    seller_a, seller_b = SellerFactory(), SellerFactory()
    kurta = ProductFactory(seller=seller_a, stock=5, price_minor=49900, title="Kurta")
    lamp = ProductFactory(seller=seller_b, stock=1, price_minor=120000, title="Lamp")
    services.cart_line_add(shopper=shopper, product_id=kurta.pk, quantity=2)
    services.cart_line_add(shopper=shopper, product_id=lamp.pk, quantity=1)

    placement = place(shopper, regions["IN-MH-PUN"])

    order = Order.objects.get()
    assert placement.order == order and not placement.replayed
    assert order.total_minor == 2 * 49900 + 120000 and order.currency == "INR"
    assert order.phone == "+919876543210" and order.postal_code == "411038"
    assert order.payment_method == "cod"
    assert order.payment_status == PaymentStatus.PENDING_COLLECTION
    lines = {line.title: line for line in OrderLine.objects.all()}
    assert lines["Kurta"].seller == seller_a and lines["Kurta"].quantity == 2
    assert lines["Kurta"].unit_price_minor == 49900
    assert lines["Lamp"].seller == seller_b
    assert {line.status for line in lines.values()} == {LineStatus.CONFIRMED}
    assert Product.objects.get(pk=kurta.pk).stock == 3
    assert Product.objects.get(pk=lamp.pk).stock == 0
    assert not CartLine.objects.filter(cart__shopper=shopper).exists()


def test_placing_records_purchase_events_and_moves_the_lifecycle(shopper, regions):
    product = ProductFactory()
    services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1)
    place(shopper, regions["IN-MH-PUN"])
    shopper.refresh_from_db()
    purchases = Event.objects.filter(shopper=shopper, type=EventType.PURCHASE)
    assert list(purchases.values_list("product_id", "context")) == [(product.pk, "checkout")]
    assert shopper.lifecycle_stage == LifecycleStage.FIRST_ORDER
    assert shopper.orders_count == 1


def test_out_of_stock_line_rolls_back_the_whole_order(shopper, regions):
    plenty = ProductFactory(stock=5, title="Plenty")
    scarce = ProductFactory(stock=3, title="Scarce")
    services.cart_line_add(shopper=shopper, product_id=plenty.pk, quantity=2)
    services.cart_line_add(shopper=shopper, product_id=scarce.pk, quantity=3)
    # Someone else bought two of the scarce item after this shopper added it.
    Product.objects.filter(pk=scarce.pk).update(stock=1)

    with pytest.raises(services.CheckoutRefused) as exc:
        place(shopper, regions["IN-MH-PUN"])

    assert exc.value.code == "out_of_stock"
    assert "Scarce" in exc.value.message
    assert [(i.product_id, i.available) for i in exc.value.items] == [(scarce.pk, 1)]
    assert not Order.objects.exists() and not OrderLine.objects.exists()
    assert Product.objects.get(pk=plenty.pk).stock == 5
    assert Product.objects.get(pk=scarce.pk).stock == 1
    assert CartLine.objects.filter(cart__shopper=shopper).count() == 2
    assert not Event.objects.filter(type=EventType.PURCHASE).exists()


def test_changed_price_is_refused_until_the_shopper_has_seen_it(shopper, regions):
    product = ProductFactory(price_minor=49900)
    services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1)
    shown = cart_get(shopper=shopper).signature
    Product.objects.filter(pk=product.pk).update(price_minor=54900)

    with pytest.raises(services.CheckoutRefused) as exc:
        services.order_place(shopper=shopper, idempotency_key="key-00000001",
                             details=details(regions["IN-MH-PUN"]), cart_signature_seen=shown)
    assert exc.value.code == "cart_changed"
    assert not Order.objects.exists()
    assert Product.objects.get(pk=product.pk).stock == 10

    # Shown the new total, the shopper places it at the new price.
    placement = place(shopper, regions["IN-MH-PUN"])
    assert placement.order.total_minor == 54900


def test_product_not_sold_in_the_region_is_refused(shopper, regions):
    kerala_only = ProductFactory(title="Karnataka silk", regions=[regions["IN-KA"]])
    everywhere = ProductFactory(title="Soap")
    services.cart_line_add(shopper=shopper, product_id=kerala_only.pk, quantity=1)
    services.cart_line_add(shopper=shopper, product_id=everywhere.pk, quantity=1)
    with pytest.raises(services.CheckoutRefused) as exc:
        place(shopper, regions["IN-MH-PUN"])
    assert exc.value.code == "not_sold_in_region"
    assert [item.title for item in exc.value.items] == ["Karnataka silk"]
    assert "Pune" in exc.value.message
    assert not Order.objects.exists()
    assert Product.objects.get(pk=kerala_only.pk).stock == 10


def test_product_priced_in_another_currency_is_not_delivered_here(shopper, regions):
    dirham_lamp = ProductFactory(title="Brass lantern", currency="AED")
    services.cart_line_add(shopper=shopper, product_id=dirham_lamp.pk, quantity=1)
    with pytest.raises(services.CheckoutRefused) as exc:
        place(shopper, regions["IN-MH-PUN"])
    assert exc.value.code == "not_sold_in_region"
    assert [item.title for item in exc.value.items] == ["Brass lantern"]
    assert not Order.objects.exists()
    # The same item ships to Dubai, paid in dirhams.
    placed = place(shopper, regions["AE-DU"], phone="0501234567", postal_code="")
    assert placed.order.currency == "AED"


def test_product_sold_in_a_parent_region_may_be_ordered_below_it(shopper, regions):
    product = ProductFactory(regions=[regions["IN-MH"]])
    services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1)
    assert place(shopper, regions["IN-MH-PUN"]).order.region == regions["IN-MH-PUN"]


def test_same_key_same_request_returns_the_first_order(shopper, regions):
    product = ProductFactory(stock=5)
    services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=2)
    signature = cart_get(shopper=shopper).signature
    kwargs = {"shopper": shopper, "idempotency_key": "tap-tap-0001",
              "details": details(regions["IN-MH-PUN"]), "cart_signature_seen": signature}

    first = services.order_place(**kwargs)
    second = services.order_place(**kwargs)

    assert second.replayed and second.order.pk == first.order.pk
    assert Order.objects.count() == 1
    assert Product.objects.get(pk=product.pk).stock == 3


def test_duplicate_that_slips_past_both_lookups_is_stopped_by_the_unique_key(
        shopper, regions, monkeypatch):
    # given an order placed with a key, and the same cart again
    product = ProductFactory(stock=5)
    services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1)
    first = place(shopper, regions["IN-MH-PUN"], key="race-key-0001")
    services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1)
    # when a concurrent duplicate got past both key lookups (the window the
    # unique constraint exists for): simulate by blinding the first two
    real_replay = services._replay
    lookups = []

    def blind_then_real(**kwargs):
        lookups.append(kwargs["key"])
        return None if len(lookups) <= 2 else real_replay(**kwargs)

    monkeypatch.setattr(services, "_replay", blind_then_real)
    second = place(shopper, regions["IN-MH-PUN"], key="race-key-0001")

    # then the INSERT fails on the unique key, everything rolls back, and the
    # answer is the first order
    assert len(lookups) == 3
    assert second.replayed and second.order.pk == first.order.pk
    assert Order.objects.count() == 1 and OrderLine.objects.count() == 1
    assert Product.objects.get(pk=product.pk).stock == 4
    assert CartLine.objects.filter(cart__shopper=shopper).count() == 1


def test_same_key_with_a_different_request_is_refused(shopper, regions):
    product = ProductFactory(stock=5)
    services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1)
    place(shopper, regions["IN-MH-PUN"], key="reused-key-1")
    services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=3)
    with pytest.raises(services.CheckoutRefused) as exc:
        place(shopper, regions["IN-MH-PUN"], key="reused-key-1")
    assert exc.value.code == "idempotency_conflict"
    assert Order.objects.count() == 1
    assert Product.objects.get(pk=product.pk).stock == 4


def test_same_key_from_another_shopper_is_a_separate_order(shopper, regions):
    other = shopper_create()
    product = ProductFactory(stock=5)
    for who in (shopper, other):
        services.cart_line_add(shopper=who, product_id=product.pk, quantity=1)
        place(who, regions["IN-MH-PUN"], key="same-key-0001")
    assert Order.objects.count() == 2
    assert Product.objects.get(pk=product.pk).stock == 3


def test_empty_cart_is_refused(shopper, regions):
    with pytest.raises(services.CheckoutRefused) as exc:
        place(shopper, regions["IN-MH-PUN"])
    assert exc.value.code == "cart_empty"


@pytest.mark.parametrize("key", ["", "short", "x" * 65, "has space in it", "emoji-🙂-key"])
def test_bad_idempotency_key_is_a_field_error(shopper, regions, key):
    services.cart_line_add(shopper=shopper, product_id=ProductFactory().pk, quantity=1)
    with pytest.raises(ValidationError) as exc:
        place(shopper, regions["IN-MH-PUN"], key=key)
    assert "idempotency_key" in exc.value.message_dict
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("region", "overrides", "field"),
    [
        ("IN-MH-PUN", {"phone": "12345"}, "phone"),
        ("IN-MH-PUN", {"phone": "+971501234567"}, "phone"),
        ("IN-MH-PUN", {"postal_code": ""}, "postal_code"),
        ("IN-MH-PUN", {"postal_code": "01234"}, "postal_code"),
        ("IN-MH-PUN", {"name": " "}, "name"),
        ("IN-MH-PUN", {"address": "Pune"}, "address"),
        ("IN-MH-PUN", {"payment_method": "bitcoin"}, "payment_method"),
        ("FR", {}, "region"),
    ],
)
def test_checkout_details_are_validated_per_country(regions, region, overrides, field):
    with pytest.raises(ValidationError) as exc:
        details(regions[region], **overrides)
    assert field in exc.value.message_dict


def test_uae_address_needs_no_postal_code(regions):
    cleaned = details(regions["AE-DU"], phone="050 123 4567", postal_code="")
    assert cleaned.phone == "+971501234567" and cleaned.postal_code == ""


# --- order lines ---------------------------------------------------------------------------


@pytest.fixture
def placed(shopper, regions):
    """An order with one line from each of two sellers (2 units each)."""
    seller_a, seller_b = SellerFactory(), SellerFactory()
    pa = ProductFactory(seller=seller_a, stock=5, title="A's item")
    pb = ProductFactory(seller=seller_b, stock=5, title="B's item")
    for product in (pa, pb):
        services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=2)
    order = place(shopper, regions["IN-MH-PUN"]).order
    return {"order": order, "a": seller_a, "b": seller_b, "pa": pa, "pb": pb,
            "line_a": order.lines.get(seller=seller_a), "line_b": order.lines.get(seller=seller_b)}


def test_cancelling_puts_the_stock_back_once(placed):
    actor = placed["a"].user
    line = placed["line_a"]
    assert Product.objects.get(pk=placed["pa"].pk).stock == 3
    services.order_line_set_status(actor=actor, line_id=line.pk, status=LineStatus.CANCELLED)
    assert Product.objects.get(pk=placed["pa"].pk).stock == 5
    with pytest.raises(ValidationError):
        services.order_line_set_status(actor=actor, line_id=line.pk, status=LineStatus.RETURNED)
    # Asking again for the status it has is a no-op, not a second restock.
    services.order_line_set_status(actor=actor, line_id=line.pk, status=LineStatus.CANCELLED)
    assert Product.objects.get(pk=placed["pa"].pk).stock == 5


def test_return_after_delivery_puts_the_stock_back(placed):
    actor, line = placed["a"].user, placed["line_a"]
    for status in (LineStatus.SHIPPED, LineStatus.DELIVERED, LineStatus.RETURNED):
        services.order_line_set_status(actor=actor, line_id=line.pk, status=status)
    assert OrderLine.objects.get(pk=line.pk).status == LineStatus.RETURNED
    assert Product.objects.get(pk=placed["pa"].pk).stock == 5


def test_delivered_line_cannot_be_cancelled(placed):
    actor, line = placed["a"].user, placed["line_a"]
    services.order_line_set_status(actor=actor, line_id=line.pk, status=LineStatus.SHIPPED)
    with pytest.raises(ValidationError):
        services.order_line_set_status(actor=actor, line_id=line.pk, status=LineStatus.CANCELLED)
    assert OrderLine.objects.get(pk=line.pk).status == LineStatus.SHIPPED
    assert Product.objects.get(pk=placed["pa"].pk).stock == 3


def test_seller_cannot_change_another_sellers_line(placed):
    with pytest.raises(PermissionDenied):
        services.order_line_set_status(actor=placed["a"].user, line_id=placed["line_b"].pk,
                                       status=LineStatus.CANCELLED)
    with pytest.raises(PermissionDenied):
        services.order_line_cod_record(actor=placed["a"].user, line_id=placed["line_b"].pk,
                                       amount_minor=1)
    line_b = OrderLine.objects.get(pk=placed["line_b"].pk)
    assert line_b.status == LineStatus.CONFIRMED and line_b.cod_collected_minor is None
    assert Product.objects.get(pk=placed["pb"].pk).stock == 3


def test_cod_is_recorded_after_shipping_and_reconciled_by_staff_only(placed, admin_user):
    seller, line = placed["a"].user, placed["line_a"]
    with pytest.raises(ValidationError):
        services.order_line_cod_record(actor=seller, line_id=line.pk, amount_minor=1000)
    services.order_line_set_status(actor=seller, line_id=line.pk, status=LineStatus.SHIPPED)
    with pytest.raises(ValidationError):
        services.order_line_cod_record(actor=seller, line_id=line.pk,
                                       amount_minor=line.line_total_minor + 1)
    services.order_line_cod_record(actor=seller, line_id=line.pk,
                                   amount_minor=line.line_total_minor)
    with pytest.raises(PermissionDenied):
        services.order_lines_cod_reconcile(actor=seller, line_ids=[line.pk])
    assert services.order_lines_cod_reconcile(actor=admin_user, line_ids=[line.pk]) == 1
    line.refresh_from_db()
    assert line.cod_collected_minor == line.line_total_minor and line.cod_reconciled
    with pytest.raises(ValidationError):
        services.order_line_cod_record(actor=seller, line_id=line.pk, amount_minor=0)


def test_order_status_summarises_its_lines(placed):
    order, seller_a, seller_b = placed["order"], placed["a"].user, placed["b"].user
    assert order.status_summary() == LineStatus.CONFIRMED
    services.order_line_set_status(actor=seller_a, line_id=placed["line_a"].pk,
                                   status=LineStatus.SHIPPED)
    assert Order.objects.get(pk=order.pk).status_summary() == LineStatus.SHIPPED
    services.order_line_set_status(actor=seller_b, line_id=placed["line_b"].pk,
                                   status=LineStatus.CANCELLED)
    services.order_line_set_status(actor=seller_a, line_id=placed["line_a"].pk,
                                   status=LineStatus.DELIVERED)
    assert Order.objects.get(pk=order.pk).status_summary() == LineStatus.DELIVERED


# --- privacy -------------------------------------------------------------------------------


def test_export_includes_orders_and_cart(placed, shopper):
    services.cart_line_add(shopper=shopper, product_id=placed["pa"].pk, quantity=1)
    exported = shopper_export(shopper=shopper)["orders"]
    assert [o["order"] for o in exported["orders"]] == [placed["order"].public_id]
    assert exported["orders"][0]["address"] == placed["order"].address
    assert exported["cart"] == [{"product": placed["pa"].pk, "quantity": 1}]


def test_erasure_keeps_the_order_for_the_seller_but_blanks_the_shopper(placed, shopper):
    # given a settled order (both lines cancelled): nothing is left to deliver
    for seller, line in ((placed["a"], placed["line_a"]), (placed["b"], placed["line_b"])):
        services.order_line_set_status(actor=seller.user, line_id=line.pk,
                                       status=LineStatus.CANCELLED)
    assert shopper_erase(shopper=shopper) == []
    order = Order.objects.get(pk=placed["order"].pk)
    assert order.shopper is None and order.anonymised_at is not None
    assert (order.name, order.phone, order.address, order.postal_code) == ("", "", "", "")
    assert order.lines.count() == 2 and order.total_minor > 0


def test_signing_in_moves_the_anonymous_cart_and_orders_to_the_account(placed, shopper):
    from django.contrib.auth import get_user_model

    from personalization.services import shopper_link_user

    user = get_user_model().objects.create_user("asha", password="x-long-enough-pw-1")
    account_profile = shopper_link_user(shopper=shopper_create(), user=user)
    product = ProductFactory(stock=9)
    services.cart_line_add(shopper=account_profile, product_id=product.pk, quantity=1)
    services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=2)
    services.cart_line_add(shopper=shopper, product_id=placed["pa"].pk, quantity=1)

    merged = shopper_link_user(shopper=shopper, user=user)

    assert merged.pk == account_profile.pk
    assert Order.objects.get(pk=placed["order"].pk).shopper_id == merged.pk
    lines = dict(CartLine.objects.filter(cart__shopper=merged)
                 .values_list("product_id", "quantity"))
    assert lines == {product.pk: 3, placed["pa"].pk: 1}
