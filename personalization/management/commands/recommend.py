"""Print the ranked feed of one or more shoppers as JSON lines."""

from __future__ import annotations

import json
from collections.abc import Iterator

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from catalog.models import Product
from personalization.conf import get_config
from personalization.selectors import feed_ranking_compute
from personalization.selectors_profiles import shoppers_by_ref

# Shopper refs resolved (and product ids translated) per round trip.
CHUNK = 500
MAX_REF_LENGTH = 64


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise CommandError(f"--limit must be a whole number, not {value!r}.") from None
    if number < 1:
        raise CommandError("--limit must be at least 1.")
    return number


class Command(BaseCommand):
    help = (
        'Print {"shopper": ID, "items": [product ids], "reasons": [...]} per shopper, one '
        "JSON object per line (external ids). An unknown shopper gives a line with an "
        '"error" key, not a failure. --shoppers-file holds one shopper id per line (a '
        'header line "id" or "shopper" is skipped; a CSV keeps its first column).'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--shopper", help="A shopper's CSV id or public id.")
        who.add_argument("--shoppers-file", help="A file with one shopper id per line.")
        parser.add_argument("--limit", type=str, default="10",
                            help="How many items per shopper (default 10).")

    def handle(self, *args, **options) -> None:
        limit = _positive_int(options["limit"])
        ceiling = get_config()["FEED_SNAPSHOT_SIZE"]
        if limit > ceiling:
            raise CommandError(f"--limit can be at most {ceiling} (FEED_SNAPSHOT_SIZE).")
        if options["shopper"] is not None:
            refs: Iterator[str] = iter([options["shopper"].strip()])
        else:
            refs = self._read_refs(options["shoppers_file"])
        chunk: list[str] = []
        for ref in refs:
            chunk.append(ref)
            if len(chunk) == CHUNK:
                self._recommend(chunk, limit)
                chunk = []
        if chunk:
            self._recommend(chunk, limit)

    def _read_refs(self, path: str) -> Iterator[str]:
        # Read everything up front: a bad byte on line 90,000 must stop the
        # command before any output, not halfway through it.
        try:
            with open(path, encoding="utf-8-sig") as handle:
                lines = handle.read().splitlines()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
        except UnicodeDecodeError as exc:
            line = exc.object[:exc.start].count(b"\n") + 1
            raise CommandError(f"{path}: line {line} is not UTF-8 text.") from exc
        refs = []
        for number, line in enumerate(lines, 1):
            ref = line.split(",", 1)[0].strip().strip('"')
            if not ref or (number == 1 and ref.lower() in ("id", "shopper", "shopper_id")):
                continue
            if len(ref) > MAX_REF_LENGTH:
                raise CommandError(
                    f"{path}: line {number}: a shopper id has at most {MAX_REF_LENGTH} characters."
                )
            refs.append(ref)
        return iter(refs)

    def _recommend(self, refs: list[str], limit: int) -> None:
        shoppers = shoppers_by_ref(refs=refs)
        now = timezone.now()
        results = {}
        for ref in dict.fromkeys(refs):
            if ref in shoppers:
                _version, items = feed_ranking_compute(shopper=shoppers[ref], as_of=now,
                                                       limit=limit)
                results[ref] = items
        wanted = {item.product_id for items in results.values() for item in items}
        public = {pk: external or str(pk) for pk, external in
                  Product.objects.filter(pk__in=wanted).values_list("pk", "external_id")}
        for ref in refs:
            if ref not in results:
                line = {"shopper": ref, "error": "unknown shopper"}
            else:
                items = results[ref]
                line = {
                    "shopper": ref,
                    "items": [public[item.product_id] for item in items],
                    "reasons": [item.reason for item in items],
                    # The reasons' arguments ("Pune", a product title), in step.
                    "reason_args": [item.reason_arg for item in items],
                }
            self.stdout.write(json.dumps(line, ensure_ascii=False))
