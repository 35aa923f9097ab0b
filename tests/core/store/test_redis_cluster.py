"""gbrec on a real three-master Redis Cluster (``redis+cluster://``): an experiment's
writes and erasure, the online metrics' scripts, the audit chain's WATCH/MULTI, API keys,
a backup round trip, and a killed master (writes buffered, replayed after its restart).

Needs ``redis-server`` and ``redis-cli`` on PATH (Debian's ``redis-server`` package) and
skips without them; starting the cluster takes about a second. The production profile
runs the experiment, key, audit, delivery, monitoring, privacy and backup test modules
against a cluster too (``make test-production``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.cluster import RedisCluster

from gbrec_core.access import Scope, create_key, list_keys
from gbrec_core.access.audited import open_audit
from gbrec_core.backup.redis_snapshot import dump_redis, load_redis
from gbrec_core.errors import UnavailableError
from gbrec_core.experiments import ExperimentService
from gbrec_core.experiments.erasure import erase_user
from gbrec_core.experiments.types import Event, EventType, ExperimentSpec, VariantSpec
from gbrec_core.monitoring import OnlineMonitor
from gbrec_core.settings import Settings
from gbrec_core.store import (
    RedisClient,
    backend_name,
    connect,
    connect_async,
    health_check,
    is_cluster,
    key_count,
)
from tests.cluster_support import LocalCluster, missing_binaries

# One worker starts the cluster once (make test runs pytest-xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("redis-cluster")
SPEC = ExperimentSpec(
    id="cl-ab", variants=(VariantSpec("control", "1"), VariantSpec("treatment", "2"))
)
USERS = range(1, 61)
OUTAGE_USERS = range(1, 11)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    if reason := missing_binaries():
        pytest.skip(f"needs a Redis Cluster of Debian's redis-server: {reason}")
    started = LocalCluster(tmp_path_factory.mktemp("cluster"))
    try:
        yield started.start()
    finally:
        started.stop()


@pytest.fixture
def cl_settings(cluster: LocalCluster, tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", redis_url=cluster.url)


@pytest.fixture
def client(cl_settings: Settings) -> Iterator[RedisClient]:
    r = connect(cl_settings)
    r.flushdb()  # every primary
    yield r
    r.close()


def traffic(service: ExperimentService, users: range = USERS) -> None:
    """One exposure per user, a click on the shown book by the even users."""
    for user in users:
        found = service.assign(SPEC.id, user)
        assert found is not None
        service.record_exposure(SPEC.id, found.variant, user, f"req-{user}", [7, 8])
    clicks = [Event(u, EventType.CLICK, SPEC.id, book_id=7) for u in users if u % 2 == 0]
    assert service.record_events(clicks).accepted == len(clicks)


def users_and_exposures(service: ExperimentService) -> tuple[int, int]:
    """Users and exposures summed over the variants."""
    variants = service.results(SPEC.id).variants
    return sum(v.users for v in variants), sum(v.exposures for v in variants)


def test_a_cluster_url_gives_cluster_clients(cl_settings: Settings, client: RedisClient) -> None:
    assert backend_name(cl_settings) == "cluster" and is_cluster(client)
    assert is_cluster(connect_async(cl_settings))
    assert health_check(client).ok
    masters = {n.port for n in client.get_nodes() if n.server_type == "primary"}  # type: ignore[union-attr]
    assert len(masters) == 3


def test_an_experiment_is_counted_and_erased(cl_settings: Settings, client: RedisClient) -> None:
    service = ExperimentService(cl_settings, client)
    service.create(SPEC)
    traffic(service)
    assert users_and_exposures(service) == (len(USERS), len(USERS))
    done = erase_user(service, 2)
    assert (done.experiments, done.exposures, done.raw_events) == (1, 1, 2)
    assert users_and_exposures(service) == (len(USERS) - 1, len(USERS) - 1)
    assert [e.id for e in service.find()] == [SPEC.id]  # ids and def in different slots


def test_online_metrics_record_and_attribute(cl_settings: Settings, client: RedisClient) -> None:
    store = OnlineMonitor.from_settings(cl_settings, client).store
    now = time.time()
    assert store.write_served([("r1", "3", [1, 2], now), ("r2", "4", [5], now)]) == (2, 0, 0)
    outcome, missing = store.attribute([("r1", 2), ("r2", 5), ("r1", 2), ("r9", 1)])
    assert (outcome.attributed, outcome.duplicates, outcome.unknown) == (2, 1, 1)
    assert missing == [("r9", 1)]
    assert store.forget(["r1", "r2"]) == 2


def test_concurrent_audit_writers_form_one_chain(
    cl_settings: Settings, client: RedisClient
) -> None:
    async def run() -> tuple[bool, int]:
        aclient = connect_async(cl_settings)
        try:
            audit = open_audit(cl_settings, aclient)
            await asyncio.gather(
                *(audit.write(key_id="k", operation="op", arguments=i, result=None, ok=True)
                  for i in range(12))
            )  # fmt: skip
            report = await audit.verify()
            return report.ok, report.entries
        finally:
            await aclient.aclose()

    assert asyncio.run(run()) == (True, 12)


def test_keys_and_a_backup_round_trip(
    cl_settings: Settings, client: RedisClient, tmp_path: Path
) -> None:
    new = create_key(client, Scope.ADMIN)
    ExperimentService(cl_settings, client).create(SPEC)
    keys = key_count(client)
    assert dump_redis(client, tmp_path / "redis.dump") == keys
    client.flushdb()
    assert key_count(client) == 0
    assert load_redis(client, tmp_path / "redis.dump") == keys
    assert [k.key_id for k in list_keys(client)] == [new.key_id]
    assert ExperimentService(cl_settings, client).get(SPEC.id).spec == SPEC


def test_a_killed_master_buffers_writes_until_it_is_back(
    cluster: LocalCluster, cl_settings: Settings, client: RedisClient
) -> None:
    service = ExperimentService(cl_settings, client)
    service.create(SPEC)
    service.assign(SPEC.id, 1)  # the definition is cached for the outage
    assert isinstance(client, RedisCluster)
    port = client.nodes_manager.get_node_from_slot(client.keyslot(f"{{{SPEC.id}}}")).port
    cluster.kill(port)  # the nodes fsync every write (appendfsync always): nothing is lost
    started = time.monotonic()
    traffic(service, OUTAGE_USERS)
    assert len(service.buffer) == len(OUTAGE_USERS) + len(OUTAGE_USERS) // 2
    assert (time.monotonic() - started) / len(OUTAGE_USERS) < 1.0  # each write gave up fast
    assert not health_check(client).ok
    cluster.start_node(port)  # same folder: nodes.conf and the AOF
    cluster.wait_ok()
    deadline = time.monotonic() + 20
    while len(service.buffer) and time.monotonic() < deadline:
        try:
            service.flush()
        except UnavailableError:  # the client finds the node again within a second or two
            time.sleep(0.2)
    assert len(service.buffer) == 0
    assert users_and_exposures(service) == (len(OUTAGE_USERS), len(OUTAGE_USERS))
