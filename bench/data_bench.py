"""Measure `seed_demo` and `import_dataset --products`; rewrite their section of docs/BENCHMARKS.md.

Everything runs in a scratch SQLite database in a temporary folder (the
embedded setup `make run` uses), each command in its own process so its
wall time, CPU time and peak memory (RSS) are its own. Nothing is
downloaded: the CSV is generated here from the demo vocabulary.
"""

from __future__ import annotations

import csv
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "BENCHMARKS.md"
SECTION = "## Demo data and CSV import"
IMPORT_ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", 100_000))
SEED_PRODUCTS = int(os.environ.get("BENCH_SEED_PRODUCTS", 600))  # 600 is the default of make run


def run(args: list[str], env: dict[str, str], log: Path) -> dict:
    """Run manage.py `args`; return wall and CPU seconds, peak RSS in MB and the output."""
    started = time.monotonic()
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=out,
            stderr=subprocess.STDOUT,
        )
        _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    output = log.read_text()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.stderr.write(output)
        raise SystemExit(f"manage.py {' '.join(args)} failed")
    return {
        "wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024, "output": output,
    }


def write_csv(path: Path, rows: int) -> None:
    from catalog.demo import LEAVES, REGIONS, SELLERS  # plain data, no queries

    rng = random.Random(1)
    categories = sorted(LEAVES)
    sellers = [s.slug for s in SELLERS if s.region.startswith("IN")] + [""]
    regions = ["", "", "", "IN", "IN-MH|IN-UP", *[code for code, *_ in REGIONS if "-" in code]]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "title", "category", "price", "seller", "regions", "stock",
                         "created_at", "description"])
        for i in range(rows):
            category = rng.choice(categories)
            writer.writerow([
                f"bench-{i:06d}", f"{category.title()} item {i}, size {rng.choice('SMLX')}",
                category, f"{rng.randint(49, 4999)}.{rng.choice(['00', '50', '99'])}",
                rng.choice(sellers), rng.choice(regions), rng.randint(0, 300),
                1_700_000_000 + i * 37, f"Listing number {i}, imported by the benchmark.",
            ])


def load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "unknown"


def photo_line(output: str) -> str:
    matches = re.findall(r"photos: (\d+)/\d+ \(([\d.]+) s\)", output)
    return f"{matches[-1][0]} photos in {matches[-1][1]} s" if matches else "no photos"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-data-") as tmp:
        tmp_path = Path(tmp)
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        env.update(SHOP_VAR_DIR=str(tmp_path), DJANGO_DEBUG="0",
                   DJANGO_MEDIA_ROOT=str(tmp_path / "media"))
        env.setdefault("DJANGO_SECRET_KEY", "bench-only-key-not-secret-000000000000000")
        run(["migrate", "--noinput", "-v0"], env, tmp_path / "migrate.log")
        # The demo vocabulary lives next to the models, so Django is set up
        # (on the scratch settings) to read it for the generated CSV.
        os.environ.update(env, DJANGO_SETTINGS_MODULE="shop.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        loads = []

        print(f"seed_demo --products {SEED_PRODUCTS} (the rest as make run does) ...", flush=True)
        loads.append(load_average())
        seed_args = ["seed_demo", "--products", str(SEED_PRODUCTS)]
        seed_first = run(seed_args, env, tmp_path / "seed1.log")
        loads.append(load_average())
        seed_again = run(seed_args, env, tmp_path / "seed2.log")
        people = "skipped" not in seed_first["output"]

        print(f"import_dataset --products ({IMPORT_ROWS} rows) ...", flush=True)
        csv_path = tmp_path / "products.csv"
        write_csv(csv_path, IMPORT_ROWS)
        size_mb = csv_path.stat().st_size / 1e6
        loads.append(load_average())
        first = run(["import_dataset", "--products", str(csv_path)], env, tmp_path / "i1.log")
        loads.append(load_average())
        again = run(["import_dataset", "--products", str(csv_path)], env, tmp_path / "i2.log")
        loads.append(load_average())

    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    people_note = ", 2000 shoppers, 60000 events" if people else (
        "; shoppers/events skipped: not available")
    rows = [
        (f"`seed_demo` ({SEED_PRODUCTS} listings{people_note}), fresh database", seed_first),
        ("`seed_demo` again (creates nothing)", seed_again),
        (f"`import_dataset --products`, {IMPORT_ROWS} new rows ({size_mb:.1f} MB CSV, "
         "no images)", first),
        ("the same file again (every row an update)", again),
    ]
    table = "| command | wall | CPU | peak RSS |\n|---|---|---|---|\n" + "\n".join(
        f"| {label} | {m['wall']:.1f} s | {m['cpu']:.1f} s | {m['rss_mb']:.0f} MB |"
        for label, m in rows
    )
    section = f"""{SECTION}

Measured by `bench/steps/40-data` (`bench/data_bench.py`) on {now};
machine: {os.cpu_count()} cores, Python {platform.python_version()}, SQLite (the embedded
setup `make run` uses), each command in its own process. 1-minute load
average during the runs: {", ".join(loads)} (other jobs on the machine inflate
wall times; CPU times are the commands' own).
Reproduce: `make bench`, or `.venv/bin/python bench/data_bench.py` for this section alone
(`BENCH_IMPORT_ROWS` sets the CSV size, `BENCH_SEED_PRODUCTS` the listings).

{table}

- Demo photos: {photo_line(seed_first["output"])} (drawn by Pillow at 720 px, then the
  full image pipeline: master, 4 widths x AVIF/WebP/JPEG, placeholder), on worker
  threads: Pillow releases the GIL while it encodes. Photo encoding is most of
  the seeding time; AVIF alone is about half of it.
- The import checks every row first (nothing is written from a file with a bad
  row), then writes in batches of 1000 inside one transaction; memory is bounded
  by the batch and a map of the ids seen, not by the file.
"""
    from sections import write_section  # bench/sections.py, beside this script

    write_section(SECTION, section, DOC)
    print(section)


if __name__ == "__main__":
    main()
