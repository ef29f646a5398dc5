from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.backup import BackupError, backup_database


class Command(BaseCommand):
    help = "Write an online backup of the database (SQLite backup API, or pg_dump on PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", "-o", type=Path, default=None,
            help="A folder (a timestamped file is created in it) or a file name. "
                 "Default: var/backups/.",
        )

    def handle(self, *args, output, **options):
        destination = output or Path(settings.VAR_DIR) / "backups"
        try:
            path = backup_database(destination=destination)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Backup written to {path}"))
