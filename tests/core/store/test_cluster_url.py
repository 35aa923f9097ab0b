"""``redis+cluster://`` URLs: the startup nodes, credentials and options kept, errors named."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from gbrec_core.access import KeyVerifier
from gbrec_core.errors import StoreDownError, UnavailableError
from gbrec_core.settings import Settings
from gbrec_core.store import backend_name, connect, connect_async
from gbrec_core.store.cluster_url import ClusterUrl, is_cluster_url, parse_cluster_url
from tests.process_support import free_port


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "redis+cluster://10.0.0.1:7000,10.0.0.2:7001",
            ClusterUrl("redis://10.0.0.1:7000", (("10.0.0.1", 7000), ("10.0.0.2", 7001))),
        ),
        (
            "rediss+cluster://:pw@a.example,b.example:7002/0?ssl_ca_certs=/ca.pem",
            ClusterUrl(
                "rediss://:pw@a.example:6379?ssl_ca_certs=/ca.pem",
                (("a.example", 6379), ("b.example", 7002)),
            ),
        ),
        (
            "redis+cluster://user:secret@[::1]:7000/",
            ClusterUrl("redis://user:secret@[::1]:7000", (("::1", 7000),)),
        ),
    ],
    ids=["two-nodes", "tls-password-options", "ipv6-user"],
)
def test_nodes_credentials_and_options(url: str, expected: ClusterUrl) -> None:
    assert is_cluster_url(url)
    assert parse_cluster_url(url) == expected


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("redis+cluster://h:7000/1", "only database 0"),
        ("redis+cluster://h:70000", "bad port"),
        ("redis+cluster://h:x", "bad port"),
        ("redis+cluster://h:7000,", "at least one host"),
        ("redis+cluster://:7000", "no host"),
        ("redis://h:7000", "not a Redis Cluster URL"),
    ],
)
def test_malformed_urls_are_refused_with_the_reason(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_cluster_url(url)


def test_single_server_urls_are_not_cluster_urls(tmp_path: Path) -> None:
    assert not is_cluster_url("redis://h:6379/0") and not is_cluster_url("unix:///s.sock")
    settings = Settings(home=tmp_path / "home", redis_url="redis+cluster://h:7000/3")
    assert backend_name(settings) == "cluster"
    with pytest.raises(UnavailableError, match="only database 0"):
        connect(settings)


def test_an_unreachable_cluster_is_unavailable_at_once(tmp_path: Path) -> None:
    """The sync client reads the slot map when built; the asyncio one at its first
    command, which the stores turn into StoreDownError (writes are then buffered)."""
    url = f"redis+cluster://127.0.0.1:{free_port()}"
    settings = Settings(home=tmp_path / "home", redis_url=url)
    started = time.monotonic()
    with pytest.raises(UnavailableError, match="cannot connect to Redis"):
        connect(settings)

    async def first_command() -> None:
        client = connect_async(settings)
        try:
            await KeyVerifier(client).verify("gbr_0123_" + "s" * 20)
        finally:
            await client.aclose()

    with pytest.raises(StoreDownError):
        asyncio.run(first_command())
    assert time.monotonic() - started < 5.0
