"""Fingerprints and JSON summaries of a ratings table.

A :class:`DataSnapshot` is what the drift rules compare against: Dagster stores
the snapshot of each validated materialisation and passes it as ``previous`` to
the next validation.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gbrec_core.errors import DataLoadError


@dataclasses.dataclass(frozen=True)
class DataFingerprint:
    """sha256 over the canonical arrays plus the table's shape."""

    sha256: str
    rows: int
    users: int
    books: int

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def fingerprint(ratings: pd.DataFrame) -> DataFingerprint:
    """Hash user_id, book_id, rating in file order (the order is the time axis, so it counts)."""
    digest = hashlib.sha256()
    digest.update(f"gbrec-ratings-v1:{len(ratings)}:".encode())
    for column, dtype in (("user_id", "<i4"), ("book_id", "<i4"), ("rating", "i1")):
        values = np.ascontiguousarray(ratings[column].to_numpy(), dtype=dtype)
        digest.update(values.tobytes())
    return DataFingerprint(
        sha256=digest.hexdigest(),
        rows=len(ratings),
        users=int(ratings["user_id"].nunique()),
        books=int(ratings["book_id"].nunique()),
    )


@dataclasses.dataclass(frozen=True)
class DataSnapshot:
    """Summary statistics of a ratings table, JSON round-trippable."""

    rows: int
    users: int
    books: int
    rating_mean: float
    rating_histogram: list[float]  # share of ratings 1..5
    sha256: str
    created_at: str

    @classmethod
    def of(cls, ratings: pd.DataFrame) -> DataSnapshot:
        fp = fingerprint(ratings)
        counts = np.bincount(ratings["rating"].to_numpy(dtype=np.int64).clip(0, 6), minlength=7)
        total = max(int(counts[1:6].sum()), 1)
        return cls(
            rows=fp.rows,
            users=fp.users,
            books=fp.books,
            rating_mean=float(ratings["rating"].mean()) if len(ratings) else 0.0,
            rating_histogram=[round(float(c) / total, 6) for c in counts[1:6]],
            sha256=fp.sha256,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DataSnapshot:
        try:
            return cls(
                rows=int(data["rows"]),
                users=int(data["users"]),
                books=int(data["books"]),
                rating_mean=float(data["rating_mean"]),
                rating_histogram=[float(x) for x in data["rating_histogram"]],
                sha256=str(data["sha256"]),
                created_at=str(data.get("created_at", "")),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise DataLoadError(f"not a gbrec data snapshot: {e}") from e

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> DataSnapshot:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise DataLoadError(f"cannot read data snapshot {path}: {e}") from e
        return cls.from_dict(data)
