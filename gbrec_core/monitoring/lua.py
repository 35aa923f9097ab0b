"""Lua scripts that record served responses and attribute feedback atomically.

A served record is written with ``SET ... NX``, so a batch replayed after a lost reply
counts each request once. Attribution reads the record, checks that the book was shown
and not yet counted for this request, and adds the deltas of the per-request sums to
the counts of the version and hour that *served* (not the hour of the click); two API
processes attributing the same click at once cannot both count it. Both scripts build
key names (served records, hourly counts); on a Redis Cluster they take every one of
them in KEYS (:class:`gbrec_core.store.scripts.KeyedScript`).
"""

from __future__ import annotations

from gbrec_core.store.scripts import keyed

_PACKAGE = "gbrec_core.monitoring"

RECORD = keyed(_PACKAGE, "counts", "record")
ATTRIBUTE = keyed(_PACKAGE, "counts", "attribute")
