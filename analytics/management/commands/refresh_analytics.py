"""Recompute the analytics aggregate tables and serve them (cron: hourly or nightly)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from analytics.refresh import RefreshError, analytics_refresh


class Command(BaseCommand):
    help = (
        "Aggregate events and orders (in SQL) into the analytics tables as a new snapshot "
        "beside the served one, then switch to it in one transaction and drop the old one. "
        "Idempotent and safe while the admin is in use."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true",
            help="Discard a snapshot left half-built by a refresh that crashed.",
        )

    def handle(self, *args, **options):
        def progress(message: str) -> None:
            self.stdout.write(message)
            self.stdout.flush()

        try:
            snapshot = analytics_refresh(force=options["force"], progress=progress)
        except RefreshError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(
            f"Analytics as of {snapshot.as_of:%Y-%m-%d %H:%M %Z} built in "
            f"{snapshot.stats.get('seconds', 0):.1f} s and served."
        ))
