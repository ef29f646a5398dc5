import json
import logging

import pytest

from tests.factories import UserFactory

SECRET_PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def json_records(caplog):
    caplog.set_level(logging.INFO, logger="shop.request")
    caplog.set_level(logging.INFO, logger="shop.audit")
    from core.observability import JsonLinesFormatter

    formatter = JsonLinesFormatter()

    def lines():
        return [json.loads(formatter.format(r)) for r in caplog.records
                if r.name in ("shop.request", "shop.audit")]

    return lines


@pytest.mark.django_db
def test_each_request_logs_one_json_line_without_query_or_personal_data(client, json_records):
    response = client.get("/healthz?q=my+secret+search", HTTP_X_REQUEST_ID="abcdef123456")
    assert response["X-Request-ID"] == "abcdef123456"
    [line] = [r for r in json_records() if r.get("event") == "request"]
    assert line["request_id"] == "abcdef123456"
    assert line["status"] == 200
    assert line["method"] == "GET"
    assert line["route"] == "healthz"
    assert isinstance(line["duration_ms"], float)
    assert "secret" not in json.dumps(line)


@pytest.mark.django_db
def test_a_garbage_request_id_is_replaced(client, json_records):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="<script>alert(1)</script>")
    assert response["X-Request-ID"] != "<script>alert(1)</script>"
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_login_attempts_are_audited_without_username_or_password(client, json_records):
    UserFactory(username="meera", is_staff=True)
    client.post("/admin/login/", {"username": "meera", "password": "wrong-password"})
    client.post("/admin/login/", {"username": "meera", "password": SECRET_PASSWORD})
    events = [r for r in json_records() if r.get("event", "").startswith("login")]
    assert [e["event"] for e in events] == ["login_failed", "login_succeeded"]
    dumped = json.dumps(json_records())
    assert "meera" not in dumped
    assert "wrong-password" not in dumped
    assert SECRET_PASSWORD not in dumped


@pytest.mark.django_db
def test_forbidden_responses_are_audited(json_records):
    from django.http import HttpResponseForbidden
    from django.test import RequestFactory

    from core.observability import RequestLogMiddleware

    request = RequestFactory().get("/somewhere")
    RequestLogMiddleware(lambda r: HttpResponseForbidden())(request)
    assert any(r.get("event") == "authorization_failure" and r["status"] == 403
               for r in json_records())
