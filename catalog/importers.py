"""CSV import of listings (`import_dataset --products`).

The file: UTF-8 (a BOM is fine), a header row, then one listing per row.
- Required columns: `id,title,category,price`; optional:
  `seller,regions,stock,created_at,description,image` and the listing in the
  shop's other languages, `title_hi,title_ar,description_hi,description_ar`
  (catalog/translations.py; empty: shown in the original). Any other column
  is an error (a misspelt optional column would otherwise be silently ignored).
- `id` is the listing's external id, unique per seller. Importing an id the
  seller already has *updates* that listing (an upsert), so a seller can
  re-send a whole corrected file. An update changes only the columns the file
  has; status and compare-at price are never touched by an import.
  New listings are created active.
- `category`: a category slug or name (case-insensitive). An unknown one is
  an error: categories are the shop's vocabulary and are never invented by an
  import.
- `price`: a decimal string in the seller's currency (`499`, `499.00`), parsed
  exactly, never through a float.
- `seller`: a seller slug. Rows without one go to the "import" seller, created
  on demand (a login with a random password nobody knows).
- `regions`: region codes separated by `|`; empty means sold everywhere.
- `stock`: a whole number >= 0 (empty: 0).
- `created_at`: ISO 8601 (without an offset: UTC) or Unix seconds; empty: now.
- `image`: a local JPEG/PNG/WebP file (relative paths are resolved against the
  CSV's folder), processed through the image pipeline. A re-import that
  names the same picture does not add it twice.

Atomic per file: every row is checked first and all problems are reported
with their line numbers (`DatasetError`); nothing is written, and no image
file is left behind, unless every row is good. Memory stays bounded: rows are
streamed and written in batches; only a map of the ids seen is kept.

The seller's bulk upload in the admin (catalog/bulk.py) reads the same format
through the same two passes (`products_check`, `products_write`) with a
`ProductSource` that differs in three ways: every row belongs to the uploading
seller (a `seller` cell naming anyone else is an error), photos come from the
ZIP sent with the file instead of local paths, and text cells a spreadsheet
would run as formulas are refused.
"""

from __future__ import annotations

import csv
import re
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO, Protocol, TextIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.datasets import DatasetError, RowError, RowErrors

from . import images
from .models import Category, Product, ProductImage, Region, Seller
from .money import decimal_to_minor
from .translations import TRANSLATED_FIELDS, translated_names

REQUIRED_COLUMNS = ("id", "title", "category", "price")
TRANSLATION_COLUMNS = tuple(
    name for translated in TRANSLATED_FIELDS for name in translated_names(translated))
OPTIONAL_COLUMNS = ("seller", "regions", "stock", "created_at", "description", "image",
                    *TRANSLATION_COLUMNS)
_TITLE_MAX = 140
BATCH_SIZE = 1000
CHECK_PROGRESS_EVERY = 20_000
# How often a progress callback hears of the rows checked or written.
PROGRESS_EVERY = 250
IMPORT_SELLER_SLUG = "import"
# Wider than any real price; keeps BigIntegerField and every sum of a cart far from overflow.
_PRICE_RE = re.compile(r"\d{1,12}(\.\d+)?")
_UNIX_RE = re.compile(r"\d{1,11}(\.\d+)?")
_STOCK_MAX = 2_147_483_647  # IntegerField's range on every backend
# A clock a little ahead at the exporting end is not an error.
_FUTURE_LEEWAY = timedelta(minutes=5)


@dataclass
class ProductRow:
    """One validated row, ready to write."""

    line: int
    external_id: str
    title: str
    category_id: int
    price_minor: int
    currency: str
    seller_slug: str  # "" for the default import seller
    region_ids: list[int] | None  # None when the file has no regions column
    stock: int | None
    created_at: datetime | None
    description: str | None
    image: object | None  # a key of the source's PhotoSource
    # By column name, only the translation columns the file has.
    translations: dict[str, str] = field(default_factory=dict)


