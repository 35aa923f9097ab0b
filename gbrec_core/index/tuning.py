"""Self-tuning search parameters: the cheapest ``ef_search``/``ef``/``nprobe`` that
reaches a recall target, measured against exact search at build time.

Recall of a graph or inverted-file index depends on the data (how spread the norms
are, how clustered the factors), so a fixed parameter is either wasteful or short of
recall on somebody's vectors. After a build, :func:`tune` samples two kinds of queries:
indexed items, each searched with its own id excluded (exactly what ``similarBooks``
sends), and as many out-of-sample vectors drawn from a Gaussian fitted to the items
(like user vectors, which live in the same factor space but are not in the graph;
graph search finds an indexed point's neighbours more easily than a new point's, so
items alone overstate recall for user queries). It then walks a ladder of
parameter values upwards and keeps the first one whose recall@10 against exact
top-10 lists meets the target for both kinds (by the mean minus one standard error,
so that other queries reach it too), so "one step lower misses the target or is the
floor" holds by construction. The measured recall is what ``stats()`` and the manifest report.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np

from gbrec_core.errors import InvalidInputError
from gbrec_core.index.exact import top_k_rows

log = logging.getLogger(__name__)

#: The search-time parameter each approximate kind tunes (exact kinds have none).
SEARCH_PARAMS: dict[str, str] = {
    "faiss-hnsw": "ef_search",
    "hnsw": "ef",
    "faiss-ivf": "nprobe",
    "faiss-ivfpq": "nprobe",
}
#: Candidate ef values, ~1.15x apart: one step costs ~10% of QPS near recall 0.97.
HNSW_LADDER: tuple[int, ...] = (
    *(10, 12, 14, 16, 18, 20, 24, 28, 32, 36, 40, 44),
    *(48, 56, 64, 72, 80, 96, 112, 128, 144, 160),
)
HNSW_LADDER_TOP: tuple[int, ...] = (192, 256, 384, 512, 768, 1024)
K = 10
#: 1,000 per query group: a standard error of ~0.002 at recall 0.97, so the bound
#: sits close to the mean and the chosen value near the true minimum (500 queries
#: chose ef 64 where 48 reached 0.97 on held-out queries at 1M vectors).
DEFAULT_QUERIES = 2000
#: Queries scored against the whole catalogue per block (bounds the score matrix).
_BLOCK_FLOATS = 16 * 1024 * 1024


class Tunable(Protocol):
    """What :func:`tune` needs of an index (``ShardedIndex`` implements it)."""

    kind: str

    def search(
        self, queries: np.ndarray, k: int, exclude: Any = None
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def set_search_param(self, name: str, value: int) -> None: ...

    def max_lists(self) -> int: ...


@dataclass(frozen=True)
class Tuning:
    """The outcome of one tuning run, as stored in the manifest and ``stats()``."""

    target_recall: float
    measured_recall: float
    #: ``measured_recall`` minus one standard error: what has to reach the target.
    recall_lower_bound: float
    parameter: str
    value: int
    queries: int
    met: bool
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def checked_target(target: float | None) -> float | None:
    """``target`` if it is a usable recall target; ``InvalidInputError`` otherwise."""
    if target is not None and not 0.0 < target <= 1.0:
        raise InvalidInputError(f"target_recall must be in (0, 1], got {target}")
    return target


def ladder(index: Tunable) -> list[int]:
    """Candidate values of the kind's parameter, cheapest first."""
    if SEARCH_PARAMS[index.kind] != "nprobe":
        return [*HNSW_LADDER, *HNSW_LADDER_TOP]
    lists = max(1, index.max_lists())
    steps = sorted({int(v) for v in np.geomspace(1, lists, num=40).round()} | {lists})
    return [v for v in steps if v <= lists]


