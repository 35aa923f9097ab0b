"""Small synthetic ratings shared by the registry and serving tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def skewed_ratings(seed: int, users: int = 60, books: int = 120, rows: int = 900) -> pd.DataFrame:
    """Ratings with a seed-dependent long-tailed popularity, so rankings differ by seed."""
    rng = np.random.default_rng(seed)
    weights = rng.permutation(1.0 / np.arange(1, books + 1))
    frame = pd.DataFrame(
        {
            "user_id": rng.integers(1, users + 1, rows),
            "book_id": rng.choice(np.arange(1, books + 1), rows, p=weights / weights.sum()),
            "rating": rng.integers(1, 6, rows),
        }
    )
    return frame.drop_duplicates(["user_id", "book_id"]).reset_index(drop=True)
