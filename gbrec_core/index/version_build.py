"""Build the selected shards of one model version's indices and embeddings.

Layout under ``root`` (``$GBREC_HOME/indices/<model version>``): ``embeddings/shard-<i>``
holds the vectors of the books with ``book_id % shards == i``, and each index kind has
``<kind>/shard-<i>`` plus ``<kind>/shards.json``. Building shard ``i`` writes only
shard ``i``'s folders (and rewrites the set manifests, identical for every shard), so
the partitions of one version can be built in separate processes. Every folder is
stamped with the fingerprint of the *whole* embedding set, which is how a shard
rebuilt from other vectors than its siblings is caught when the set is opened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gbrec_core.access.signing import Signer
from gbrec_core.index.embeddings import EMBEDDINGS_DIR, fingerprint, save_embeddings_shard
from gbrec_core.index.shardset import build_shard, shard_dir_name


@dataclass(frozen=True)
class VersionShards:
    """What :func:`build_version_shards` built: the set fingerprint and per-shard stats.

    ``stats`` is keyed ``"<kind>/shard-<i>"`` and holds plain JSON values only.
    """

    fingerprint: str
    stats: dict[str, dict[str, Any]]


def build_version_shards(
    root: str | Path,
    book_ids: np.ndarray,
    vectors: np.ndarray,
    *,
    shards: int,
    shard_ids: Sequence[int],
    kinds: Sequence[str],
    meta: Mapping[str, Any],
    signer: Signer | None = None,
    target_recall: float | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
) -> VersionShards:
    """Write the embeddings and every ``kinds`` index of each shard in ``shard_ids``.

    ``book_ids``/``vectors`` are the full set of the version (every shard's rows); each
    shard keeps only its own rows. ``meta`` (model version, vector source) is recorded
    in every manifest together with the set fingerprint. ``InvalidInputError`` when a
    shard id is outside ``[0, shards)`` or the ids and vectors do not match.
    ``signer`` signs every manifest; ``target_recall`` tunes each approximate shard
    (``stats`` then carries its ``tuning``); ``params`` maps a kind to its build
    parameters (e.g. ``{"faiss-hnsw": {"storage": "sq8"}}``).
    """
    root = Path(root)
    fp = fingerprint(book_ids, vectors)
    stamped = {**meta, "fingerprint": fp}
    stats: dict[str, dict[str, Any]] = {}
    for shard in shard_ids:
        save_embeddings_shard(
            root / EMBEDDINGS_DIR,
            book_ids,
            vectors,
            shard=shard,
            shards=shards,
            meta=stamped,
            fingerprint_=fp,
            signer=signer,
        )
        for kind in kinds:
            stats[f"{kind}/{shard_dir_name(shard)}"] = jsonable_stats(
                _build_kind(
                    root / kind,
                    kind,
                    book_ids,
                    vectors,
                    shard=shard,
                    shards=shards,
                    meta=stamped,
                    signer=signer,
                    target_recall=target_recall,
                    **(params or {}).get(kind, {}),
                )
            )
    return VersionShards(fingerprint=fp, stats=stats)


def _build_kind(
    folder: Path,
    kind: str,
    book_ids: np.ndarray,
    vectors: np.ndarray,
    *,
    shard: int,
    shards: int,
    meta: Mapping[str, Any],
    signer: Signer | None,
    target_recall: float | None,
    **params: Any,
) -> dict[str, Any]:
    """Build and save one shard of one kind; its stats, with the index closed."""
    index = build_shard(
        folder,
        kind,
        book_ids,
        vectors,
        shard=shard,
        shards=shards,
        meta=meta,
        signer=signer,
        target_recall=target_recall,
        **params,
    )
    try:
        return index.stats()
    finally:
        index.close()


def jsonable_stats(stats: Mapping[str, Any]) -> dict[str, Any]:
    """``stats`` with numpy scalars turned into Python numbers (top level only)."""
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in stats.items()}