class _Vocabulary:
    """The small tables rows refer to, loaded once per import."""

    def __init__(self) -> None:
        self.category_by_slug: dict[str, int] = {}
        self.category_by_name: dict[str, list[int]] = {}
        for pk, slug, name in Category.objects.values_list("pk", "slug", "name"):
            self.category_by_slug[slug.lower()] = pk
            self.category_by_name.setdefault(name.strip().lower(), []).append(pk)
        self.region_by_code = {
            code.lower(): pk for pk, code in Region.objects.values_list("pk", "code")
        }
        default_currency = settings.SHOP_DEFAULT_CURRENCY
        self.sellers: dict[str, tuple[int, str]] = {
            slug.lower(): (pk, currency or default_currency)
            for pk, slug, currency in Seller.objects.values_list("pk", "slug", "region__currency")
        }
        self.default_currency = self.sellers.get(IMPORT_SELLER_SLUG, (0, default_currency))[1]

    def category(self, value: str) -> int:
        key = value.strip().lower()
        if key in self.category_by_slug:
            return self.category_by_slug[key]
        matches = self.category_by_name.get(key, [])
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise ValueError(f"category name {value!r} is ambiguous; use the category's slug")
        raise ValueError(f"unknown category {value!r}")


# Public name for the bulk upload, which loads it once per check like the import.
Vocabulary = _Vocabulary


class PhotoSource(Protocol):
    """Where the `image` cells of a file point: local files (`import_dataset`) or a ZIP."""

    def locate(self, name: str) -> object:
        """Return the key of the photo `name`; raise ValueError (the row's error) if none."""

    def problem(self, key: object) -> str | None:
        """Return why the photo at `key` cannot be used, or None."""

    def open(self, key: object) -> AbstractContextManager[BinaryIO]:
        """Return the photo's bytes as a binary file, for the image pipeline."""


