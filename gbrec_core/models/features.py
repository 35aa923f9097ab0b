"""Book features for content models: tags joined onto books, and TF-IDF.

``books_with_tags`` turns the GoodBooks files into one ``books`` frame whose ``tags``
column maps tag name -> count, which is what :class:`ContentRecommender` reads:
book_tags is keyed by ``goodreads_book_id`` and joined to ``books.book_id`` here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gbrec_core.errors import InvalidInputError


def books_with_tags(
    books: pd.DataFrame, book_tags: pd.DataFrame, tags: pd.DataFrame, top_n: int = 30
) -> pd.DataFrame:
    """A copy of ``books`` with a ``tags`` column: {tag_name: count}, the top_n per book."""
    missing = {"book_id", "goodreads_book_id"} - set(books.columns)
    if missing:
        raise InvalidInputError(f"books is missing columns: {sorted(missing)}")
    joined = book_tags.merge(tags, on="tag_id", how="inner").merge(
        books[["book_id", "goodreads_book_id"]], on="goodreads_book_id", how="inner"
    )
    joined = joined[joined["count"] > 0]
    joined = joined.sort_values(["book_id", "count"], ascending=[True, False], kind="stable")
    joined = joined.groupby("book_id", sort=False).head(top_n)
    book_ids = joined["book_id"].to_numpy(dtype=np.int64)
    names = joined["tag_name"].astype(str).tolist()
    counts = joined["count"].to_numpy(dtype=np.float64).tolist()
    per_book: dict[int, dict[str, float]] = {}
    for book, name, count in zip(book_ids.tolist(), names, counts, strict=True):
        per_book.setdefault(book, {})[name] = count
    out = books.copy()
    out["tags"] = pd.Series(
        [per_book.get(int(b), {}) for b in out["book_id"].to_numpy()], index=out.index, dtype=object
    )
    return out


def _terms(row_tags: object, authors: object, author_weight: float) -> dict[str, float]:
    terms: dict[str, float] = {}
    if isinstance(row_tags, dict):
        for name, count in row_tags.items():
            terms[f"tag:{name}"] = float(np.log1p(max(float(count), 0.0)))
    elif isinstance(row_tags, list | tuple | np.ndarray):
        for name in row_tags:
            terms[f"tag:{name}"] = terms.get(f"tag:{name}", 0.0) + 1.0
    if isinstance(authors, str):
        for author in authors.split(","):
            if author.strip():
                terms[f"author:{author.strip().lower()}"] = author_weight
    return terms


def tfidf_matrix(
    books: pd.DataFrame | None, item_ids: np.ndarray, author_weight: float = 2.0
) -> sp.csr_matrix:
    """L2-normalised TF-IDF rows (one per item id) over tags and authors; zero rows if unknown."""
    n = item_ids.shape[0]
    if books is None or len(books) == 0:
        return sp.csr_matrix((n, 0), dtype=np.float32)
    position = {int(item): i for i, item in enumerate(item_ids.tolist())}
    tags = books["tags"] if "tags" in books else pd.Series([None] * len(books), index=books.index)
    authors = books["authors"] if "authors" in books else tags.map(lambda _: None)
    vocab: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for book, row_tags, author in zip(books["book_id"], tags, authors, strict=True):
        row = position.get(int(book))
        if row is None:
            continue
        for term, tf in _terms(row_tags, author, author_weight).items():
            rows.append(row)
            cols.append(vocab.setdefault(term, len(vocab)))
            vals.append(tf)
    counts = sp.csr_matrix(
        (np.asarray(vals, dtype=np.float32), (rows, cols)), shape=(n, len(vocab))
    )
    df = np.bincount(counts.indices, minlength=len(vocab)).astype(np.float32)
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    weighted = sp.csr_matrix(counts.multiply(idf[None, :]), dtype=np.float32)
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
    inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.csr_matrix(sp.diags(inverse.astype(np.float32)) @ weighted, dtype=np.float32)
