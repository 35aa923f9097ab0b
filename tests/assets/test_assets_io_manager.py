"""The IO manager round-trips every kind of value the graph produces, without pickle."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from gbrec_assets.assets.index import Embeddings
from gbrec_assets.assets.raw import SourceFile
from gbrec_assets.assets.registry import RegisteredModel
from gbrec_assets.codecs import StoredValueError
from gbrec_assets.io_manager import ALLOWED_CLASSES, VALUE_FILE, GbrecIOManager, read_value
from gbrec_core.data import temporal_split
from gbrec_core.registry import BaselineRegistration

REPO = Path(__file__).resolve().parents[2]


@dataclasses.dataclass(frozen=True)
class NotAllowed:
    value: int


def _ratings(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "user_id": rng.integers(1, 30, n).astype(np.int32),
            "book_id": rng.integers(1, 60, n).astype(np.int32),
            "rating": rng.integers(1, 6, n).astype(np.int8),
        }
    ).drop_duplicates(["user_id", "book_id"], ignore_index=True)


def _catalogue() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "book_id": np.array([1, 2, 3], dtype=np.int32),
            "title": ["a", "b", None],
            "tags": [{"fantasy": 12.0, "to-read": 3.0}, {}, None],
            "authors": [["x", "y"], [], ["z"]],
        }
    )


def _io(tmp_path: Path) -> GbrecIOManager:
    return GbrecIOManager(base_dir=str(tmp_path / "storage"))


def _round_trip(tmp_path: Path, obj: Any, key: str = "value") -> Any:
    manager = _io(tmp_path)
    manager.handle_output(dg.build_output_context(asset_key=dg.AssetKey(key)), obj)
    return manager.load_input(dg.build_input_context(asset_key=dg.AssetKey(key)))


def _records() -> list[Any]:
    rng = np.random.default_rng(1)
    return [
        SourceFile("/data/ratings.csv", "ab" * 32, 1234, 99, ("user_id", "book_id", "rating")),
        RegisteredModel("3", "als", "run-1", False, "gate: worse than v2", None),
        RegisteredModel("4", "ease", "run-2", True, "better", "4"),
        BaselineRegistration("2", True, None, "cd" * 32, "first baseline"),
        Embeddings("5", "v5", np.arange(1, 21, dtype=np.int64), rng.random((20, 4), np.float32)),
        {"shards": [0, 1], "meta": {"k": (1, "x"), "n": np.int64(7), "none": None}},
        [1.5, "two", (3, 4)],
        "plain",
    ]


def _assert_same(got: Any, want: Any) -> None:
    assert type(got) is type(want)
    if isinstance(want, pd.DataFrame):
        pd.testing.assert_frame_equal(got, want)
    elif dataclasses.is_dataclass(want):
        for field in dataclasses.fields(want):
            _assert_same(getattr(got, field.name), getattr(want, field.name))
    elif isinstance(want, np.ndarray):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    elif isinstance(want, dict):
        assert list(got) == list(want)
        for k in want:
            _assert_same(got[k], want[k])
    elif isinstance(want, list | tuple):
        assert len(got) == len(want)
        for a, b in zip(got, want, strict=True):
            _assert_same(a, b)
    else:
        assert got == want or (isinstance(want, np.generic) and got == want.item())


@pytest.mark.parametrize("index", range(len(_records())))
def test_records_round_trip_as_json_and_npy(tmp_path: Path, index: int) -> None:
    record = _records()[index]
    got = _round_trip(tmp_path, record)
    if isinstance(record, dict):
        assert got["meta"]["n"] == 7 and type(got["meta"]["n"]) is int
        record["meta"]["n"] = 7
    _assert_same(got, record)


def test_frames_and_the_catalogue_dict_columns_round_trip_as_parquet(tmp_path: Path) -> None:
    ratings = _ratings()
    _assert_same(_round_trip(tmp_path, ratings, "validated_ratings"), ratings)
    every_other = ratings.iloc[::2]  # a non-default index comes back too
    _assert_same(_round_trip(tmp_path, every_other, "subset"), every_other)
    catalogue = _catalogue()
    _assert_same(_round_trip(tmp_path, catalogue, "book_catalogue"), catalogue)
    folder = tmp_path / "storage" / "book_catalogue"
    spec = json.loads((folder / VALUE_FILE).read_text())["value"]
    assert spec == {"$type": "frame", "file": "data.parquet", "json_columns": ["tags", "authors"]}
    raw = pd.read_parquet(folder / "data.parquet")
    assert raw["tags"][0] == '{"fantasy": 12.0, "to-read": 3.0}'


def test_rating_split_bundle_is_one_parquet_per_field(tmp_path: Path) -> None:
    split = temporal_split(_ratings())
    got = _round_trip(tmp_path, split, "rating_splits")
    _assert_same(got, split)
    files = sorted(p.name for p in (tmp_path / "storage" / "rating_splits").iterdir())
    assert files == ["test.parquet", "train.parquet", VALUE_FILE]


def test_model_round_trips_as_its_directory(tmp_path: Path) -> None:
    from gbrec_core.models import make_recommender

    model = make_recommender("popularity").fit(_ratings())
    got = _round_trip(tmp_path, model, "popularity_model")
    users = np.array([1, 2, 3])
    np.testing.assert_array_equal(got.recommend(users, k=5)[0], model.recommend(users, k=5)[0])


def test_partitioned_asset_and_op_outputs_have_their_own_folders(tmp_path: Path) -> None:
    manager = _io(tmp_path)
    out = dg.build_output_context(step_key="rollback_champion", name="result", run_id="r1")
    manager.handle_output(out, "7")
    upstream = dg.build_output_context(step_key="rollback_champion", name="result", run_id="r1")
    assert manager.load_input(dg.build_input_context(upstream_output=upstream)) == "7"
    assert (tmp_path / "storage" / "runs" / "r1" / "rollback_champion" / "result").is_dir()


def test_class_outside_the_allow_list_is_refused_on_write(tmp_path: Path) -> None:
    with pytest.raises(StoredValueError, match="allow-list"):
        _round_trip(tmp_path, NotAllowed(1))
    with pytest.raises(StoredValueError, match="cannot store"):
        _round_trip(tmp_path, {1, 2})
    with pytest.raises(StoredValueError, match="not storable"):
        _round_trip(tmp_path, np.array([object()], dtype=object))


def test_stored_class_outside_the_allow_list_is_refused_before_import(tmp_path: Path) -> None:
    _round_trip(tmp_path, RegisteredModel("1", "als", "r", True, "ok", "1"))
    folder = tmp_path / "storage" / "value"
    document = json.loads((folder / VALUE_FILE).read_text())
    document["value"]["class"] = "gbrec_never_imported_module:Evil"
    (folder / VALUE_FILE).write_text(json.dumps(document))
    with pytest.raises(StoredValueError, match="allow-list"):
        read_value(folder)
    assert "gbrec_never_imported_module" not in sys.modules
    document["value"] = {"$type": "ndarray", "file": "../../etc/passwd"}
    (folder / VALUE_FILE).write_text(json.dumps(document))
    with pytest.raises(StoredValueError, match="leaves the value's folder"):
        read_value(folder)


def test_value_from_an_older_layout_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "value.bin").write_bytes(b"\x80\x05N.")
    with pytest.raises(StoredValueError, match="materialise the asset again"):
        read_value(folder)


def test_allow_list_names_importable_dataclasses() -> None:
    from gbrec_assets.codecs import allowed_dataclass

    for path in ALLOWED_CLASSES:
        assert dataclasses.is_dataclass(allowed_dataclass(path, ALLOWED_CLASSES))


def test_nothing_written_is_a_pickle(tmp_path: Path) -> None:
    for i, record in enumerate([*_records(), _ratings(), _catalogue()]):
        _round_trip(tmp_path, record, f"v{i}")
    files = [p for p in (tmp_path / "storage").rglob("*") if p.is_file()]
    assert files and not [p for p in files if p.suffix in {".pickle", ".pkl", ".joblib"}]
    assert not [p for p in files if p.read_bytes()[:1] == b"\x80"]  # pickle protocol 2+ header


# Third-party serialisation gbrec cannot switch off, each with its reason.
