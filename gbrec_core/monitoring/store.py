"""Typed access to the online-metric keys: write served responses, attribute feedback."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from gbrec_core.monitoring import lua
from gbrec_core.monitoring.keys import (
    BUCKET_SECONDS,
    bucket_of,
    counts_key,
    model_prefix,
    served_key,
)
from gbrec_core.store.client import is_cluster
from gbrec_core.store.errors import store_call

# One script call blocks Redis while it runs: 2,000 responses keep it to a few ms.
MAX_BATCH = 2_000
MAX_REQUEST_ID = 128

# (request id, version, shown book ids, serve time in epoch seconds)
Served = tuple[str, str, Sequence[int], float]
Feedback = tuple[str, int]  # (request id, book id)


@dataclass(frozen=True)
class Attribution:
    """What became of positive feedback events (each counted once).

    ``duplicates``: the book was already counted for that request; ``not_shown``: the
    request did not show that book; ``unknown``: no such request id, or its record
    expired (older than the attribution window); ``unsampled``: the request was not
    sampled (``GBREC_ONLINE_SAMPLE_RATE``), so it is neither counted nor unknown.
    """

    attributed: int = 0
    duplicates: int = 0
    not_shown: int = 0
    unknown: int = 0
    unsampled: int = 0

    def __add__(self, other: Attribution) -> Attribution:
        return Attribution(
            *(getattr(self, f.name) + getattr(other, f.name) for f in fields(Attribution))
        )


def valid_id(text: str) -> bool:
    """Ids travel in '|'- and newline-separated batches; anything else is refused."""
    return 0 < len(text) <= MAX_REQUEST_ID and not any(c in text for c in "|\n,")


def served_line(row: Served) -> str | None:
    request_id, version, books, at = row
    if not (valid_id(request_id) and valid_id(version)):
        return None
    return f"{request_id}|{version}|{bucket_of(at)}|{len(books)}|{','.join(map(str, books))}"


class OnlineStore:
    """The online keys of one registered model (see :mod:`gbrec_core.monitoring.keys`).

    ``ttl_seconds`` is the attribution window (how long a served record accepts
    feedback); ``retention_seconds`` how long hourly counts are kept after their hour.
    """

    def __init__(
        self,
        redis: Any,
        model_name: str,
        *,
        ttl_seconds: float,
        retention_seconds: int,
        declare_keys: bool | None = None,
    ) -> None:
        self.redis = redis
        self.model_name = model_name
        self.ttl_ms = max(int(ttl_seconds * 1000), 1)
        self.retention = int(retention_seconds)
        self._prefix = model_prefix(model_name)
        # Every key declared on a cluster, or when asked (as for ExperimentStore).
        self.declares = is_cluster(redis) if declare_keys is None else declare_keys
        self._record = redis.register_script(lua.RECORD.form(self.declares))
        self._attribute = redis.register_script(lua.ATTRIBUTE.form(self.declares))

    def _args(self) -> list[Any]:
        return [self._prefix, BUCKET_SECONDS, self.retention]

    @store_call("online metrics store")
    def write_served(self, rows: Sequence[Served]) -> tuple[int, int, int]:
        """Record responses; returns (new, duplicates, invalid) counts."""
        valid = [(row, line) for row in rows if (line := served_line(row)) is not None]
        new = duplicates = 0
        for start in range(0, len(valid), MAX_BATCH):
            part = valid[start : start + MAX_BATCH]
            keys = self._record_keys([row for row, _ in part]) if self.declares else []
            payload = "\n".join(line for _, line in part)
            done = self._record(keys=keys, args=[*self._args(), self.ttl_ms, payload])
            new, duplicates = new + int(done[0]), duplicates + int(done[1])
        return new, duplicates, len(rows) - len(valid)

    @store_call("online metrics store")
    def attribute(self, feedback: Sequence[Feedback]) -> tuple[Attribution, list[Feedback]]:
        """Attribute positive feedback to the responses that showed the book.

        Returns the outcome and the feedback whose request was unknown (already counted
        in ``unknown``), which the caller may retry once after flushing its own buffer.
        On a cluster the served records are read first (one MGET): the script must be
        told which hourly counts keys it may touch.
        """
        valid = [(r, int(b)) for r, b in feedback if valid_id(r) and int(b) >= 0]
        total = Attribution(unknown=len(feedback) - len(valid))
        missing: list[Feedback] = []
        for start in range(0, len(valid), MAX_BATCH):
            part = valid[start : start + MAX_BATCH]
            payload = "\n".join(f"{r}|{b}" for r, b in part)
            keys = self._attribute_keys([r for r, _ in part]) if self.declares else []
            done = self._attribute(keys=keys, args=[*self._args(), payload])
            lost = [(r, int(b)) for r, b in (line.rsplit("|", 1) for line in done[3])]
            missing += lost
            total = total + Attribution(int(done[0]), int(done[1]), int(done[2]), len(lost))
        return total, missing

    def _served(self, request_id: str) -> str:
        return served_key(self.model_name, request_id)

    def _counts(self, version: str, bucket: int) -> str:
        return counts_key(self.model_name, version, bucket)

    def _record_keys(self, rows: Sequence[Served]) -> list[str]:
        """What the record script touches: each response's record and the hourly counts
        of the version that served it."""
        served = [self._served(request_id) for request_id, _, _, _ in rows]
        counts = [self._counts(version, bucket_of(at)) for _, version, _, at in rows]
        return _unique(served + counts)

    def _attribute_keys(self, request_ids: list[str]) -> list[str]:
        """What the attribute script may touch: the requests' records and the hourly
        counts of the versions that served those found now (a record is
        ``version|bucket|...``)."""
        served = _unique([self._served(r) for r in request_ids])
        parts = [str(r).split("|", 2) for r in self.redis.mget(served) if r is not None]
        return served + _unique([self._counts(p[0], int(p[1])) for p in parts if len(p) == 3])

    @store_call("online metrics store")
    def forget(self, request_ids: Sequence[str]) -> int:
        """Delete the served records of ``request_ids``; returns how many existed.

        Records name requests, books and versions, never users: this is what erasing a
        user means here (the hourly counts are aggregates and stay)."""
        keys = [served_key(self.model_name, r) for r in request_ids if valid_id(r)]
        deleted = 0
        for start in range(0, len(keys), MAX_BATCH):  # one slot: {model} hash tag
            deleted += int(self.redis.delete(*keys[start : start + MAX_BATCH]))
        return deleted


def _unique(keys: list[str]) -> list[str]:
    return list(dict.fromkeys(keys))