def sample_queries(
    ids: np.ndarray, vectors: np.ndarray, n: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Query ids and vectors: ``n // 2`` indexed items (searched without themselves),
    and as many fresh vectors drawn from a Gaussian with the items' mean and
    covariance (id -1: out-of-sample queries, like user vectors in the same space)."""
    rng = np.random.default_rng(seed)
    items = min(n - n // 2, ids.shape[0])
    rows = np.sort(rng.choice(ids.shape[0], items, replace=False))
    fit = vectors[rng.choice(ids.shape[0], min(ids.shape[0], 20_000), replace=False)]
    fresh = rng.multivariate_normal(fit.mean(axis=0), np.cov(fit, rowvar=False), n // 2)
    query_ids = np.concatenate([ids[rows], np.full(n // 2, -1, dtype=np.int64)])
    queries = np.concatenate([vectors[rows], fresh]).astype(np.float32)
    return query_ids, np.ascontiguousarray(queries)


def exact_truth(
    ids: np.ndarray, vectors: np.ndarray, query_ids: np.ndarray, queries: np.ndarray
) -> np.ndarray:
    """Exact top-``K`` ids per query with the query's own id excluded, blockwise
    (a fresh query has id -1, which matches nothing)."""
    block = max(1, _BLOCK_FLOATS // max(1, vectors.shape[0]))
    k = min(K, vectors.shape[0] - 1)
    out = np.empty((queries.shape[0], k), dtype=np.int64)
    for start in range(0, queries.shape[0], block):
        scores = queries[start : start + block] @ vectors.T
        scores[ids[None, :] == query_ids[start : start + block, None]] = -np.inf
        pos, _ = top_k_rows(scores, k)
        out[start : start + block] = ids[pos]
    return out


def per_query_recall(found: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Fraction of each exact top-k list that ``found`` recovered, one value per query."""
    hits = [np.intersect1d(f, t).size / max(1, t.size) for f, t in zip(found, truth, strict=True)]
    return np.asarray(hits, dtype=np.float64)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean recall over the queries (1.0 for none)."""
    hits = per_query_recall(found, truth)
    return float(hits.mean()) if hits.size else 1.0


def lower_bound(hits: np.ndarray) -> float:
    """Mean recall minus one standard error: a value that meets the target by this
    bound also meets it on other queries more often than a bare sample mean would."""
    if hits.size < 2:
        return float(hits.mean()) if hits.size else 1.0
    return float(hits.mean() - hits.std(ddof=1) / np.sqrt(hits.size))


def tune(
    index: Tunable,
    ids: np.ndarray,
    vectors: np.ndarray,
    target: float,
    *,
    queries: int = DEFAULT_QUERIES,
    seed: int = 0,
) -> Tuning:
    """Set ``index``'s search parameter to the smallest ladder value meeting ``target``.

    ``ids``/``vectors`` must be everything the index holds (exact truth is computed
    over them). When even the top of the ladder misses, that value is kept and the
    shortfall is logged and recorded (``met=False``), never hidden.
    """
    checked_target(target)
    started = time.perf_counter()
    name = SEARCH_PARAMS[index.kind]
    query_ids, q = sample_queries(ids, vectors, queries, seed)
    exclude = [np.array([i], dtype=np.int64) for i in query_ids]
    truth = exact_truth(ids, vectors, query_ids, q)
    value, hits = 0, np.zeros(0)
    for value in ladder(index):
        index.set_search_param(name, value)
        hits = per_query_recall(index.search(q, truth.shape[1], exclude)[0], truth)
        if group_bound(hits, query_ids) >= target:
            break
    measured, bound = float(hits.mean()), group_bound(hits, query_ids)
    met = bound >= target
    if not met:
        log.warning(
            "%s: recall@10 %.3f (-1 s.e.: %.3f) at the largest %s=%d misses the target %.3f",
            index.kind,
            measured,
            bound,
            name,
            value,
            target,
        )
    seconds = time.perf_counter() - started
    return Tuning(target, measured, bound, name, value, int(q.shape[0]), met, seconds)


def group_bound(hits: np.ndarray, query_ids: np.ndarray) -> float:
    """The lower bound of the worse query group (items or fresh vectors)."""
    groups = [hits[query_ids >= 0], hits[query_ids < 0]]
    return min(lower_bound(g) for g in groups if g.size)


def combine(tunings: list[dict[str, Any]]) -> dict[str, Any] | None:
    """One summary of separately tuned shards: the worst recall, the largest value."""
    if not tunings:
        return None
    worst = min(tunings, key=lambda t: float(t["measured_recall"]))
    return {
        **worst,
        "value": max(int(t["value"]) for t in tunings),
        "met": all(bool(t["met"]) for t in tunings),
        "per_shard": [int(t["value"]) for t in tunings],
    }
