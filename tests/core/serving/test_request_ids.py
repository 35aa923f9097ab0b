"""Request ids: UUID4 hex, unique, from pooled os.urandom bytes."""

from __future__ import annotations

import threading
import uuid

from gbrec_core.serving.request_ids import RequestIds


def test_ids_are_uuid4_hex_and_unique_across_threads() -> None:
    ids = RequestIds()
    seen: list[str] = []

    def draw() -> None:
        seen.extend(ids.new() for _ in range(5000))  # list.extend is atomic under the GIL

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(seen)) == len(seen) == 20_000
    for value in seen[::97]:
        parsed = uuid.UUID(hex=value)
        assert parsed.hex == value and parsed.version == 4 and parsed.variant == uuid.RFC_4122
