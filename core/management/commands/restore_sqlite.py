from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from core.backup import BackupError, restore_sqlite


class Command(BaseCommand):
    help = (
        "Replace the embedded SQLite database with a backup made by `backup`. "
        "Stop the shop first. (PostgreSQL: use pg_restore, see docs/OPERATIONS.md.)"
    )

    def add_arguments(self, parser):
        parser.add_argument("backup", type=Path)
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, backup, yes, **options):
        if connection.vendor != "sqlite":
            raise CommandError("restore_sqlite only restores the embedded SQLite database.")
        if not backup.is_file():
            raise CommandError(f"{backup} does not exist.")
        target = Path(connection.settings_dict["NAME"])
        if not yes:
            answer = input(f"Replace {target} with {backup}? Type 'yes' to continue: ")
            if answer.strip().lower() != "yes":
                raise CommandError("Restore cancelled.")
        connection.close()
        try:
            restore_sqlite(backup=backup, target=target)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Restored {target} from {backup}"))
