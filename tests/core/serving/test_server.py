"""ModelServer over a real sqlite MLflow registry: serving, hot swap, faults, watcher."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from bisect import bisect_right
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gbrec_core.errors import ModelLoadError, NotFoundError, UnavailableError
from gbrec_core.registry import ModelRegistry
from gbrec_core.serving import FALLBACK_VERSION, ModelServer, Recommendation

from ..skewed_ratings import skewed_ratings
from .serving_fixtures import Fleet

SetChampion = Callable[[str], None]


def test_recommend_serves_the_champion_excluding_seen_books(
    fleet: Fleet, with_champion: SetChampion, tmp_path: Path
) -> None:
    with_champion("1")
    server = fleet.server(tmp_path)
    server.start(watch=False)
    model = fleet.models["1"]
    seen = skewed_ratings(1).groupby("user_id")["book_id"].apply(set)
    for user in (1, 7, 30):
        rec = server.recommend(user, k=8)
        expected, _ = model.recommend(np.array([user]), k=8)
        assert (rec.version, rec.fallback) == ("1", False)
        assert rec.book_ids == expected[0].tolist()
        assert not set(rec.book_ids) & seen[user]
    unknown = server.recommend(10_000, k=5)
    assert unknown.fallback and unknown.version == "1"
    assert unknown.book_ids == model.recommend(np.array([10_000]), k=5)[0][0].tolist()
    assert asyncio.run(server.arecommend(7, k=8)) == server.recommend(7, k=8)
    assert server.recommend(7, k=3, version="2").version == "2"
    stats = server.stats()
    assert stats["requests_by_version"] == {"1": 6, "2": 1}
    assert stats["serving_version"] == "1" and stats["swaps"] == 1


@pytest.mark.slow
def test_hot_swap_under_concurrent_load_has_no_errors_and_honest_versions(
    fleet: Fleet, with_champion: SetChampion, tmp_path: Path
) -> None:
    with_champion("1")
    server = fleet.server(tmp_path)
    server.start(watch=False)
    server.ensure_version("2")
    users = np.arange(1, 61)
    expected = {}
    for v in ("1", "2"):
        top = fleet.models[v].recommend(users, 10)[0]
        expected[v] = {int(u): row.tolist() for u, row in zip(users, top, strict=True)}
    answers: list[tuple[float, float, Recommendation]] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def hammer(seed: int) -> None:
        rng = np.random.default_rng(seed)
        while not done.is_set():
            try:
                start = time.monotonic()
                rec = server.recommend(int(rng.choice(users)), k=10)
                answers.append((start, time.monotonic(), rec))
                time.sleep(0.0005)  # like a client's network wait; keeps the GIL shared
            except BaseException as e:  # any failure is the finding
                errors.append(e)

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for i in range(12):
        server.deploy("2" if i % 2 == 0 else "1")
        time.sleep(0.02)
    done.set()
    for t in threads:
        t.join()

    assert errors == []
    assert server.stats()["swaps"] == 13
    history = server.swap_history()
    times = [t for t, _ in history]
    for start, end, rec in answers:
        live_at_start = history[bisect_right(times, start) - 1][1]
        live_during = {v for t, v in history if start < t <= end} | {live_at_start}
        assert rec.version in live_during
        assert rec.book_ids == expected[rec.version][rec.user_id]
    assert {rec.version for _, _, rec in answers} == {"1", "2"}


def test_corrupted_artifact_is_refused_and_the_old_version_keeps_serving(
    fleet: Fleet, with_champion: SetChampion, tmp_path: Path
) -> None:
    bad = fleet.log(fleet.models["1"], 0.5)
    source = Path(str(fleet.registry.version(bad).source).removeprefix("file://"))
    arrays = next(source.glob("artifacts/bundle/model/*.npz"))  # in the logged model
    arrays.write_bytes(arrays.read_bytes()[:-64] + b"\0" * 64)
    with_champion("1")
    server = fleet.server(tmp_path)
    server.start(watch=False)

    with pytest.raises(ModelLoadError, match="differ"):
        server.deploy(bad)
    assert fleet.registry.champion_version() == "1"  # a refused load never reaches the registry
    assert server.recommend(5).version == "1"

    fleet.registry.promote(bad, force=True)  # as if another process deployed it
    assert server.refresh() is False
    assert server.serving_version().version == "1"
    stats = server.stats()
    assert stats["load_failures"] == 2 and bad in stats["last_load_error"]
    fleet.registry.promote("1", force=True)


def test_unreachable_registry_keeps_serving_cached_versions(
    fleet: Fleet, with_champion: SetChampion, tmp_path: Path
) -> None:
    with_champion("1")
    first = fleet.server(tmp_path / "host")
    first.start(watch=False)
    first.ensure_version("2")

    blocker = tmp_path / "blocker"
    blocker.write_text("")
    dead_uri = f"sqlite:///{blocker}/mlflow.db"
    restarted = fleet.server(tmp_path / "host", mlflow_tracking_uri=dead_uri)
    restarted.start(watch=False)
    assert restarted.recommend(5) == first.recommend(5)
    assert restarted.recommend(5, version="2").version == "2"
    assert restarted.refresh() is False
    assert restarted.stats()["watch_failures"] == 1
    with pytest.raises(UnavailableError):
        restarted.ensure_version("3")  # never downloaded here

    books = pd.DataFrame({"book_id": [10, 20, 30], "ratings_count": [5, 50, 20]})
    settings = fleet.server_settings(tmp_path / "empty", mlflow_tracking_uri=dead_uri)
    cold = ModelServer(settings, ModelRegistry(settings), books=books)
    cold.start(watch=False)
    rec = cold.recommend(5, k=2)
    assert (rec.version, rec.fallback, rec.book_ids) == (FALLBACK_VERSION, True, [20, 30])
    bare = ModelServer(settings, ModelRegistry(settings))
    bare.start(watch=False)
    with pytest.raises(UnavailableError):
        bare.recommend(5)


def test_watcher_picks_up_a_champion_set_by_another_process(
    fleet: Fleet, with_champion: SetChampion, tmp_path: Path
) -> None:
    with_champion("1")
    server = fleet.server(tmp_path, model_watch_interval=0.5)
    server.start()
    server.ensure_version("2")  # warm, so the wait measures the watcher, not a download
    try:
        code = (
            "from gbrec_core.registry import ModelRegistry\n"
            "from gbrec_core.settings import Settings\n"
            "ModelRegistry(Settings()).promote('2', force=True)\n"
        )
        env = {
            **os.environ,
            "GBREC_HOME": str(tmp_path / "other-process"),
            "GBREC_MLFLOW_TRACKING_URI": fleet.settings.tracking_uri,
        }
        subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
        promoted_at = time.monotonic()
        while server.serving_version().version != "2" and time.monotonic() - promoted_at < 10:
            time.sleep(0.05)
        assert server.serving_version().version == "2"
        assert server.swap_history()[-1][0] - promoted_at <= 0.5 + 1.0  # interval + poll/swap slack
    finally:
        server.stop()
        fleet.registry.promote("1", force=True)


class ExactIP:
    """Brute-force inner-product search: the oracle any VectorIndex must match."""

    def __init__(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self.ids, self.vectors = ids, vectors

    def search(self, queries: np.ndarray, k: int, exclude: object = None):  # type: ignore[no-untyped-def]
        scores = queries @ self.vectors.T
        top = np.argsort(-scores, axis=1)[:, :k]
        return self.ids[top], np.take_along_axis(scores, top, axis=1)


def test_similar_uses_the_attached_index_and_falls_back_to_the_model(
    fleet: Fleet, with_champion: SetChampion, tmp_path: Path
) -> None:
    with_champion("3")
    server = fleet.server(tmp_path)
    server.start(watch=False)
    model = fleet.models["3"]
    book = int(model.items.ids[0])  # type: ignore[union-attr]
    ids, _ = model.similar_items(np.array([book]), k=5)
    assert [b for b, _ in server.similar(book, 5)] == ids[0].tolist()

    vectors = model.item_vectors()
    assert vectors is not None
    server.attach_index(ExactIP(vectors.book_ids, vectors.vectors), version="3")
    query = vectors.vectors[vectors.book_ids == book][0]
    oracle = [int(b) for b in vectors.book_ids[np.argsort(-(vectors.vectors @ query))] if b != book]
    assert [b for b, _ in server.similar(book, 5)] == oracle[:5]
    with pytest.raises(NotFoundError):
        server.similar(987_654, 5)
    fleet.registry.promote("1", force=True)
