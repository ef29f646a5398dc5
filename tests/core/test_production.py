"""Production mode: deploy checks, security headers, probes, error pages, replica router."""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path

from core.observability import JsonLinesFormatter
from core.security import permissions_policy_header

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
SECRET_SQL = "SELECT password FROM auth_user WHERE username = 'leaky'"


def _boom(request):
    raise RuntimeError(SECRET_SQL)


def _forbidden(request):
    raise PermissionDenied("seller 7 tried product 9")


def _suspicious(request):
    raise SuspiciousOperation("tampered with /etc/passwd")


# This module is also the URLconf of the error-page tests: the shop's URLs plus
# three views that fail, and the shop's handlers (Django reads them from the root URLconf).
urlpatterns = [
    path("test-errors/boom", _boom),
    path("test-errors/forbidden", _forbidden),
    path("test-errors/suspicious", _suspicious),
    path("api/v1/test-errors/boom", _boom),
    path("", include("shop.urls")),
]
handler400 = "core.errors.bad_request"
handler403 = "core.errors.permission_denied"
handler404 = "core.errors.page_not_found"
handler500 = "core.errors.server_error"


def _env(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_URL"))}
    env.update(overrides)
    return env


def _run(args: list[str], env: dict[str, str], timeout: int = 120):
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def _production_env(**extra: str) -> dict[str, str]:
    values = {"DJANGO_DEBUG": "0", "DJANGO_SECURE": "1",
              "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
              "DJANGO_ALLOWED_HOSTS": "shop.example",
              "SHOP_VAR_DIR": os.environ.get("SHOP_VAR_DIR", str(ROOT / "var"))}
    return _env(**{**values, **extra})


# --- check --deploy ---------------------------------------------------------------------

@pytest.mark.slow
def test_deploy_check_passes_in_production_mode_with_nothing_silenced():
    result = _run([PYTHON, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                  _production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout


@pytest.mark.slow
def test_deploy_check_fails_without_the_secure_switch():
    env = _production_env()
    env.pop("DJANGO_SECURE")
    result = _run([PYTHON, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


def test_start_up_refuses_a_missing_secret_key_when_not_debugging(tmp_path):
    # A var/ folder without the key `make run` generates (manage.py would use that one).
    env = _production_env(SHOP_VAR_DIR=str(tmp_path))
    env.pop("DJANGO_SECRET_KEY")
    result = _run([PYTHON, "manage.py", "check"], env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


# --- headers ------------------------------------------------------------------------------

def _csp(response) -> dict[str, list[str]]:
    policy = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        policy[name] = values
    return policy


@pytest.mark.django_db
def test_pages_carry_a_strict_csp_whose_nonce_matches_the_inline_blocks(client):
    response = client.get("/")
    assert response.status_code == 200
    policy = _csp(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    for directive in ("connect-src", "worker-src", "manifest-src"):
        assert policy[directive] == ["'self'"]
    nonces = [v for v in policy["script-src"] if v.startswith("'nonce-")]
    assert len(nonces) == 1 and nonces == [v for v in policy["style-src"] if "nonce" in v]
    assert "'unsafe-inline'" not in policy["script-src"] + policy["style-src"]
    nonce = nonces[0][len("'nonce-"):-1]
    html = response.content.decode()
    inline_blocks = re.findall(r"<(?:style|script)(?![^>]*\ssrc=)[^>]*>", html)
    assert inline_blocks, "the feed has an inline critical-CSS block"
    for tag in inline_blocks:
        assert f'nonce="{nonce}"' in tag, tag


@pytest.mark.django_db
def test_nonce_changes_per_response_but_the_page_etag_does_not(client):
    first, second = client.get("/"), client.get("/")
    assert _csp(first)["script-src"] != _csp(second)["script-src"]
    assert first["ETag"] == second["ETag"]
    revalidated = client.get("/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert revalidated.status_code == 304
    # The browser keeps the stored page with the policy it came with.
    assert "Content-Security-Policy" not in revalidated


@pytest.mark.django_db
def test_every_response_switches_off_unused_browser_features(client):
    for url in ("/", "/healthz", "/api/v1/schema/"):
        header = client.get(url)["Permissions-Policy"]
        for feature in ("camera", "microphone", "geolocation", "payment", "usb",
                        "interest-cohort"):
            assert f"{feature}=()" in header, (url, feature)


def test_permissions_policy_header_quotes_origins_and_refuses_strings():
    assert permissions_policy_header({"camera": [], "fullscreen": ["self", "https://a.example"]}) \
        == 'camera=(), fullscreen=(self "https://a.example")'
    with pytest.raises(Exception, match="must be a list"):
        permissions_policy_header({"camera": "self"})


@pytest.mark.django_db
def test_secure_mode_redirects_to_https_and_sends_hsts(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    client = Client()
    plain = client.get("/", HTTP_HOST="localhost")
    assert plain.status_code == 301 and plain["Location"] == "https://localhost/"
    assert client.get("/healthz", HTTP_HOST="localhost").status_code == 200
    secure = client.get("/", HTTP_HOST="localhost", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert secure["X-Frame-Options"] == "DENY"
    assert secure["X-Content-Type-Options"] == "nosniff"


@pytest.mark.slow
def test_production_settings_make_cookies_secure_and_trust_only_the_proxy_header():
    script = (
        "import django; django.setup(); from django.conf import settings as s; import json;"
        "print(json.dumps([s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT,"
        " s.SECURE_HSTS_SECONDS, list(s.SECURE_PROXY_SSL_HEADER), s.DEBUG, s.ALLOWED_HOSTS]))"
    )
    result = _run([PYTHON, "-c", script], _production_env(DJANGO_SETTINGS_MODULE="shop.settings"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        True, True, True, 31536000, ["HTTP_X_FORWARDED_PROTO", "https"], False, ["shop.example"]]


# --- readiness ------------------------------------------------------------------------------

_READYZ = (
    "import django, json; django.setup(); from django.test import Client;"
    "r = Client().get('/readyz', HTTP_HOST='localhost');"
    "print(json.dumps({'status': r.status_code, 'body': json.loads(r.content)}))"
)


def _readyz(**env: str) -> dict:
    result = _run([PYTHON, "-c", _READYZ], _env(
        DJANGO_SETTINGS_MODULE="shop.settings", DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50), **env), timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_readyz_is_503_when_the_cache_is_unreachable(tmp_path):
    answer = _readyz(SHOP_VAR_DIR=str(tmp_path), REDIS_URL="redis://127.0.0.1:1/9")
    # (a fresh, unmigrated database: the task queue cannot be read either)
    assert answer == {"status": 503, "body": {"status": "error", "database": "ok",
                                              "cache": "error", "worker": {"status": "error"}}}


@pytest.mark.slow
def test_the_redis_client_gives_up_connecting_after_two_seconds(tmp_path):
    # A firewalled Redis host would otherwise hold a worker (and /readyz) for the
    # kernel's connect timeout, minutes. (No blackhole address is reliable on a
    # test machine, so this checks the setting reaches redis-py's connection pool.)
    script = ("import django; django.setup(); from django.core.cache import cache;"
              "pool = cache._cache.get_client().connection_pool;"
              "print(pool.connection_kwargs.get('socket_connect_timeout'))")
    result = _run([PYTHON, "-c", script], _env(
        DJANGO_SETTINGS_MODULE="shop.settings", DJANGO_DEBUG="0", SHOP_VAR_DIR=str(tmp_path),
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50), REDIS_URL="redis://127.0.0.1:6379/9"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "2"


@pytest.mark.slow
def test_readyz_is_503_when_the_database_is_unreachable(tmp_path):
    answer = _readyz(SHOP_VAR_DIR=str(tmp_path),
                     DATABASE_URL="postgres://nobody@127.0.0.1:1/nothing")
    assert answer == {"status": 503, "body": {"status": "error", "database": "error",
                                              "cache": "ok", "worker": {"status": "error"}}}


@pytest.mark.django_db
def test_readyz_is_200_when_both_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    # The worker is reported (the suite runs tasks in-process: "immediate"), not required.
    assert response.json() == {
        "status": "ok", "database": "ok", "cache": "ok",
        "worker": {"status": "ok", "backend": "immediate", "workers": 0, "queue_depth": 0,
                   "oldest_waiting_seconds": 0.0},
    }


# --- error pages ------------------------------------------------------------------------------

LANGS = [("en", "ltr", "Something went wrong"), ("hi", "ltr", "कुछ गड़बड़ हो गई"),
         ("ar", "rtl", "حدث خطأ ما")]
LEAKS = ("Traceback", "RuntimeError", "password FROM", "auth_user", "/etc/passwd",
         "seller 7", "File \"", "settings.py", "DEBUG")


@pytest.fixture
def error_client(settings):
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False
    return Client(raise_request_exception=False)


def _assert_no_leak(body: str) -> None:
    for leak in LEAKS:
        assert leak not in body, leak


@pytest.mark.django_db
@pytest.mark.parametrize(("lang", "direction", "heading"), LANGS)
def test_500_page_is_translated_and_leaks_nothing(error_client, lang, direction, heading):
    response = error_client.get("/test-errors/boom", HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 500
    body = response.content.decode()
    assert f'<html lang="{lang}" dir="{direction}">' in body
    assert f"<h1>{heading}</h1>" in body
    _assert_no_leak(body)
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    assert f'<style nonce="{nonce}">' in body
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "status", "headings"), [
    ("/no/such/page/", 404, ("Page not found", "पेज नहीं मिला", "الصفحة غير موجودة")),
    ("/test-errors/forbidden", 403,
     ("You cannot open this page", "आप यह पेज नहीं खोल सकते", "لا يمكنك فتح هذه الصفحة")),
    ("/test-errors/suspicious", 400, ("Something is wrong with this request",
                                      "इस अनुरोध में कुछ गड़बड़ है", "هناك خطأ في هذا الطلب")),
])
def test_4xx_pages_are_translated_and_leak_nothing(error_client, url, status, headings):
    for (lang, direction, _), heading in zip(LANGS, headings, strict=True):
        response = error_client.get(url, HTTP_ACCEPT_LANGUAGE=lang)
        assert response.status_code == status
        body = response.content.decode()
        assert f'<html lang="{lang}" dir="{direction}">' in body
        assert f"<h1>{heading}</h1>" in body
        _assert_no_leak(body)


@pytest.mark.django_db
@pytest.mark.parametrize(("lang", "direction", "heading"), [
    ("en", "ltr", "You cannot open this page"), ("ar", "rtl", "لا يمكنك فتح هذه الصفحة")])
def test_a_form_without_its_csrf_token_gets_the_translated_403_page(lang, direction, heading):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/language/", {"language": "hi"}, HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 403
    body = response.content.decode()
    assert f'<html lang="{lang}" dir="{direction}">' in body and f"<h1>{heading}</h1>" in body
    assert "CSRF" not in body


@pytest.mark.django_db
def test_a_bad_host_header_is_a_400_page_not_a_500(error_client):
    response = error_client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    _assert_no_leak(response.content.decode())


@pytest.mark.django_db
def test_api_500_is_the_api_error_shape_without_detail(error_client):
    response = error_client.get("/api/v1/test-errors/boom")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
    _assert_no_leak(response.content.decode())


@pytest.mark.django_db
def test_log_lines_of_a_500_hold_no_traceback_with_debug_off(error_client, caplog):
    with caplog.at_level(logging.INFO):
        assert error_client.get("/test-errors/boom").status_code == 500
    formatter = JsonLinesFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    request_lines = [json.loads(line) for line in lines if '"event":"request"' in line]
    assert [(line["status"], line["level"]) for line in request_lines] == [(500, "ERROR")]
    assert any(json.loads(line).get("exc_type") == "RuntimeError" for line in lines)
    for line in lines:
        assert "Traceback" not in line and "password FROM" not in line, line


# --- read replica router ------------------------------------------------------------------------

_ROUTES = (
    "import django, json; django.setup();"
    "from django.db import router, transaction;"
    "from catalog.models import Product; from personalization.models import Event, ShopperProfile;"
    "from personalization.affinity import ItemNeighbour; from orders.models import Order;"
    "out = {'product_read': router.db_for_read(Product),"
    " 'product_write': router.db_for_write(Product),"
    " 'score_read': router.db_for_read(ItemNeighbour), 'event_read': router.db_for_read(Event),"
    " 'profile_read': router.db_for_read(ShopperProfile), 'order_read': router.db_for_read(Order),"
    " 'queryset': Product.objects.all().db,"
    " 'migrate_replica': router.allow_migrate('replica', 'catalog')};"
    "\nwith transaction.atomic(): out['product_read_in_transaction'] = router.db_for_read(Product)"
    "\nprint(json.dumps(out))"
)


@pytest.mark.slow
def test_replica_router_sends_feed_reads_to_the_replica_and_everything_else_to_default(tmp_path):
    db = tmp_path / "shop.sqlite3"
    result = _run([PYTHON, "-c", _ROUTES], _env(
        DJANGO_SETTINGS_MODULE="shop.settings", DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50), SHOP_VAR_DIR=str(tmp_path),
        DATABASE_REPLICA_URL=f"sqlite:///{db}"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "product_read": "replica", "product_write": "default", "score_read": "replica",
        "event_read": "default", "profile_read": "default", "order_read": "default",
        "queryset": "replica", "migrate_replica": False, "product_read_in_transaction": "default",
    }


def test_without_a_replica_every_read_stays_on_default():
    from django.db import router

    from catalog.models import Product

    assert router.db_for_read(Product) == "default"


def test_404_view_returns_plain_http_response_type():
    # Guard the handler contract: Django calls it with (request, exception).
    from django.test import RequestFactory

    from core.errors import page_not_found

    response = page_not_found(RequestFactory().get("/x"), Exception("secret detail"))
    assert isinstance(response, HttpResponse) and response.status_code == 404
    assert "secret detail" not in response.content.decode()
