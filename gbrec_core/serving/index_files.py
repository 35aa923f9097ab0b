"""The signed index files of one serving home, per model version.

Everything the index manager reads or writes under ``$GBREC_HOME/indices/<version>``
goes through here with one :class:`Signer` (``GBREC_SIGNING_KEY``, or the key
generated into the home): the stored embeddings and the ``GBREC_INDEX_KIND`` shard
set are written signed and verified before parsing. A folder that fails verification
is refused with ``SignatureError``; each refusal is counted and logged here.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np

from gbrec_core.access.secret_keys import signing_key
from gbrec_core.access.signing import Signer
from gbrec_core.errors import IndexLoadError, SignatureError
from gbrec_core.index import (
    EMBEDDINGS_DIR,
    ShardedIndex,
    StoredEmbeddings,
    VectorIndex,
    build_shard_set,
    load_embeddings,
    load_index,
    read_shard_set,
    save_embeddings,
)
from gbrec_core.index.factory import SHARD_SET
from gbrec_core.settings import Settings

log = logging.getLogger(__name__)


class IndexFiles:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.signer = Signer(signing_key(settings))
        #: Folders refused because their signature was missing or wrong.
        self.signature_failures = 0
        self._lock = threading.Lock()

    def version_dir(self, version: str) -> Path:
        return self.settings.index_dir / version

    def path(self, version: str) -> Path:
        return self.version_dir(version) / self.settings.index_kind

    def has_index(self, version: str) -> bool:
        path = self.path(version)
        return (path / SHARD_SET).is_file() or (path / "manifest.json").is_file()

    def refused(self, error: SignatureError) -> None:
        """Count and log a folder refused for its signature."""
        with self._lock:
            self.signature_failures += 1
        log.error("refusing an index folder: %s", error)

    def stored(self, version: str) -> StoredEmbeddings | None:
        """The version's verified embeddings; None when absent or unusable (logged)."""
        folder = self.version_dir(version) / EMBEDDINGS_DIR
        if not (folder / SHARD_SET).is_file():
            return None
        try:
            return load_embeddings(folder, signer=self.signer)
        except SignatureError as e:
            self.refused(e)
        except IndexLoadError as e:
            log.error("stored embeddings of v%s are unusable (%s); using the bundle's", version, e)
        return None

    def store(self, version: str, book_ids: np.ndarray, vectors: np.ndarray) -> StoredEmbeddings:
        """Store (signed) the bundle's own vectors as the version's embeddings."""
        folder = self.version_dir(version) / EMBEDDINGS_DIR
        meta = {"model_version": version, "source": f"v{version}", "built_by": "api"}
        shards = self.settings.index_shards
        save_embeddings(folder, book_ids, vectors, shards=shards, meta=meta, signer=self.signer)
        return load_embeddings(folder, signer=self.signer)

    def open(self, version: str, stored: StoredEmbeddings) -> VectorIndex:
        """The version's index, verified and built from ``stored``'s vectors.

        ``SignatureError`` (counted) when a manifest is unsigned or tampered with,
        ``IndexLoadError`` when a file is corrupted or the index is stale.
        """
        path = self.path(version)
        try:
            index = load_index(path, signer=self.signer)
        except SignatureError as e:
            self.refused(e)
            raise
        built_from = getattr(index, "meta", {}).get("fingerprint")
        if built_from not in (None, stored.fingerprint):
            index.close()
            raise IndexLoadError(f"{path} was built from other vectors than the stored ones")
        return index

    def build(self, version: str, stored: StoredEmbeddings) -> ShardedIndex:
        """Build (signed, tuned to ``GBREC_INDEX_TARGET_RECALL``) the version's shard set."""
        meta = {
            "model_version": stored.model_version or version,
            "source": stored.source or f"v{version}",
            "fingerprint": stored.fingerprint,
            "built_by": "api",
        }
        return build_shard_set(
            self.path(version),
            self.settings.index_kind,
            stored.book_ids,
            stored.vectors,
            shards=self.shard_count(version),
            meta=meta,
            signer=self.signer,
            target_recall=self.settings.index_target_recall,
            **self.settings.index_params(self.settings.index_kind),
        )

    def shard_count(self, version: str) -> int:
        """Keep the pipeline's partitioning (one Dagster partition per shard) when known."""
        for folder in (self.path(version), self.version_dir(version) / EMBEDDINGS_DIR):
            try:
                return int(read_shard_set(folder, self.signer)["shards"])
            except SignatureError as e:
                self.refused(e)
            except IndexLoadError:
                continue
        return self.settings.index_shards
