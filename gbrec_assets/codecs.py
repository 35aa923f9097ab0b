"""Asset values as JSON, ``.npy`` and Parquet files: nothing is stored as Python code.

A value is encoded into one JSON document (the IO manager's ``value.json``) plus
data files beside it:

- ``None``, bool, int, float, str, lists and str-keyed dicts are plain JSON; numpy
  scalars become Python numbers;
- a tuple is ``{"$type": "tuple", "items": [...]}``;
- a numpy array is ``<name>.npy`` (numeric dtypes only: written and read with
  ``allow_pickle=False``, so an object array is refused, never stored);
- a DataFrame is ``<name>.parquet``; object columns holding dicts or lists (the
  catalogue's ``{tag: count}``) are JSON strings in the file, named in the document's
  ``json_columns`` and decoded on read (pyarrow would otherwise make a struct with one
  field per distinct tag);
- a dataclass is its class path (``module:qualname``) and its encoded fields.

Invariant: reading never executes stored content. A class path is checked against
the caller's allow-list *before* its module is imported, and only a dataclass built
from its own fields can come back; every other type is refused with
:class:`StoredValueError`, on write as on read.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

TYPE_KEY = "$type"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


class StoredValueError(ValueError):
    """A value cannot be stored, or a stored value may not or cannot be read back."""


def class_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def allowed_dataclass(path: str, allowed: Collection[str]) -> type:
    """The dataclass named ``path``, imported only if ``path`` is in ``allowed``."""
    if path not in allowed:
        raise StoredValueError(
            f"{path} is not in the IO manager's allow-list of storable classes; "
            "add it to gbrec_assets.io_manager.ALLOWED_CLASSES if it is a plain record"
        )
    module, _, qualname = path.partition(":")
    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    if not (isinstance(found, type) and dataclasses.is_dataclass(found)):
        raise StoredValueError(f"{path} is not a dataclass")
    return found


class Encoder:
    """Encodes one value into JSON, writing its arrays and frames into ``folder``."""

    def __init__(self, folder: Path, allowed: Collection[str]) -> None:
        self.folder = folder
        self.allowed = allowed

    def encode(self, value: Any, name: str = "") -> Any:
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, list):
            return [self.encode(v, _child(name, str(i))) for i, v in enumerate(value)]
        if isinstance(value, tuple):
            items = [self.encode(v, _child(name, str(i))) for i, v in enumerate(value)]
            return {TYPE_KEY: "tuple", "items": items}
        if isinstance(value, dict):
            return {_key(k): self.encode(v, _child(name, k)) for k, v in value.items()}
        return self._encode_data(value, name)

    def _encode_data(self, value: Any, name: str) -> dict[str, Any]:
        if isinstance(value, np.ndarray):
            return {TYPE_KEY: "ndarray", "file": self._save_array(value, name)}
        if isinstance(value, pd.DataFrame):
            return self._save_frame(value, name or "data")
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return self._encode_dataclass(value, name)
        raise StoredValueError(
            f"cannot store a {class_path(type(value))} as JSON, .npy or Parquet "
            "(make it a dataclass of such values, or a DataFrame)"
        )

    def _encode_dataclass(self, value: Any, name: str) -> dict[str, Any]:
        path = class_path(type(value))
        allowed_dataclass(path, self.allowed)
        fields = {
            f.name: self.encode(getattr(value, f.name), _child(name, f.name))
            for f in dataclasses.fields(value)
        }
        return {TYPE_KEY: "dataclass", "class": path, "fields": fields}

    def _save_array(self, array: np.ndarray, name: str) -> str:
        file = self._file(name or "array", ".npy")
        try:
            np.save(self.folder / file, array, allow_pickle=False)
        except ValueError as e:
            raise StoredValueError(f"array {name!r} of dtype {array.dtype} is not storable") from e
        return file

    def _save_frame(self, frame: pd.DataFrame, name: str) -> dict[str, Any]:
        file = self._file(name, ".parquet")
        json_columns = nested_columns(frame)
        encoded = frame.copy() if json_columns else frame
        for column in json_columns:
            encoded[column] = frame[column].map(_dumps_cell)
        try:
            encoded.to_parquet(self.folder / file)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as e:
            raise StoredValueError(f"frame {name!r} has a column Parquet cannot hold: {e}") from e
        return {TYPE_KEY: "frame", "file": file, "json_columns": json_columns}

    def _file(self, name: str, suffix: str) -> str:
        """A new file name in ``folder`` derived from ``name`` (never an existing one)."""
        stem = _UNSAFE_NAME.sub("_", name)
        file, n = f"{stem}{suffix}", 1
        while (self.folder / file).exists():
            file, n = f"{stem}-{n}{suffix}", n + 1
        return file


class Decoder:
    """Rebuilds what :class:`Encoder` wrote into ``folder``."""

    def __init__(self, folder: Path, allowed: Collection[str]) -> None:
        self.folder = folder
        self.allowed = allowed

    def decode(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict):
            return node
        if TYPE_KEY not in node:
            return {k: self.decode(v) for k, v in node.items()}
        return self._decode_typed(node)

    def _decode_typed(self, node: dict[str, Any]) -> Any:
        kind = node[TYPE_KEY]
        if kind == "tuple":
            return tuple(self.decode(v) for v in node["items"])
        if kind == "ndarray":
            return np.load(self._data_file(node), allow_pickle=False)
        if kind == "frame":
            return self._read_frame(node)
        if kind == "dataclass":
            cls = allowed_dataclass(str(node["class"]), self.allowed)
            return cls(**{k: self.decode(v) for k, v in node["fields"].items()})
        raise StoredValueError(f"unknown stored type {kind!r}")

    def _read_frame(self, node: dict[str, Any]) -> pd.DataFrame:
        frame = pd.read_parquet(self._data_file(node))
        for column in node.get("json_columns", []):
            frame[column] = frame[column].map(json.loads, na_action="ignore")
        return frame

    def _data_file(self, node: dict[str, Any]) -> Path:
        """The referenced file, which must be a plain name inside ``folder``."""
        file = str(node["file"])
        if Path(file).name != file or file.startswith("."):
            raise StoredValueError(f"stored file reference {file!r} leaves the value's folder")
        return self.folder / file


def nested_columns(frame: pd.DataFrame) -> list[str]:
    """Object columns holding at least one dict or list (stored as JSON strings)."""
    return [
        str(column)
        for column in frame.columns
        if frame[column].dtype == object
        and any(isinstance(v, dict | list) for v in frame[column].to_numpy())
    ]


def _dumps_cell(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return json.dumps(value, default=_json_scalar)


def _json_scalar(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise StoredValueError(f"a {class_path(type(value))} inside a frame cell is not JSON")


def _key(key: Any) -> str:
    if not isinstance(key, str) or key == TYPE_KEY:
        raise StoredValueError(f"dict keys must be strings other than {TYPE_KEY!r}, got {key!r}")
    return key


def _child(name: str, key: str) -> str:
    return f"{name}.{key}" if name else key
