"""Schemathesis: the API against its own OpenAPI schema, in-process.

Every operation gets generated valid and invalid input; the standard checks
assert no 5xx, responses (errors included) match the documented schemas,
status codes and content types are documented, invalid input is rejected,
undocumented methods are 405, and so on. max_examples stays small so that
`make test` stays fast; SHOP_FUZZ_EXAMPLES raises it for a deeper run.

The examples are derandomized (the same ones every run) so that the suite is a
reproducible gate rather than a lottery; SHOP_FUZZ_RANDOM=1 explores new ones,
and whatever such a run finds becomes a fix plus a deterministic test.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from personalization.services import shopper_create_anonymous
from shop.wsgi import application
from tests.factories import CategoryFactory, ProductFactory, RegionFactory

# The endpoints of this API module; the cart/orders API has its own tests.
OWN_PATHS = r"^/api/v1/(products|categories|regions|feed|shoppers|events)/"
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application).include(
    path_regex=OWN_PATHS
)

REFERENCE_INPUTS = {"/api/v1/products/", "/api/v1/shoppers/me/"}
EXAMPLES = int(os.environ.get("SHOP_FUZZ_EXAMPLES", "12"))
RANDOM = os.environ.get("SHOP_FUZZ_RANDOM") == "1"


@pytest.fixture
def catalog(db):
    india = RegionFactory(code="IN", name="India")
    RegionFactory(code="IN-MH", name="Maharashtra", kind="state", parent=india)
    top = CategoryFactory(slug="home")
    CategoryFactory(slug="lamps", parent=top)
    return [ProductFactory(category=top) for _ in range(3)]


@pytest.mark.django_db
@pytest.mark.usefixtures("keep_db_connection")
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api_conforms_to_its_schema(case, catalog):
    # A fresh shopper per case: one case may erase its shopper (DELETE /shoppers/me/).
    _shopper, token = shopper_create_anonymous()
    # identity: the in-process WSGI transport does not undo gzip/brotli.
    headers = {"Authorization": f"Shopper {token}", "Accept-Encoding": "identity"}
    excluded = []
    if case.operation.path == "/api/v1/events/":
        # By design a well-formed batch with some bad events is a 207 that
        # stores the good ones and lists the bad (docs/API.md), not a 4xx.
        excluded.append(negative_data_rejection)
    if case.operation.path in REFERENCE_INPUTS:
        # Region codes and slugs name rows; no schema can enumerate which
        # strings exist, so a well-typed unknown one is rightly a 400.
        excluded.append(positive_data_acceptance)
    case.call_and_validate(headers=headers, excluded_checks=excluded)
