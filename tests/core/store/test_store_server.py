"""The shared embedded Redis server: lifecycle, sharing across processes, AOF durability."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from gbrec_core.settings import Settings
from gbrec_core.store import (
    ahealth_check,
    connect,
    connect_async,
    ensure_server,
    health_check,
    server_paths,
    server_pid,
    stop_server,
)


@pytest.fixture
def home_settings(settings: Settings) -> Settings:
    yield settings
    stop_server(settings)


def test_connect_starts_one_server_with_aof_everysec(home_settings: Settings) -> None:
    r = connect(home_settings)
    assert r.ping()
    cfg = r.config_get("append*")
    assert cfg["appendonly"] == "yes"
    assert cfg["appendfsync"] == "everysec"
    assert r.config_get("dir")["dir"] == str(home_settings.redis_socket.parent)
    pid = server_pid(home_settings)
    assert pid is not None
    assert ensure_server(home_settings) == server_paths(home_settings).socket
    assert server_pid(home_settings) == pid  # idempotent: no second server


def test_server_outlives_creator_and_is_shared(home_settings: Settings) -> None:
    code = (
        "import sys; from pathlib import Path\n"
        "from gbrec_core.settings import Settings\n"
        "from gbrec_core.store import connect\n"
        "r = connect(Settings(home=Path(sys.argv[1])))\n"
        "r.set('from-child', str(__import__('os').getpid()))\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", code, str(home_settings.home)], capture_output=True, text=True
    )
    assert child.returncode == 0, child.stderr
    r = connect(home_settings)  # the child has exited; its server still answers
    assert r.get("from-child") is not None
    assert server_pid(home_settings) is not None


def test_concurrent_starts_converge_on_one_server(home_settings: Settings) -> None:
    code = (
        "import sys; from pathlib import Path\n"
        "from gbrec_core.settings import Settings\n"
        "from gbrec_core.store import connect, server_pid\n"
        "s = Settings(home=Path(sys.argv[1])); connect(s).incr('starts')\n"
        "print(server_pid(s))\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(home_settings.home)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    pids = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert len(pids) == 1
    assert connect(home_settings).get("starts") == "3"


def test_clean_restart_keeps_data(home_settings: Settings) -> None:
    r = connect(home_settings)
    r.hset("h", mapping={"a": "1", "b": "2"})
    r.xadd("s", {"k": "v"})
    assert stop_server(home_settings)
    assert server_pid(home_settings) is None
    assert not health_check(r).ok
    r2 = connect(home_settings)
    assert r2.hgetall("h") == {"a": "1", "b": "2"}
    assert r2.xlen("s") == 1


@pytest.mark.slow
def test_kill_9_loses_at_most_about_a_second(home_settings: Settings) -> None:
    r = connect(home_settings)
    for i in range(100):
        r.set(f"k{i}", i)
    time.sleep(1.5)  # > one everysec fsync interval
    pid = server_pid(home_settings)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while server_pid(home_settings) == pid and time.monotonic() < deadline:
        time.sleep(0.02)
    r2 = connect(home_settings)  # restarts from the append-only file
    assert server_pid(home_settings) != pid
    assert [r2.get(f"k{i}") for i in range(100)] == [str(i) for i in range(100)]


def test_url_setting_bypasses_embedded(home_settings: Settings, tmp_path: Path) -> None:
    sock = ensure_server(home_settings)
    other = Settings(home=tmp_path / "elsewhere", redis_url=f"unix://{sock}")
    r = connect(other)
    r.set("via-url", "1")
    assert connect(home_settings).get("via-url") == "1"
    assert not (tmp_path / "elsewhere" / "redis").exists()


def test_health_check_reports_failure_without_raising(tmp_path: Path) -> None:
    r = redis.Redis(unix_socket_path=str(tmp_path / "nope.sock"))
    h = health_check(r)
    assert not h.ok and h.error


def test_async_client_shares_the_server(home_settings: Settings) -> None:
    connect(home_settings).set("x", "42")

    async def go() -> tuple[str | None, bool]:
        ar = connect_async(home_settings)
        try:
            return await ar.get("x"), (await ahealth_check(ar)).ok
        finally:
            await ar.aclose()

    assert asyncio.run(go()) == ("42", True)


def test_bad_url_is_a_clear_error(tmp_path: Path) -> None:
    from gbrec_core.errors import UnavailableError

    with pytest.raises(UnavailableError):
        connect(Settings(home=tmp_path, redis_url="nonsense://x"))
