"""Latency windows keep the same samples whichever way a batch's latencies are recorded."""

from __future__ import annotations

import numpy as np
import pytest

from twinsync.pipeline.latency import LatencyWindows


def rings(windows: LatencyWindows) -> dict[str, tuple[list[float], list[float], int, int, int,
                                                      float]]:
    return {key: (ring.times.tolist(), ring.values.tolist(), ring.size, ring.at, ring.total,
                  ring.worst)
            for key, ring in windows._rings.items()}


@pytest.mark.parametrize("sizes", [[1, 2, 1, 3], [5, 7, 3], [20, 1, 600], [1] * 25])
def test_recording_under_several_keys_equals_recording_under_each(sizes: list[int]) -> None:
    rng = np.random.default_rng(len(sizes))
    together = LatencyWindows(capacity=16, per_batch=8)
    apart = LatencyWindows(capacity=16, per_batch=8)
    for k, size in enumerate(sizes):  # capacity 16: the rings wrap, sliced and indexed
        latencies = rng.exponential(0.5, size)
        together.record_under(("source:a", "connector:b"), latencies, 100.0 + k)
        apart.record("source:a", latencies, 100.0 + k)
        apart.record("connector:b", latencies, 100.0 + k)
    assert rings(together) == rings(apart)


def test_a_ring_that_wraps_keeps_the_newest_samples() -> None:
    windows = LatencyWindows(capacity=4)
    windows.record("k", [1.0, 2.0, 3.0], now=10.0)
    windows.record("k", [4.0, 5.0], now=11.0)
    ring = windows._rings["k"]
    assert ring.values.tolist() == [5.0, 2.0, 3.0, 4.0]
    assert ring.times.tolist() == [11.0, 10.0, 10.0, 11.0]
    assert (ring.at, ring.size, ring.total, ring.worst) == (1, 4, 5, 5.0)
