"""Aggregate events into a new ranking version and make it the served one."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from personalization.rebuild import RebuildError, affinities_rebuild


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

    def handle(self, *args, **options):
        def progress(message: str) -> None:
            self.stdout.write(message)
            self.stdout.flush()

        try:
            version = affinities_rebuild(
                refresh_lifecycle=not options["no_lifecycle"], progress=progress
            )
        except RebuildError as exc:
            raise CommandError(str(exc)) from exc
        seconds = version.stats.get("seconds", 0)
        self.stdout.write(self.style.SUCCESS(
            f"Ranking version {version.pk} built in {seconds:.1f} s and active."
        ))
