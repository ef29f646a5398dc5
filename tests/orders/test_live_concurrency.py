"""Through the real server: concurrent buyers never oversell; a key places one order.

gunicorn with several workers on this app's ports, a database of its own
(SQLite file, or PostgreSQL when DATABASE_URL points to it). Each buyer is its
own shopper with its own token and the item in their cart; a barrier releases
all checkouts at once.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import PUNE_ADDRESS
from .live import LiveShop

pytestmark = pytest.mark.slow

BUYERS = 100
STOCK = 10


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    live = LiveShop(tmp_path_factory.mktemp("live-orders"))
    try:
        yield live.start()
    finally:
        live.stop()


def auth(token: str) -> dict:
    return {"Authorization": f"Shopper {token}"}


def checkout_body(shop: LiveShop, token: str) -> dict:
    cart = shop.request("GET", "/api/v1/cart/", headers=auth(token))
    assert cart.status == 200, cart.body
    return {**PUNE_ADDRESS, "region": "IN-MH-PUN", "cart_signature": cart.json()["signature"]}


def all_at_once(count: int, prepare, fire):
    """Run prepare(i) in `count` threads, then fire(i, prepared) in all of them together."""
    barrier = threading.Barrier(count, timeout=120)

    def run(i):
        prepared = prepare(i)
        barrier.wait()
        return fire(i, prepared)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_hundred_buyers_for_ten_items_make_exactly_ten_orders(shop):
    seeded = shop.seed("buyers", count=BUYERS, stock=STOCK, title="Last ten kurtas")
    tokens = seeded["tokens"]

    results = all_at_once(
        BUYERS,
        prepare=lambda i: checkout_body(shop, tokens[i]),
        fire=lambda i, body: shop.request(
            "POST", "/api/v1/checkout/", body=body,
            headers={**auth(tokens[i]), "Idempotency-Key": f"buyer-{i:04d}-key"}),
    )

    statuses = [r.status for r in results]
    assert not [s for s in statuses if s >= 500], shop.server_log()
    assert statuses.count(201) == STOCK
    refused = [r.json()["error"] for r in results if r.status != 201]
    assert len(refused) == BUYERS - STOCK
    assert {(r.status, err["code"]) for r, err in zip(
        [r for r in results if r.status != 201], refused, strict=True)} == {(409, "out_of_stock")}
    assert all("out of stock" in err["message"] for err in refused)
    state = shop.seed("state", product=seeded["product"])
    assert state["stock"] == 0
    assert state["orders"] == STOCK and state["units"] == STOCK
    placed_ids = sorted(r.json()["id"] for r in results if r.status == 201)
    assert placed_ids == state["order_ids"]


def test_same_key_twenty_times_in_a_row_makes_one_order(shop):
    seeded = shop.seed("buyers", count=1, stock=50, quantity=2, title="Steel tiffin")
    token = seeded["tokens"][0]
    body = checkout_body(shop, token)
    headers = {**auth(token), "Idempotency-Key": "one-tap-many-sends"}

    results = [shop.request("POST", "/api/v1/checkout/", body=body, headers=headers)
               for _ in range(20)]

    assert [r.status for r in results] == [201] + [200] * 19
    assert len({r.json()["id"] for r in results}) == 1
    state = shop.seed("state", product=seeded["product"])
    assert state["orders"] == 1 and state["units"] == 2 and state["stock"] == 48


def test_same_key_twenty_times_at_once_makes_one_order(shop):
    seeded = shop.seed("buyers", count=1, stock=50, quantity=3, title="Brass lamp")
    token = seeded["tokens"][0]
    body = checkout_body(shop, token)
    headers = {**auth(token), "Idempotency-Key": "impatient-double-tap"}

    results = all_at_once(
        20, prepare=lambda i: None,
        fire=lambda i, _: shop.request("POST", "/api/v1/checkout/", body=body,
                                       headers=headers))

    statuses = sorted(r.status for r in results)
    assert statuses == [200] * 19 + [201], shop.server_log()
    assert len({r.json()["id"] for r in results}) == 1
    state = shop.seed("state", product=seeded["product"])
    assert state["orders"] == 1 and state["units"] == 3 and state["stock"] == 47
    assert state["order_ids"] == [results[0].json()["id"]]


def test_a_referred_shoppers_double_taps_at_once_credit_the_sharer_once(shop):
    seeded = shop.seed("buyers", count=1, stock=50, quantity=1, title="Jute bag",
                       referred=True)
    token = seeded["tokens"][0]
    body = checkout_body(shop, token)
    headers = {**auth(token), "Idempotency-Key": "referred-double-tap"}

    results = all_at_once(
        10, prepare=lambda i: None,
        fire=lambda i, _: shop.request("POST", "/api/v1/checkout/", body=body,
                                       headers=headers))

    assert sorted(r.status for r in results) == [200] * 9 + [201], shop.server_log()
    state = shop.seed("state", product=seeded["product"])
    assert state["orders"] == 1 and state["referral_credits"] == 1
