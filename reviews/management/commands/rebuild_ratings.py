"""Recount every product's precomputed rating from its reviews (a repair; idempotent)."""

from django.core.management.base import BaseCommand

from reviews.services import ratings_rebuild


class Command(BaseCommand):
    help = "Recount every product's rating (count and sum of shown reviews) from the reviews."

    def handle(self, *args, **options):
        count = ratings_rebuild()
        self.stdout.write(f"Recounted the ratings of {count} products.")
