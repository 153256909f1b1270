"""The twin's look-back track: what predicting costs beside the live pass, how much of
the readings its 90 % band holds, and how long ``GET /api/elements/{id}/twin/track`` takes.

- **The pass.** ``PredictingTracker.predict_many`` (the one-step prediction written down
  before each reading, then the live step) against ``LevelTrendTracker.track_many`` (the
  live pass) over ``--readings`` readings of one sensor a minute apart (a random walk
  under white noise), best of 5, in nanoseconds a reading.
- **The band.** The share of readings inside the 90 % band after each sensor's first 200,
  for ``--series`` sensors of ``--length`` readings of ``bench.tracker``'s four families
  (a model that fits holds about 90 %).
- **The route.** A twin of the demo project in a temporary SQLite store, ``--days`` of one
  slab logger at a reading a minute ingested through the service; then the track (the
  service's ``track``, as the route calls it) raw over the whole range, in 15-minute
  buckets, raw over the last day and the last hour: milliseconds (best of 3) and the
  readings answered and run before the range.

The figures in docs/PHYSICS.md ("Predicted against measured, looking back") come from
this bench.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..demo import demo_project
from ..physics.one_step import PredictingTracker, z_of
from ..physics.tracker import LevelTrendTracker
from ..pipeline import IncomingBatch
from ..pipeline.batch import RawReading
from .tracker import FAMILIES

SENSOR, ELEMENT, PROPERTY = "L1-slab-t1", "L1-slab", "core_temperature"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--readings", type=int, default=200_000,
                        help="readings of the pass's timing (200,000)")
    parser.add_argument("--series", type=int, default=100, help="sensors a family (100)")
    parser.add_argument("--length", type=int, default=1000,
                        help="readings a sensor for the band (1,000)")
    parser.add_argument("--days", type=float, default=7.0,
                        help="days of readings, one a minute, for the route (7)")
    parser.add_argument("--seed", type=int, default=1)


def _best(work: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - began)
    return best


def passes(readings: int, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    times = 60.0 * np.arange(readings, dtype=np.float64)
    values = 20 + np.cumsum(rng.normal(0, 0.01, readings)) + rng.normal(0, 0.05, readings)
    quality = np.ones(readings)
    rows = np.zeros(readings, dtype=np.int64)
    # compiled (or loaded from the cache) first
    PredictingTracker().predict_many(rows[:64], times[:64], values[:64], quality[:64])
    LevelTrendTracker().track_many(rows[:64], times[:64], values[:64], quality[:64])
    live = _best(lambda: LevelTrendTracker().track_many(rows, times, values, quality), 5)
    predicting = _best(lambda: PredictingTracker().predict_many(rows, times, values, quality),
                       5)
    return {"live_ns_a_reading": round(live * 1e9 / readings, 1),
            "predicting_ns_a_reading": round(predicting * 1e9 / readings, 1)}


def band(series: int, length: int, seed: int) -> dict[str, float]:
    """The share of readings inside the 90 % band, after each sensor's first 200."""
    z = z_of(0.9)
    shares = {}
    for name, family in FAMILIES.items():
        values = family(np.random.default_rng(seed), series, length).T.ravel()
        rows = np.tile(np.arange(series, dtype=np.int64), length)
        times = np.repeat(900.0 * np.arange(length), series)
        track = PredictingTracker().predict_many(rows, times, values, np.ones(rows.size))
        late = times >= 200 * 900.0
        inside = np.abs(values - track.predicted)[late] <= z * track.sd[late]
        shares[name] = round(float(inside.mean()), 4)
    return shares


async def _route(days: float, seed: int) -> dict[str, Any]:
    from ..service import TwinService
    from ..service.twin_track import track

    with tempfile.TemporaryDirectory() as folder:
        service = TwinService.open(f"sqlite:///{Path(folder) / 'twin.sqlite'}")
        try:
            project = demo_project()
            await service.import_project(project.elements, project.sensors, project.bindings)
            count = int(days * 1440)
            now = time.time()
            times = now - 60.0 * (count - np.arange(count))
            rng = np.random.default_rng(seed)
            values = 20 + np.cumsum(rng.normal(0, 0.01, count)) + rng.normal(0, 0.05, count)
            for start in range(0, count, 5000):
                part = slice(start, start + 5000)
                await service.ingest(IncomingBatch(
                    [RawReading(SENSOR, float(v), float(t))
                     for t, v in zip(times[part], values[part], strict=True)],
                    "bench", time.time(), "bench"))
            figures: dict[str, Any] = {"readings_stored": count}
            asks = {"range_raw": (now - days * 86_400 + 1, None),
                    "range_every_900": (now - days * 86_400 + 1, 900.0),
                    "day_raw": (now - 86_400, None), "hour_raw": (now - 3600, None)}
            for name, (start_time, every) in asks.items():
                best = float("inf")
                answer: dict[str, Any] = {}
                for _ in range(3):
                    began = time.perf_counter()
                    answer = await track(service, ELEMENT, PROPERTY, start_time, now + 1,
                                         every=every)
                    best = min(best, time.perf_counter() - began)
                ours = next(s for s in answer["sensors"] if s["sensor_id"] == SENSOR)
                figures[name] = {"ms": round(best * 1000, 1), "readings": ours["readings"],
                                 "lead_readings": ours["lead_readings"],
                                 "points": len(ours["time"])}
            return figures
        finally:
            await service.aclose()


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    figures: dict[str, Any] = {
        "pass": passes(args.readings, args.seed),
        "band_90_share": band(args.series, args.length, args.seed),
        "route": asyncio.run(_route(args.days, args.seed)),
    }
    figures["seconds"] = round(time.perf_counter() - started, 1)
    p = figures["pass"]
    print(f"pass: live {p['live_ns_a_reading']} ns, predicting "
          f"{p['predicting_ns_a_reading']} ns a reading")
    print("band holds: " + ", ".join(f"{k} {v:.1%}" for k, v in figures["band_90_share"]
                                     .items()))
    for name, f in figures["route"].items():
        if isinstance(f, dict):
            print(f"track {name}: {f['ms']} ms, {f['readings']} readings, "
                  f"lead {f['lead_readings']}")
    return figures
