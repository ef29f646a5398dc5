"""Offline evaluation of the ranking on a temporal hold-out, as a table or JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser

from personalization.evaluation import (
    EvaluationError,
    format_table,
    ranking_evaluate,
    rows_as_dicts,
)
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


def _cut(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--cut must be an ISO 8601 date or time, not {value!r}.") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Command(BaseCommand):
    help = (
        "Evaluate popularity baselines (global, each profile dimension, each pair), item-kNN "
        "and the full ranker on a temporal hold-out: NDCG@k, HitRate@k and catalogue coverage "
        "for cold (profile only) and warm shoppers. The cut is --cut DATE or the last "
        "--holdout-days of events. Trains on the events up to the cut in a separate, "
        "never-served ranking version that is deleted afterwards."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--k", default="10", help="Cut-off rank (default 10).")
        parser.add_argument("--cut", help="Train up to this ISO date/time (UTC), test after it.")
        parser.add_argument("--holdout-days", "--test-days", dest="test_days", default="14",
                            help="Without --cut: days of events held out (default 14).")
        parser.add_argument("--max-shoppers", default="1000",
                            help="Shoppers evaluated per cohort at most, a seeded random "
                                 "sample beyond (default 1000).")
        parser.add_argument("--max-warm", help="Warm shoppers at most (default: --max-shoppers).")
        parser.add_argument("--seed", default="1", help="Seed of that sample (default 1).")
        parser.add_argument("--json", action="store_true", help="Print JSON, not a table.")

    def handle(self, *args, **options) -> None:
        k = _bounded_int("k", 1, 100)(options["k"])
        test_days = _bounded_int("holdout-days", 1, 365)(options["test_days"])
        max_shoppers = _bounded_int("max-shoppers", 1, 10_000_000)(options["max_shoppers"])
        seed = _bounded_int("seed", 0, 2**31)(options["seed"])
        max_warm = (_bounded_int("max-warm", 1, 10_000_000)(options["max_warm"])
                    if options["max_warm"] else None)
        cut = _cut(options["cut"]) if options["cut"] else None

        def progress(message: str) -> None:
            self.stderr.write(message)

        try:
            rows = ranking_evaluate(k=k, test_days=test_days, cut=cut, seed=seed,
                                    max_shoppers=max_shoppers, max_warm=max_warm,
                                    progress=progress)
        except (EvaluationError, RebuildError) as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps({"k": k, "rows": rows_as_dicts(rows)}))
        else:
            self.stdout.write(format_table(rows, k))
