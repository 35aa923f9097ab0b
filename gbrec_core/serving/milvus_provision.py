"""The Milvus collection a serving process searches for one model version.

On a Milvus server (``GBREC_MILVUS_URI=http://host:19530``) the API reads the
``gbrec_v<version>`` collection the ``milvus_collection`` asset wrote, shared by every
API process, and creates it from the stored embeddings when the asset has not run.
Milvus Lite is one process per data folder (it holds a lock), so the asset's file
cannot be opened while the API runs; each API process therefore keeps a private Lite
folder ``$GBREC_HOME/milvus/api-<pid>.db`` filled from the same signed embeddings,
drops a version's collection when it retires it and removes the folder on close
(folders of dead processes are swept at the next start).

A collection is not signed, so it is tied to the signed embeddings before use: its row
count must match and a few sampled vectors must equal the stored ones.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import numpy as np

from gbrec_core.errors import GbrecError, IndexLoadError, UnavailableError
from gbrec_core.index import MilvusIndex, StoredEmbeddings, make_index, version_params
from gbrec_core.settings import Settings

log = logging.getLogger(__name__)

SPOT_CHECKS = 3
#: A serving search must not hang on a stopped server: seconds before falling back.
SERVING_TIMEOUT = 2.0


def is_server(uri: str) -> bool:
    return "://" in uri


def serving_uri(settings: Settings) -> str:
    """The configured server, or this process's private Milvus Lite folder."""
    uri = settings.resolved_milvus_uri
    if is_server(uri):
        return uri
    folder = settings.resolved_home / "milvus"
    sweep_dead_folders(folder)
    return str(folder / f"api-{os.getpid()}.db")


def provision(uri: str, version: str, stored: StoredEmbeddings) -> MilvusIndex:
    """The version's collection, checked against ``stored`` (created from it if absent)."""
    dim = int(stored.vectors.shape[1])
    params = version_params(uri, version)
    index = make_index("milvus", dim, metric="ip", timeout=SERVING_TIMEOUT, **params)
    assert isinstance(index, MilvusIndex)
    try:
        _fill_or_check(index, stored)
    except GbrecError:
        index.close()
        raise
    except Exception as e:  # pymilvus raises many types; all mean "cannot serve from it"
        index.close()
        raise UnavailableError(f"Milvus at {uri} cannot serve v{version}: {e}") from e
    return index


def _fill_or_check(index: MilvusIndex, stored: StoredEmbeddings) -> None:
    name, held = index.config.collection, len(index)
    if held == 0:
        log.info("filling Milvus collection %s with %d vectors", name, len(stored))
        index.add(stored.book_ids, stored.vectors)
        return
    if held != len(stored):
        raise IndexLoadError(
            f"Milvus collection {name!r} holds {held} vectors, the signed embeddings {len(stored)}"
        )
    rows = np.linspace(0, len(stored) - 1, SPOT_CHECKS).astype(int)
    found = index.vectors_of([int(stored.book_ids[r]) for r in rows])
    for row in rows:
        got = found.get(int(stored.book_ids[row]))
        if got is None or not np.allclose(got, stored.vectors[row], atol=1e-5):
            raise IndexLoadError(
                f"Milvus collection {name!r} holds other vectors than the signed embeddings "
                f"(book {int(stored.book_ids[row])})"
            )


def release_private(uri: str) -> None:
    """Stop this process's Milvus Lite engine and delete its folder (no-op for servers)."""
    if is_server(uri):
        return
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_server(uri)
    shutil.rmtree(uri, ignore_errors=True)


def sweep_dead_folders(folder: Path) -> None:
    """Remove ``api-<pid>.db`` folders of processes that no longer run."""
    for path in folder.glob("api-*.db"):
        pid = path.name.removeprefix("api-").removesuffix(".db")
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
