"""A bounded ring buffer of search latencies for the rolling p50/p99 in ``stats()``."""

from __future__ import annotations

import threading
from collections import deque

import numpy as np


class LatencyRecorder:
    """Keeps the last ``size`` latencies; memory stays bounded however long we serve."""

    def __init__(self, size: int = 2048) -> None:
        self._samples: deque[float] = deque(maxlen=size)
        self._lock = threading.Lock()
        self.count = 0

    def record(self, seconds: float) -> None:
        with self._lock:
            self._samples.append(seconds)
            self.count += 1

    def percentiles_ms(self) -> dict[str, float | None]:
        with self._lock:
            samples = np.fromiter(self._samples, dtype=np.float64)
        if samples.size == 0:
            return {"p50_ms": None, "p99_ms": None}
        p50, p99 = np.percentile(samples, [50, 99]) * 1000.0
        return {"p50_ms": float(p50), "p99_ms": float(p99)}
