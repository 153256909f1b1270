"""Small synthetic signals for the health tests: three peers of one property, 15 minutes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray

from twinsync.health import HealthChange, HealthMonitor

STEP = 900.0
DAY = 86_400.0


def peer_signals(days: float, seed: int = 0, sensors: int = 3,
                 noise: float = 0.05) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(values [sensors, steps], times [sensors, steps]): a daily cycle seen by peers."""
    rng = np.random.default_rng(seed)
    steps = round(days * DAY / STEP)
    hours = np.arange(steps) * STEP / 3600
    truth = 20 + 2 * np.sin(2 * np.pi * hours / 24) + 0.5 * np.sin(2 * np.pi * hours / 80)
    values = truth + rng.normal(0, noise, (sensors, steps)) + rng.normal(0, 0.2, (sensors, 1))
    times = np.arange(steps) * STEP + rng.uniform(0, 60, (sensors, 1))
    return values, times


def quantise(values: NDArray[np.float64], resolution: float) -> NDArray[np.float64]:
    quantised: NDArray[np.float64] = np.round(values / resolution) * resolution
    return quantised


Feed = Callable[..., list[tuple[int, HealthChange]]]


@pytest.fixture
def feed() -> Feed:
    """Feed a [sensors, steps] signal slot by slot (NaN: no reading); return the changes
    as (step, change), ticking after every slot."""

    def run(monitor: HealthMonitor, values: NDArray[np.float64],
            times: NDArray[np.float64]) -> list[tuple[int, HealthChange]]:
        seen: list[tuple[int, HealthChange]] = []
        rows = np.arange(values.shape[0])
        for k in range(values.shape[1]):
            present = ~np.isnan(values[:, k])
            changes = monitor.update_many(rows[present], values[present, k], times[present, k])
            seen.extend((k, change) for change in changes)
            seen.extend((k, change) for change in monitor.tick((k + 1) * STEP))
        return seen

    return run


def grouped(sensors: int = 3, resolution: float = 0.01) -> HealthMonitor:
    monitor = HealthMonitor()
    monitor.configure(np.arange(sensors), group=np.zeros(sensors, np.int64),
                      resolution=np.full(sensors, resolution))
    return monitor
