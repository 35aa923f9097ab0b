"""In-memory LRU of loaded versions, bounded by count and by bytes.

Pinned versions (the live champion) are never evicted; an evicted version that a
request still holds stays alive until that request finishes (plain references).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from gbrec_core.serving.loader import LoadedVersion


class VersionCache:
    def __init__(self, max_versions: int, max_bytes: int) -> None:
        self.max_versions = max_versions
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, LoadedVersion] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, version: str) -> LoadedVersion | None:
        with self._lock:
            entry = self._entries.get(version)
            if entry is not None:
                self._entries.move_to_end(version)
            return entry

    def put(self, entry: LoadedVersion, pinned: frozenset[str] = frozenset()) -> list[str]:
        """Insert ``entry``; returns the versions evicted to respect both budgets."""
        with self._lock:
            self._entries[entry.version] = entry
            self._entries.move_to_end(entry.version)
            keep = pinned | {entry.version}
            evicted = []
            for version in list(self._entries):
                if not self._over_budget():
                    break
                if version not in keep:
                    del self._entries[version]
                    evicted.append(version)
            return evicted

    def versions(self) -> list[str]:
        with self._lock:
            return list(self._entries)

    def total_bytes(self) -> int:
        with self._lock:
            return sum(e.nbytes for e in self._entries.values())

    def _over_budget(self) -> bool:
        total = sum(e.nbytes for e in self._entries.values())
        return len(self._entries) > self.max_versions or total > self.max_bytes
