"""``twinsync bench forecast``: a property's forecast (``physics/forecast.py``), its 90 %
interval's coverage and its cost.

Coverage: ``--series`` simulated slabs warming or cooling with a trend that wanders all the
time (so no candidate fits them exactly), read every 10 minutes with 0.1 °C of noise; each
forecast from two days of readings, and the share of the readings 1, 6 and 24 hours later
inside the 90 % interval. Cost: one forecast over two days at a reading a minute (2,880
readings, the grid's 400 steps), the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from ..physics.forecast import forecast_readings

EVERY = 600.0
FITTED = 288  # two days of readings every 10 minutes
HOURS = (1, 6, 24)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--series", type=int, default=300, help="simulated series (300)")
    parser.add_argument("--repeat", type=int, default=10, help="runs of the timing (10)")
    parser.add_argument("--seed", type=int, default=0)


def _coverage(series: int, rng: np.random.Generator) -> dict[str, float]:
    ahead = 6 * max(HOURS)
    inside: dict[int, list[bool]] = {h: [] for h in HOURS}
    times = np.arange(FITTED, dtype=np.float64) * EVERY
    for _ in range(series):
        count = FITTED + ahead
        trend = 0.3 * rng.normal() + np.cumsum(rng.normal(0.0, 0.005, count))  # °C/h
        level = 20.0 + np.cumsum(trend / 6) + np.cumsum(rng.normal(0.0, 0.02, count))
        readings = level + rng.normal(0.0, 0.1, count)
        answer = forecast_readings(
            times, readings[:FITTED], np.ones(FITTED), horizon=max(HOURS) * 3600.0, steps=24
        )
        low, high = answer.quantile(0.05), answer.quantile(0.95)
        for hours in HOURS:
            later = readings[FITTED - 1 + 6 * hours]
            inside[hours].append(low[hours - 1] <= later <= high[hours - 1])
    return {f"coverage_90_{h}h": round(float(np.mean(v)), 3) for h, v in inside.items()}


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed)
    figures: dict[str, Any] = {"series": args.series, **_coverage(args.series, rng)}
    times = np.arange(2880, dtype=np.float64) * 60.0
    values = 20.0 + 0.5 * times / 3600 + rng.normal(0.0, 0.1, times.size)
    best = float("inf")
    for _ in range(args.repeat):
        start = time.perf_counter()
        forecast_readings(
            times, values, np.ones(times.size), horizon=6 * 3600.0, threshold=60.0,
            window=2 * 86_400.0,
        )
        best = min(best, time.perf_counter() - start)
    figures["forecast_2880_readings_ms"] = round(best * 1000, 1)
    return figures
