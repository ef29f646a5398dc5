"""Fixtures of the orders tests: a small region tree, shoppers with cookies or tokens."""

from __future__ import annotations

import pytest
from django.core import signing

from catalog.models import Region
from personalization.conf import get_config
from personalization.services import shopper_create, shopper_create_anonymous
from tests.factories import RegionFactory

PUNE_ADDRESS = {
    "name": "Asha Patil",
    "phone": "98765 43210",
    "address": "Flat 4, Shanti Apartments\nNear Ganesh temple, Kothrud",
    "postal_code": "411038",
    "payment_method": "cod",
}


@pytest.fixture
def regions(db) -> dict[str, Region]:
    india = RegionFactory(code="IN", name="India", currency="INR")
    mh = RegionFactory(code="IN-MH", name="Maharashtra", kind=Region.Kind.STATE, parent=india,
                       currency="")
    pune = RegionFactory(code="IN-MH-PUN", name="Pune", kind=Region.Kind.CITY, parent=mh,
                         currency="")
    ka = RegionFactory(code="IN-KA", name="Karnataka", kind=Region.Kind.STATE, parent=india,
                       currency="")
    uae = RegionFactory(code="AE", name="United Arab Emirates", currency="AED")
    dubai = RegionFactory(code="AE-DU", name="Dubai", kind=Region.Kind.STATE, parent=uae,
                          currency="")
    nepal = RegionFactory(code="NP", name="Nepal", currency="NPR")
    france = RegionFactory(code="FR", name="France", currency="EUR")
    # Blank currencies are inherited from the parent on save (AE-DU pays in AED).
    return {"IN": india, "IN-MH": mh, "IN-MH-PUN": pune, "IN-KA": ka, "AE": uae,
            "AE-DU": dubai, "NP": nepal, "FR": france}


def place_order(shopper, region, key: str = "key-00000001", **overrides):
    """Place the shopper's cart as shown now, to the Pune address (fields overridable)."""
    from orders import services
    from orders.selectors import cart_get

    details = services.checkout_details_clean(**{**PUNE_ADDRESS, "region": region, **overrides})
    return services.order_place(shopper=shopper, idempotency_key=key, details=details,
                                cart_signature_seen=cart_get(shopper=shopper).signature)


def cookie_for(shopper) -> tuple[str, str]:
    """Return the (name, value) of the signed shopper cookie the middleware would set."""
    config = get_config()
    signer = signing.get_cookie_signer(salt=config["COOKIE_NAME"] + config["COOKIE_SALT"])
    return config["COOKIE_NAME"], signer.sign(str(shopper.public_id))


def as_shopper(client, shopper):
    name, value = cookie_for(shopper)
    client.cookies[name] = value
    return client


@pytest.fixture
def shopper(db):
    return shopper_create()


@pytest.fixture
def shopper_client(client, shopper):
    """A browser client carrying `shopper`'s cookie."""
    return as_shopper(client, shopper)


@pytest.fixture
def token_shopper(db):
    """Return (shopper, raw token) of an app client."""
    return shopper_create_anonymous()
