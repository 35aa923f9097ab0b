"""Redis persistence of experiments: definitions, running aggregates, raw events, snapshots.

Keys (all under ``gbrec:exp:``): ``ids`` (set), ``{<id>}:def`` (hash: spec JSON, status,
stage, winner, decision, timestamps), the per-user/per-variant keys documented in
:mod:`gbrec_core.experiments.lua`, ``{<id>}:snapshots`` (sorted set by time) and
``events`` (one Stream of raw exposures/events, trimmed by MINID to the retention).
A batch is one Lua script call, so its aggregate updates and raw-event appends (stream
fields ``user`` and ``d``, the event as JSON) run atomically: no reader sees half a batch.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import orjson
import redis

from gbrec_core.experiments import lua
from gbrec_core.experiments.codec import spec_from_json, spec_to_json
from gbrec_core.experiments.events import RawEntry
from gbrec_core.experiments.metrics import PRECISION_INDEX, MetricLayout, Op
from gbrec_core.experiments.types import Experiment, ExperimentSpec, ExperimentStatus
from gbrec_core.store.errors import store_call

PREFIX = "gbrec:exp:"
STREAM = PREFIX + "events"


@dataclass(frozen=True)
class ExposureRow:
    user_id: int
    variant: int
    covariate: float
    book_ids: Sequence[int]


@dataclass(frozen=True)
class EventRow:
    user_id: int
    book_id: int | None
    ops: Sequence[Op]


_OP_TEXT: dict[Op, str] = {}


def _op_text(op: Op) -> str:
    """Wire form of one accumulator update; memoised because a few ops repeat endlessly
    (float repr was a visible share of ingestion time)."""
    text = _OP_TEXT.get(op)
    if text is None:
        k, da, db, cond = op
        text = f"{k},{da!r},{db!r},{int(cond)}"
        if len(_OP_TEXT) < 4096:
            _OP_TEXT[op] = text
    return text


def _raw_arg(raw: Sequence[RawEntry], n: int) -> str:
    """Raw entries as newline-separated JSON (JSON never contains a bare newline)."""
    if not raw:
        return ""
    if len(raw) != n:
        raise ValueError("raw entries must align with rows")
    return "\n".join(orjson.dumps(entry).decode() for entry in raw)


def exp_prefix(experiment_id: str) -> str:
    return f"{PREFIX}{{{experiment_id}}}:"


def _now() -> datetime:
    return datetime.now(UTC)


class ExperimentStore:
    """Thin, typed access to the experiment keys of one Redis database."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        retention_days: int,
        books_ttl_days: int,
        history_days: float = 30.0,
    ) -> None:
        self.r = client
        self.retention_ms = retention_days * 86_400_000
        self.history_seconds = history_days * 86_400
        self.books_ttl = books_ttl_days * 86_400
        self._exposures = client.register_script(lua.EXPOSURES)
        self._events = client.register_script(lua.EVENTS)
        self._delete = client.register_script(lua.DELETE_USER)
        self._cas = client.register_script(lua.CAS)
        self._cas_fields = client.register_script(lua.CAS_FIELDS)

    # definitions -------------------------------------------------------------------
    @store_call("experiment store")
    def create(self, spec: ExperimentSpec) -> bool:
        key = exp_prefix(spec.id) + "def"
        if not self.r.hsetnx(key, "spec", spec_to_json(spec)):
            return False
        now = _now().isoformat()
        fields = {
            "status": ExperimentStatus.RUNNING.value,
            "stage": "0",
            "winner": "",
            "decision": "",
            "created_at": now,
            "updated_at": now,
        }
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(key, mapping=fields)  # type: ignore[arg-type]
        pipe.sadd(PREFIX + "ids", spec.id)
        pipe.execute()
        return True

    @store_call("experiment store")
    def load(self, experiment_id: str) -> Experiment | None:
        raw = cast(dict[str, str], self.r.hgetall(exp_prefix(experiment_id) + "def"))
        if "spec" not in raw or "status" not in raw:
            return None
        return Experiment(
            spec=spec_from_json(raw["spec"]),
            status=ExperimentStatus(raw["status"]),
            stage=int(raw["stage"]),
            winner=raw["winner"] or None,
            decision=raw["decision"] or None,
            created_at=datetime.fromisoformat(raw["created_at"]),
            updated_at=datetime.fromisoformat(raw["updated_at"]),
        )

    @store_call("experiment store")
    def ids(self) -> list[str]:
        return sorted(cast(set[str], self.r.smembers(PREFIX + "ids")))

    @store_call("experiment store")
    def transition(self, experiment_id: str, expected: ExperimentStatus, **fields: str) -> bool:
        """Set ``fields`` only if the status is still ``expected`` (safe across processes)."""
        args: list[str] = [expected.value]
        for k, v in {**fields, "updated_at": _now().isoformat()}.items():
            args += [k, v]
        return bool(self._cas(keys=[exp_prefix(experiment_id) + "def"], args=args))

    @store_call("experiment store")
    def transition_if(self, experiment_id: str, expected: Mapping[str, str], **fields: str) -> bool:
        """Set ``fields`` only if every ``expected`` field still holds its value (a missing
        field reads as ``""``); e.g. ``{"status": "RUNNING", "stage": "0"}`` lets exactly
        one of several racing processes advance stage 0."""
        args: list[str] = [str(len(expected))]
        for k, v in expected.items():
            args += [k, v]
        for k, v in {**fields, "updated_at": _now().isoformat()}.items():
            args += [k, v]
        return bool(self._cas_fields(keys=[exp_prefix(experiment_id) + "def"], args=args))

    @store_call("experiment store")
    def field(self, experiment_id: str, name: str) -> str | None:
        """One raw field of the definition hash (e.g. the delivery loop's ``stage_users``)."""
        return cast(str | None, self.r.hget(exp_prefix(experiment_id) + "def", name))

    # writes ------------------------------------------------------------------------
    def _base_args(self, experiment_id: str, layout: MetricLayout) -> list[Any]:
        minid = max(int(time.time() * 1000) - self.retention_ms, 0)
        return [exp_prefix(experiment_id), layout.kinds_arg, self.books_ttl, STREAM, minid]

    @store_call("experiment store")
    def write_exposures(
        self,
        experiment_id: str,
        layout: MetricLayout,
        rows: Sequence[ExposureRow],
        raw: Sequence[RawEntry],
    ) -> None:
        """Apply exposures (and append ``raw``, aligned with ``rows``) in one script call."""
        if not rows:
            return
        items = "\n".join(
            f"{r.user_id}|{r.variant}|{float(r.covariate)!r}|{','.join(map(str, r.book_ids))}"
            for r in rows
        )
        args = [*self._base_args(experiment_id, layout), len(layout.defs), PRECISION_INDEX]
        self._exposures(
            keys=[exp_prefix(experiment_id) + "users"],
            args=[*args, items, _raw_arg(raw, len(rows))],
        )

    @store_call("experiment store")
    def write_events(
        self,
        experiment_id: str,
        layout: MetricLayout,
        rows: Sequence[EventRow],
        raw: Sequence[RawEntry],
    ) -> int:
        """Apply events to one experiment; returns how many were attributed to a user.

        ``raw`` is aligned with ``rows`` or empty (already appended for another experiment).
        """
        if not rows:
            return 0
        items = "\n".join(
            f"{r.user_id}|{'' if r.book_id is None else r.book_id}|"
            + "|".join(map(_op_text, r.ops))
            for r in rows
        )
        args = [*self._base_args(experiment_id, layout), items, _raw_arg(raw, len(rows))]
        return int(self._events(keys=[exp_prefix(experiment_id) + "users"], args=args))

    @store_call("experiment store")
    def write_raw(self, raw: Iterable[RawEntry]) -> None:
        """Append raw entries that belong to no experiment."""
        minid = max(int(time.time() * 1000) - self.retention_ms, 0)
        pipe = self.r.pipeline(transaction=True)
        for entry in raw:
            fields = {"user": str(entry.get("user", "")), "d": orjson.dumps(entry).decode()}
            pipe.xadd(STREAM, fields, minid=minid, approximate=True)  # type: ignore[arg-type]
        pipe.execute()

    # reads -------------------------------------------------------------------------
    @store_call("experiment store")
    def aggregates(self, experiment_id: str, n_variants: int) -> list[dict[str, float]]:
        pipe = self.r.pipeline(transaction=False)
        for v in range(n_variants):
            pipe.hgetall(f"{exp_prefix(experiment_id)}agg:{v}")
        return [{k: float(x) for k, x in h.items()} for h in pipe.execute()]

    # retention, privacy, snapshots -------------------------------------------------------
    @store_call("experiment store")
    def trim(self) -> int:
        minid = max(int(time.time() * 1000) - self.retention_ms, 0)
        return int(self.r.xtrim(STREAM, minid=minid, approximate=False))

    @store_call("experiment store")
    def delete_user(
        self, user_id: int, experiment_ids: Iterable[str], layouts: dict[str, MetricLayout]
    ) -> int:
        """Remove a user's state, contribution to sums and raw events; returns deleted events."""
        for eid in experiment_ids:
            self._delete(
                keys=[exp_prefix(eid) + "users"],
                args=[*self._base_args(eid, layouts[eid]), user_id],
            )
        deleted, start, uid = 0, "-", str(user_id)
        while True:
            batch = cast(
                list[tuple[str, dict[str, str]]],
                self.r.xrange(STREAM, min=start, max="+", count=10_000),
            )
            if not batch:
                return deleted
            ids = [i for i, fields in batch if fields.get("user") == uid]
            if ids:
                deleted += int(self.r.xdel(STREAM, *ids))
            start = "(" + batch[-1][0]

    @store_call("experiment store")
    def add_snapshot(self, experiment_id: str, payload: str) -> None:
        """Append a snapshot and drop those older than the history window, atomically."""
        now = time.time()
        key = exp_prefix(experiment_id) + "snapshots"
        pipe = self.r.pipeline(transaction=True)
        pipe.zadd(key, {payload: now})
        pipe.zremrangebyscore(key, "-inf", f"({now - self.history_seconds!r}")
        pipe.execute()

    @store_call("experiment store")
    def snapshots(self, experiment_id: str, since: float = 0.0) -> list[str]:
        return cast(
            list[str], self.r.zrangebyscore(exp_prefix(experiment_id) + "snapshots", since, "+inf")
        )

    @store_call("experiment store")
    def last_snapshot_time(self, experiment_id: str) -> float | None:
        last = self.r.zrange(exp_prefix(experiment_id) + "snapshots", -1, -1, withscores=True)
        return float(last[0][1]) if last else None
