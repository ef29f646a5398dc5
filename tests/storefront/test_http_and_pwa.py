"""HTTP behaviour (caching, ETags, compression), PWA files, JS budget, same-origin only."""

from __future__ import annotations

import gzip
import json
import re
import tempfile
from pathlib import Path

import brotli
import pytest
from django.conf import settings
from django.core.files import File
from PIL import Image

from core.staticfiles import MinifiedManifestStaticFilesStorage, js_minify
from tests.factories import CategoryFactory, ProductFactory, RegionFactory
from tests.storefront.conftest import gzip_size

pytestmark = pytest.mark.django_db

STATIC = Path(settings.BASE_DIR) / "static"


def test_pages_are_private_and_vary_on_what_they_depend_on(client):
    ProductFactory()
    response = client.get("/")
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    vary = {v.strip() for v in response["Vary"].split(",")}
    assert {"Cookie", "Accept-Language", "Save-Data"} <= vary


def test_identical_pages_get_the_same_etag_and_a_304(client):
    product = ProductFactory()
    url = f"/p/{product.pk}/"
    client.get(url)  # sets the shopper and CSRF cookies
    first, second = client.get(url), client.get(url)
    # The masked CSRF token differs between the two bodies, the ETag does not.
    assert first.content != second.content
    assert first["ETag"] == second["ETag"]
    not_modified = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert not_modified.status_code == 304 and not_modified.content == b""


def test_a_changed_page_gets_a_new_etag(client):
    product = ProductFactory()
    url = f"/p/{product.pk}/"
    client.get(url)
    before = client.get(url)["ETag"]
    product.title = "Another title"
    product.save(update_fields=["title"])
    assert client.get(url)["ETag"] != before


def test_html_is_compressed_with_gzip_or_brotli(client):
    CategoryFactory.create_batch(2)
    ProductFactory.create_batch(3)
    gz = client.get("/", HTTP_ACCEPT_ENCODING="gzip")
    assert gz["Content-Encoding"] == "gzip" and b"<html" in gzip.decompress(gz.content)
    br = client.get("/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert br["Content-Encoding"] == "br" and b"<html" in brotli.decompress(br.content)
    assert br["ETag"].startswith("W/")


def test_manifest_is_installable(client):
    response = client.get("/manifest.webmanifest")
    assert response["Content-Type"] == "application/manifest+json"
    data = json.loads(response.content)
    assert data["start_url"].startswith("/") and data["scope"] == "/"
    assert data["display"] == "standalone" and data["name"] and data["short_name"]
    sizes = {}
    for icon in data["icons"]:
        path = STATIC / icon["src"].removeprefix(settings.STATIC_URL)
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert f"{image.width}x{image.height}" == icon["sizes"]
        sizes.setdefault(icon["purpose"], set()).add(icon["sizes"])
    assert {"192x192", "512x512"} <= sizes["any"] and "512x512" in sizes["maskable"]


def test_manifest_follows_the_language(client):
    response = client.get("/manifest.webmanifest", HTTP_ACCEPT_LANGUAGE="ar")
    data = json.loads(response.content)
    assert data["lang"] == "ar" and data["dir"] == "rtl"
    # Shared caches keep one copy per language (header or cookie), never the wrong one.
    assert {"Accept-Language", "Cookie"} <= {v.strip() for v in response["Vary"].split(",")}


def test_service_worker_is_served_at_root_scope_and_never_cached(client):
    response = client.get("/sw.js")
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    version = re.search(r'const V ?= ?"([0-9a-f]{12})"', body).group(1)
    assert '"/offline/"' in body and version
    # Old caches are dropped on activation and the offline page is the fallback.
    assert "caches.delete" in body and 'caches.match("/offline/"' in body


def test_offline_page_is_shared_safely(client):
    response = client.get("/offline/")
    assert response.status_code == 200 and "public" in response["Cache-Control"]
    assert b"csrfmiddlewaretoken" not in response.content
    assert "sid" not in response.cookies and "csrftoken" not in response.cookies


def _shipped(name: str) -> bytes:
    """Return static/`name` as collectstatic writes it (core/staticfiles.py)."""
    with tempfile.TemporaryDirectory() as folder:
        storage = MinifiedManifestStaticFilesStorage(location=folder)
        with (STATIC / name).open("rb") as source:
            saved = storage._save(name, File(source))
        return Path(folder, saved).read_bytes()


def test_all_javascript_fits_3kb_compressed(client):
    app = _shipped("shop/app.js")
    worker = client.get("/sw.js").content
    total = len(gzip.compress(app, compresslevel=9)) + gzip_size(worker)
    assert total <= 3 * 1024, total


def test_shipped_javascript_is_the_source_without_its_comments(client):
    source = (STATIC / "shop" / "app.js").read_text()
    shipped = _shipped("shop/app.js").decode()
    assert "/*" in source and "//" in source.split("\n", 5)[-1]
    assert "/*" not in shipped and "\n  //" not in shipped and len(shipped) < len(source) * 0.8
    # The code itself is kept: every statement the source ends a line with survives.
    assert shipped == js_minify(source) and "sendBeacon" in shipped and "serviceWorker" in shipped
    # The worker is served minified too, and the shell list inside it is intact.
    worker = client.get("/sw.js").content.decode()
    assert '"/offline/"' in worker and "\n  " not in worker


_URL_ATTRS = re.compile(r'\s(?:src|href|srcset|action|poster|data)="([^"]*)"')
_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)")
# Navigations the shopper chooses (never loaded by the page): the share target.
_ALLOWED_NAVIGATION = ("https://wa.me/",)
# The test client's own origin (share links carry the absolute product URL).
_OWN_ORIGIN = ("http://testserver/",)


