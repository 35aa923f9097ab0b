"""Readers the model was not trained on, and why a book was recommended.

Both rest on one idea: every model family scores a *history row* (the books a reader
rated, in the model's item index space). A new reader's row is built from a few books
they liked at sign-up (``seed_rows``, ``one_row``) and folded in exactly like a trained user's
row (EASE/item-item: the row times the item-item matrix; ALS: the least-squares user
solve; content: the mean profile of the seeds). An explanation names the history books
whose term in that score is largest (``top_contributors``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from gbrec_core.errors import InvalidInputError

#: The rating a seed book stands for: "I liked this" (the top of the 1-5 scale).
SEED_RATING = 5.0
#: At most this many seed books are folded in (a sign-up form asks for a handful).
MAX_SEEDS = 100


def seed_rows(index_of: np.ndarray) -> np.ndarray:
    """The known seeds' item rows (``index_of``: -1 for books the model lacks)."""
    if index_of.shape[0] > MAX_SEEDS:
        raise InvalidInputError(f"at most {MAX_SEEDS} seed books, got {index_of.shape[0]}")
    rows: np.ndarray = np.unique(index_of[index_of >= 0])
    if rows.size == 0:
        raise InvalidInputError("none of the seed books is in the model's catalogue")
    return rows


def one_row(rows: np.ndarray, n_items: int) -> sp.csr_matrix:
    """A one-row history of item rows ``rows`` rated :data:`SEED_RATING`."""
    return history_rows([rows], n_items)


def history_rows(readers: Sequence[np.ndarray], n_items: int) -> sp.csr_matrix:
    """One history row per reader, of their item rows rated :data:`SEED_RATING`."""
    cols = [np.unique(rows).astype(np.int32) for rows in readers]
    sizes = [c.size for c in cols]
    return sp.csr_matrix(
        (
            np.full(sum(sizes), SEED_RATING, dtype=np.float32),
            np.concatenate(cols) if cols else np.empty(0, dtype=np.int32),
            np.concatenate([[0], np.cumsum(sizes)]),
        ),
        shape=(len(cols), n_items),
    )


def top_contributors(contributions: np.ndarray, history_rows: np.ndarray, top: int) -> np.ndarray:
    """The history rows with the ``top`` largest positive contributions, largest first."""
    order = np.lexsort((history_rows, -contributions))[:top]
    chosen: np.ndarray = history_rows[order[contributions[order] > 0]]
    return chosen
