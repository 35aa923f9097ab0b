"""Random request ids (UUID4 as 32 hex digits) without a system call per id.

``uuid.uuid4()`` reads 16 bytes with ``os.urandom`` for every id: one ``getrandom``
system call per recommendations response, which costs several microseconds on a
virtual machine with speculative-execution mitigations. Here the bytes come from the
same source 4 KiB at a time, so the ids are exactly as unpredictable.
"""

from __future__ import annotations

import os
import threading

_BLOCK = 4096
_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_4_RFC_4122 = (0x4000 << 64) | (0x8000 << 48)


class RequestIds:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool = b""
        self._offset = 0

    def new(self) -> str:
        """A fresh UUID4 in hex, the format of ``uuid.uuid4().hex``."""
        with self._lock:
            if self._offset >= len(self._pool):
                self._pool, self._offset = os.urandom(_BLOCK), 0
            chunk = self._pool[self._offset : self._offset + 16]
            self._offset += 16
        value = (int.from_bytes(chunk, "big") & _CLEAR) | _VERSION_4_RFC_4122
        return f"{value:032x}"


new_request_id = RequestIds().new