def _foreign(text: str) -> list[str]:
    urls = []
    for value in _URL_ATTRS.findall(text) + _CSS_URL.findall(text):
        for candidate in value.replace("&amp;", "&").split(","):
            url = candidate.strip().split(" ")[0]
            if url.startswith(_ALLOWED_NAVIGATION + _OWN_ORIGIN):
                continue
            if re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", url, re.I) or url.startswith(
                ("http:", "https:")
            ):
                urls.append(url)
    # Any absolute URL in scripts or JSON (manifest, service worker) too.
    urls += [u for u in re.findall(r"https?://[^\s\"')]+", text)
             if not u.startswith(_ALLOWED_NAVIGATION + _OWN_ORIGIN) and u not in urls]
    return urls


def test_no_page_loads_anything_from_another_origin(client):
    RegionFactory(code="IN")
    category = CategoryFactory(slug="home")
    product = ProductFactory(category=category, title="Steel bottle")
    pages = ["/", f"/p/{product.pk}/", "/c/home/", "/search/?q=bottle", "/search/?q=zzz",
             "/welcome/", "/offline/", "/manifest.webmanifest", "/sw.js"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        assert _foreign(text) == [], url
    for name in ("app.js",):
        assert _foreign((STATIC / "shop" / name).read_text()) == []
    # The only absolute link is the share target, and it is a navigation.
    html = client.get(f"/p/{product.pk}/").content.decode()
    assert re.search(r'<a [^>]*href="https://wa.me/\?text=[^"]+"[^>]*rel="noopener noreferrer"',
                     html)


def test_the_origin_check_catches_what_it_should():
    assert _foreign('<img src="https://cdn.example/x.png">') == ["https://cdn.example/x.png"]
    assert _foreign("<style>@font-face{src:url(//fonts.example/a.woff2)}</style>") == [
        "//fonts.example/a.woff2"]
    assert _foreign('<source srcset="/media/a.avif 160w, https://img.example/b.avif 320w">') == [
        "https://img.example/b.avif"]
    assert _foreign('<a href="/p/1/">x</a><img src="/media/a.avif">') == []


def test_pages_for_a_shopper_carry_their_offline_key_and_only_theirs(client):
    # given two shoppers on two phones
    from django.test import Client

    other = Client()
    ProductFactory()
    first = client.get("/")
    second = other.get("/")
    # then each private page names its shopper's key for the service worker
    assert first["X-Shopper"] and second["X-Shopper"]
    assert re.fullmatch(r"[0-9a-f]{20}", first["X-Shopper"])
    assert first["X-Shopper"] != second["X-Shopper"]
    assert client.get("/cart/")["X-Shopper"] == first["X-Shopper"]
    assert client.get("/orders/")["X-Shopper"] == first["X-Shopper"]
    # and a page shared by everyone names nobody
    assert "X-Shopper" not in client.get("/offline/")


def test_a_new_shopper_cookie_gets_a_new_key(client):
    ProductFactory()
    before = client.get("/")["X-Shopper"]
    client.cookies.clear()
    assert client.get("/")["X-Shopper"] != before


def test_the_worker_keeps_pages_per_shopper_and_never_keeps_no_store(client):
    body = client.get("/sw.js").content.decode()
    # Cart and orders are no longer skipped; only keyed pages are kept, by key.
    assert "cart|checkout|orders" not in body
    assert 'headers.get("x-shopper")' in body and "no-store" in body
    # The offline note is filled from the time the copy was saved.
    assert "x-sw-at" in body and 'id="off"' in body
    assert "\n " not in body  # served without indentation (the JS budget)
