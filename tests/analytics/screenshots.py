"""Screenshots of every analytics dashboard at 360x640, as a seller and as staff.

Not a test (pytest does not collect it): run by hand on a demo database, e.g.

    export DATABASE_URL=sqlite:////tmp/analytics_shots/db.sqlite3 DJANGO_DEBUG=1
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py seed_demo --products 60 --shoppers 300 --events 20000
    .venv/bin/python tests/analytics/screenshots.py [subfolder]

The demo writes purchase *events* but no orders, so this first turns each
demo purchase (one shopper, one timestamp) into a cash-on-delivery order as
the checkout would have written it, then runs refresh_analytics, serves the
site on a port of the analytics range (8700-8749) and photographs the pages
with the system Chromium into artifacts/analytics/.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Permission  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from catalog.models import Product, Region, Seller  # noqa: E402
from orders.models import LineStatus, Order, OrderLine  # noqa: E402
from personalization.models import Event  # noqa: E402
from tests.analytics.browser import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402
from tests.factories import UserFactory  # noqa: E402

PASSWORD = "analytics-screens-only"  # noqa: S105 - a throwaway demo database
OUT = ROOT / "artifacts" / "analytics"


@transaction.atomic
def orders_from_demo_purchases() -> int:
    """Write an order per (shopper, timestamp) of the demo's purchase events; return how many.

    Idempotent: the order's key names its purchase group, so a rerun after
    seeding more shoppers only adds the new groups.
    """
    region = Region.objects.filter(kind=Region.Kind.CITY).first()
    products = {p.pk: p for p in Product.objects.all()}
    done = set(Order.objects.filter(idempotency_key__startswith="demo:")
               .values_list("idempotency_key", flat=True))
    groups: dict[str, tuple[int, object, list[int]]] = {}
    for shopper_id, product_id, at in Event.objects.filter(type="purchase").values_list(
        "shopper_id", "product_id", "created_at"
    ):
        key = f"demo:{shopper_id}:{int(at.timestamp())}"
        if key not in done:
            groups.setdefault(key, (shopper_id, at, []))[2].append(product_id)
    for n, (key, (shopper_id, at, product_ids)) in enumerate(groups.items()):
        lines = [products[pk] for pk in product_ids if pk in products]
        order = Order.objects.create(
            shopper_id=shopper_id, idempotency_key=key, request_fingerprint="0" * 64,
            name="Demo", phone="+919800000000", address="Demo road", region=region,
            currency=lines[0].currency, total_minor=sum(p.price_minor for p in lines),
            payment_method="cod", payment_status="pending_collection", placed_at=at,
        )
        # One in ten demo orders was cancelled: the figures must leave those out.
        OrderLine.objects.bulk_create(
            OrderLine(order=order, seller_id=p.seller_id, product=p, title=p.title,
                      unit_price_minor=p.price_minor, quantity=1 + (p.pk + n) % 2,
                      currency=p.currency,
                      status=LineStatus.CANCELLED if n % 10 == 0 else LineStatus.DELIVERED)
            for p in lines
        )
    return len(groups)


def logins() -> tuple[str, str]:
    """Return (seller username, staff username), both with PASSWORD."""
    seller = Seller.objects.order_by("pk").first()
    seller.user.set_password(PASSWORD)
    seller.user.save()
    staff = UserFactory(username="analytics-staff", is_staff=True)
    staff.set_password(PASSWORD)
    staff.save()
    staff.user_permissions.add(Permission.objects.get(codename="view_snapshot"))
    return seller.user.username, staff.username


def shoot(base: str, username: str, pages: list[tuple[str, str]]) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 360, "height": 640},
                                      device_scale_factor=1, is_mobile=True, has_touch=True)
        page = context.new_page()
        page.goto(f"{base}/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        for name, path in pages:
            page.goto(f"{base}{path}")
            width = page.evaluate("document.documentElement.scrollWidth")
            page.screenshot(path=str(OUT / f"{name}.png"))
            page.screenshot(path=str(OUT / f"{name}-full.png"), full_page=True)
            print(f"{name}: page width {width}px")
        browser.close()


def main() -> None:
    global OUT
    if len(sys.argv) > 1:
        # A second data set (e.g. more shoppers, so audience cells pass k) beside the first.
        OUT = OUT / sys.argv[1]
    OUT.mkdir(parents=True, exist_ok=True)
    print("orders written:", orders_from_demo_purchases())
    seller, staff = logins()
    call_command("refresh_analytics", "--force")
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - our own manage.py, fixed arguments
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT, env={**os.environ, "SHOP_PLAIN_STATIC": "1"},
    )
    try:
        time.sleep(4)
        base = f"http://127.0.0.1:{port}"
        admin = "/admin/analytics/snapshot/"
        shoot(base, seller, [("seller-listings", admin), ("seller-audience", f"{admin}audience/")])
        first = Seller.objects.order_by("pk").first().pk
        shoot(base, staff, [
            ("staff-listings", f"{admin}?seller={first}"),
            ("staff-audience", f"{admin}audience/?seller={first}"),
            ("staff-growth", f"{admin}growth/"),
            ("staff-ranking", f"{admin}ranking/"),
        ])
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