class LocalPhotos:
    """Photos named by path, relative to the CSV's folder (the operator's import)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.checked: dict[Path, str | None] = {}

    def locate(self, name: str) -> Path:
        return (self.base / name).resolve()

    def problem(self, key: Path) -> str | None:
        return _image_problem(key, self.checked)

    def open(self, key: Path) -> AbstractContextManager[BinaryIO]:
        return key.open("rb")


@dataclass
class ProductSource:
    """A products CSV to check and write, and the rules it is read by."""

    name: str  # for messages: the path, or the uploaded file's name
    open: Callable[[], AbstractContextManager[BinaryIO]]
    photos: PhotoSource
    # A seller's own upload: every row is theirs; a `seller` cell naming
    # anyone else is an error rather than a way into their listings.
    seller_slug: str | None = None
    max_rows: int | None = None
    # Seller uploads only: the operator's datasets (Ta-Feng and the like) have
    # titles such as "-20% pack" that must keep importing unchanged.
    refuse_formulas: bool = False

    @classmethod
    def from_path(cls, path: Path) -> ProductSource:
        return cls(name=str(path), open=lambda: path.open("rb"), photos=LocalPhotos(path.parent))


@dataclass
class CheckResult:
    """What the first pass found: rows, bad rows and every error (RowErrors keeps the first 50)."""

    rows: int
    bad_rows: int
    needs_import_seller: bool
    errors: RowErrors
    photos: set = field(default_factory=set)  # keys of the photos the rows name

    @property
    def ok(self) -> bool:
        return self.errors.total == 0


# A cell starting with one of these is run as a formula by Excel, LibreOffice
# and Sheets (OWASP's CSV injection advice: tab and carriage return too).
_FORMULA_ALWAYS = ("=", "@", "\t", "\r")
# "+"/"-" also start formulas, but "-20% off", "- cotton" and "+91 98..." are
# ordinary text: refused only when a letter follows the sign, or when the
# cell holds what only a formula needs (DDE's "cmd|", arithmetic on numbers).
_SIGNED_FORMULA = re.compile(r"[+-](?:[^\d\s.]|.*\|.*!|.*[A-Za-z]\(|[\d.]+\s*[-+*/^&])")


def formula_problem(column: str, value: str) -> str | None:
    """Return why `value` would run as a spreadsheet formula, or None."""
    if value.startswith(_FORMULA_ALWAYS) or _SIGNED_FORMULA.match(value):
        shown = value[:1].replace("\t", "a tab").replace("\r", "a line break")
        return (f"{column} starts with {shown!r}, which spreadsheets run as a formula; "
                f"reword it so it does not start that way")
    return None


class _NotUtf8(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line, self.reason = line, reason


def _decoded_lines(handle) -> Iterator[str]:
    """Yield the lines of binary `handle` as text, raising _NotUtf8 with the line at fault.

    Decoding line by line (rather than through a text wrapper, which decodes
    8 KB ahead) is what lets the error name the right line.
    """
    for number, raw in enumerate(handle, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # the BOM spreadsheets put first
        if number == 1 and raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            # What "Unicode text" in Excel saves: name it, or the seller is lost.
            raise _NotUtf8(1, "the file is UTF-16")
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _NotUtf8(number, f"{exc.reason} at column {exc.start + 1}") from None


def _records(source: ProductSource,
             errors: RowErrors) -> Iterator[tuple[int, list[str], dict[str, str]]]:
    """Yield (line, header, cells by column) for each non-blank row of `source`'s CSV.

    Header problems are added to `errors` and end the reading; so does a file
    that is not UTF-8 or not CSV, at the line where it broke, and a file with
    more than `source.max_rows` rows (read no further: a 100k-row file sent to
    a 5,000-row upload must not cost 100k rows of checking).
    """
    line = 1
    rows = 0
    try:
        with source.open() as handle:
            reader = csv.reader(_decoded_lines(handle), strict=True)
            header = next(reader, None)
            if not header or not any(cell.strip() for cell in header):
                errors.add(1, "the file is empty: expected a header row")
                return
            header = [cell.strip().lower() for cell in header]
            _check_header(header, errors)
            if errors.total:
                return
            line = reader.line_num + 1
            for record in reader:
                start, line = line, reader.line_num + 1
                if not any(cell.strip() for cell in record):
                    continue  # a blank line is not a row
                rows += 1
                if source.max_rows is not None and rows > source.max_rows:
                    errors.add(start, f"the file has more than {source.max_rows:,} rows; "
                                      f"split it into files of at most {source.max_rows:,}")
                    return
                if len(record) != len(header):
                    errors.add(start, f"expected {len(header)} fields, found {len(record)}")
                    continue
                yield start, header, dict(zip(header, record, strict=True))
    except _NotUtf8 as exc:
        errors.add(exc.line, f"not valid UTF-8 ({exc.reason}); save the file as UTF-8")
    except csv.Error as exc:
        errors.add(line, f"not valid CSV: {exc}")


def _check_header(header: list[str], errors: RowErrors) -> None:
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    if missing := [c for c in REQUIRED_COLUMNS if c not in header]:
        errors.add(1, f"missing required column(s): {', '.join(missing)}")
    if unknown := [c for c in header if c not in known]:
        errors.add(1, f"unknown column(s): {', '.join(unknown)} "
                      f"(allowed: {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)})")
    if duplicated := sorted({c for c in header if header.count(c) > 1}):
        errors.add(1, f"column(s) given twice: {', '.join(duplicated)}")


def _parse_price(value: str, currency: str) -> int:
    value = value.strip()
    if not value:
        raise ValueError("price is required")
    if not _PRICE_RE.fullmatch(value):
        raise ValueError(f"bad price {value!r}: write a number like 499 or 499.00")
    try:
        return decimal_to_minor(Decimal(value), currency)
    except ValueError:
        raise ValueError(f"bad price {value!r}: {currency} has at most 2 decimal places") from None


def _parse_stock(value: str) -> int:
    value = value.strip()
    if not value:
        return 0
    if value.startswith("-") and value[1:].isdigit():
        raise ValueError(f"stock cannot be negative ({value})")
    if not value.isascii() or not value.isdigit() or int(value) > _STOCK_MAX:
        raise ValueError(f"bad stock {value!r}: write a whole number from 0 to {_STOCK_MAX}")
    return int(value)


def _parse_created_at(value: str, now: datetime) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        if _UNIX_RE.fullmatch(value):
            parsed = datetime.fromtimestamp(float(value), tz=UTC)
        else:
            parsed = datetime.fromisoformat(value)
            if timezone.is_naive(parsed):
                parsed = parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        raise ValueError(
            f"bad created_at {value!r}: use ISO 8601 (2025-03-01T10:00:00+05:30) or Unix seconds"
        ) from None
    if parsed > now + _FUTURE_LEEWAY:
        raise ValueError(f"created_at {value!r} is in the future")
    return parsed


def _parse_regions(value: str, vocabulary: _Vocabulary) -> list[int]:
    codes = [code.strip() for code in value.split("|") if code.strip()]
    if unknown := [code for code in codes if code.lower() not in vocabulary.region_by_code]:
        raise ValueError(f"unknown region code(s): {', '.join(unknown)}")
    return sorted({vocabulary.region_by_code[code.lower()] for code in codes})


def _parse_row(
    line: int, cells: dict[str, str], *, vocabulary: _Vocabulary, source: ProductSource,
    now: datetime, new_seller_ok: bool,
) -> tuple[ProductRow | None, list[str]]:
    """Return the row parsed, or None and every problem found in it.

    The one row validator: the operator's import and the seller's bulk upload
    both come through here (they differ only in `source`'s rules).
    """
    problems: list[str] = []
    if any("\x00" in cell for cell in cells.values()):
        # PostgreSQL refuses NUL in text; better a line number than a crash.
        return None, ["contains a NUL character"]
    if source.refuse_formulas:
        for column in ("id", "title", "description"):
            if problem := formula_problem(column, cells.get(column, "").strip()):
                problems.append(problem)

    def attempt(parse, *args):
        try:
            return parse(*args)
        except ValueError as exc:
            problems.append(str(exc))
            return None

    external_id = cells["id"].strip()
    if not external_id:
        problems.append("id is required")
    elif len(external_id) > 64:
        problems.append("id is longer than 64 characters")
    title = cells["title"].strip()
    if not title:
        problems.append("title is required")
    elif len(title) > _TITLE_MAX:
        problems.append(f"title is longer than {_TITLE_MAX} characters ({len(title)})")
    translations = {name: cells[name].strip() for name in TRANSLATION_COLUMNS if name in cells}
    for name in translated_names("title"):
        if len(translations.get(name, "")) > _TITLE_MAX:
            problems.append(f"{name} is longer than {_TITLE_MAX} characters "
                            f"({len(translations[name])})")
    category_id = None
    if cells["category"].strip():
        category_id = attempt(vocabulary.category, cells["category"])
    else:
        problems.append("category is required")
    seller_slug = cells.get("seller", "").strip().lower()
    currency = vocabulary.default_currency
    if source.seller_slug is not None:
        # Said without naming whose listings such a slug would reach.
        if seller_slug and seller_slug != source.seller_slug.lower():
            problems.append(f"seller {cells['seller'].strip()!r} is not you: a file can only "
                            f"list your own products (leave the seller column empty)")
        seller_slug = source.seller_slug.lower()
        currency = vocabulary.sellers.get(seller_slug, (0, currency))[1]
    elif seller_slug:
        if seller_slug in vocabulary.sellers:
            currency = vocabulary.sellers[seller_slug][1]
        else:
            problems.append(f"unknown seller {cells['seller'].strip()!r}")
    elif IMPORT_SELLER_SLUG not in vocabulary.sellers and not new_seller_ok:
        problems.append(f"the default {IMPORT_SELLER_SLUG!r} seller is missing")
    price_minor = attempt(_parse_price, cells["price"], currency)
    region_ids = attempt(_parse_regions, cells["regions"], vocabulary) if "regions" in cells \
        else None
    stock = attempt(_parse_stock, cells["stock"]) if "stock" in cells else None
    created_at = (
        attempt(_parse_created_at, cells["created_at"], now) if "created_at" in cells else None
    )
    image = None
    if cells.get("image", "").strip():
        image = attempt(source.photos.locate, cells["image"].strip())
    if problems:
        return None, problems
    return ProductRow(
        line=line, external_id=external_id, title=title, category_id=category_id,
        price_minor=price_minor, currency=currency, seller_slug=seller_slug,
        region_ids=region_ids, stock=stock, created_at=created_at,
        description=cells["description"] if "description" in cells else None, image=image,
        translations=translations,
    ), []


def _image_problem(path: Path, checked: dict[Path, str | None]) -> str | None:
    """Return why the image at `path` cannot be imported, or None; each file is read once."""
    if path not in checked:
        limits = images.Limits.from_settings()
        try:
            with path.open("rb") as handle:
                images.validate_upload(handle, limits=limits)
            checked[path] = None
        except OSError as exc:
            checked[path] = f"cannot read image {path}: {exc.strerror or exc}"
        except images.ImageRejected as exc:
            checked[path] = f"image {path.name}: {exc.message}"
    return checked[path]


def products_check(source: ProductSource, *, vocabulary: _Vocabulary, now: datetime,
                   stdout: TextIO | None = None,
                   progress: Callable[[int], None] | None = None) -> CheckResult:
    """Check every row of `source` (photos included) and write nothing; return what was found.

    `progress(rows)` is called every `PROGRESS_EVERY` rows (the bulk upload's
    job page); `stdout` hears every `CHECK_PROGRESS_EVERY`.
    """
    errors = RowErrors(source.name)
    seen: dict[tuple[str, str], int] = {}
    photos: set = set()
    rows = bad_rows = 0
    needs_import_seller = False
    for line, _header, cells in _records(source, errors):
        row, problems = _parse_row(line, cells, vocabulary=vocabulary, source=source,
                                   now=now, new_seller_ok=True)
        if row is not None and row.image is not None:
            if problem := source.photos.problem(row.image):
                problems.append(problem)
            else:
                photos.add(row.image)
        external_id = cells["id"].strip()
        owner = source.seller_slug or cells.get("seller", "").strip().lower() or IMPORT_SELLER_SLUG
        key = (owner.lower(), external_id)
        if external_id and key in seen:
            problems.append(f"duplicate id {external_id!r} (first on line {seen[key]})")
        elif external_id:
            seen[key] = line
        for problem in problems:
            errors.add(line, problem)
        bad_rows += bool(problems)
        if row is not None and not row.seller_slug:
            needs_import_seller = True
        rows += 1
        if rows % CHECK_PROGRESS_EVERY == 0:
            _say(stdout, f"  products: {rows} rows checked, {errors.total} with errors")
        if progress is not None and rows % PROGRESS_EVERY == 0:
            progress(rows)
    if source.seller_slug is not None and not rows and not errors.total:
        # An operator's empty file is a no-op; a seller who sends one made a mistake.
        errors.add(2, "the file has a header but no rows")
    return CheckResult(rows=rows, bad_rows=bad_rows, needs_import_seller=needs_import_seller,
                       errors=errors, photos=photos)


def _import_seller(name: str) -> Seller:
    """Return the default seller of imported rows, creating it on first use."""
    from .services.sellers import seller_create

    seller = Seller.objects.filter(slug=IMPORT_SELLER_SLUG).first()
    if seller is not None:
        return seller
    try:
        return seller_create(
            username=IMPORT_SELLER_SLUG, email=f"{IMPORT_SELLER_SLUG}@example.com",
            password=secrets.token_urlsafe(24), display_name="Import", verified=True,
        )
    except ValidationError as exc:
        raise DatasetError(name, errors=[RowError(
            1, f"cannot create the default {IMPORT_SELLER_SLUG!r} seller: {exc.messages}"
        )]) from exc


_WRITABLE = {
    "title": ("title",), "price": ("price_minor", "currency"), "category": ("category_id",),
    "stock": ("stock",), "created_at": ("created_at",), "description": ("description",),
    **{name: (name,) for name in TRANSLATION_COLUMNS},
}


def _write_batch(batch: list[ProductRow], *, columns: set[str], sellers: dict[str, int],
                 now: datetime, added_files: list[set[str]],
                 photos: PhotoSource) -> tuple[int, int]:
    """Create or update the listings of `batch`; return (created, updated)."""
    from .services.images import image_file_names, product_image_add

    def key(row: ProductRow) -> tuple[int, str]:
        return sellers[row.seller_slug or IMPORT_SELLER_SLUG], row.external_id

    keys = {key(row) for row in batch}
    # By external id alone, so the database uses that index (the seller's
    # would scan all of a big seller's listings); other sellers' ids that
    # happen to match are dropped here.
    # created_at comes along because an empty cell keeps it and bulk_update
    # writes one set of columns for the whole batch (created_at never changes
    # behind our back; stock, which orders change, is always written from the file).
    existing = {
        (seller_id, external_id): Product(pk=pk, seller_id=seller_id, external_id=external_id,
                                          created_at=created_at)
        for pk, seller_id, external_id, created_at in Product.objects.filter(
            external_id__in={external_id for _, external_id in keys}
        ).values_list("pk", "seller_id", "external_id", "created_at")
        if (seller_id, external_id) in keys
    }
    fields = ["updated_at"] + [f for c in sorted(columns & set(_WRITABLE)) for f in _WRITABLE[c]]
    to_create: list[Product] = []
    by_row: list[tuple[ProductRow, Product]] = []
    for row in batch:
        product = existing.get(key(row))
        if product is None:
            product = Product(
                seller_id=key(row)[0], external_id=row.external_id, status="active",
                created_at=row.created_at or now, stock=row.stock or 0,
                description=row.description or "",
            )
            to_create.append(product)
        else:
            if row.created_at is not None:
                product.created_at = row.created_at
            if row.stock is not None:
                product.stock = row.stock
            if row.description is not None:
                product.description = row.description
        product.title, product.category_id = row.title, row.category_id
        for name, text in row.translations.items():
            setattr(product, name, text)
        product.price_minor, product.currency = row.price_minor, row.currency
        product.updated_at = now
        by_row.append((row, product))
    updated = list(existing.values())
    Product.objects.bulk_create(to_create)
    if any(p.pk is None for p in to_create):
        # Backends that cannot return ids from a bulk insert: read them back.
        ids = {
            (seller_id, external_id): pk
            for pk, seller_id, external_id in Product.objects.filter(
                external_id__in={p.external_id for p in to_create}
            ).values_list("pk", "seller_id", "external_id")
        }
        for product in to_create:
            product.pk = ids[product.seller_id, product.external_id]
    if updated:
        _update_many(updated, fields)
    if "regions" in columns:
        through = Product.regions.through
        through.objects.filter(product_id__in=[p.pk for p in updated]).delete()
        through.objects.bulk_create([
            through(product_id=product.pk, region_id=region_id)
            for row, product in by_row for region_id in row.region_ids or ()
        ])
    for row, product in by_row:
        if row.image is None:
            continue
        try:
            with photos.open(row.image) as upload:
                image = product_image_add(product=product, upload=upload, alt_text=row.title)
        except OSError as exc:
            raise DatasetError("", errors=[RowError(
                row.line, f"cannot read image {row.image}: {exc.strerror or exc}")]) from exc
        except ValidationError as exc:
            raise DatasetError("", errors=[RowError(row.line, "; ".join(exc.messages))]) from exc
        added_files.append(image_file_names(image))
        duplicate = ProductImage.objects.filter(
            product=product, content_hash=image.content_hash
        ).exclude(pk=image.pk)
        if duplicate.exists():
            # The same picture again (a re-import): keep the one it already had.
            image.delete()
    return len(to_create), len(updated)


def _update_many(products: list[Product], fields: list[str]) -> None:
    """Write `fields` of `products` with one prepared UPDATE run for every row.

    Not QuerySet.bulk_update(): it builds a CASE WHEN expression per row and
    field, which took minutes of CPU for 100k rows; executemany() of one
    statement is a C loop on SQLite and a pipeline on psycopg.
    """
    meta = Product._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    # Identifiers come from the model's meta and are quoted; values are parameters.
    sql = (
        f"UPDATE {quote(meta.db_table)} SET "  # noqa: S608
        + ", ".join(f"{quote(field.column)} = %s" for field in columns)
        + f" WHERE {quote(meta.pk.column)} = %s"
    )
    params = [
        [field.get_db_prep_save(getattr(product, field.attname), connection)
         for field in columns] + [product.pk]
        for product in products
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def import_products(path: str | Path, *, stdout: TextIO | None = None) -> int:
    """Import the products CSV at `path`; return the number of rows imported.

    Raise DatasetError (nothing written) if any row is bad, FileNotFoundError
    if there is no such file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    source = ProductSource.from_path(path)
    started = time.monotonic()
    now = timezone.now()
    vocabulary = _Vocabulary()
    check = products_check(source, vocabulary=vocabulary, now=now, stdout=stdout)
    check.errors.raise_if_any()
    _say(stdout, f"products: {check.rows} rows checked in {time.monotonic() - started:.1f} s")
    written, created = products_write(source, total=check.rows,
                                      needs_import_seller=check.needs_import_seller, now=now,
                                      stdout=stdout, started=started)
    _say(stdout, f"products: {written} imported ({created} new, {written - created} updated) "
                 f"in {time.monotonic() - started:.1f} s")
    return written


def products_write(source: ProductSource, *, total: int, needs_import_seller: bool,
                   now: datetime, stdout: TextIO | None = None, started: float | None = None,
                   progress: Callable[[int], None] | None = None,
                   before_commit: Callable[[int, int], None] | None = None) -> tuple[int, int]:
    """Write every row of the checked `source` in one transaction; return (written, created).

    Run `products_check` first: this pass parses again (the database may have
    changed since: a category deleted) and raises DatasetError, writing
    nothing, on any problem. An id the seller already has is updated, so a
    second run of the same file (a retried task) adds nothing.
    `before_commit(written, created)` runs inside the transaction, last (the
    bulk upload marks its job done there, so "done" and the rows commit as one).
    """
    started = time.monotonic() if started is None else started
    added_files: list[set[str]] = []
    written = created = 0
    try:
        with transaction.atomic():
            if needs_import_seller:
                _import_seller(source.name)
            vocabulary = _Vocabulary()
            sellers = {slug: pk for slug, (pk, _currency) in vocabulary.sellers.items()}
            sellers[""] = sellers.get(IMPORT_SELLER_SLUG, 0)
            errors = RowErrors(source.name)
            batch: list[ProductRow] = []
            columns: set[str] = set()
            for line, header, cells in _records(source, errors):
                columns = set(header)
                row, problems = _parse_row(line, cells, vocabulary=vocabulary, source=source,
                                           now=now, new_seller_ok=False)
                for problem in problems:
                    # The database changed since the check (a category deleted).
                    errors.add(line, problem)
                if row is not None:
                    batch.append(row)
                if len(batch) >= BATCH_SIZE:
                    created += _flush(batch, columns, sellers, now, added_files, source)
                    written += len(batch)
                    batch = []
                    _say(stdout, f"  products: {written}/{total} written "
                                 f"({time.monotonic() - started:.1f} s)")
                    if progress is not None:
                        progress(written)
            errors.raise_if_any()
            if batch:
                created += _flush(batch, columns, sellers, now, added_files, source)
                written += len(batch)
            if before_commit is not None:
                before_commit(written, created)
    except BaseException:
        _discard_files(added_files)
        raise
    return written, created


def _flush(batch: list[ProductRow], columns: set[str], sellers: dict[str, int], now: datetime,
           added_files: list[set[str]], source: ProductSource) -> int:
    try:
        created, _updated = _write_batch(batch, columns=columns, sellers=sellers, now=now,
                                         added_files=added_files, photos=source.photos)
    except DatasetError as exc:
        raise DatasetError(source.name, errors=exc.errors) from exc
    except IntegrityError as exc:
        raise DatasetError(source.name, errors=[RowError(
            batch[0].line,
            f"lines {batch[0].line}-{batch[-1].line} collided with another import writing "
            f"the same ids at the same time; nothing was imported, run it again ({exc})",
        )]) from exc
    return created


def _discard_files(added_files: list[set[str]]) -> None:
    """Delete the image files this failed import stored that no surviving image uses."""
    from .services.images import image_files_release

    names = set().union(*added_files) if added_files else set()
    image_files_release(names=names)


def _say(stdout: TextIO | None, message: str) -> None:
    if stdout is not None:
        stdout.write(message + "\n")
        stdout.flush()
