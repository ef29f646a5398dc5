"""Schemathesis over the notifications API: no 5xx, answers match the schema, bad input is 4xx."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from notifications import services
from notifications.models import Kind
from personalization.services import shopper_create_anonymous
from shop.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application).include(
    path_regex=r"^/api/v1/notifications/")
EXAMPLES = int(os.environ.get("SHOP_FUZZ_EXAMPLES", "12"))
# Ids, endpoints and cursors name rows; no schema can say which exist, so a
# well-typed unknown one is rightly a 404 or 400.
REFERENCE_INPUTS = {"/api/v1/notifications/", "/api/v1/notifications/{notification_id}/read/",
                    "/api/v1/notifications/push-subscriptions/"}


@pytest.mark.django_db
@pytest.mark.usefixtures("keep_db_connection")
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_notifications_api_conforms_to_its_schema(case):
    shopper, token = shopper_create_anonymous()
    services.notification_send(shopper=shopper, kind=Kind.ORDER_SHIPPED, title="t", body="b",
                               dedupe_key="fuzz")
    headers = {"Authorization": f"Shopper {token}", "Accept-Encoding": "identity"}
    excluded = [positive_data_acceptance] if case.operation.path in REFERENCE_INPUTS else []
    case.call_and_validate(headers=headers, excluded_checks=excluded)
