"""Shaping result snapshots for the ``Experiment.history`` field (the sweeper that
stores them is gbrec_core.experiments.sweeper)."""

from __future__ import annotations

from datetime import UTC, datetime

from gbrec_core.errors import InvalidInputError

MAX_POINTS = 2000


def since_timestamp(since: datetime | None) -> float:
    """Seconds since the epoch; a naive DateTime is read as UTC."""
    if since is None:
        return 0.0
    return (since if since.tzinfo else since.replace(tzinfo=UTC)).timestamp()


def check_points(limit: int) -> None:
    if not 1 <= limit <= MAX_POINTS:
        raise InvalidInputError(f"limit must be between 1 and {MAX_POINTS}, got {limit}")
