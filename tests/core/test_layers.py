"""The layers are contracts (pyproject.toml): a lower layer importing a higher one fails."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Read from the contracts, so an app added to the layers is copied too.
PACKAGES = tuple(tomllib.loads((ROOT / "pyproject.toml").read_text())
                 ["tool"]["importlinter"]["root_packages"])
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter not installed")


def _scratch_copy(tmp_path: Path) -> Path:
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _lint(where: Path) -> subprocess.CompletedProcess:
    # The copy must be the only code on the path, not the installed project.
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=where, capture_output=True,
                          text=True, timeout=120, env={"PYTHONPATH": str(where),
                                                       "PATH": "/usr/bin:/bin"})


def test_the_project_keeps_every_layer_contract(tmp_path):
    result = _lint(_scratch_copy(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(("module", "imported"), [
    ("core/db.py", "catalog.models"),  # the ground floor reaching up
    ("catalog/services/products.py", "personalization.selectors"),
    ("personalization/ranking.py", "storefront.cards"),
    ("analytics/selectors.py", "storefront.cards"),  # siblings stay apart
    ("orders/services.py", "reviews.models"),  # the new apps' layer sits above orders
    ("reviews/services.py", "storefront.cards"),  # ... and below the storefront
    ("orders/services.py", "sellers.models"),  # orders sits below the sellers layer
    ("sellers/selectors.py", "analytics.exports"),  # and sellers below analytics
])
def test_an_upward_import_breaks_the_contract(tmp_path, module, imported):
    # given a scratch copy with one deliberate import from a lower layer into a higher one
    where = _scratch_copy(tmp_path)
    target = where / module
    target.write_text(target.read_text() + f"\nimport {imported}  # noqa\n")
    # when the contracts are checked
    result = _lint(where)
    # then the check fails and names the offending import
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert imported in result.stdout
