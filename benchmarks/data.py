"""Data-layer benchmark: generate, load, validate, fingerprint and split; prints a table.

.venv/bin/python benchmarks/data.py            # goodbooks scale (~6M ratings)
.venv/bin/python benchmarks/data.py --quick    # small scale
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from gbrec_core.data import (
    fingerprint,
    generate,
    load_ratings,
    random_split,
    temporal_split,
    validate_dataset,
)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(rows: list[tuple[str, str, str]], name: str, fn: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = fn()
    rows.append((name, f"{time.perf_counter() - start:.2f}", f"{_peak_mb():.0f}"))
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small scale instead of goodbooks")
    args = parser.parse_args()
    scale = "small" if args.quick else "goodbooks"
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = _timed(rows, f"generate ({scale})", lambda: generate(scale, Path(tmp)))
        ratings = _timed(rows, "load_ratings", lambda: load_ratings(folder / "ratings.csv"))
        rows.append(("ratings frame MB", "", f"{ratings.memory_usage(deep=True).sum() / 1e6:.0f}"))
        report = _timed(rows, "validate_dataset", lambda: validate_dataset(folder))
        _timed(rows, "fingerprint", lambda: fingerprint(ratings))
        _timed(rows, "temporal_split", lambda: temporal_split(ratings))
        _timed(rows, "random_split", lambda: random_split(ratings))
    table = Table(title=f"gbrec data layer, {len(ratings):,} ratings (valid={report.ok})")
    for col in ("step", "seconds", "peak RSS MB (process)"):
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    Console().print(table)


if __name__ == "__main__":
    main()
