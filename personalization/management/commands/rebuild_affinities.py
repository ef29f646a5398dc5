"""Aggregate events into a new ranking version and make it the served one."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from personalization.rebuild import RebuildError, affinities_rebuild


def _as_of(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of must be an ISO 8601 date or time, not {value!r}.") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Command(BaseCommand):
    help = (
        "Aggregate shopper events (in SQL) into segment popularity, category affinity, "
        "item neighbours and candidate lists; build them as a new version beside the "
        "served one, flip to it atomically and delete old versions. Safe while serving."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-lifecycle", action="store_true",
            help="Do not refresh shoppers' lifecycle stages afterwards.",
        )

        parser.add_argument(
            "--as-of", help="Build as of this ISO date/time (UTC) instead of now: for "
                            "imported history (e.g. a public data set from years ago).")
        parser.add_argument("--no-fit", action="store_true",
                            help="Use the configured weights; do not fit them on a hold-out.")

    def handle(self, *args, **options):
        def progress(message: str) -> None:
            self.stdout.write(message)
            self.stdout.flush()

        try:
            version = affinities_rebuild(
                as_of=_as_of(options["as_of"]), refresh_lifecycle=not options["no_lifecycle"],
                progress=progress, fit=False if options["no_fit"] else None,
            )
        except RebuildError as exc:
            raise CommandError(str(exc)) from exc
        fit = version.stats.get("fit") or {}
        for cohort, weights in (fit.get("weights") or {}).items():
            self.stdout.write(f"fitted {cohort} weights: " + ", ".join(
                f"{name} {value:g}" for name, value in weights.items()))
        seconds = version.stats.get("seconds", 0)
        self.stdout.write(self.style.SUCCESS(
            f"Ranking version {version.pk} built in {seconds:.1f} s and active."
        ))
