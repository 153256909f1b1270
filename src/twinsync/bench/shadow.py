"""The shadow twin's comparison on simulated sensors: which parameter sets track which
streams better than the live defaults, as the service would tell it, and what a running
shadow costs a reading.

The families of ``bench tracker`` (``white``, ``walk``, ``daily``, ``ramp``) and
``steps``: a level that really steps by ±1 (20 noise sd) at 20 random readings of each
sensor (a heater that switches), noise 0.05. Each family's ``--series`` sensors go through
the live tracker (defaults) and, beside it on the same readings, each shadow of
``SHADOWS``, started fresh with it; ``physics/comparison.py`` counts both (all readings
trusted). Per family and shadow: the fleet's RMS ratio shadow / live (geometric mean over
sensors; below 1 the shadow predicts better), on how many sensors the shadow's RMS is the
lower, each one's calibration (mean squared normalised residual clipped at 4 sd) and
divergences per 10,000 readings.

Then the cost: one batch of ``--cost-sensors`` sensors x 200 readings (past their
warm-up) through the live tracker, the shadow's tracker and the comparison, best of 5,
in ns a reading.

The figures in docs/PHYSICS.md ("The shadow twin") come from this bench.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from ..physics.comparison import Comparison
from ..physics.tracker import LevelTrendTracker, TrackUpdate
from ..physics.tracker_settings import TrackerSettings
from .tracker import FAMILIES, STEP_HOURS, Family, white

#: The shadows compared with the live defaults, by name.
SHADOWS: dict[str, dict[str, Any]] = {
    "reopen_after_1": {"reopen_after": 1},
    "threshold_12": {"threshold": 12.0},
    "fast_learning": {"rate": 0.03, "ratio_rate": 0.1},
}


def steps(rng: np.random.Generator, series: int, readings: int) -> np.ndarray:
    jumps = np.zeros((series, readings))
    for sensor in range(series):
        at = rng.choice(np.arange(100, readings), 20, replace=False)
        jumps[sensor, at] = rng.choice([-1.0, 1.0], 20)
    values: np.ndarray = np.cumsum(jumps, axis=1) + white(rng, series, readings)
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--series", type=int, default=100, help="sensors a family (100)")
    parser.add_argument("--readings", type=int, default=2000, help="readings a sensor (2000)")
    parser.add_argument("--cost-sensors", type=int, default=1000,
                        help="sensors of the cost's batch (1000)")
    parser.add_argument("--seed", type=int, default=1)


def _updates(tracker: LevelTrendTracker, values: np.ndarray) -> list[TrackUpdate]:
    series, readings = values.shape
    rows = np.arange(series, dtype=np.int64)
    quality = np.ones(series)
    return [tracker.track_many(rows, np.full(series, t * STEP_HOURS * 3600.0), values[:, t],
                               quality) for t in range(readings)]


def compare(family: Family, series: int, readings: int, seed: int) -> dict[str, Any]:
    values = family(np.random.default_rng(seed), series, readings)
    rows = np.arange(series, dtype=np.int64)
    live = _updates(LevelTrendTracker(), values)
    figures: dict[str, Any] = {}
    for name, parameters in SHADOWS.items():
        shadow = _updates(TrackerSettings.parsed(parameters).tracker(), values)
        comparison = Comparison()
        for a, b in zip(live, shadow, strict=True):
            comparison.add_many(rows, np.ones(series), a.residual, a.normalised, a.code,
                                b.residual, b.normalised, b.code)
        fleet = comparison.fleet(rows)
        per_10k = 1e4 / (series * readings)
        figures[name] = {
            "rms_ratio": round(fleet["rms_ratio"], 3),
            "shadow_lower_rms_share": round(fleet["shadow_lower_rms"] / series, 2),
            "calibration": [round(fleet[side]["calibration"], 3) for side in ("live", "shadow")],
            "divergences_per_10k": [round(fleet[side]["divergences"] * per_10k, 2)
                                    for side in ("live", "shadow")],
        }
    return figures


def cost(sensors: int, per: int = 200, repeat: int = 5) -> dict[str, float]:
    rng = np.random.default_rng(0)
    rows = np.tile(np.arange(sensors, dtype=np.int64), per)
    times = np.repeat(np.arange(per) * 900.0, sensors)
    values = 20 + rng.normal(0, 0.05, rows.size)
    quality = np.ones(rows.size)
    best = {"live_ns": np.inf, "shadow_ns": np.inf, "comparison_ns": np.inf}
    for _ in range(repeat):
        live = LevelTrendTracker(capacity=sensors)
        shadow = TrackerSettings(threshold=12.0).tracker(capacity=sensors)
        comparison = Comparison(capacity=sensors)
        for tracker in (live, shadow):  # past the warm-up first
            tracker.track_many(rows, times, values, quality)
        later = times + per * 900.0
        began = time.perf_counter()
        a = live.track_many(rows, later, values, quality)
        lived = time.perf_counter()
        b = shadow.track_many(rows, later, values, quality)
        shadowed = time.perf_counter()
        comparison.add_many(rows, quality, a.residual, a.normalised, a.code, b.residual,
                            b.normalised, b.code)
        compared = time.perf_counter()
        for key, seconds in (("live_ns", lived - began), ("shadow_ns", shadowed - lived),
                             ("comparison_ns", compared - shadowed)):
            best[key] = min(best[key], seconds / rows.size * 1e9)
    return {key: round(float(value), 1) for key, value in best.items()}


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    families = {**FAMILIES, "steps": steps}
    figures: dict[str, Any] = {
        "shadows": SHADOWS,
        "families": {name: compare(family, args.series, args.readings, args.seed)
                     for name, family in families.items()},
        "cost": cost(args.cost_sensors),
    }
    figures["seconds"] = round(time.perf_counter() - started, 1)
    for family, shadows in figures["families"].items():
        for name, f in shadows.items():
            print(f"{family:>5} {name:<15} RMS ratio {f['rms_ratio']:.3f}, lower on "
                  f"{f['shadow_lower_rms_share']:.0%}, calibration {f['calibration']}, "
                  f"divergences per 10k {f['divergences_per_10k']}")
    print(f"cost a reading: {figures['cost']}")
    return figures
