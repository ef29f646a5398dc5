"""Schemathesis: the cart, checkout and orders API against its own OpenAPI schema.

Generated valid and invalid input for every operation; the standard checks
assert no 5xx, answers (errors included) match the documented schemas and
statuses, and invalid input is rejected. Product ids, line ids, region codes
and cart signatures name rows no schema can enumerate, so well-typed input may
rightly be refused (positive_data_acceptance is off).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from orders import services
from personalization.services import shopper_create_anonymous
from shop.wsgi import application
from tests.factories import ProductFactory, RegionFactory

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application).include(
    path_regex=r"^/api/v1/(cart|checkout|orders)/"
)
EXAMPLES = int(os.environ.get("SHOP_FUZZ_EXAMPLES", "12"))


@pytest.fixture
def catalog(db):
    india = RegionFactory(code="IN", name="India")
    RegionFactory(code="IN-MH", name="Maharashtra", kind="state", parent=india)
    return [ProductFactory(stock=50) for _ in range(3)]


@pytest.mark.django_db
@pytest.mark.usefixtures("keep_db_connection")
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_orders_api_conforms_to_its_schema(case, catalog):
    shopper, token = shopper_create_anonymous()
    # Something in the cart, so checkout gets past "your cart is empty".
    services.cart_line_add(shopper=shopper, product_id=catalog[0].pk, quantity=1)
    headers = {"Authorization": f"Shopper {token}", "Accept-Encoding": "identity"}
    case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
