"""Vector indices for top-k inner-product search: exact, FAISS, hnswlib and Milvus.

``make_index(kind, dim, metric="ip", shards=1, **params)`` builds one,
``load_index(path)`` opens a saved one; every kind implements :class:`VectorIndex`.
``load_shards(paths)`` / ``load_index(set_folder)`` open separately saved shards as
one index; ``save_embeddings``/``load_embeddings`` keep the vectors beside it;
``build_version_shards`` builds chosen shards of a model version's indices and vectors.
``make_index(..., target_recall=0.95)`` tunes the search parameter of approximate kinds
against exact search (``tuning``); ``signer=`` signs manifests on save and ``load_*``
functions verify them before parsing.
"""

from gbrec_core.index.base import PAD_ID, PAD_SCORE, VectorIndex
from gbrec_core.index.embeddings import (
    EMBEDDINGS_DIR,
    StoredEmbeddings,
    fingerprint,
    load_embeddings,
    save_embeddings,
    save_embeddings_shard,
)
from gbrec_core.index.exact import ExactConfig
from gbrec_core.index.factory import KINDS, load_index, make_index
from gbrec_core.index.faiss_backend import (
    FaissFlatConfig,
    FaissHNSWConfig,
    FaissIVFConfig,
    FaissIVFPQConfig,
)
from gbrec_core.index.hnswlib_backend import HnswConfig
from gbrec_core.index.milvus import (
    SERVING_PREFIX,
    MilvusConfig,
    MilvusIndex,
    collection_name,
    version_params,
)
from gbrec_core.index.sharded import ShardedIndex
from gbrec_core.index.shardset import (
    build_shard,
    build_shard_set,
    load_shard_set,
    load_shards,
    read_shard_set,
    shard_dir_name,
)
from gbrec_core.index.tuning import SEARCH_PARAMS, Tuning
from gbrec_core.index.version_build import VersionShards, build_version_shards, jsonable_stats

__all__ = [
    "EMBEDDINGS_DIR",
    "KINDS",
    "PAD_ID",
    "PAD_SCORE",
    "SEARCH_PARAMS",
    "SERVING_PREFIX",
    "ExactConfig",
    "FaissFlatConfig",
    "FaissHNSWConfig",
    "FaissIVFConfig",
    "FaissIVFPQConfig",
    "HnswConfig",
    "MilvusConfig",
    "MilvusIndex",
    "ShardedIndex",
    "StoredEmbeddings",
    "Tuning",
    "VectorIndex",
    "VersionShards",
    "build_shard",
    "build_shard_set",
    "build_version_shards",
    "collection_name",
    "fingerprint",
    "jsonable_stats",
    "load_embeddings",
    "load_index",
    "load_shard_set",
    "load_shards",
    "make_index",
    "read_shard_set",
    "save_embeddings",
    "save_embeddings_shard",
    "shard_dir_name",
    "version_params",
]
