"""gbrec over TLS to Redis (``rediss://``, password, CA pinned), on Debian's
redis-server built with TLS: keys, the audit chain and an experiment work as on TCP,
and a client that does not trust the certificate is refused; the same on a three-master
Redis Cluster whose nodes talk TLS only (``rediss+cluster://``)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from gbrec_core.access import Scope, create_key, list_keys
from gbrec_core.access.audited import open_audit
from gbrec_core.errors import UnavailableError
from gbrec_core.experiments import ExperimentService
from gbrec_core.experiments.types import ExperimentSpec, Strategy, VariantSpec
from gbrec_core.settings import Settings
from gbrec_core.store import connect, connect_async
from tests.cluster_support import LocalCluster
from tests.process_support import free_port, stop
from tests.tls_support import self_signed

PASSWORD = "tls-test-password"


@pytest.fixture
def tls_redis(profile: dict[str, str], tmp_path: Path) -> Iterator[tuple[int, Path]]:
    cert, key = self_signed(tmp_path)
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
         "--tls-cert-file", str(cert), "--tls-key-file", str(key),
         "--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no",
         "--requirepass", PASSWORD, "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
        assert server.poll() is None, "redis-server exited: built without TLS?"
        assert time.monotonic() < deadline
        time.sleep(0.1)
    yield port, cert
    stop(server)


@pytest.fixture
def tls_cluster(profile: dict[str, str], tmp_path: Path) -> Iterator[LocalCluster]:
    cluster = LocalCluster(tmp_path / "cluster", tls=self_signed(tmp_path), password=PASSWORD)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


def test_gbrec_over_rediss(tls_redis: tuple[int, Path], tmp_path: Path) -> None:
    port, ca = tls_redis
    url = f"rediss://:{PASSWORD}@127.0.0.1:{port}/0?ssl_ca_certs={ca}"
    keys_audit_and_an_experiment(Settings(home=tmp_path / "home", redis_url=url))


def test_gbrec_over_a_tls_cluster(tls_cluster: LocalCluster, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", redis_url=tls_cluster.url)
    assert tls_cluster.url.startswith(f"rediss+cluster://:{PASSWORD}@127.0.0.1:")
    keys_audit_and_an_experiment(settings)
    plain = tls_cluster.url.replace("rediss+cluster", "redis+cluster").split("?")[0]
    (tmp_path / "other").mkdir()
    other_ca, _ = self_signed(tmp_path / "other")  # a different self-signed certificate
    untrusted = f"{tls_cluster.url.split('?')[0]}?ssl_ca_certs={other_ca}"
    for url in (plain, untrusted):  # the nodes speak TLS only, with their certificate
        with pytest.raises(UnavailableError):
            connect(Settings(home=tmp_path / "home", redis_url=url))


def keys_audit_and_an_experiment(settings: Settings) -> None:
    client = connect(settings)
    new = create_key(client, Scope.READ)
    assert [k.key_id for k in list_keys(client)] == [new.key_id]
    spec = ExperimentSpec(
        id="tls-ab", variants=(VariantSpec("control", "1"), VariantSpec("treatment", "2")),
        strategy=Strategy.RANDOM,
    )  # fmt: skip
    ExperimentService(settings, client).create(spec)

    async def audit_round_trip() -> bool:
        aclient = connect_async(settings)
        try:
            audit = open_audit(settings, aclient)
            await audit.write(key_id="k", operation="op", arguments={}, result=None, ok=True)
            return (await audit.verify()).ok
        finally:
            await aclient.aclose()

    assert asyncio.run(audit_round_trip())


def test_untrusted_certificate_is_refused(tls_redis: tuple[int, Path], tmp_path: Path) -> None:
    port, _ = tls_redis
    other_ca, _ = self_signed(tmp_path)  # a different self-signed certificate
    url = f"rediss://:{PASSWORD}@127.0.0.1:{port}/0?ssl_ca_certs={other_ca}"
    client = connect(Settings(home=tmp_path / "home", redis_url=url))
    with pytest.raises((redis.ConnectionError, UnavailableError)):
        client.ping()
