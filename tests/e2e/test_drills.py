"""Failure drills on the embedded engines: break one part, check what users see.

1. Redis SIGKILLed under load: recommendations keep answering, every event is stored,
   buffered or refused with UNAVAILABLE (none silently lost), counts match after restart.
2. An index shard file corrupted: the checksum catches it at load, similar books are
   answered by exact search over the stored embeddings meanwhile, and the API rebuilds
   a verified index in the background.
3. MLflow unreachable: the running API keeps serving its version; a restarted API
   serves the last champion from its disk cache.
4. The API SIGKILLed during a hot swap: the restarted process serves the champion.

Drills 1, 3 and 4 run the real ``gbrec serve`` process over loopback HTTP.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from gbrec_core.errors import IndexLoadError

from .drill_support import (
    CREATE,
    DEPLOY,
    EXPERIMENT,
    RECOMMEND,
    RESULTS,
    SERVING,
    Drill,
    Fleet,
    Load,
    build_fleet,
    kill_redis,
    new_drill,
)
from .gbrec_process import ApiProcess, GraphQLError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    return build_fleet(tmp_path_factory.mktemp("drill-fleet"))


@pytest.fixture
def keys(drill: Drill) -> Iterator[dict[str, str]]:
    from gbrec_core.access import Scope, create_key
    from gbrec_core.store import connect, stop_server

    client = connect(drill.settings)  # starts this home's embedded redis-server
    yield {s.label: create_key(client, s).key for s in (Scope.ADMIN, Scope.EVENTS)}
    client.close()
    stop_server(drill.settings)


@pytest.fixture
def drill(fleet: Fleet, tmp_path: Path) -> Drill:
    # A 1 s champion poll: drill 3 needs the watcher to hit the broken registry quickly.
    return new_drill(fleet, tmp_path, watch_interval=1.0)


@pytest.fixture
def api(drill: Drill, tmp_path: Path) -> Iterator[ApiProcess]:
    process = ApiProcess(drill.env, tmp_path / "serve.log")
    yield process
    process.stop()


# ---- 1. Redis killed under load ------------------------------------------------------------
def test_redis_killed_under_load(drill: Drill, keys: dict[str, str], api: ApiProcess) -> None:
    from gbrec_core.store import ensure_server

    api.start()
    api.gql(CREATE, {"id": EXPERIMENT, "treatment": drill.fleet.v2}, key=keys["admin"])
    load = Load(api, keys["events"])
    threads = [threading.Thread(target=load.run, daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        load.wait_for(20, timeout=60)
        with load.lock:
            load.phase = "outage"
        kill_redis(drill)
        load.wait_for(25, timeout=60)
        with load.lock:
            load.phase = "after"
        ensure_server(drill.settings)  # restart: reloads the append-only file
        load.wait_for(25, timeout=60)
    finally:
        load.stop.set()
        for t in threads:
            t.join(timeout=30)
    assert not load.failures, load.failures[:5]
    print(f"served per phase {dict(load.served_in)}; events {Counter(load.event.values())}")
    assert load.served_in["outage"] >= 10, load.served_in
    assert "refused" in load.event.values(), "no event met the outage"

    # One more write flushes anything still buffered, then the shared sums must match.
    extra = api.gql(RECOMMEND, {"u": 10_001, "e": EXPERIMENT})["recommendations"]
    assert extra["experimentId"] == EXPERIMENT, "experiment routing did not recover"
    load.variant[10_001] = extra["variant"]
    results = api.gql(RESULTS, {"id": EXPERIMENT})["experiment"]["results"]
    stats = {v["name"]: v for v in results["variants"]}
    satisfaction = {m["variant"]: m for m in results["metrics"] if m["metric"] == "satisfaction"}
    exposed_total = 0
    for name in ("control", "treatment"):
        users = [u for u, v in load.variant.items() if v == name]
        accepted = [u for u in users if load.event.get(u) == "accepted"]
        # users are distinct in Redis, so a replayed (at-least-once) batch cannot inflate them
        assert stats[name]["users"] == len(users)
        exposed_total += stats[name]["exposures"]
        assert satisfaction[name]["users"] == len(accepted)
        if accepted:
            mean = sum(float(u % 5) for u in accepted) / len(accepted)
            assert satisfaction[name]["mean"] == pytest.approx(mean)
    served = sum(1 for v in load.variant.values() if v)
    # Replays are at-least-once: a batch in flight when Redis died may count twice.
    assert served <= exposed_total <= served + len(threads)


# ---- 2. a corrupted index shard ------------------------------------------------------------
def _exact_ip(embeddings_dir: Path, query: int, k: int) -> list[int]:
    """Oracle: exact inner-product search over the stored embeddings, the book excluded."""
    from gbrec_core.index import load_embeddings, make_index

    stored = load_embeddings(embeddings_dir)
    oracle = make_index("exact", dim=int(stored.vectors.shape[1]), metric="ip")
    oracle.add(stored.book_ids, stored.vectors)
    vector = stored.vector_of(query)
    assert vector is not None
    ids, _ = oracle.search(vector, k, exclude=[[query]])
    return [int(i) for i in ids[0]]


def _corrupt(path: Path) -> None:
    """Flip bytes in the middle of a file, keeping its size (only a checksum can tell)."""
    raw = bytearray(path.read_bytes())
    middle = len(raw) // 2
    raw[middle : middle + 16] = bytes(b ^ 0xFF for b in raw[middle : middle + 16])
    path.write_bytes(bytes(raw))


def test_corrupted_index_shard_is_detected_served_exactly_and_rebuilt(drill: Drill) -> None:
    from gbrec_core.index import EMBEDDINGS_DIR, load_index
    from gbrec_core.registry import ModelRegistry
    from gbrec_core.serving import ModelServer
    from gbrec_core.serving.index_manager import IndexManager

    def serving(auto_rebuild: bool = True) -> tuple[ModelServer, IndexManager]:
        server = ModelServer(drill.settings, ModelRegistry(drill.settings))
        server.start(watch=False)
        manager = IndexManager(drill.settings, server)
        manager.auto_rebuild = auto_rebuild
        return server, manager

    server, manager = serving()
    built = manager.ensure()  # no pipeline layout yet: built from the bundle, same layout
    assert built is not None and not built.loaded_from_disk and built.shards > 1
    assert built.state == "healthy" and built.built_by == "api"
    manager.close()
    shard = built.path / "shard-1"
    data_files = sorted(p for p in shard.iterdir() if p.name.startswith("shard-000."))
    data_files = [p for p in data_files if not p.name.endswith("ids.npy")]
    assert data_files, sorted(p.name for p in shard.iterdir())
    _corrupt(data_files[0])
    with pytest.raises(IndexLoadError, match="checksum"):
        load_index(built.path)

    # A restarted API: the corrupted shard is refused; exact search over the stored
    # embeddings answers meanwhile (rebuilds held back here to look at that state).
    server, manager = serving(auto_rebuild=False)
    degraded = manager.ensure()
    assert degraded is not None and degraded.state == "degraded" and degraded.kind == "exact"
    assert degraded.error is not None and "checksum" in degraded.error
    embeddings = drill.settings.index_dir / degraded.version / EMBEDDINGS_DIR
    vectors = server.ensure_loaded("champion").bundle.item_vectors
    assert vectors is not None
    queries = [int(b) for b in vectors.book_ids[:5]]
    for book in queries:
        served = [b for b, _ in server.similar(book, 10)]
        assert served == _exact_ip(embeddings, book, 10), book
    manager.close()

    # With the default, the API rebuilds the index in the background by itself.
    server, manager = serving()
    assert manager.ensure() is not None
    assert manager.wait_idle(120)
    assert manager.info is not None and manager.info.state == "healthy"
    assert manager.info.kind == drill.settings.index_kind and not manager.info.loaded_from_disk
    assert manager.info.vectors == len(vectors.book_ids)
    load_index(built.path).close()
    manager.close()
    server, manager = serving()
    again = manager.ensure()
    assert again is not None and again.loaded_from_disk and again.state == "healthy"
    assert len(server.similar(queries[0], 10)) == 10
    # rebuildVectorIndex rebuilds the same layout on demand.
    rebuilt = manager.rebuild()
    assert not rebuilt.loaded_from_disk and rebuilt.shards == built.shards
    manager.close()


# ---- 3. MLflow unreachable -----------------------------------------------------------------
def _break_sqlite(path: Path) -> None:
    """Overwrite the SQLite header in place: every open connection sees 'not a database'."""
    with path.open("r+b") as handle:
        handle.write(b"\x00" * 100)


def _dead_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again: nothing listens there


def test_mlflow_unreachable_keeps_serving_cached_versions(
    drill: Drill, keys: dict[str, str], api: ApiProcess
) -> None:
    fleet = drill.fleet
    api.start()
    assert api.gql(SERVING)["servingModel"]["version"] == fleet.v1
    _break_sqlite(drill.home / "mlflow.db")
    time.sleep(3)  # several watcher polls fail meanwhile
    for user in range(1, 6):
        rec = api.gql(RECOMMEND, {"u": user, "e": None})["recommendations"]
        assert (rec["modelVersion"], rec["fallback"]) == (fleet.v1, False)
    with pytest.raises(GraphQLError) as refused:
        api.gql(DEPLOY, {"v": fleet.v2}, key=keys["admin"])
    assert refused.value.codes == ["UNAVAILABLE"]
    api.kill()

    # Restart against a tracking server that does not exist: the disk cache serves v1.
    dead = {"GBREC_MLFLOW_TRACKING_URI": f"http://127.0.0.1:{_dead_port()}"}
    api.env = {**drill.env, **dead, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}
    api.start()
    assert api.gql(SERVING)["servingModel"]["version"] == fleet.v1
    rec = api.gql(RECOMMEND, {"u": 1, "e": None})["recommendations"]
    assert (rec["modelVersion"], rec["fallback"]) == (fleet.v1, False)


# ---- 4. the API killed during a swap -------------------------------------------------------
def _kill_during_download(api: ApiProcess, drill: Drill, version: str, key: str) -> bool:
    """Start deployModel(version) and SIGKILL the API while it downloads the bundle.

    Returns True when the kill landed mid-swap (a staging folder existed), False when the
    deploy finished first (the process is then killed right after the swap).
    """
    cache = drill.home / "serving" / drill.settings.model_name
    deploy = threading.Thread(target=lambda: _quiet(api, DEPLOY, {"v": version}, key), daemon=True)
    deploy.start()
    deadline = time.monotonic() + 60
    mid_swap = False
    while deploy.is_alive() and time.monotonic() < deadline:
        if any(cache.glob(".download-*")):
            mid_swap = True
            break
        time.sleep(0.002)
    api.kill()
    deploy.join(timeout=30)
    return mid_swap


def _quiet(api: ApiProcess, query: str, variables: dict[str, str], key: str) -> None:
    try:
        api.post(query, variables, key)
    except Exception:  # the process is SIGKILLed under this request on purpose
        return


def test_api_killed_during_swap_restarts_on_the_champion(
    drill: Drill, keys: dict[str, str], api: ApiProcess
) -> None:
    from gbrec_core.registry import ModelRegistry

    registry = ModelRegistry(drill.settings)
    api.start()
    assert api.gql(SERVING)["servingModel"]["version"] == drill.fleet.v1
    mid_swap = _kill_during_download(api, drill, drill.fleet.v2, keys["admin"])
    print(f"SIGKILL landed {'during' if mid_swap else 'after'} the swap")
    champion = registry.champion_version()
    assert champion in (drill.fleet.v1, drill.fleet.v2)
    if mid_swap:  # the registry is only told after the bundle was verified
        assert champion == drill.fleet.v1

    api.start()
    assert api.gql(SERVING)["servingModel"]["version"] == champion
    rec = api.gql(RECOMMEND, {"u": 1, "e": None})["recommendations"]
    assert rec["modelVersion"] == champion

    # The interrupted download left nothing that breaks the next deploy; after a completed
    # swap a SIGKILLed process comes back on the new champion too.
    assert api.gql(DEPLOY, {"v": drill.fleet.v2}, key=keys["admin"])["deployModel"] == {
        "version": drill.fleet.v2
    }
    api.kill()
    api.start()
    assert registry.champion_version() == drill.fleet.v2
    assert api.gql(SERVING)["servingModel"]["version"] == drill.fleet.v2
