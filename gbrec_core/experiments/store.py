"""Redis persistence of experiments: definitions, running aggregates, raw events, snapshots.

Keys (all under ``gbrec:exp:``): ``ids`` (set), ``{<id>}:def`` (hash: spec JSON, status,
stage, winner, decision, timestamps), the per-user/per-variant keys documented in
:mod:`gbrec_core.experiments.lua`, ``{<id>}:snapshots`` (sorted set by time) and the
raw-event logs of :mod:`gbrec_core.experiments.rawlog`. Users arrive here as pseudonyms
(:mod:`gbrec_core.access.pseudonyms`): no Redis key or value holds a user id. A batch is
one Lua script call, so its aggregate updates and raw-event append run atomically: no
reader sees half a batch. Every script's keys share the experiment's hash tag; on a
Redis Cluster they are all declared in KEYS (:class:`gbrec_core.store.scripts.KeyedScript`).
``ids`` and ``erased`` are keys of their own, never in a transaction with another key.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple, cast

from gbrec_core.experiments import lua
from gbrec_core.experiments.codec import spec_from_json, spec_to_json
from gbrec_core.experiments.metrics import PRECISION_INDEX, MetricLayout
from gbrec_core.experiments.rawlog import GLOBAL_LOG, RawLogs, batch_id, log_key, now_ms, raw_text
from gbrec_core.experiments.types import Experiment, ExperimentSpec, ExperimentStatus
from gbrec_core.paging import spread
from gbrec_core.store.client import RedisClient, is_cluster
from gbrec_core.store.errors import store_call

PREFIX = "gbrec:exp:"
# Erasure mark -> time of the erasure: replays of writes buffered before it skip the user.
ERASED = PREFIX + "erased"


def erasure_mark(pseudonym: str) -> str:
    """What ``ERASED`` holds for an erased user: derived from the pseudonym one way, so
    after an erasure not even the pseudonym remains in Redis."""
    return hashlib.sha256(f"erased:{pseudonym}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class ExposureRow:
    """One exposure as callers give it (``variant``: the variant's index)."""

    user_id: int
    variant: int
    covariate: float
    book_ids: Sequence[int]


class StoredExposure(NamedTuple):
    """An exposure ready for the store: ``user`` is the pseudonym."""

    user: str
    variant: int
    covariate: float
    book_ids: Sequence[int]


def event_line(user: str, book_id: int | None, ops: str) -> str:
    """One event in the events script's wire form ``user|book|ops`` (``user``: the
    pseudonym, ``ops``: :meth:`MetricLayout.ops_text`)."""
    return f"{user}|{'' if book_id is None else book_id}|{ops}"


def exp_prefix(experiment_id: str) -> str:
    return f"{PREFIX}{{{experiment_id}}}:"


def _now() -> datetime:
    return datetime.now(UTC)


class ExperimentStore:
    """Thin, typed access to the experiment keys of one Redis database."""

    def __init__(
        self,
        client: RedisClient,
        *,
        retention_days: int,
        books_ttl_days: int,
        history_days: float = 30.0,
        declare_keys: bool | None = None,
    ) -> None:
        self.r = client
        self.logs = RawLogs(client, retention_days * 86_400_000)
        self.history_seconds = history_days * 86_400
        self.books_ttl = books_ttl_days * 86_400
        # Scripts get every key they touch on a cluster (or when asked: tests check the
        # declarations on one server); otherwise only their fixed keys.
        self.declares = is_cluster(client) if declare_keys is None else declare_keys
        self._create = client.register_script(lua.CREATE)
        self._exposures = client.register_script(lua.EXPOSURES.form(self.declares))
        self._events = client.register_script(lua.EVENTS.form(self.declares))
        self._delete = client.register_script(lua.DELETE_USER.form(self.declares))
        self._cas = client.register_script(lua.CAS)
        self._cas_fields = client.register_script(lua.CAS_FIELDS)

    # definitions -------------------------------------------------------------------
    @store_call("experiment store")
    def create(self, spec: ExperimentSpec) -> bool:
        """Store ``spec`` as a RUNNING experiment; False when the id exists. The definition
        is written by one script on its own key, then the id joins ``ids`` (another hash
        slot on a cluster, so no transaction spans both): on "exists" too, which completes
        a create cut short between the two."""
        now = _now().isoformat()
        fields = {
            "status": ExperimentStatus.RUNNING.value,
            "stage": "0",
            "winner": "",
            "decision": "",
            "created_at": now,
            "updated_at": now,
        }
        args = [spec_to_json(spec), *(x for pair in fields.items() for x in pair)]
        created = bool(self._create(keys=[exp_prefix(spec.id) + "def"], args=args))
        self.r.sadd(PREFIX + "ids", spec.id)
        return created

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
    def _script_call(
        self, exp: Experiment, layout: MetricLayout, users: Iterable[str]
    ) -> tuple[list[str], list[Any]]:
        """KEYS and the ARGV every script shares. KEYS: the users hash and the raw log;
        on a cluster also every other key the scripts may touch, all in the same hash
        slot: each variant's sums and the shown-book flags of ``users``."""
        prefix = exp_prefix(exp.id)
        keys = [prefix + "users", log_key(exp.id)]
        if self.declares:
            keys += [f"{prefix}agg:{v}" for v in range(len(exp.spec.variants))]
            keys += [f"{prefix}books:{user}" for user in dict.fromkeys(users)]
        return keys, [prefix, layout.kinds_arg, self.books_ttl]

    def _log_args(self) -> list[Any]:
        return [self.logs.min_score(), now_ms(), batch_id()]

    @store_call("experiment store")
    def write_exposures(
        self,
        exp: Experiment,
        layout: MetricLayout,
        rows: Sequence[StoredExposure],
        raw: Sequence[str],
    ) -> None:
        """Apply exposures (and log ``raw``, JSON lines) in one script call."""
        if not rows:
            return
        items = "\n".join(
            f"{r.user}|{r.variant}|{float(r.covariate)!r}|{','.join(map(str, r.book_ids))}"
            for r in rows
        )
        keys, args = self._script_call(exp, layout, (r.user for r in rows))
        extra: list[Any] = [len(layout.defs), PRECISION_INDEX, items, raw_text(raw)]
        self._exposures(keys=keys, args=[*args, *self._log_args(), *extra])

    @store_call("experiment store")
    def write_events(
        self,
        exp: Experiment,
        layout: MetricLayout,
        lines: Sequence[str],
        raw: Sequence[str],
        users: Iterable[str],
    ) -> int:
        """Apply events (:func:`event_line` each) to one experiment; returns how many
        were attributed to a user. ``raw`` (JSON lines) is logged with the batch; empty
        when another experiment's batch already logged these events. ``users``: the
        pseudonyms the lines name (their shown-book flags are declared keys).
        """
        if not lines:
            return 0
        keys, args = self._script_call(exp, layout, users)
        extra = ["\n".join(lines), raw_text(raw)]
        return int(self._events(keys=keys, args=[*args, *self._log_args(), *extra]))

    def write_raw(self, raw: Iterable[str]) -> None:
        """Log raw events that belong to no experiment."""
        self.logs.append_global(raw)

    # reads -------------------------------------------------------------------------
    @store_call("experiment store")
    def aggregates(self, experiment_id: str, n_variants: int) -> list[dict[str, float]]:
        pipe = self.r.pipeline(transaction=False)
        for v in range(n_variants):
            pipe.hgetall(f"{exp_prefix(experiment_id)}agg:{v}")
        return [{k: float(x) for k, x in h.items()} for h in pipe.execute()]

    # retention, privacy, snapshots -------------------------------------------------------
    def log_keys(self) -> list[str]:
        """Every raw-event log: one per known experiment, and the global one."""
        return [*(log_key(i) for i in self.ids()), GLOBAL_LOG]

    def trim(self) -> int:
        """Apply the retention to every raw-event log now; returns batches dropped."""
        return self.logs.trim(self.log_keys())

    @store_call("experiment store")
    def erase_state(self, exp: Experiment, layout: MetricLayout, pseudonym: str) -> int | None:
        """Subtract the user's contribution from the sums and delete their state and
        book flags; returns the user's exposures, or None when they had no state."""
        keys, args = self._script_call(exp, layout, [pseudonym])
        found, exposures = self._delete(keys=keys, args=[*args, pseudonym])
        return int(exposures) if int(found) else None

    @store_call("experiment store")
    def mark_erased(self, pseudonym: str) -> None:
        """Remember the erasure (for as long as raw events are kept) so that another
        process replaying writes buffered before it leaves the user out."""
        now = time.time()
        pipe = self.r.pipeline(transaction=True)
        pipe.zadd(ERASED, {erasure_mark(pseudonym): now})
        pipe.zremrangebyscore(ERASED, "-inf", f"({now - self.logs.retention_ms / 1000!r}")
        pipe.execute()

    @store_call("experiment store")
    def erased_at(self, pseudonyms: Iterable[str]) -> dict[str, float]:
        """When each of ``pseudonyms`` was erased (absent: never). Replays only."""
        users = list(pseudonyms)
        pipe = self.r.pipeline(transaction=False)
        for user in users:
            pipe.zscore(ERASED, erasure_mark(user))
        found = zip(users, pipe.execute(), strict=True)
        return {user: float(at) for user, at in found if at is not None}

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
    def snapshots(
        self, experiment_id: str, since: float = 0.0, limit: int | None = None
    ) -> list[str]:
        """Snapshots from ``since`` on, oldest first; with ``limit``, at most that many
        spread evenly, read by rank so the others never leave Redis."""
        key = exp_prefix(experiment_id) + "snapshots"
        if limit is None:
            return cast(list[str], self.r.zrangebyscore(key, since, "+inf"))
        first = int(self.r.zcount(key, "-inf", f"({since}"))
        found = int(self.r.zcount(key, since, "+inf"))
        pipe = self.r.pipeline(transaction=False)
        for index in spread(found, limit):
            pipe.zrange(key, first + index, first + index)
        return [member for hit in pipe.execute() for member in hit]

    @store_call("experiment store")
    def last_snapshot_time(self, experiment_id: str) -> float | None:
        last = self.r.zrange(exp_prefix(experiment_id) + "snapshots", -1, -1, withscores=True)
        return float(last[0][1]) if last else None
