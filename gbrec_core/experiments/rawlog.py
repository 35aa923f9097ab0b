"""The raw-event logs: every exposure and event as stored JSON, kept for the retention.

One sorted set per experiment, ``gbrec:exp:{<id>}:log`` (the experiment's hash tag, so
the ingestion script touches one Redis Cluster slot), plus ``gbrec:exp:log`` for events
sent while no experiment runs. A member is one ingested batch, ``<batch id>\\n<json>\\n
<json>...`` (one JSON object per line, the user a pseudonym), scored by the batch time
in ms: one ZADD per batch instead of one XADD per event is what lets a script ingest
tens of thousands of events a second, and a sorted set (unlike a Stream, whose entries
are immutable and whose ids only grow) lets an erasure rewrite a batch in place, at the
same score, so the remaining events keep their retention.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from typing import Any, cast

import orjson

from gbrec_core.experiments import lua
from gbrec_core.store.client import RedisClient
from gbrec_core.store.errors import store_call

PREFIX = "gbrec:exp:"
GLOBAL_LOG = PREFIX + "log"
# Erasure reads this many batches (up to ~0.3 MB each) per script call.
ERASE_SLICE = 16


def log_key(experiment_id: str) -> str:
    return f"{PREFIX}{{{experiment_id}}}:log"


def batch_id() -> str:
    """Random and of fixed length: equal-score batches keep their order when rewritten."""
    return secrets.token_hex(8)


def now_ms() -> int:
    return int(time.time() * 1000)


def user_marker(pseudonym: str) -> str:
    """The exact text a user's JSON lines contain (orjson writes no spaces)."""
    return f'"user":"{pseudonym}"'


def raw_text(raw: Iterable[str]) -> str:
    """Raw JSON lines as one argument (JSON never contains a bare newline)."""
    return "\n".join(raw)


def parse_batch(member: str) -> list[dict[str, Any]]:
    """The events of one log member (its first line is the batch id)."""
    return [orjson.loads(line) for line in member.split("\n")[1:] if line]


class RawLogs:
    """Reading, trimming and erasing the raw-event logs of one Redis database."""

    def __init__(self, client: RedisClient, retention_ms: int) -> None:
        self.r = client
        self.retention_ms = retention_ms
        self._erase = client.register_script(lua.ERASE_LOG)

    def min_score(self) -> int:
        """Batches scored below this are past the retention."""
        return max(now_ms() - self.retention_ms, 0)

    @store_call("experiment store")
    def append_global(self, raw: Iterable[str]) -> None:
        """Log events that belong to no experiment."""
        text = raw_text(raw)
        if not text:
            return
        pipe = self.r.pipeline(transaction=True)
        pipe.zadd(GLOBAL_LOG, {f"{batch_id()}\n{text}": now_ms()})
        pipe.zremrangebyscore(GLOBAL_LOG, "-inf", f"({self.min_score()}")
        pipe.execute()

    @store_call("experiment store")
    def trim(self, keys: Iterable[str]) -> int:
        """Drop batches past the retention from ``keys``; returns batches dropped."""
        pipe = self.r.pipeline(transaction=False)
        for key in keys:
            pipe.zremrangebyscore(key, "-inf", f"({self.min_score()}")
        return sum(int(n) for n in pipe.execute())

    @store_call("experiment store")
    def events(self, key: str) -> list[dict[str, Any]]:
        """Every logged event of ``key``, oldest batch first (for audits and tests: it
        reads the whole log)."""
        members = cast(list[str], self.r.zrange(key, 0, -1))
        return [event for member in members for event in parse_batch(member)]

    @store_call("experiment store")
    def erase(self, key: str, pseudonym: str) -> list[str]:
        """Remove the user's lines from the log ``key``; returns them.

        A full pass over the log, ``ERASE_SLICE`` batches per script call, so each call
        blocks the server for a few ms (1-2.5 s per million logged events, measured).
        """
        removed: list[str] = []
        start, skip = "-inf", 0
        while True:
            lines, start, skip, done = self._erase(
                keys=[key], args=[user_marker(pseudonym), start, skip, ERASE_SLICE]
            )
            removed += lines
            if int(done):
                return removed
