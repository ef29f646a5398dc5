"""The cart marks what cannot be bought where the shopper is, and checkout
offers only the places the whole cart can be delivered to."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from orders import services
from orders.models import Order
from personalization.services import shopper_profile_update
from tests.region_world import make_world

from .conftest import PUNE_ADDRESS

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return make_world()


def _add(shopper, *products):
    for product in products:
        services.cart_line_add(shopper=shopper, product_id=product.pk, quantity=1)


def _line(body: str, product) -> str:
    """Return the HTML of the cart line of `product`."""
    match = re.search(rf'<li class="o-i[^"]*" id="line-\d+">\s*<a href="/p/{product.pk}/">'
                      r".*?</li>", body, re.S)
    assert match, f"no line for {product.pk}"
    return match.group(0)


def _region_options(body: str) -> set[str]:
    select = body.split('name="region"', 1)[1].split("</select>", 1)[0]
    return {value for value in re.findall(r'<option value="(\d+)"', select)}


def test_a_mixed_cart_marks_each_line_that_cannot_come_to_pune(shopper_client, shopper, world):
    # Given a Pune shopper whose cart holds rupees, dirhams and a rupee listing sold in Dubai
    shopper_profile_update(shopper=shopper, region_code="IN-MH-PUN")
    rupees = world.products["inr_everywhere"][0]
    dirhams = world.products["aed_uae"][0]
    dubai_only = world.products["inr_dubai"][0]
    _add(shopper, rupees, dirhams, dubai_only)
    # When they open the cart
    body = shopper_client.get("/cart/").content.decode()
    # Then each offending line says why, and only those are marked
    assert "Priced in AED: it cannot be paid for in Pune. Please remove it." in _line(body, dirhams)
    assert "Not delivered to Pune. Please remove it." in _line(body, dubai_only)
    assert 'class="o-i o-x"' in _line(body, dirhams) and 'class="o-i o-x"' in _line(
        body, dubai_only)
    assert "o-i o-x" not in _line(body, rupees) and "Please remove it" not in _line(body, rupees)
    assert "Fix the items marked above" in body and 'href="/checkout/"' not in body


def test_removing_the_marked_lines_lets_the_cart_check_out(shopper_client, shopper, world):
    shopper_profile_update(shopper=shopper, region_code="IN-MH-PUN")
    rupees, dirhams = world.products["inr_everywhere"][0], world.products["aed_uae"][0]
    _add(shopper, rupees, dirhams)
    line = shopper.cart.lines.get(product=dirhams)
    shopper_client.post(f"/cart/lines/{line.pk}/remove/")
    body = shopper_client.get("/cart/").content.decode()
    assert "o-i o-x" not in body and 'href="/checkout/"' in body


def test_a_guessed_market_marks_lines_too(shopper_client, shopper, world):
    # A visitor guessed in the UAE (Arabic) with a rupee line
    _add(shopper, world.products["inr_everywhere"][0])
    body = shopper_client.get("/cart/", HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    # (in Arabic: "السعر بعملة INR: لا يمكن دفعه في United Arab Emirates. ...")
    assert "INR: لا يمكن دفعه في United Arab Emirates" in body
    assert body.count('class="o-i o-x"') == 1


def test_checkout_offers_only_places_the_whole_cart_reaches(shopper_client, shopper, world):
    # Rupees sold everywhere (all of India) + rupees sold only in Pune: Pune alone
    _add(shopper, world.products["inr_everywhere"][0], world.products["inr_pune"][0])
    body = shopper_client.get("/checkout/").content.decode()
    assert _region_options(body) == {str(world.regions["IN-MH-PUN"].pk)}


def test_checkout_of_a_dirham_cart_offers_the_uae_only(shopper_client, shopper, world):
    _add(shopper, world.products["aed_uae"][0], world.products["aed_everywhere"][0])
    body = shopper_client.get("/checkout/", HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert _region_options(body) == {str(world.regions[c].pk) for c in ("AE", "AE-DU")}


def test_a_forged_place_is_a_field_error_and_places_nothing(shopper_client, shopper, world):
    _add(shopper, world.products["inr_pune"][0])
    body = shopper_client.get("/checkout/").content.decode()
    data = {**PUNE_ADDRESS, "region": world.regions["IN"].pk,
            "idempotency_key": re.search(r'name="idempotency_key" value="([^"]+)"',
                                         body).group(1),
            "cart_signature": re.search(r'name="cart_signature" value="([^"]+)"',
                                        body).group(1)}
    response = shopper_client.post("/checkout/", data)
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Order.objects.exists()
    # while the place it can reach is accepted
    data["region"] = world.regions["IN-MH-PUN"].pk
    assert shopper_client.post("/checkout/", data).status_code == 303
    assert Order.objects.get().region.code == "IN-MH-PUN"


def test_the_cart_api_says_which_lines_cannot_be_bought_here(token_shopper, world):
    shopper, token = token_shopper
    shopper_profile_update(shopper=shopper, region_code="AE-DU")
    _add(shopper, world.products["aed_uae"][0], world.products["inr_everywhere"][0])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Shopper {token}")
    body = client.get("/api/v1/cart/").json()
    assert {line["product"]: line["sold_here"] for line in body["lines"]} == {
        world.products["aed_uae"][0].pk: True, world.products["inr_everywhere"][0].pk: False}
    assert body["can_check_out"] is False
