"""Signed index folders: manifests are verified before parsing; tampering is refused."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from gbrec_core.access.signing import Signer
from gbrec_core.errors import IndexLoadError, SignatureError
from gbrec_core.index import (
    build_shard_set,
    load_embeddings,
    load_index,
    make_index,
    save_embeddings,
)
from gbrec_core.index.synthetic import mf_vectors

DIM = 16
SIGNER = Signer(b"k" * 32)
OTHER = Signer(b"o" * 32)


@pytest.fixture
def signed(tmp_path: Path) -> Path:
    index = make_index("faiss-flat", DIM, signer=SIGNER)
    index.add(np.arange(300, dtype=np.int64), mf_vectors(300, DIM, seed=3))
    return index.save(tmp_path / "idx")


def test_signed_folder_loads_with_the_key_and_is_refused_without_it(signed: Path) -> None:
    assert (signed / "manifest.sig").read_text().startswith("hmac-sha256:")
    assert len(load_index(signed, signer=SIGNER)) == 300
    with pytest.raises(SignatureError, match="wrong signature"):
        load_index(signed, signer=OTHER)


def test_unsigned_folder_is_refused_when_a_signature_is_required(tmp_path: Path) -> None:
    index = make_index("faiss-flat", DIM)
    index.add(np.arange(50, dtype=np.int64), mf_vectors(50, DIM, seed=4))
    path = index.save(tmp_path / "plain")
    assert not (path / "manifest.sig").exists()
    with pytest.raises(SignatureError, match="not signed"):
        load_index(path, signer=SIGNER)


def test_edited_manifest_is_refused_before_parsing(signed: Path) -> None:
    manifest = signed / "manifest.json"
    manifest.write_bytes(manifest.read_bytes().replace(b'"faiss-flat"', b'"exact"'))
    with pytest.raises(SignatureError, match="wrong signature"):
        load_index(signed, signer=SIGNER)
    manifest.write_bytes(b"{not json")  # never parsed: the signature fails first
    with pytest.raises(SignatureError):
        load_index(signed, signer=SIGNER)


def test_tampered_shard_file_is_refused_even_with_its_checksum_updated(signed: Path) -> None:
    victim = next(signed.glob("*.faiss"))
    raw = bytearray(victim.read_bytes())
    raw[-64:] = bytes(b ^ 0xFF for b in raw[-64:])
    victim.write_bytes(bytes(raw))
    with pytest.raises(IndexLoadError, match="checksum mismatch"):
        load_index(signed, signer=SIGNER)
    # An attacker who also rewrites the checksum in the manifest breaks its signature.
    manifest = json.loads((signed / "manifest.json").read_text())
    manifest["files"][victim.name]["sha256"] = hashlib.sha256(bytes(raw)).hexdigest()
    (signed / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    with pytest.raises(SignatureError):
        load_index(signed, signer=SIGNER)


def test_shard_sets_and_embeddings_are_signed_throughout(tmp_path: Path) -> None:
    ids, vectors = np.arange(400, dtype=np.int64), mf_vectors(400, DIM, seed=5)
    build_shard_set(tmp_path / "set", "faiss-flat", ids, vectors, shards=2, signer=SIGNER).close()
    save_embeddings(tmp_path / "emb", ids, vectors, shards=2, signer=SIGNER)
    assert len(load_index(tmp_path / "set", signer=SIGNER)) == 400
    assert len(load_embeddings(tmp_path / "emb", signer=SIGNER)) == 400
    set_manifest = tmp_path / "set" / "shards.json"
    set_manifest.write_text(set_manifest.read_text().replace("shard-1", "shard-0"))
    with pytest.raises(SignatureError, match="shard-set manifest"):
        load_index(tmp_path / "set", signer=SIGNER)
    (tmp_path / "emb" / "shard-1" / "manifest.sig").unlink()
    with pytest.raises(SignatureError, match="not signed"):
        load_embeddings(tmp_path / "emb", signer=SIGNER)
