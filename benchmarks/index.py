"""Vector-index benchmark: build time, memory, recall@10 vs exact, single/batched QPS.

    python benchmarks/index.py [--sizes 10000,1000000] [--shards 1,4] [--kinds ...] [--quick]
    python benchmarks/index.py --target-recall 0.97 [--sizes 1000000] [--kinds faiss-hnsw]
        [--ef-construction 200] [--m 16] [--cache DIR]

With ``--target-recall`` it benchmarks self-tuning instead (see ``tuned.py``): the
parameter the build chose, the recall it measured, recall on held-out queries, and
single-query QPS next to exact search and to the raw engine with the same parameter.

Vectors are MF-like (low-rank latent factors, lognormal norms); queries come from the
same distribution, like ALS user vectors. Milvus runs on Milvus Lite in a temp folder.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import numpy as np

from gbrec_core.index import KINDS, VectorIndex, make_index
from gbrec_core.index.synthetic import mf_vectors

DIM = 64


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(
        np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)])
    )


def single_qps(index: VectorIndex, queries: np.ndarray, seconds: float) -> float:
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        index.search(queries[done % len(queries)], 10)
        done += 1
    return done / (time.perf_counter() - start)


def batched_qps(index: VectorIndex, queries: np.ndarray) -> float:
    start = time.perf_counter()
    index.search(queries, 10)
    return len(queries) / (time.perf_counter() - start)


def async_qps(index: VectorIndex, queries: np.ndarray, batching: bool) -> float:
    """256 concurrent single-query ``asearch`` calls, with or without the micro-batcher."""
    index.batching = batching

    async def run() -> float:
        start = time.perf_counter()
        await asyncio.gather(*(index.asearch(q, 10) for q in queries[:256]))
        return min(256, len(queries)) / (time.perf_counter() - start)

    return asyncio.run(run())


def bench_one(
    kind: str,
    shards: int,
    ids: np.ndarray,
    x: np.ndarray,
    q: np.ndarray,
    truth: np.ndarray,
    args: argparse.Namespace,
    tmp: Path,
) -> dict[str, object]:
    extra: dict[str, object] = {}
    if kind == "milvus":
        extra = {"uri": str(tmp / "bench.db"), "collection": f"b{len(ids)}_{shards}"}
    index = make_index(kind, DIM, shards=shards, **extra)
    start = time.perf_counter()
    index.add(ids, x)
    build = time.perf_counter() - start
    found = index.search(q, 10)[0]
    row: dict[str, object] = {
        "kind": kind,
        "n": len(ids),
        "shards": shards,
        "build_s": build,
        "MiB": index.stats()["bytes"] / 2**20,
        "recall@10": recall(found, truth),
        "single_qps": single_qps(index, q, args.seconds),
        "batch_qps": batched_qps(index, q),
    }
    if args.async_:
        row["async_qps"] = async_qps(index, q, batching=False)
        row["async_batched_qps"] = async_qps(index, q, batching=True)
    if kind == "milvus":
        index.drop()  # type: ignore[attr-defined]
    index.close()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--shards", default="1,4")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=3.0, help="per single-query QPS run")
    parser.add_argument("--async", dest="async_", action="store_true", help="micro-batch study")
    parser.add_argument("--quick", action="store_true", help="10k vectors, 1 shard, short runs")
    parser.add_argument("--target-recall", type=float, help="benchmark self-tuning instead")
    parser.add_argument("--cache", help="with --target-recall: keep built indices here")
    parser.add_argument(
        "--build-params", help='with --target-recall: e.g. {"ef_construction": 200}'
    )
    parser.add_argument("--m", type=int, help="with --target-recall: HNSW M")
    parser.add_argument(
        "--ef-construction", type=int, help="with --target-recall: HNSW ef_construction"
    )
    args = parser.parse_args()
    if args.target_recall is not None:
        from tuned import run_tuned

        run_tuned(args)
        return
    if args.quick:
        args.sizes, args.shards, args.queries, args.seconds = "10000", "1", 300, 1.0
    header = ("kind", "n", "shards", "build_s", "MiB", "recall@10", "single_qps", "batch_qps")
    if args.async_:
        header = (*header, "async_qps", "async_batched_qps")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            x, q = mf_vectors(n, DIM, seed=1), mf_vectors(args.queries, DIM, seed=2)
            ids = np.arange(n, dtype=np.int64)
            oracle = make_index("exact", DIM)
            oracle.add(ids, x)
            truth = oracle.search(q, 10)[0]
            for shards in (int(s) for s in args.shards.split(",")):
                for kind in args.kinds.split(","):
                    row = bench_one(kind, shards, ids, x, q, truth, args, Path(tmp))
                    print("| " + " | ".join(_fmt(row[h]) for h in header) + " |", flush=True)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:,.0f}"
    return str(value)


if __name__ == "__main__":
    main()
