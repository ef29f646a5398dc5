"""`manage.py import_dataset`: load products, shoppers and events from CSV files.

Each file is atomic: a file with any bad row is reported line by line and
nothing from it is written. Files are imported in dependency order (products,
then shoppers, then events, which refer to both), whatever the order given;
categories and regions, which products and shoppers name, come first.
"""

import importlib
import time

from django.core.management.base import BaseCommand, CommandError

from shop.datasets import DatasetError

# (option, module, function), in the order they must run.
IMPORTERS = (
    ("categories", "catalog.vocabulary_import", "import_categories"),
    ("regions", "catalog.vocabulary_import", "import_regions"),
    ("products", "catalog.importers", "import_products"),
    ("shoppers", "personalization.importers", "import_shoppers"),
    ("events", "personalization.importers", "import_events"),
)


def _importer(module_name: str, function_name: str):
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only the module itself being absent means "not there yet"; a missing
        # import inside it is a bug and must surface as one.
        if exc.name != module_name:
            raise
        module = None
    function = getattr(module, function_name, None)
    if function is None:
        raise CommandError(f"{module_name}.{function_name} is not available yet")
    return function


class Command(BaseCommand):
    help = (
        "Import products, shoppers and/or events from UTF-8 CSV files with a header row. "
        "Products: id,title,category,price[,seller,regions,stock,created_at,description,image] "
        "(an id the seller already has is updated; see catalog/importers.py). "
        "Shoppers: id,region,age,gender,language. Events: shopper,product,type,timestamp. "
        "Categories: slug,name[,parent]. Regions: code,name,kind[,parent,currency,language]. "
        "Each file is all or nothing: bad rows are listed by line and nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("--categories", metavar="F", help="categories CSV")
        parser.add_argument("--regions", metavar="F", help="regions CSV")
        parser.add_argument("--products", metavar="F", help="products CSV")
        parser.add_argument("--shoppers", metavar="F", help="shoppers CSV")
        parser.add_argument("--events", metavar="F", help="events CSV")

    def handle(self, *args, **options):
        chosen = [(opt, mod, fn) for opt, mod, fn in IMPORTERS if options.get(opt)]
        if not chosen:
            raise CommandError("nothing to import: give --categories, --regions, --products, "
                               "--shoppers and/or --events")
        # Check every file and importer before importing any, so a typo in the
        # last argument does not leave the first file imported alone.
        plan = []
        for option, module_name, function_name in chosen:
            path = options[option]
            try:
                with open(path, "rb"):
                    pass
            except OSError as exc:
                raise CommandError(f"--{option}: cannot open {path}: {exc.strerror}") from exc
            plan.append((option, path, _importer(module_name, function_name)))
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
