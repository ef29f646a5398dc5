"""Backups are only worth something if they restore: each test restores one."""

import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from catalog.models import Product
from core.backup import BackupError, backup_database, restore_sqlite
from tests.factories import ProductFactory

ROOT = Path(__file__).resolve().parents[2]


def manage(var_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SHOP_VAR_DIR": str(var_dir), "DJANGO_DEBUG": "0",
           "DJANGO_SECRET_KEY": "backup-test-key-" + "x" * 40}
    env.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def count_products(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT COUNT(*) FROM catalog_product").fetchone()[0]


@pytest.mark.slow
def test_sqlite_backup_restores_every_committed_row(tmp_path):
    # given a migrated shop database with a committed listing
    var = tmp_path / "var"
    assert manage(var, "migrate", "-v0").returncode == 0
    created = manage(var, "shell", "-c", (
        "from django.contrib.auth.models import User;"
        "from catalog.models import *;"
        "u=User.objects.create(username='s');"
        "s=Seller.objects.create(user=u, display_name='S', slug='s');"
        "c=Category.objects.create(name='C', slug='c');"
        "Product.objects.create(seller=s, category=c, title='Kurta', price_minor=49900,"
        " status='active')"
    ))
    assert created.returncode == 0, created.stderr
    db = var / "shop.sqlite3"

    # when it is backed up, then damaged, then restored
    result = manage(var, "backup", "-o", str(tmp_path / "backups"))
    assert result.returncode == 0, result.stderr
    backups = list((tmp_path / "backups").glob("shop-*.sqlite3"))
    assert len(backups) == 1
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM catalog_product")
    assert count_products(db) == 0
    restored = manage(var, "restore_sqlite", str(backups[0]), "--yes")
    assert restored.returncode == 0, restored.stderr

    # then the listing is back and the file is sound
    assert count_products(db) == 1
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_backup_refuses_to_overwrite_an_existing_file(tmp_path, settings):
    target = tmp_path / "existing.sqlite3"
    target.write_bytes(b"keep me")
    with pytest.raises(BackupError, match="already exists"):
        backup_database(destination=target)
    assert target.read_bytes() == b"keep me"


def test_restore_rejects_a_corrupt_backup(tmp_path):
    good = tmp_path / "live.sqlite3"
    with sqlite3.connect(good) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.execute("INSERT INTO t VALUES (1)")
    corrupt = tmp_path / "corrupt.sqlite3"
    corrupt.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    with pytest.raises((BackupError, sqlite3.DatabaseError)):
        restore_sqlite(backup=corrupt, target=good)
    with sqlite3.connect(good) as conn:
        assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]


def test_backup_command_reports_errors_as_command_errors(tmp_path):
    from django.core.management.base import CommandError

    existing = tmp_path / "taken.pgdump"
    existing.write_text("x")
    with pytest.raises(CommandError):
        call_command("backup", output=existing)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(shutil.which("pg_restore") is None, reason="pg_restore not installed")
def test_postgresql_dump_restores_into_a_fresh_database(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("runs when the suite runs on PostgreSQL")
    ProductFactory(title="Steel tiffin box")
    dump = backup_database(destination=tmp_path)
    assert dump.suffix == ".pgdump"

    params = connection.settings_dict
    scratch = f"restore_{uuid.uuid4().hex[:8]}"
    base = ["--host", params["HOST"] or "127.0.0.1", "--port", str(params["PORT"] or 5432),
            "--username", params["USER"] or "postgres"]
    subprocess.run(["createdb", *base, scratch], check=True)
    try:
        subprocess.run(["pg_restore", *base, "--no-owner", "--dbname", scratch, str(dump)],
                       check=True, capture_output=True)
        out = subprocess.run(
            ["psql", *base, "-d", scratch, "-tAc", "SELECT title FROM catalog_product"],
            check=True, capture_output=True, text=True,
        ).stdout.split()
        assert " ".join(out) == "Steel tiffin box"
        assert Product.objects.count() == 1
    finally:
        subprocess.run(["dropdb", *base, scratch], check=False)
