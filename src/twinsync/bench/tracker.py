"""The live level/trend tracker's divergence figures on simulated sensors: how often a
steady sensor is called diverging, and how soon a level shift is told.

Four families of 15-minute readings with sensor noise 0.05 (``--series`` sensors each,
``--readings`` readings, each sensor at its own phase or slope): ``white`` (a constant
level), ``walk`` (the level walks by 0.02 a reading), ``daily`` (a daily cycle of ±3) and
``ramp`` (a slope of up to ±0.5 an hour). For each, the divergence starts per 10,000
readings (the CUSUM of a model that fits has one about every 25,600: 0.39), how many fell
in the first 200 readings (the model still settling), and the normalised residuals' mean
and standard deviation after them. Then a shift of 0.5 (10 noise sd) at reading 400 of
``white`` and ``daily``: the share of sensors told within 8 readings, the median and
largest delay, the change point found, and the sizes told.

The figures in docs/PHYSICS.md ("On the reading path") come from this bench.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ..physics.tracker import DETAIL, STARTED, LevelTrendTracker

Family = Callable[[np.random.Generator, int, int], np.ndarray]
STEP_HOURS = 0.25
_AT = {name: k for k, name in enumerate(DETAIL)}


def white(rng: np.random.Generator, series: int, readings: int) -> np.ndarray:
    return 20 + rng.normal(0.0, 0.05, (series, readings))


def walk(rng: np.random.Generator, series: int, readings: int) -> np.ndarray:
    level = np.cumsum(rng.normal(0.0, 0.02, (series, readings)), axis=1)
    values: np.ndarray = level + white(rng, series, readings)
    return values


def daily(rng: np.random.Generator, series: int, readings: int) -> np.ndarray:
    hours = STEP_HOURS * np.arange(readings)
    phase = rng.uniform(0, 2 * np.pi, (series, 1))
    values: np.ndarray = 3 * np.sin(2 * np.pi * hours / 24 + phase) + white(rng, series,
                                                                            readings)
    return values


def ramp(rng: np.random.Generator, series: int, readings: int) -> np.ndarray:
    hours = STEP_HOURS * np.arange(readings)
    values: np.ndarray = (rng.uniform(-0.5, 0.5, (series, 1)) * hours
                          + white(rng, series, readings))
    return values


FAMILIES: dict[str, Family] = {"white": white, "walk": walk, "daily": daily, "ramp": ramp}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--series", type=int, default=200, help="sensors a family (200)")
    parser.add_argument("--readings", type=int, default=3000,
                        help="readings a sensor (3000: a month at 15 minutes)")
    parser.add_argument("--seed", type=int, default=1)


def _run(values: np.ndarray) -> list[Any]:
    series, readings = values.shape
    tracker = LevelTrendTracker()
    rows = np.arange(series, dtype=np.int64)
    quality = np.ones(series)
    return [tracker.track_many(rows, np.full(series, t * STEP_HOURS * 3600.0), values[:, t],
                               quality) for t in range(readings)]


def steady(family: Family, series: int, readings: int, seed: int) -> dict[str, Any]:
    updates = _run(family(np.random.default_rng(seed), series, readings))
    starts = np.array([int((u.code == STARTED).sum()) for u in updates])
    z = np.concatenate([u.normalised for u in updates[200:]])
    return {"starts_per_10k": round(float(starts.sum() / (series * readings) * 1e4), 2),
            "starts": int(starts.sum()), "starts_in_first_200": int(starts[:200].sum()),
            "z_mean": round(float(np.nanmean(z)), 3), "z_sd": round(float(np.nanstd(z)), 3)}


def shift(family: Family, series: int, seed: int, at: int = 400,
          size: float = 0.5) -> dict[str, Any]:
    values = family(np.random.default_rng(seed), series, at + 200)
    values[:, at:] += size
    updates = _run(values)
    told = np.full(series, -1)
    sizes, points = [], []
    for t, update in enumerate(updates[at:at + 9], start=at):
        for sensor in np.flatnonzero(update.code == STARTED):
            detail = update.detail[sensor]
            if told[sensor] < 0 and detail[_AT["direction"]] > 0:
                told[sensor] = t
                sizes.append(float(detail[_AT["size"]]))
                points.append(round(float(detail[_AT["since"]]) / 3600 / STEP_HOURS) - at)
    delays = told[told >= 0] - at
    return {"told_share": round(float(delays.size / series), 3),
            "delay_median": float(np.median(delays)) if delays.size else None,
            "delay_max": int(delays.max()) if delays.size else None,
            "change_point_exact_share": round(float(np.mean(np.array(points) == 0)), 3)
            if points else None,
            "size_median": round(float(np.median(sizes)), 3) if sizes else None,
            "size_p10_p90": [round(float(v), 3) for v in np.percentile(sizes, [10, 90])]
            if sizes else None}


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    figures: dict[str, Any] = {
        "steady": {name: steady(family, args.series, args.readings, args.seed)
                   for name, family in FAMILIES.items()},
        "shift_0_5": {name: shift(FAMILIES[name], args.series, args.seed)
                      for name in ("white", "daily")},
        "bytes_a_sensor": LevelTrendTracker().row_bytes,
    }
    figures["seconds"] = round(time.perf_counter() - started, 1)
    for name, f in figures["steady"].items():
        print(f"{name}: {f['starts_per_10k']} starts per 10,000 readings "
              f"({f['starts_in_first_200']} in the first 200), z mean {f['z_mean']} "
              f"sd {f['z_sd']}")
    for name, f in figures["shift_0_5"].items():
        print(f"shift 0.5 on {name}: told {f['told_share']:.0%}, delay median "
              f"{f['delay_median']} max {f['delay_max']}, size median {f['size_median']}")
    return figures
