"""`gbrec materialize` against Dagster storage and the MLflow backend on PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

import redis

from .production_profile import MARKS, pg_dsn

pytestmark = MARKS


def _rows(database: str, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    import psycopg2

    with psycopg2.connect(pg_dsn(database)) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def test_dagster_runs_are_recorded_in_postgres(materialized: Path) -> None:
    runs = _rows("dagster", "SELECT run_id, status FROM runs")
    assert runs, "no Dagster run in the PostgreSQL run storage"
    assert "SUCCESS" in {status for _, status in runs}, runs
    materializations = _rows(
        "dagster",
        "SELECT DISTINCT asset_key FROM event_logs WHERE dagster_event_type = %s",
        ("ASSET_MATERIALIZATION",),
    )
    keys = {str(row[0]) for row in materializations}
    for asset in ("validated_ratings", "registered_model", "vector_index"):
        assert any(asset in key for key in keys), f"{asset} not materialised: {sorted(keys)}"
    # The instance really is the PostgreSQL one: no sqlite run storage was created.
    home = Path(os.environ["DAGSTER_HOME"])
    assert not list(home.rglob("*.db")), list(home.rglob("*.db"))


def test_mlflow_on_postgres_holds_the_champion(materialized: Path) -> None:
    from gbrec_core.registry import ModelRegistry
    from gbrec_core.settings import Settings

    settings = Settings()
    assert settings.tracking_uri.startswith("postgresql")
    champion = ModelRegistry(settings).champion()
    assert champion is not None, "materialize registered no champion"
    aliases = _rows(
        "mlflow",
        "SELECT alias, version FROM registered_model_aliases WHERE name = %s",
        (settings.model_name,),
    )
    assert ("champion", int(champion.version)) in aliases, aliases
    runs = _rows("mlflow", "SELECT count(*) FROM runs WHERE status = 'FINISHED'")
    assert int(str(runs[0][0])) >= 1


def test_redis_is_tcp_with_append_only_file(profile: dict[str, str]) -> None:
    client = redis.Redis.from_url(profile["GBREC_REDIS_URL"], decode_responses=True)
    try:
        assert client.connection_pool.connection_kwargs["host"] == "127.0.0.1"
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("appendfsync") == {"appendfsync": "everysec"}
    finally:
        client.close()
