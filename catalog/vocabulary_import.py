"""CSV import of the shop's vocabulary: categories, regions and search synonyms
(`import_dataset --categories F --regions F --synonyms F`).

Product rows name a category and regions that must already exist (an import
never invents vocabulary by accident), so a real catalogue needs these two
files first; `import_dataset` runs them before products.

- categories: `slug,name[,parent]` (parent: the slug of another category,
  existing or on an earlier line);
- regions: `code,name,kind[,parent,currency,language]` with kind one of
  country, state, city (a country has no parent, a state's parent is a
  country, a city's a state), parent a region code existing or on an earlier
  line; currency and language default to the parent's;
- synonyms: `concept,language,words` with words separated by `|` (or commas
  inside a quoted cell), each a single word, language one of
  `settings.LANGUAGES`: every word of a concept finds what any of them finds
  (catalog.search). A row replaces the words of its (concept, language).

Rows are upserted by slug/code/(concept, language) (the file wins), in one transaction per file:
any bad row is reported with its line number and nothing is written.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.text import slugify

from core.datasets import DatasetError, RowError, RowErrors

from .models import Category, Region, SearchSynonym
from .search import synonyms_forget
from .words import synonym_words_parse

CATEGORY_COLUMNS = ("slug", "name")
CATEGORY_OPTIONAL = ("parent",)
REGION_COLUMNS = ("code", "name", "kind")
REGION_OPTIONAL = ("parent", "currency", "language")
SYNONYM_COLUMNS = ("concept", "language", "words")
_CONCEPT_MAX = SearchSynonym._meta.get_field("concept").max_length
_PARENT_KIND = {Region.Kind.STATE: Region.Kind.COUNTRY, Region.Kind.CITY: Region.Kind.STATE}


def _rows(path: str, required: tuple[str, ...], optional: tuple[str, ...],
          errors: RowErrors) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        handle = Path(path).open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise DatasetError(path, [RowError(1, f"cannot open the file: {exc.strerror}")]) from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = [cell.strip().lower() for cell in next(reader, [])]
            if not header:
                raise DatasetError(path, [RowError(1, "the file is empty; expected a header row")])
            missing = [name for name in required if name not in header]
            unknown = [name for name in header if name not in required + optional]
            if missing or unknown:
                problems = ([f"missing column(s): {', '.join(missing)}"] if missing else []) + (
                    [f"unknown column(s): {', '.join(unknown)}"] if unknown else [])
                raise DatasetError(path, [RowError(1, "; ".join(problems) + " (expected "
                                                   f"{','.join(required + optional)})")])
            for record in reader:
                line = reader.line_num
                if not any(cell.strip() for cell in record):
                    continue
                if len(record) != len(header):
                    errors.add(line, f"expected {len(header)} fields, found {len(record)}")
                    continue
                row = dict(zip(header, (cell.strip() for cell in record), strict=True))
                yield line, {name: row.get(name, "") for name in required + optional}
        except UnicodeDecodeError as exc:
            errors.add(reader.line_num + 1, f"not valid UTF-8 ({exc.reason}); save as UTF-8")
        except csv.Error as exc:
            errors.add(reader.line_num, f"not valid CSV: {exc}")


def import_categories(path: str, *, stdout: Any = None) -> int:
    """Upsert the categories in a CSV by slug; return how many rows were imported."""
    errors = RowErrors(str(path))
    known = {slug.lower(): pk for slug, pk in Category.objects.values_list("slug", "pk")}
    count = 0
    with transaction.atomic():
        for line, row in _rows(str(path), CATEGORY_COLUMNS, CATEGORY_OPTIONAL, errors):
            slug, name, parent = row["slug"].lower(), row["name"], row["parent"].lower()
            problems = []
            if not slug or slugify(slug) != slug:
                problems.append(f"slug {row['slug']!r} must be lowercase letters, digits and -")
            if not name or len(name) > 80:
                problems.append("name must be 1 to 80 characters")
            if parent and parent not in known:
                problems.append(f"unknown parent {row['parent']!r} (define it on an earlier line)")
            if parent and parent == slug:
                problems.append("a category cannot be its own parent")
            for problem in problems:
                errors.add(line, problem)
            if problems or errors.total:
                continue
            category, _created = Category.objects.update_or_create(
                slug=slug, defaults={"name": name, "parent_id": known.get(parent)})
            known[slug] = category.pk
            count += 1
        errors.raise_if_any()
    if stdout is not None:
        stdout.write(f"categories: {count:,} imported from {path}\n")
    return count


def import_regions(path: str, *, stdout: Any = None) -> int:
    """Upsert the regions in a CSV by code; return how many rows were imported."""
    errors = RowErrors(str(path))
    known = {region.code.upper(): region for region in Region.objects.all()}
    count = 0
    with transaction.atomic():
        for line, row in _rows(str(path), REGION_COLUMNS, REGION_OPTIONAL, errors):
            code, kind, parent_code = row["code"], row["kind"].lower(), row["parent"].upper()
            problems = []
            if not code or len(code) > 32 or "/" in code:
                problems.append("code must be 1 to 32 characters without '/'")
            if not row["name"] or len(row["name"]) > 100:
                problems.append("name must be 1 to 100 characters")
            parent = known.get(parent_code) if parent_code else None
            if kind not in Region.Kind.values:
                problems.append(f"kind {row['kind']!r} is not one of "
                                f"{', '.join(Region.Kind.values)}")
            elif kind == Region.Kind.COUNTRY and parent_code:
                problems.append("a country has no parent")
            elif kind != Region.Kind.COUNTRY and parent is None:
                problems.append(f"a {kind} needs the code of its parent (a {_PARENT_KIND[kind]}), "
                                "defined earlier" if not parent_code
                                else f"unknown parent {row['parent']!r} (define it earlier)")
            elif parent is not None and parent.kind != _PARENT_KIND[kind]:
                problems.append(f"the parent of a {kind} must be a {_PARENT_KIND[kind]}, "
                                f"{parent.code} is a {parent.kind}")
            if len(row["currency"]) not in (0, 3):
                problems.append(f"currency {row['currency']!r} is not a 3-letter code")
            for problem in problems:
                errors.add(line, problem)
            if problems or errors.total:
                continue
            region = known.get(code.upper()) or Region(code=code)
            region.name, region.kind, region.parent = row["name"], kind, parent
            region.currency = row["currency"].upper() or (parent.currency if parent else "")
            region.language = row["language"].lower() or (parent.language if parent else "")
            region.save()
            known[code.upper()] = region
            count += 1
        errors.raise_if_any()
    if stdout is not None:
        stdout.write(f"regions: {count:,} imported from {path}\n")
    return count


def import_synonyms(path: str, *, stdout: Any = None) -> int:
    """Upsert the search synonyms in a CSV by (concept, language); return how many rows."""
    errors = RowErrors(str(path))
    languages = [code for code, _name in settings.LANGUAGES]
    seen: dict[tuple[str, str], int] = {}
    count = 0
    with transaction.atomic():
        for line, row in _rows(str(path), SYNONYM_COLUMNS, (), errors):
            concept, language = row["concept"].lower(), row["language"].lower()
            problems = []
            if (not concept or len(concept) > _CONCEPT_MAX
                    or slugify(concept, allow_unicode=True) != concept):
                problems.append(f"concept {row['concept']!r} must be 1 to {_CONCEPT_MAX} "
                                "lowercase letters, digits and -")
            if language not in languages:
                problems.append(f"language {row['language']!r} is not one of "
                                f"{', '.join(languages)}")
            try:
                words = synonym_words_parse(row["words"])
            except ValueError as exc:
                problems.append(f"words: {exc}")
            if (concept, language) in seen:
                problems.append(f"{concept} ({language}) is already on line "
                                f"{seen[concept, language]}")
            seen.setdefault((concept, language), line)
            for problem in problems:
                errors.add(line, problem)
            if problems or errors.total:
                continue
            SearchSynonym.objects.update_or_create(
                concept=concept, language=language, defaults={"words": ", ".join(words)})
            count += 1
        errors.raise_if_any()
    # update_or_create sends post_save, but an import may also run where
    # signals are muted: forget the cached mapping explicitly.
    transaction.on_commit(synonyms_forget)
    if stdout is not None:
        stdout.write(f"synonyms: {count:,} imported from {path}\n")
    return count
