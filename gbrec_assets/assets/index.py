"""``item_embeddings``, the sharded ``vector_index`` and the optional ``milvus_collection``.

``vector_index`` has one partition per shard (``GBREC_INDEX_SHARDS``); a book lives
in shard ``book_id % shards``. Each partition builds both a FAISS HNSW and an
hnswlib index of its books under ``$GBREC_HOME/indices/<model version>/<kind>/shard-<i>``
(plus ``<kind>/shards.json``, which lists the shards so that ``load_index`` opens them
as one index) and its books' vectors under ``<model version>/embeddings/shard-<i>``,
with the model version, vector source and set fingerprint in every manifest: the API
looks up a book's query vector there and searches exactly from it if a shard breaks.
A single-run backfill policy lets ``gbrec materialize`` build every shard in one
step while the UI can still rebuild one shard alone. Every manifest is signed with the
deployment's signing key; each approximate shard tunes its search parameter to
``GBREC_INDEX_TARGET_RECALL`` and the measured recall is asset metadata.
"""

import dataclasses
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np

from gbrec_assets.assets.registry import RegisteredModel
from gbrec_assets.assets.training import model_asset_name
from gbrec_assets.automation import downstream_condition
from gbrec_assets.resources import GbrecSettingsResource, RegistryResource
from gbrec_assets.retries import NETWORK_RETRY
from gbrec_core.index.milvus import SERVING_PREFIX
from gbrec_core.redaction import redact
from gbrec_core.settings import Settings

INDEX_KINDS: tuple[str, ...] = ("faiss-hnsw", "hnsw")


@dataclasses.dataclass(frozen=True)
class Embeddings:
    """Item vectors for the index, and which model produced them."""

    version: str
    source: str
    book_ids: np.ndarray
    vectors: np.ndarray


def shard_partitions(settings: Settings) -> dg.StaticPartitionsDefinition:
    return dg.StaticPartitionsDefinition([str(i) for i in range(settings.index_shards)])


@dg.asset(
    group_name="index",
    ins={"registered_model": dg.AssetIn(), "als_model": dg.AssetIn()},
    retry_policy=NETWORK_RETRY,
    automation_condition=downstream_condition(),
    description="Item vectors of the registered version (or of ALS when its family has none).",
)
def item_embeddings(
    registry: RegistryResource, registered_model: RegisteredModel, als_model: Any
) -> dg.Output[Embeddings]:
    bundle = registry.registry().load(registered_model.version)
    vectors, source = bundle.item_vectors, f"v{registered_model.version}"
    if vectors is None:
        # EASE/popularity have no factor space; ALS vectors still serve similar-book search.
        vectors, source = als_model.item_vectors(), model_asset_name("als")
    if vectors is None:
        raise dg.Failure("neither the registered model nor ALS produced item vectors")
    emb = Embeddings(
        version=registered_model.version,
        source=source,
        book_ids=np.asarray(vectors.book_ids, dtype=np.int64),
        vectors=np.ascontiguousarray(vectors.vectors, dtype=np.float32),
    )
    return dg.Output(
        emb,
        metadata={
            "version": emb.version,
            "source": source,
            "items": dg.MetadataValue.int(len(emb.book_ids)),
            "dim": dg.MetadataValue.int(int(emb.vectors.shape[1])),
        },
    )


