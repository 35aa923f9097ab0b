"""The self-tuning benchmark behind ``benchmarks/index.py --target-recall T``.

For each size and kind: build with ``target_recall=T`` (the build picks the cheapest
``ef_search``/``ef``/``nprobe`` reaching T on its own sampled queries), then measure on
held-out user-like queries (another seed of ``mf_vectors``) the recall@10 against
exact search and the single-query QPS of (a) the gbrec index, (b) the raw faiss /
hnswlib object inside it with the same parameter, one thread, no wrapper, and (c)
exact search (the ``exact`` kind and ``faiss-flat``), all on one thread and all four
in the same alternating slices, so that every ratio compares like load with like.
The 1-minute load average before and after the QPS runs is printed with each row.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from gbrec_core.index import VectorIndex, load_index, make_index
from gbrec_core.index.shard import omp_threads
from gbrec_core.index.sharded import ShardedIndex
from gbrec_core.index.synthetic import mf_vectors
from gbrec_core.index.tuning import recall

DIM = 64
HEADER = (
    "kind",
    "n",
    "target",
    "chosen",
    "tuning_recall",
    "heldout_recall@10",
    "build_s",
    "qps",
    "raw_qps",
    "vs_raw",
    "exact_qps",
    "flat_qps",
    "vs_exact",
    "vs_flat",
    "load_1m",
)
Search = Callable[[np.ndarray], object]


def interleaved_qps(searches: list[Search], queries: np.ndarray, seconds: float) -> list[float]:
    """Sequential single-query QPS of each of ``searches``, measured in alternating
    0.25 s slices so that load from other processes on a shared machine hits all alike."""
    done, spent = [0] * len(searches), [0.0] * len(searches)
    while sum(spent) < seconds * len(searches):
        for n, search in enumerate(searches):
            start = time.perf_counter()
            while time.perf_counter() - start < 0.25:
                row = done[n] % len(queries)
                search(queries[row : row + 1])
                done[n] += 1
            spent[n] += time.perf_counter() - start
    return [d / s for d, s in zip(done, spent, strict=True)]


def raw_search(index: ShardedIndex) -> Search:
    """The engine object's own single-thread search, as a user of faiss/hnswlib calls it."""
    engine = index.shards[0].index  # type: ignore[attr-defined]
    if index.kind == "hnsw":
        return lambda q: engine.knn_query(q, k=10, num_threads=1)
    return lambda q: engine.search(q, 10)


def exact_baselines(x: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, list[VectorIndex]]:
    """Exact top-10 of ``q`` and the ``exact`` and ``faiss-flat`` indices of ``x``."""
    ids = np.arange(x.shape[0], dtype=np.int64)
    exact, flat = make_index("exact", DIM), make_index("faiss-flat", DIM)
    exact.add(ids, x)
    flat.add(ids, x)
    return exact.search(q, 10)[0], [exact, flat]


def bench_kind(
    kind: str, x: np.ndarray, q: np.ndarray, baselines: list[VectorIndex], args: argparse.Namespace
) -> dict[str, object]:
    index = built(kind, x, args)
    assert index.tuning is not None
    tuned = index.tuning
    found = index.search(q, 10)[0]
    searches = [_search_of(index), raw_search(index), *(_search_of(b) for b in baselines)]
    load = os.getloadavg()[0]
    with omp_threads(1):  # as the wrapper runs single queries: one OpenMP thread
        rate, raw_rate, exact_rate, flat_rate = interleaved_qps(searches, q, args.seconds)
    load = (load + os.getloadavg()[0]) / 2
    index.close()
    return {
        "kind": _label(kind, args),
        "n": x.shape[0],
        "target": args.target_recall,
        "chosen": f"{tuned['parameter']}={tuned['value']}",
        "tuning_recall": tuned["measured_recall"],
        "found": found,
        "build_s": index.build_seconds,
        "qps": rate,
        "raw_qps": raw_rate,
        "vs_raw": rate / raw_rate,
        "exact_qps": exact_rate,
        "flat_qps": flat_rate,
        "vs_exact": rate / exact_rate,
        "vs_flat": rate / flat_rate,
        "load_1m": load,
    }


def _search_of(index: VectorIndex) -> Search:
    return lambda v: index.search(v, 10)


def build_params(args: argparse.Namespace) -> dict[str, Any]:
    """``--build-params`` JSON with ``--m`` / ``--ef-construction`` on top."""
    params: dict[str, Any] = json.loads(args.build_params or "{}")
    if args.m is not None:
        params["m"] = args.m
    if args.ef_construction is not None:
        params["ef_construction"] = args.ef_construction
    return params


def _label(kind: str, args: argparse.Namespace) -> str:
    params = build_params(args)
    return f"{kind} {json.dumps(params, sort_keys=True)}" if params else kind


def built(kind: str, x: np.ndarray, args: argparse.Namespace) -> ShardedIndex:
    """A tuned index of ``x`` (reused from ``--cache DIR`` when built there before)."""
    params = build_params(args)
    tag = "-".join(f"{k}{v}" for k, v in sorted(params.items()))
    path = Path(args.cache or ".") / f"{kind}-{x.shape[0]}-{args.target_recall}{tag}"
    if args.cache and path.is_dir():
        index = load_index(path, mmap=False)
    else:
        index = make_index(kind, DIM, target_recall=args.target_recall, **params)
        index.add(np.arange(x.shape[0], dtype=np.int64), x)
        if args.cache:
            index.save(path)
    assert isinstance(index, ShardedIndex)
    return index


def run_tuned(args: argparse.Namespace) -> None:
    print("| " + " | ".join(HEADER) + " |")
    print("|" + "---|" * len(HEADER), flush=True)
    for n in (int(s) for s in args.sizes.split(",")):
        x, q = mf_vectors(n, DIM, seed=1), mf_vectors(args.queries, DIM, seed=2)
        truth, baselines = exact_baselines(x, q)
        for kind in args.kinds.split(","):
            row = bench_kind(kind, x, q, baselines, args)
            row["heldout_recall@10"] = recall(row.pop("found"), truth)  # type: ignore[arg-type]
            print("| " + " | ".join(_fmt(row[h]) for h in HEADER) + " |", flush=True)
        for baseline in baselines:
            baseline.close()


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:,.0f}"
    return str(value)
