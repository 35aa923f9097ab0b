"""IO manager: every asset value stored as data files, never as serialised Python objects.

Values are stored under ``$GBREC_HOME/dagster/storage/<asset key>[/<partition>]`` (op
outputs, which have no asset key, under ``runs/<run id>/<step>/<output>``):

- a fitted :class:`gbrec_core.models.Recommender` -> its own versioned directory
  (``Recommender.save``, arrays read with ``allow_pickle=False``) and ``model.json``;
  reloaded with ``load_recommender``;
- anything else -> ``value.json`` plus the files :mod:`gbrec_assets.codecs` writes
  beside it: DataFrames as Parquet (``data.parquet`` for a frame asset; dict/list
  columns JSON-encoded), numpy arrays as ``.npy``, and records (dataclasses such as
  ``RatingSplit``, ``SourceFile``, ``RegisteredModel``, ``Embeddings``; dicts; lists)
  as JSON. A dataclass comes back only when its ``module:qualname`` is in
  :data:`ALLOWED_CLASSES`, checked before its module is imported.

A folder holding neither file (a value stored by an older gbrec) is refused with a
clear error instead of being guessed at. Writes go to a staging folder renamed into
place, so a crashed step never leaves a half-written value that a later run would read.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import dagster as dg

from gbrec_assets.codecs import Decoder, Encoder, StoredValueError

VALUE_FILE = "value.json"
VALUE_FORMAT = "gbrec-asset-value"
VALUE_VERSION = 1
MODEL_MARKER = "model.json"
MODEL_DIR = "model"

#: The dataclasses the graph produces; nothing else is ever imported on read.
ALLOWED_CLASSES: frozenset[str] = frozenset(
    {
        "gbrec_assets.assets.raw:SourceFile",
        "gbrec_assets.assets.registry:RegisteredModel",
        "gbrec_assets.assets.index:Embeddings",
        "gbrec_core.data.splits:RatingSplit",
        "gbrec_core.registry.baseline:BaselineRegistration",
    }
)


class GbrecIOManager(dg.ConfigurableIOManager):
    """Stores each asset value in the format that suits it (see module docstring)."""

    base_dir: str

    def _path(self, context: dg.OutputContext | dg.InputContext) -> Path:
        if not context.has_asset_key:
            return self._op_path(context)
        path = Path(self.base_dir, *context.asset_key.path)
        if context.has_asset_partitions:
            keys = context.asset_partition_keys
            path = path / (keys[0] if len(keys) == 1 else "-".join(sorted(keys)))
        return path

    def _op_path(self, context: dg.OutputContext | dg.InputContext) -> Path:
        """An op's output (rollback_job's), kept per run: ``runs/<run>/<step>/<output>``."""
        out = context if isinstance(context, dg.OutputContext) else context.upstream_output
        if out is None:
            raise StoredValueError("an op input without an upstream output has no stored value")
        return Path(self.base_dir, "runs", out.run_id, out.step_key, out.name)

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if obj is None:
            return
        target = self._path(context)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            write_value(staging, obj)
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        context.add_output_metadata({"storage_path": dg.MetadataValue.path(str(target))})

    def load_input(self, context: dg.InputContext) -> Any:
        path = self._path(context)
        if not path.is_dir():
            raise FileNotFoundError(f"no stored value at {path}; materialise it first")
        return read_value(path)


def write_value(folder: Path, obj: Any) -> None:
    """Store ``obj`` in the empty ``folder``; ``StoredValueError`` if it has no safe form."""
    from gbrec_core.models.base import Recommender

    if isinstance(obj, Recommender):
        obj.save(folder / MODEL_DIR)
        (folder / MODEL_MARKER).write_text(json.dumps({"name": obj.name}))
        return
    document = {
        "format": VALUE_FORMAT,
        "version": VALUE_VERSION,
        "value": Encoder(folder, ALLOWED_CLASSES).encode(obj),
    }
    (folder / VALUE_FILE).write_text(json.dumps(document, indent=1))


def read_value(folder: Path) -> Any:
    """What :func:`write_value` stored in ``folder``."""
    if (folder / MODEL_MARKER).is_file():
        from gbrec_core.models import load_recommender

        return load_recommender(folder / MODEL_DIR)
    if not (folder / VALUE_FILE).is_file():
        raise StoredValueError(
            f"{folder} holds no {VALUE_FILE} or {MODEL_MARKER}: it was stored by an older "
            "gbrec in a format that is no longer read; materialise the asset again"
        )
    document = json.loads((folder / VALUE_FILE).read_text())
    if document.get("format") != VALUE_FORMAT or document.get("version") != VALUE_VERSION:
        raise StoredValueError(f"{folder / VALUE_FILE} is not a {VALUE_FORMAT} v{VALUE_VERSION}")
    return Decoder(folder, ALLOWED_CLASSES).decode(document["value"])
