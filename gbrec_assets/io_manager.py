"""IO manager: DataFrames as parquet, models as directories, frame bundles as folders.

Values are stored under ``$GBREC_HOME/dagster/storage/<asset key>[/<partition>]``:

- ``pd.DataFrame`` -> ``data.parquet`` (columnar, keeps the compact dtypes), or a pickle
  when a column holds objects parquet cannot map (the catalogue's tag dicts);
- a fitted :class:`gbrec_core.models.Recommender` -> its own versioned directory
  (``Recommender.save``), reloaded with ``load_recommender``;
- a dataclass whose fields are all DataFrames (e.g. ``RatingSplit``) -> one parquet
  per field plus ``bundle.json`` naming the class;
- anything else (small records) -> ``value.pickle``.

Writes go to a staging folder renamed into place, so a crashed step never leaves a
half-written value that a later run would read.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import pickle
import shutil
import tempfile
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

PARQUET = "data.parquet"
BUNDLE = "bundle.json"
PICKLE = "value.pickle"
MODEL_MARKER = "model.json"


class GbrecIOManager(dg.ConfigurableIOManager):
    """Stores each asset value in the format that suits it (see module docstring)."""

    base_dir: str

    def _path(self, context: dg.OutputContext | dg.InputContext) -> Path:
        path = Path(self.base_dir, *context.asset_key.path)
        if context.has_asset_partitions:
            keys = context.asset_partition_keys
            path = path / (keys[0] if len(keys) == 1 else "-".join(sorted(keys)))
        return path

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if obj is None:
            return
        target = self._path(context)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            _write(staging, obj)
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        context.add_output_metadata({"storage_path": dg.MetadataValue.path(str(target))})

    def load_input(self, context: dg.InputContext) -> Any:
        path = self._path(context)
        if not path.is_dir():
            raise FileNotFoundError(
                f"no stored value for {context.asset_key.to_user_string()} at {path}; "
                "materialise it first"
            )
        return _read(path)


def _write(folder: Path, obj: Any) -> None:
    from gbrec_core.models.base import Recommender

    if isinstance(obj, pd.DataFrame) and _parquet_ok(obj, folder / PARQUET):
        return
    if isinstance(obj, Recommender):
        obj.save(folder / "model")
        (folder / MODEL_MARKER).write_text(json.dumps({"name": obj.name}))
    elif _is_frame_bundle(obj):
        fields = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
        for name, frame in fields.items():
            frame.to_parquet(folder / f"{name}.parquet", index=False)
        cls = type(obj)
        spec = {"class": f"{cls.__module__}:{cls.__qualname__}", "fields": list(fields)}
        (folder / BUNDLE).write_text(json.dumps(spec))
    else:
        with (folder / PICKLE).open("wb") as handle:
            pickle.dump(obj, handle, protocol=pickle.HIGHEST_PROTOCOL)


def _read(folder: Path) -> Any:
    if (folder / PARQUET).is_file():
        return pd.read_parquet(folder / PARQUET)
    if (folder / MODEL_MARKER).is_file():
        from gbrec_core.models import load_recommender

        return load_recommender(folder / "model")
    if (folder / BUNDLE).is_file():
        spec = json.loads((folder / BUNDLE).read_text())
        module, _, qualname = spec["class"].partition(":")
        cls = getattr(importlib.import_module(module), qualname)
        return cls(**{name: pd.read_parquet(folder / f"{name}.parquet") for name in spec["fields"]})
    with (folder / PICKLE).open("rb") as handle:
        return pickle.load(handle)


def _parquet_ok(frame: pd.DataFrame, path: Path) -> bool:
    """Write ``frame`` as parquet unless a column holds dicts or lists (kept as a pickle).

    pyarrow would turn a column of {tag: count} dicts into a struct with one field per
    distinct tag, which is slow and huge, so such frames are not tried at all.
    """
    for column in frame.columns:
        if frame[column].dtype == object:
            sample = frame[column].dropna().head(1).tolist()
            if sample and isinstance(sample[0], dict | list | set | tuple):
                return False
    frame.to_parquet(path, index=False)
    return True


def _is_frame_bundle(obj: Any) -> bool:
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        return False
    return all(isinstance(getattr(obj, f.name), pd.DataFrame) for f in dataclasses.fields(obj))
