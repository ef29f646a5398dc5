"""Throttles behind a reverse proxy and across gunicorn workers, on the real server.

Gunicorn runs as docs/DEPLOY.md says for a proxy (shop/gunicorn.conf.py,
FORWARDED_ALLOW_IPS and SHOP_TRUSTED_PROXIES naming the proxy, 127.0.0.1),
with three sync workers and no Redis, so the counts must meet in the shared
file cache. In front of it, proxy stand-ins on 127.0.0.1: each listener
forwards to gunicorn and appends the address "its" client has to
X-Forwarded-For, as nginx's $proxy_add_x_forwarded_for does, so clients A, B,
C... each reach the app through the one proxy address. A client that reaches
gunicorn directly from 127.0.0.2 is an untrusted peer.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest

from tests.orders.live import free_port
from tests.reliability.live_load import ReliabilityShop

pytestmark = pytest.mark.slow

SELLER, PASSWORD = "live-seller", "Quartz-Mango-4471-river"  # live_seed.py's throwaway seller
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade",
              "proxy-connection", "content-length"}


class ProxyStandIn:
    """One proxy listener on 127.0.0.1 whose (pretend) client has address `client`."""

    def __init__(self, upstream_port: int, client: str):
        upstream, client_address = upstream_port, client

        class Handler(BaseHTTPRequestHandler):
            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in HOP_BY_HOP}
                seen = self.headers.get("X-Forwarded-For")
                headers["X-Forwarded-For"] = (f"{seen}, {client_address}" if seen
                                              else client_address)
                conn = http.client.HTTPConnection("127.0.0.1", upstream, timeout=60)
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = _forward

            def log_message(self, *args):
                pass

        self.port = free_port(ReliabilityShop.ports)
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Browser:
    """A cookie-keeping client that reaches the shop through `port`, from `source`."""

    def __init__(self, port: int, source: str = "127.0.0.1"):
        self.port, self.source, self.cookies = port, source, {}

    def request(self, method, path, *, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60,
                                          source_address=(self.source, 0))
        all_headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
                       **(headers or {})}
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        data = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _eq, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        conn.close()
        return response.status, dict(response.getheaders()), data

    def sign_in(self, username, password, forged_for: str | None = None) -> tuple[int, dict]:
        self.cookies.pop("sessionid", None)  # signed out; the device cookie stays
        status, _headers, page = self.request("GET", "/admin/login/")
        found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert found, (status, page[:300])
        token = found.group(1)
        extra = {"X-Forwarded-For": forged_for} if forged_for else {}
        status, headers, _body = self.request(
            "POST", "/admin/login/",
            body=urlencode({"username": username, "password": password,
                            "csrfmiddlewaretoken": token.decode(), "next": "/admin/"}),
            headers={"Content-Type": "application/x-www-form-urlencoded", **extra})
        return status, headers


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    live = ReliabilityShop(tmp_path_factory.mktemp("proxy"), workers=3, database_url="")
    live.env.update(
        FORWARDED_ALLOW_IPS="127.0.0.1", SHOP_TRUSTED_PROXIES="127.0.0.1",
        SHOP_LOGIN_FAIL_LIMIT="5", SHOP_LOGIN_CLIENT_FAIL_LIMIT="8",
        SHOP_LOGIN_ACCOUNT_FAIL_LIMIT="7", SHOP_LOGIN_SLOWDOWN="3",
        SHOP_API_RATE_SHOPPER_WRITE="30/min",
    )
    live.start()
    live.seeded = live.seed("buyers", count=1, stock=5, quantity=0, title="Proxy item")
    proxies = {}
    try:
        live.proxy = lambda name: proxies.setdefault(
            name, ProxyStandIn(live.port, f"198.51.100.{len(proxies) + 1}"))
        yield live
    finally:
        for proxy in proxies.values():
            proxy.close()
        live.stop()


def test_failures_from_client_a_never_lock_client_b_and_the_slowed_account_still_opens(shop):
    # given client A behind the proxy spends its guesses on the seller's account
    a = Browser(shop.proxy("A").port)
    for _ in range(5):
        assert a.sign_in(SELLER, "wrong")[0] == 200
    status, headers = a.sign_in(SELLER, PASSWORD)
    assert status == 429 and headers["Retry-After"] == "900"
    # then client B behind the same proxy signs in (so they are counted apart,
    # and A's five failures met one count across the three workers)
    b = Browser(shop.proxy("B").port)
    assert b.sign_in(SELLER, PASSWORD)[0] == 302
    # when more clients take the account past its ceiling (7 failures in all)
    c = Browser(shop.proxy("C").port)
    for _ in range(2):
        assert c.sign_in(SELLER, "wrong")[0] == 200
    # and one more guess takes the account's slot for the 3 s slow-down
    assert Browser(shop.proxy("E").port).sign_in(SELLER, "wrong")[0] == 200
    # then the owner on a new phone waits the slow-down, not a lockout
    owner = Browser(shop.proxy("D").port)
    status, headers = owner.sign_in(SELLER, PASSWORD)
    assert status == 429 and headers["Retry-After"] == "3"
    time.sleep(3.5)
    assert owner.sign_in(SELLER, PASSWORD)[0] == 302
    # and B, which signed in before, is not slowed at all
    Browser(shop.proxy("E").port).sign_in(SELLER, "wrong")  # the slot is taken again
    assert b.sign_in(SELLER, PASSWORD)[0] == 302


def test_a_forged_forwarded_for_from_an_untrusted_peer_changes_nothing(shop):
    # given a client reaching gunicorn directly from 127.0.0.2 (not a trusted proxy)
    direct = Browser(shop.port, source="127.0.0.2")
    # when it forges a fresh X-Forwarded-For on every guess
    answers = [direct.sign_in(f"nobody{i}", "wrong", forged_for=f"203.0.113.{i}")[0]
               for i in range(8)]
    # then all eight count against one client, and the ninth is refused
    assert answers == [200] * 8
    assert direct.sign_in("nobody-else", "wrong", forged_for="192.0.2.99")[0] == 429
    # while a client behind the trusted proxy is unaffected (once the seller's slot is free)
    time.sleep(3.5)
    assert Browser(shop.proxy("F").port).sign_in(SELLER, PASSWORD)[0] == 302


def test_the_event_limit_holds_across_workers_without_redis(shop):
    # given one shopper and a limit of 30 writes a minute, three workers, no Redis
    token = shop.seeded["tokens"][0]
    product = shop.seeded["product"]
    statuses = []
    # Fixed one-minute windows: start well clear of a boundary so one window holds the run.
    while time.time() % 60 > 40:
        time.sleep(1)
    for _ in range(40):
        body = json.dumps({"events": [{"id": uuid.uuid4().hex, "type": "click",
                                       "product": product}]})
        conn = http.client.HTTPConnection("127.0.0.1", shop.port, timeout=60)
        conn.request("POST", "/api/v1/events/", body=body, headers={
            "Authorization": f"Shopper {token}", "Content-Type": "application/json"})
        statuses.append(conn.getresponse().status)
        conn.close()
    # then exactly 30 are taken, whichever worker answered each
    assert statuses.count(200) == 30 and statuses.count(429) == 10, statuses
