"""Re-encode every product photo's variants from its stored master.

Run it after changing SHOP_IMAGE_WIDTHS, SHOP_IMAGE_FORMATS or the encoder
settings. Idempotent: a second run finds every image up to date and writes
nothing. One broken image is reported and skipped, not a reason to stop.
With --prune it also removes files no photo uses any more (left behind when a
product is deleted with its photos, or by a crashed upload).
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from catalog.models import ProductImage
from catalog.services.images import image_files_prune, product_image_regenerate


class Command(BaseCommand):
    help = "Regenerate the variants and placeholders of product photos from their masters."

    def add_arguments(self, parser):
        parser.add_argument(
            "--product", type=int, action="append", dest="products", default=[],
            metavar="ID", help="Only the photos of this product (repeatable).",
        )
        parser.add_argument(
            "--progress-every", type=int, default=25, metavar="N",
            help="Print a progress line every N photos (default 25).",
        )
        parser.add_argument(
            "--prune", action="store_true",
            help="Afterwards, delete stored photo files that no photo refers to.",
        )
        parser.add_argument(
            "--prune-older-than", type=float, default=1.0, metavar="HOURS",
            help="Only prune files at least this old (default 1), so uploads in flight "
                 "keep theirs.",
        )

    def handle(self, *args, **options):
        every = options["progress_every"]
        if every < 1:
            raise CommandError("--progress-every must be at least 1.")
        if options["prune_older_than"] < 0:
            raise CommandError("--prune-older-than must not be negative.")
        queryset = ProductImage.objects.shown().order_by("pk")
        if options["products"]:
            queryset = queryset.filter(product_id__in=options["products"])
        ids = list(queryset.values_list("pk", flat=True))
        total = len(ids)
        changed = unchanged = 0
        failures: list[str] = []
        for done, pk in enumerate(ids, start=1):
            image = ProductImage.objects.filter(pk=pk).first()
            if image is None:
                continue  # deleted since we listed it: nothing to regenerate
            before = (image.variants, image.placeholder_color, image.placeholder_data)
            try:
                image = product_image_regenerate(image=image)
            except ValidationError as exc:
                failures.append(f"image {pk} (product {image.product_id}): {_message(exc)}")
                self.stderr.write(failures[-1])
            else:
                after = (image.variants, image.placeholder_color, image.placeholder_data)
                if after == before:
                    unchanged += 1
                else:
                    changed += 1
            if done % every == 0 or done == total:
                self.stdout.write(f"{done}/{total} photos processed")
        self.stdout.write(
            f"Regenerated {changed} photo(s), {unchanged} already up to date, "
            f"{len(failures)} failed."
        )
        if options["prune"]:
            removed = image_files_prune(
                older_than=dt.timedelta(hours=options["prune_older_than"])
            )
            self.stdout.write(f"Pruned {len(removed)} unused file(s).")
        if failures:
            raise CommandError(f"{len(failures)} of {total} photos could not be regenerated.")


def _message(exc: ValidationError) -> str:
    return "; ".join(str(message) for message in exc.messages)
