"""Redis key layout of the online metrics and the hourly time buckets.

Every key of one registered model shares the hash tag ``{<model>}``, so the Lua
scripts touch a single Redis Cluster slot:

- ``gbrec:online:{<model>}:served:<request id>``: one served response, a string
  ``version|bucket|n shown|book,book,...|clicked book,...`` that expires after the
  attribution window (``GBREC_ONLINE_ATTRIBUTION_MINUTES``).
- ``gbrec:online:{<model>}:<version>:<bucket>``: a hash of the counts of the responses
  that ``version`` served in hour ``bucket`` (hours since the epoch, UTC), feedback
  included: ``requests``, ``shown``, ``shown_sq``, ``clicked``, ``hits``, ``hits_sq``,
  ``hits_shown`` (the sums the delta method needs, see :mod:`.counts`).
"""

from __future__ import annotations

import math

PREFIX = "gbrec:online:"
BUCKET_SECONDS = 3600
# Counts outlive the longest span the sensor reads (recent + reference + settle) by this.
RETENTION_MARGIN_SECONDS = 2 * 86_400


def model_prefix(model_name: str) -> str:
    return f"{PREFIX}{{{model_name}}}:"


def served_key(model_name: str, request_id: str) -> str:
    return f"{model_prefix(model_name)}served:{request_id}"


def counts_key(model_name: str, version: str, bucket: int) -> str:
    return f"{model_prefix(model_name)}{version}:{bucket}"


def bucket_of(timestamp: float) -> int:
    """The hour (since the epoch) that ``timestamp`` falls in."""
    return int(timestamp // BUCKET_SECONDS)


def buckets_between(start: float, end: float) -> range:
    """Buckets whose hour starts in ``[start, end)``."""
    return range(math.ceil(start / BUCKET_SECONDS), math.ceil(end / BUCKET_SECONDS))
