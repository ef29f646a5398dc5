"""Offline evaluation of the ranking on a temporal hold-out, as a table."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from personalization.evaluation import EvaluationError, format_table, ranking_evaluate
from personalization.rebuild import RebuildError


def _bounded_int(name: str, low: int, high: int):
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise CommandError(f"--{name} must be a whole number, not {value!r}.") from None
        if not low <= number <= high:
            raise CommandError(f"--{name} must be between {low} and {high}.")
        return number
    return parse


class Command(BaseCommand):
    help = (
        "Evaluate global, region and segment popularity and the full ranker on a temporal "
        "hold-out (the last --test-days of events): NDCG@k, HitRate@k and catalogue coverage "
        "for cold (profile only) and warm shoppers. Trains on the events before the cut in a "
        "separate, never-served ranking version that is deleted afterwards."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--k", default="10", help="Cut-off rank (default 10).")
        parser.add_argument("--test-days", default="14",
                            help="Days of events held out for testing (default 14).")
        parser.add_argument("--max-shoppers", default="1000",
                            help="Shoppers evaluated per cohort at most (default 1000).")

    def handle(self, *args, **options) -> None:
        k = _bounded_int("k", 1, 100)(options["k"])
        test_days = _bounded_int("test-days", 1, 365)(options["test_days"])
        max_shoppers = _bounded_int("max-shoppers", 1, 1_000_000)(options["max_shoppers"])

        def progress(message: str) -> None:
            self.stderr.write(message)

        try:
            rows = ranking_evaluate(k=k, test_days=test_days, max_shoppers=max_shoppers,
                                    progress=progress)
        except (EvaluationError, RebuildError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(format_table(rows, k))
