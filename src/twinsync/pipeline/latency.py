"""End-to-end latency per source and per connector, as percentiles over a sliding window.

Each key keeps a fixed ring of (time, latency) samples; a batch adds at most
``per_batch`` of its readings (evenly spaced), so the cost per batch is bounded whatever
its size, and a query computes percentiles over the samples inside the window.

>>> windows = LatencyWindows()
>>> windows.record("source:gw", [0.1, 0.2, 0.3, 0.4], now=100.0)
>>> windows.percentiles("source:gw", now=100.0)["p50"]
0.25
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(slots=True)
class _Ring:
    times: NDArray[np.float64]
    values: NDArray[np.float64]
    size: int = 0
    at: int = 0
    total: int = 0
    worst: float = field(default=0.0)


class LatencyWindows:
    def __init__(self, *, capacity: int = 4096, per_batch: int = 256,
                 window_seconds: float = 300.0) -> None:
        self.capacity = capacity
        self.per_batch = per_batch
        self.window_seconds = window_seconds
        self._rings: dict[str, _Ring] = {}

    def names(self) -> list[str]:
        return sorted(self._rings)

    def record(self, key: str, latencies: ArrayLike, now: float) -> None:
        self.record_under((key,), latencies, now)

    def record_under(self, keys: tuple[str, ...], latencies: ArrayLike, now: float) -> None:
        """``record`` the same latencies under each of ``keys``: their maximum and sample
        are worked out once, which on a batch of a reading or two is most of the cost."""
        values = np.asarray(latencies, dtype=np.float64)
        count = int(values.size)
        if count == 0:
            return
        worst = float(values.max())
        if count > self.per_batch:
            values = values[np.linspace(0, count - 1, self.per_batch).astype(np.int64)]
        for key in keys:
            self._add(key, values, count, worst, now)

    def _add(self, key: str, values: NDArray[np.float64], count: int, worst: float,
             now: float) -> None:
        ring = self._rings.get(key)
        if ring is None:
            ring = self._rings[key] = _Ring(np.zeros(self.capacity), np.zeros(self.capacity))
        ring.total += count
        ring.worst = max(ring.worst, worst)
        end = ring.at + values.size
        if end <= self.capacity:
            # Most batches fit before the ring wraps: a slice, not an index array.
            ring.times[ring.at:end] = now
            ring.values[ring.at:end] = values
        else:
            slots = (ring.at + np.arange(values.size)) % self.capacity
            ring.times[slots] = now
            ring.values[slots] = values
        ring.at = int((ring.at + values.size) % self.capacity)
        ring.size = min(self.capacity, ring.size + int(values.size))

    def percentiles(self, key: str, now: float) -> dict[str, float | int | None]:
        ring = self._rings.get(key)
        empty: dict[str, float | int | None] = {"p50": None, "p95": None, "p99": None,
                                                "max": None, "samples": 0}
        if ring is None or ring.size == 0:
            return empty
        times = ring.times[:ring.size]
        recent = ring.values[:ring.size][times > now - self.window_seconds]
        if recent.size == 0:
            return empty
        p50, p95, p99 = np.percentile(recent, [50, 95, 99]).tolist()
        return {"p50": p50, "p95": p95, "p99": p99, "max": float(recent.max()),
                "samples": int(recent.size)}
