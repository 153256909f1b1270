"""Timing shared by the benchmarks: the best of a few runs, after one that warms up."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any


def best_of(repeat: int, work: Callable[[], Any]) -> float:
    """Seconds of the fastest of ``repeat`` calls of ``work`` (at least one), after a call
    that is not timed: first-call allocations and compilation stay out of the figure, and
    the fastest run is the one least disturbed by other work on a shared machine."""
    work()
    best = math.inf
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best
