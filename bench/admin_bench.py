"""Measure the seller admin and rewrite the "## Seller admin" section of docs/BENCHMARKS.md.

Run through `make bench` (bench/steps/50-admin) or directly:
    .venv/bin/python bench/admin_bench.py [--runs 20] [--no-write]

A scratch SQLite database in a temporary folder holds sellers with 25 and
2,500 listings (each with a photo row), requests go through Django's test
client in this process (no server, no ports), so the figures are the
application's own: SQL queries, render time and page weight of the product
list and change form a seller sees. Exits 1 if the list's query count grows
with the catalogue.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Seller admin"
SIZES = (25, 2500)


def setup_django(tmp: Path) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'admin-bench.sqlite3'}"
    os.environ["SHOP_VAR_DIR"] = str(tmp)
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    # Admin pages use {% static %}: plain storage, so no collectstatic is needed.
    os.environ["SHOP_PLAIN_STATIC"] = "1"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-key-not-secret-000000000000000")
    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def make_catalogue():
    """Return {size: seller} with `size` listings each, one photo row per listing."""
    from catalog.models import Category, Product, ProductImage
    from catalog.services import seller_create

    top = Category.objects.create(name="Home", slug="home")
    leaves = [Category.objects.create(name=f"Leaf {i}", slug=f"leaf-{i}", parent=top)
              for i in range(12)]
    sellers = {}
    for size in SIZES:
        seller = seller_create(username=f"bench{size}", email=f"b{size}@example.com",
                               password=secrets.token_urlsafe(16), display_name=f"Bench {size}")
        products = Product.objects.bulk_create(
            Product(seller=seller, category=leaves[i % len(leaves)],
                    title=f"Hand-woven cotton saree, colour {i}", price_minor=49900 + i,
                    compare_at_minor=79900, stock=i % 17, status="active",
                    external_id=f"B{size}-{i}")
            for i in range(size)
        )
        ProductImage.objects.bulk_create(
            ProductImage(
                product=p, original=f"products/masters/{p.pk:064x}.jpg", width=960,
                height=960, content_hash=f"{p.pk:064x}", placeholder_color="#aa7744",
                variants=[{"width": w, "height": w, "format": f,
                           "name": f"products/v/{p.pk % 256:02x}/{p.pk:064x}-{w}.{f}",
                           "bytes": 4000} for w in (160, 320) for f in ("webp", "jpeg")],
            )
            for p in products
        )
        sellers[size] = seller
    return sellers


def measure(client, path: str, runs: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path)  # warm caches (templates, sessions, permissions)
    timings, cpu, queries = [], [], set()
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(path)
            timings.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        if response.status_code != 200:
            raise SystemExit(f"GET {path} answered {response.status_code}")
        queries.add(len(ctx.captured_queries))
    body = response.content
    return {
        "median_ms": statistics.median(timings) * 1000,
        "cpu_ms": statistics.median(cpu) * 1000,
        "p90_ms": sorted(timings)[int(len(timings) * 0.9) - 1] * 1000,
        "queries": sorted(queries),
        "html_kb": len(body) / 1024,
        "gzip_kb": len(gzip.compress(body, 6)) / 1024,
    }


def load_average() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="admin-bench-") as tmp:
        setup_django(Path(tmp))
        from django.test import Client
        from django.urls import reverse

        sellers = make_catalogue()
        loads = [load_average()]
        rows = []
        for size, seller in sellers.items():
            client = Client()
            client.force_login(seller.user)
            first = seller.products.order_by("pk").first()
            for label, path in (
                ("product list, page 1", reverse("admin:catalog_product_changelist")),
                ("product list, search", reverse("admin:catalog_product_changelist")
                 + "?q=saree&status__exact=active"),
                ("product change form", reverse("admin:catalog_product_change",
                                                args=[first.pk])),
            ):
                rows.append((size, label, measure(client, path, args.runs)))
            loads.append(load_average())

    lists = {size: figures["queries"] for size, label, figures in rows
             if label == "product list, page 1"}
    flat = len({tuple(q) for q in lists.values()}) == 1
    table = "\n".join(
        f"| {size:,} | {label} | {'/'.join(map(str, f['queries']))} | {f['median_ms']:.0f} ms "
        f"| {f['cpu_ms']:.0f} ms "
        f"| {f['p90_ms']:.0f} ms | {f['html_kb']:.1f} KB | {f['gzip_kb']:.1f} KB |"
        for size, label, f in rows
    )
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = f"""{SECTION}

Measured by `bench/steps/50-admin` (`bench/admin_bench.py`) on {now};
machine: {os.cpu_count()} cores, Python {platform.python_version()}, SQLite in a scratch
file, requests through Django's test client in-process ({args.runs} timed runs each after
one warm-up; no network, so the times are the application's own). 1-minute load
average during the runs: {", ".join(loads)}.
Reproduce: `make bench`, or `.venv/bin/python bench/admin_bench.py` for this section alone.

| listings | page (as the seller) | queries | median wall | median CPU | p90 wall | HTML | gzip |
|---|---|---|---|---|---|---|---|
{table}

- The product list's query count is {"the same" if flat else "**not** the same"} for a seller
  with {SIZES[0]:,} and with {SIZES[-1]:,} listings (25 to a page): session, user, seller
  profile, permissions, one COUNT, the page with its seller and category, its photos
  in one prefetch, the category filter.
- HTML and gzip are the document alone. The admin's stylesheets and scripts
  come from this origin (nothing from a CDN or another host) and are cached
  after the first page; the phone-layout rules are inline in the page.
- Wall time above CPU time is waiting for the other jobs on the machine.
"""
    if not args.no_write:
        from sections import write_section  # bench/sections.py, beside this script

        write_section(SECTION, section)
    print(section)
    if not flat:
        raise SystemExit("the product list's query count grows with the catalogue")


if __name__ == "__main__":
    main()
