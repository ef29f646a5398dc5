"""Online backups of the shop's database.

SQLite: the online backup API copies a consistent snapshot while the shop keeps
serving (WAL readers and the writer are not blocked for long), then the copy
is checked with `PRAGMA integrity_check`. PostgreSQL: `pg_dump` in the custom
format, restorable with `pg_restore`.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from django.db import connections


class BackupError(Exception):
    pass


def backup_filename(vendor: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(tz=UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"shop-{stamp}.{'sqlite3' if vendor == 'sqlite' else 'pgdump'}"


def backup_database(*, destination: Path, using: str = "default") -> Path:
    """Write a consistent backup of the database into `destination` (a folder or a file)."""
    connection = connections[using]
    vendor = connection.vendor
    if destination.is_dir() or not destination.suffix:
        destination.mkdir(parents=True, exist_ok=True)
        destination = destination / backup_filename(vendor)
    destination.parent.mkdir(parents=True, exist_ok=True)
    if destination.exists():
        raise BackupError(f"{destination} already exists; refusing to overwrite it.")
    partial = destination.with_name(destination.name + ".partial")
    try:
        if vendor == "sqlite":
            _backup_sqlite(connection, partial)
        elif vendor == "postgresql":
            _backup_postgresql(connection, partial)
        else:
            raise BackupError(f"No backup method for the {vendor} database backend.")
        # Only a complete, verified file ever carries the final name.
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return destination


def _backup_sqlite(connection, target: Path) -> None:
    source_name = connection.settings_dict["NAME"]
    if str(source_name) == ":memory:" or "mode=memory" in str(source_name):
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    source = sqlite3.connect(str(source_name), timeout=30)
    try:
        copy = sqlite3.connect(str(target))
        try:
            # pages=1024 per step lets the live writer interleave between steps.
            source.backup(copy, pages=1024)
            # A backup is only a backup once it reads back clean.
            result = copy.execute("PRAGMA integrity_check").fetchone()[0]
            if result != "ok":
                raise BackupError(f"The backup failed its integrity check: {result}")
        finally:
            copy.close()
    finally:
        source.close()


def _backup_postgresql(connection, target: Path) -> None:
    pg_dump = shutil.which("pg_dump")
    if not pg_dump:
        raise BackupError("pg_dump is not installed (Debian: apt-get install postgresql-client).")
    params = connection.settings_dict
    env = {**os.environ}
    if params.get("PASSWORD"):
        env["PGPASSWORD"] = params["PASSWORD"]
    command = [pg_dump, "--format=custom", "--no-owner", f"--file={target}",
               f"--dbname={params['NAME']}"]
    if params.get("HOST"):
        command.append(f"--host={params['HOST']}")
    if params.get("PORT"):
        command.append(f"--port={params['PORT']}")
    if params.get("USER"):
        command.append(f"--username={params['USER']}")
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if completed.returncode != 0:
        raise BackupError(f"pg_dump failed: {completed.stderr.strip()}")


def restore_sqlite(*, backup: Path, target: Path) -> None:
    """Replace the SQLite database at `target` with `backup` (the shop must be stopped)."""
    check = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        result = check.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        check.close()
    if result != "ok":
        raise BackupError(f"{backup} failed its integrity check: {result}")
    staging = target.with_name(target.name + ".restoring")
    shutil.copyfile(backup, staging)
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    os.replace(staging, target)
