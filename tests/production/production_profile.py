"""What the production tests share (a uniquely named module: test folders are not packages)."""

from __future__ import annotations

import os

import pytest

PROFILE = bool(os.environ.get("GBREC_PRODUCTION_PROFILE"))
SKIP_REASON = (
    "production profile not running: use `make test-production` "
    "(scripts/production/run.sh starts PostgreSQL and Redis and sets GBREC_PRODUCTION_PROFILE)"
)
#: Module-level ``pytestmark`` of every production test.
MARKS = [
    pytest.mark.production,
    pytest.mark.slow,
    pytest.mark.skipif(not PROFILE, reason=SKIP_REASON),
]


def pg_dsn(database: str) -> str:
    """libpq DSN of a database of the profile's PostgreSQL cluster."""
    env = os.environ
    return (
        f"host={env['DAGSTER_POSTGRES_HOST']} port={env['DAGSTER_POSTGRES_PORT']} "
        f"user={env['DAGSTER_POSTGRES_USER']} password={env['DAGSTER_POSTGRES_PASSWORD']} "
        f"dbname={database} connect_timeout=10"
    )
