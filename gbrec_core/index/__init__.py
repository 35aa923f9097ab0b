"""Vector indices for top-k inner-product search: exact, FAISS, hnswlib and Milvus.

``make_index(kind, dim, metric="ip", shards=1, **params)`` builds one,
``load_index(path)`` opens a saved one; every kind implements :class:`VectorIndex`.
"""

from gbrec_core.index.base import PAD_ID, PAD_SCORE, VectorIndex
from gbrec_core.index.exact import ExactConfig
from gbrec_core.index.factory import KINDS, load_index, make_index
from gbrec_core.index.faiss_backend import (
    FaissFlatConfig,
    FaissHNSWConfig,
    FaissIVFConfig,
    FaissIVFPQConfig,
)
from gbrec_core.index.hnswlib_backend import HnswConfig
from gbrec_core.index.milvus import MilvusConfig, MilvusIndex, collection_name
from gbrec_core.index.sharded import ShardedIndex

__all__ = [
    "KINDS",
    "PAD_ID",
    "PAD_SCORE",
    "ExactConfig",
    "FaissFlatConfig",
    "FaissHNSWConfig",
    "FaissIVFConfig",
    "FaissIVFPQConfig",
    "HnswConfig",
    "MilvusConfig",
    "MilvusIndex",
    "ShardedIndex",
    "VectorIndex",
    "collection_name",
    "load_index",
    "make_index",
]
