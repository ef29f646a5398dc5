"""`manage.py seed_demo`: a realistic demo catalog, then shoppers and events.

Here, in personalization, because it fills both layers: the catalog
(catalog.demo) and, on top of it, the shoppers and their events.

Idempotent: what exists (by code, slug or external id) is left alone, so a
second run creates nothing and takes a second or two. The same --seed gives
the same catalog; the seed only shapes rows that are created by this run.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from catalog.demo import seed_catalog
from personalization.demo import seed_shoppers_and_events


class Command(BaseCommand):
    help = (
        "Create a demo catalog (sellers, categories, regions, products; their photos are "
        "drawn by Pillow in the task worker), then demo shoppers and events. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=600,
                            help="how many listings (default 600)")
        parser.add_argument("--shoppers", type=int, default=2000,
                            help="how many shoppers (default 2000)")
        parser.add_argument("--events", type=int, default=60000,
                            help="how many events (default 60000)")
        parser.add_argument("--seed", type=int, default=42,
                            help="random seed; the same seed gives the same catalog")

    def handle(self, *args, products, shoppers, events, seed, **options):
        # Checked here rather than by argparse: call_command() passes keyword
        # options straight through without parsing them.
        for name, value in (("products", products), ("shoppers", shoppers),
                            ("events", events)):
            if value < 0:
                raise CommandError(f"--{name}: expected zero or more, got {value}")
        started = time.monotonic()
        result = seed_catalog(products=products, seed=seed, stdout=self.stdout)
        if shoppers or events:
            seed_shoppers_and_events(shoppers=shoppers, events=events, seed=seed,
                                     stdout=self.stdout)
        else:
            self.stdout.write("shoppers/events: none asked for")
        self.stdout.write(self.style.SUCCESS(
            f"seed_demo: {result.total()} catalog rows new, "
            f"done in {time.monotonic() - started:.1f} s"
        ))