def build_vector_index_asset(settings: Settings) -> dg.AssetsDefinition:
    @dg.asset(
        name="vector_index",
        group_name="index",
        partitions_def=shard_partitions(settings),
        backfill_policy=dg.BackfillPolicy.single_run(),
        automation_condition=downstream_condition(),
        description="One partition per shard: FAISS HNSW and hnswlib indices of its books.",
    )
    def _vector_index(
        context: dg.AssetExecutionContext, gbrec: GbrecSettingsResource, item_embeddings: Embeddings
    ) -> dg.MaterializeResult[None]:
        from gbrec_core.access.secret_keys import signing_key
        from gbrec_core.access.signing import Signer
        from gbrec_core.index import build_version_shards

        emb, settings = item_embeddings, gbrec.settings()
        root = settings.index_dir / emb.version
        built = build_version_shards(
            root,
            emb.book_ids,
            emb.vectors,
            shards=len(context.assets_def.partitions_def.get_partition_keys()),
            shard_ids=[int(key) for key in context.partition_keys],
            kinds=INDEX_KINDS,
            meta={"model_version": emb.version, "source": emb.source},
            signer=Signer(signing_key(settings)),
            target_recall=settings.index_target_recall,
            params={kind: settings.index_params(kind) for kind in INDEX_KINDS},
        )
        tuned = {key: s["tuning"] for key, s in built.stats.items() if s.get("tuning")}
        return dg.MaterializeResult(
            metadata={
                "version": emb.version,
                "path": dg.MetadataValue.path(str(root)),
                "kinds": dg.MetadataValue.json(list(INDEX_KINDS)),
                "vector_source": emb.source,
                "fingerprint": built.fingerprint,
                "shards_built": dg.MetadataValue.json(list(context.partition_keys)),
                "stats": dg.MetadataValue.json(built.stats),
                "target_recall": dg.MetadataValue.float(settings.index_target_recall),
                "measured_recall": dg.MetadataValue.float(
                    min((t["measured_recall"] for t in tuned.values()), default=1.0)
                ),
                "search_parameters": dg.MetadataValue.json(
                    {key: f"{t['parameter']}={t['value']}" for key, t in tuned.items()}
                ),
            }
        )

    return _vector_index


@dg.asset(
    group_name="index",
    retry_policy=NETWORK_RETRY,
    automation_condition=downstream_condition(),
    description="The registered version's item vectors in Milvus (GBREC_VECTOR_BACKEND=milvus): "
    "the collection gbrec_v<version> that API processes read from a Milvus server.",
)
def milvus_collection(
    gbrec: GbrecSettingsResource, item_embeddings: Embeddings
) -> dg.MaterializeResult[None]:
    from gbrec_core.access.secret_keys import signing_key
    from gbrec_core.access.signing import Signer
    from gbrec_core.index import MilvusIndex, jsonable_stats, make_index, version_params

    settings, emb = gbrec.settings(), item_embeddings
    uri = settings.resolved_milvus_uri
    if "://" not in uri:
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    index = make_index(
        "milvus",
        dim=int(emb.vectors.shape[1]),
        metric="ip",
        shards=settings.index_shards,
        signer=Signer(signing_key(settings)),
        **version_params(uri, emb.version),
    )
    assert isinstance(index, MilvusIndex)
    index.drop()  # a re-run (or a retry after a partial insert) replaces the collection
    index.add(emb.book_ids, emb.vectors)
    path = settings.index_dir / emb.version / "milvus"
    index.save(path)
    kept = [*kept_versions(index, settings.keep_versions), emb.version]
    dropped = index.drop_retired(SERVING_PREFIX, kept)
    return dg.MaterializeResult(
        metadata={
            "version": emb.version,
            "uri": redact(settings.resolved_milvus_uri),
            "path": dg.MetadataValue.path(str(path)),
            "stats": dg.MetadataValue.json(jsonable_stats(index.stats())),
            "dropped_collections": dg.MetadataValue.json(dropped),
        }
    )


def kept_versions(index: Any, keep: int) -> list[str]:
    """The newest ``keep`` versions that have a serving collection (GBREC_KEEP_VERSIONS)."""
    names = [n for n in index.client.list_collections() if n.startswith(SERVING_PREFIX)]
    versions = [n.removeprefix(SERVING_PREFIX) for n in names]
    return sorted(versions, key=lambda v: (not v.isdigit(), int(v) if v.isdigit() else 0))[-keep:]
