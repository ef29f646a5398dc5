"""`manage.py import_dataset`: load products, shoppers and events from CSV files.

Here, in personalization, because it fills both layers: listings
(catalog.importers) and shoppers with their events on top of them. Each file
is atomic: a file with any bad row is reported line by line and
nothing from it is written. Files are imported in dependency order (products,
then shoppers, then events, which refer to both), whatever the order given;
categories and regions, which products and shoppers name, come first.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from catalog.importers import import_products
from catalog.vocabulary_import import import_categories, import_regions, import_synonyms
from core.datasets import DatasetError
from personalization.importers import import_events, import_shoppers

# (option, importer), in the order they must run.
IMPORTERS = (
    ("categories", import_categories),
    ("regions", import_regions),
    ("synonyms", import_synonyms),
    ("products", import_products),
    ("shoppers", import_shoppers),
    ("events", import_events),
)


class Command(BaseCommand):
    help = (
        "Import products, shoppers and/or events from UTF-8 CSV files with a header row. "
        "Products: id,title,category,price[,seller,regions,stock,created_at,description,image,"
        "title_hi,title_ar,description_hi,description_ar] "
        "(an id the seller already has is updated; see catalog/importers.py). "
        "Shoppers: id,region,age,gender,language. Events: shopper,product,type,timestamp. "
        "Categories: slug,name[,parent]. Regions: code,name,kind[,parent,currency,language]. "
        "Synonyms: concept,language,words (words |-separated). "
        "Each file is all or nothing: bad rows are listed by line and nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("--categories", metavar="F", help="categories CSV")
        parser.add_argument("--regions", metavar="F", help="regions CSV")
        parser.add_argument("--synonyms", metavar="F", help="search synonyms CSV")
        parser.add_argument("--products", metavar="F", help="products CSV")
        parser.add_argument("--shoppers", metavar="F", help="shoppers CSV")
        parser.add_argument("--events", metavar="F", help="events CSV")

    def handle(self, *args, **options):
        chosen = [(option, function) for option, function in IMPORTERS if options.get(option)]
        if not chosen:
            raise CommandError("nothing to import: give --categories, --regions, --synonyms, "
                               "--products, "
                               "--shoppers and/or --events")
        # Check every file before importing any, so a typo in the last
        # argument does not leave the first file imported alone.
        plan = []
        for option, function in chosen:
            path = options[option]
            try:
                with open(path, "rb"):
                    pass
            except OSError as exc:
                raise CommandError(f"--{option}: cannot open {path}: {exc.strerror}") from exc
            plan.append((option, path, function))
        for option, path, function in plan:
            started = time.monotonic()
            try:
                count = function(path, stdout=self.stdout)
            except DatasetError as exc:
                raise CommandError(f"--{option}: {exc}") from exc
            except FileNotFoundError as exc:
                raise CommandError(f"--{option}: {exc}") from exc
            self.stdout.write(self.style.SUCCESS(
                f"{option}: {count} rows imported from {path} "
                f"in {time.monotonic() - started:.1f} s"
            ))
