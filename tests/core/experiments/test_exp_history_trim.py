"""Result snapshots older than GBREC_EXPERIMENT_HISTORY_DAYS are trimmed on write."""

from __future__ import annotations

import time

import redis

from gbrec_core.experiments.store import ExperimentStore, exp_prefix


def test_snapshots_older_than_history_are_trimmed(redis_conn: redis.Redis) -> None:
    store = ExperimentStore(redis_conn, retention_days=1, books_ttl_days=1, history_days=1.0)
    key = exp_prefix("e") + "snapshots"
    now = time.time()
    redis_conn.zadd(key, {"old": now - 2 * 86_400, "recent": now - 3600})
    store.add_snapshot("e", "new")
    assert store.snapshots("e") == ["recent", "new"]
