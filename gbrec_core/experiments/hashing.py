"""GrowthBook-compatible deterministic bucketing (FNV-1a 32-bit, hash versions 1 and 2).

These functions reproduce GrowthBook's SDK helpers (``hash``, ``getBucketRanges``,
``chooseVariation``, ``inNamespace``, ``getEqualWeights``) bit for bit, so any GrowthBook
SDK given the same seed, user id and weights picks the same variant offline.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

BucketRange = tuple[float, float]

_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193
_MASK = 0xFFFFFFFF


def fnv1a32(text: str) -> int:
    """32-bit FNV-1a over the string's code points (as GrowthBook's Python SDK)."""
    h = _FNV_OFFSET
    for ch in text:
        h = ((h ^ ord(ch)) * _FNV_PRIME) & _MASK
    return h


def gb_hash(seed: str, value: str, version: int) -> float | None:
    """A number in [0, 1): v1 has 3 decimals, v2 4 decimals; None for unknown versions."""
    if version == 2:
        return (fnv1a32(str(fnv1a32(seed + value))) % 10000) / 10000
    if version == 1:
        return (fnv1a32(value + seed) % 1000) / 1000
    return None


def _fnv1a32_many(texts: Sequence[str]) -> npt.NDArray[np.uint64]:
    """Vectorised FNV-1a: one pass per character position over a padded byte matrix."""
    data = [t.encode("utf-8") for t in texts]
    if any(len(b) != len(t) for b, t in zip(data, texts, strict=True)):
        return np.array([fnv1a32(t) for t in texts], dtype=np.uint64)
    width = max((len(b) for b in data), default=0)
    mat = np.zeros((len(data), width), dtype=np.uint64)
    lengths = np.array([len(b) for b in data])
    for i, b in enumerate(data):
        mat[i, : len(b)] = np.frombuffer(b, dtype=np.uint8)
    h = np.full(len(data), _FNV_OFFSET, dtype=np.uint64)
    for j in range(width):
        live = lengths > j
        h[live] = ((h[live] ^ mat[live, j]) * np.uint64(_FNV_PRIME)) & np.uint64(_MASK)
    return h


def gb_hash_many(seed: str, values: Sequence[str], version: int) -> npt.NDArray[np.float64]:
    """:func:`gb_hash` for many values at once (ASCII fast path; same results)."""
    if version == 2:
        first = _fnv1a32_many([seed + v for v in values])
        second = _fnv1a32_many([str(int(x)) for x in first])
        return (second % np.uint64(10000)).astype(np.float64) / 10000
    if version == 1:
        return (_fnv1a32_many([v + seed for v in values]) % np.uint64(1000)).astype(
            np.float64
        ) / 1000
    raise ValueError(f"unknown hash version {version}")


def get_equal_weights(num_variations: int) -> list[float]:
    if num_variations < 1:
        return []
    return [1.0 / num_variations] * num_variations


def get_bucket_ranges(
    num_variations: int, coverage: float = 1.0, weights: Sequence[float] | None = None
) -> list[BucketRange]:
    """Each variant's [start, start + coverage * weight) slice of [0, 1), as GrowthBook.

    Because a variant's slice grows from a fixed start, raising coverage only adds users:
    nobody already enrolled changes variant (the basis of staged rollouts).
    """
    coverage = min(max(coverage, 0.0), 1.0)
    w = list(weights) if weights is not None else get_equal_weights(num_variations)
    if len(w) != num_variations or not 0.99 <= sum(w) <= 1.01:
        w = get_equal_weights(num_variations)
    ranges: list[BucketRange] = []
    cumulative = 0.0
    for weight in w:
        start = cumulative
        cumulative += weight
        ranges.append((start, start + coverage * weight))
    return ranges


def in_range(n: float, bucket: BucketRange) -> bool:
    return bucket[0] <= n < bucket[1]


def choose_variation(n: float, ranges: Sequence[BucketRange]) -> int:
    """Index of the range holding ``n``, or -1 when ``n`` falls outside coverage."""
    for i, bucket in enumerate(ranges):
        if in_range(n, bucket):
            return i
    return -1


def in_namespace(user_id: str, namespace: tuple[str, float, float]) -> bool:
    """GrowthBook namespaces: mutually exclusive slices of a shared hash space."""
    n = gb_hash("__" + namespace[0], user_id, 1)
    return n is not None and namespace[1] <= n < namespace[2]
