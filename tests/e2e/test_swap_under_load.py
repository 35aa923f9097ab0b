"""Issue 4's acceptance at test scale, from outside through GraphQL on a real ``gbrec serve``.

8 concurrent clients send at least 800 ``recommendations`` requests while ``deployModel``
alternates two registered versions every 0.25 s (at least 10 swaps): no request may
fail, both versions must be seen serving and every answer must name one of the two.
Then ``rollbackModel`` must take effect for the very next request in that process.
The driver is ``benchmarks/api_swaps.py`` (the full-size run is the benchmark).
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "api_swaps.py"


def _driver() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gbrec_bench_api_swaps", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered first: its dataclasses resolve their string annotations through it.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def swaps() -> ModuleType:
    return _driver()


@pytest.fixture
def served(swaps: ModuleType, tmp_path: Path) -> Iterator[tuple[Any, str, str]]:
    """(prepared home, server URL, admin key) of a running ``gbrec serve``."""
    from gbrec_core.settings import Settings
    from gbrec_core.store import stop_server

    home = swaps.prepare(tmp_path, "tiny", factors=(8, 12))
    key = swaps.admin_key(home.env)
    proc, url = swaps.start_server(home.env, tmp_path / "serve.log")
    try:
        yield home, url, key
    finally:
        swaps.stop_server(proc)
        stop_server(Settings(home=Path(home.env["GBREC_HOME"])))


def test_swaps_under_load_fail_no_request_and_rollback_is_immediate(
    swaps: ModuleType, served: tuple[Any, str, str]
) -> None:
    home, url, key = served
    v1, v2 = home.versions
    assert v1 != v2
    phase = asyncio.run(
        swaps.run_phase(
            url,
            home.users,
            name="swaps",
            total=800,
            clients=8,
            allowed=home.versions,
            key=key,
            swap=(key, 0.25, 10),
            budget=150.0,
        )
    )
    assert phase.failures == [], phase.failures[:5]
    assert phase.swap_failures == [], phase.swap_failures[:5]
    assert phase.swaps >= 10
    assert len(phase.latencies) >= 800
    # check_recommendation refused any other version, so these are all the answers.
    assert sum(phase.versions.values()) == len(phase.latencies)
    assert set(phase.versions) == {v1, v2}, phase.versions

    rollback = asyncio.run(swaps.rollback_check(url, key))
    assert rollback["rolled_from"] == rollback["before"]
    assert rollback["rolled_to"] in (v1, v2) and rollback["rolled_to"] != rollback["before"]
    assert rollback["next_request"] == rollback["rolled_to"]
    assert rollback["serving_after"] == rollback["rolled_to"]
