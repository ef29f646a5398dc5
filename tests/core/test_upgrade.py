"""A database made by the code before the layers were split migrates with no row lost.

The split moved the search migration from the `shop` app to `catalog`
(catalog 0002, idempotent) and moved no model. This makes a real database
with the last commit before the split (its own migrate and seed_demo), then
runs today's migrate on it and compares every table, row by row.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import os
import sqlite3
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The last commit of main before core/ and storefront/ existed.
BEFORE_SPLIT = "026816c"

pytestmark = pytest.mark.slow


def _legacy_referral_code(public_id: uuid.UUID) -> str:
    digest = hmac.new(SECRET_KEY.encode(), f"referral:{public_id}".encode(),
                      hashlib.sha256).digest()
    return base64.b32encode(digest)[:8].decode().lower()


def _old_tree(tmp_path: Path) -> Path:
    try:
        archive = subprocess.run(["git", "archive", "--format=tar", BEFORE_SPLIT], cwd=ROOT,
                                 capture_output=True, check=True, timeout=60).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"needs the git history with {BEFORE_SPLIT} (not a shallow clone): {exc}")
    tree = tmp_path / "before"
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tree, filter="data")
    return tree


SECRET_KEY = "upgrade-test-only-" + "x" * 40


def _manage(where: Path, database: Path, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}",
           "SHOP_VAR_DIR": str(database.parent), "DJANGO_DEBUG": "0",
           "DJANGO_SECRET_KEY": SECRET_KEY,
           "PYTHONPATH": str(where), "DJANGO_SETTINGS_MODULE": "shop.settings"}
    env.pop("REDIS_URL", None)
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=where, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]


def _tables(database: Path, columns: dict[str, list[str]] | None = None
            ) -> dict[str, tuple[list[str], list[tuple]]]:
    """Return {table: (columns, rows in primary-key order)}, FTS shadow tables aside.

    With `columns`, only those tables and those columns (the ones a database
    had before): a later migration may add tables and columns, never lose rows.
    """
    with sqlite3.connect(database) as connection:
        names = columns or [name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'shop_product_fts%'")]
        found = {}
        for name in names:
            wanted = columns[name] if columns else [
                row[1] for row in connection.execute(f'PRAGMA table_info("{name}")')]
            listed = ", ".join(f'"{column}"' for column in wanted)
            rows = list(connection.execute(f'SELECT {listed} FROM "{name}" ORDER BY 1'))  # noqa: S608
            found[name] = (wanted, rows)
        return found


# Tables Django adds rows to for every new model; the old rows must all stay.
_GROWING = ("django_content_type", "auth_permission", "django_migrations")
# Tables a later migration drops on purpose (personalization 0005): nothing ever
# wrote them, so they must be empty before and gone after.
_DROPPED = ("personalization_segmentitemscore", "personalization_segmentcategoryscore",
            "personalization_segmentmemberstage")


def test_a_database_made_before_the_split_migrates_without_losing_a_row(tmp_path):
    # given a database migrated and seeded by the code before the split
    old = _old_tree(tmp_path)
    database = tmp_path / "var" / "shop.sqlite3"
    database.parent.mkdir()
    _manage(old, database, "migrate", "--noinput", "-v0")
    _manage(old, database, "seed_demo", "--products", "12", "--shoppers", "25",
            "--events", "300", "--workers", "1")
    before = _tables(database)
    assert len(before["catalog_product"][1]) == 12 and before["personalization_event"][1]
    for name in _DROPPED:
        assert before.pop(name)[1] == [], name
    # when today's code migrates it
    _manage(ROOT, database, "migrate", "--noinput", "-v0")
    after = _tables(database, {name: columns for name, (columns, _rows) in before.items()})
    # then every table, column and row that was there is still there, unchanged
    # (later migrations only add); Django's own registries only grow
    for name, (_columns, rows) in before.items():
        if name in _GROWING:
            assert set(rows) <= set(after[name][1]), name
        else:
            assert after[name][1] == rows, name
    with sqlite3.connect(database) as connection:
        applied = set(connection.execute("SELECT app, name FROM django_migrations"))
        left = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
        assert not left & set(_DROPPED)
        assert ("catalog", "0002_product_search_index") in applied
        assert ("shop", "0001_product_search_index") in applied  # history kept as it was
        # photos processed before the task engine stay shown
        assert {status for (status,) in connection.execute(
            "SELECT status FROM catalog_productimage")} == {"ready"}
        # and search still finds every listing through the triggers and index it had
        title = connection.execute("SELECT title FROM catalog_product ORDER BY id").fetchone()[0]
        word = title.split()[0].lower()
        hits = connection.execute("SELECT count(*) FROM shop_product_fts WHERE "
                                  "shop_product_fts MATCH ?", [word]).fetchone()[0]
        assert hits >= 1
        # Shoppers keep the referral code their share links already carried
        # (the HMAC of storefront/services.py before personalization 0007).
        profiles = list(connection.execute(
            "SELECT public_id, referral_code FROM personalization_shopperprofile"))
        assert profiles and all(code == _legacy_referral_code(uuid.UUID(public_id))
                                for public_id, code in profiles)
        connection.execute("UPDATE catalog_product SET title = 'zzupgradeword' WHERE id = "
                           "(SELECT min(id) FROM catalog_product)")
        assert connection.execute("SELECT count(*) FROM shop_product_fts WHERE "
                                  "shop_product_fts MATCH 'zzupgradeword'").fetchone()[0] == 1
