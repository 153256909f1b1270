"""``twinsync bench anomaly-speed``: microseconds per reading in an anomaly detector's
``learn_many`` over a fleet.

A fleet of ``--sensors`` sensors, each reading every ``--interval`` seconds (a daily cycle
plus noise, with an occasional jump), is fed to the detector in batches of ``--batch``
readings holding ``--per-sensor`` readings of each sensor they touch: 100 sensors x 100 a
batch is one gateway's backlog, 100,000 x 1 a large fleet where a batch touches a tenth of
it. Each sensor's first readings (its warm-up) are fed before the clock starts, spread
over ``WARM_DAYS`` days at least (with the hour of the day as context a detector learns its
range over a day and scores once a day of patterns, or as many readings as its warm-up
counted, is remembered), so the time is that of
readings scored, not of a fleet still learning its ranges. Only ``learn_many`` is timed;
the readings are made before.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..analytics.detectors import DETECTORS

DAY = 86_400.0
#: The days the warm-up's readings span at least: a day of warm-up, a day of patterns, and
#: to spare.
WARM_DAYS = 2.5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--detector", choices=sorted(DETECTORS), default="novelty")
    parser.add_argument("--sensors", type=int, default=100, help="fleet size (default 100)")
    parser.add_argument(
        "--per-sensor",
        type=int,
        default=100,
        help="readings of each sensor in a batch (default 100)",
    )
    parser.add_argument(
        "--batch", type=int, default=10_000, help="readings per batch (default 10,000)"
    )
    parser.add_argument(
        "--readings", type=int, default=1_000_000, help="readings to time (default 1,000,000)"
    )
    parser.add_argument(
        "--warm-up",
        type=int,
        default=700,
        help="readings of each sensor fed before the clock, over 2.5 days at least "
             "(default 700)",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=60.0,
        help="seconds between a sensor's readings (default 60)",
    )
    parser.add_argument("--seed", type=int, default=1)


Batch = tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed)
    sensors = int(args.sensors)
    per_sensor = max(int(args.per_sensor), 1)
    touched = min(max(int(args.batch) // per_sensor, 1), sensors)
    batches = max(int(args.readings) // (touched * per_sensor), 1)
    offset = rng.uniform(0.0, args.interval, sensors)
    noise = rng.uniform(0.02, 0.1, sensors)
    phase = rng.uniform(0.0, 2 * np.pi, sensors)
    clock = np.zeros(sensors)  # each sensor's time of its last reading made

    def make(at: NDArray[np.int64], count: int, every: float) -> Batch:
        t = clock[at][:, None] + every * (1.0 + np.arange(count)[None, :])
        clock[at] = t[:, -1]
        t = t + offset[at][:, None]
        x = 20 + 2 * np.sin(2 * np.pi * t / DAY + phase[at][:, None])
        x = x + rng.normal(0.0, 1.0, x.shape) * noise[at][:, None]
        x = np.where(rng.random(x.shape) < 0.001, x + 5.0, x)
        r = np.broadcast_to(at[:, None], x.shape)
        order = np.argsort(t, axis=None, kind="stable")
        return r.ravel()[order].astype(np.int64), t.ravel()[order], x.ravel()[order]

    detector = DETECTORS[args.detector]()
    detector.ensure(sensors - 1)
    fleet = np.arange(sensors, dtype=np.int64)
    warm_every = max(args.interval, WARM_DAYS * DAY / max(int(args.warm_up), 1))
    for start in range(0, sensors, max(touched, 1)):
        rows, times, values = make(fleet[start : start + touched], int(args.warm_up), warm_every)
        detector.learn_many(rows, {"time": times, "value": values})
    made = [make((b * touched + np.arange(touched)) % sensors, per_sensor, args.interval)
            for b in range(batches)]
    total, spent, told = 0, 0.0, 0
    for rows, times, values in made:
        started = time.perf_counter()
        scores = detector.learn_many(rows, {"time": times, "value": values})
        spent += time.perf_counter() - started
        total += rows.size
        told += int(np.count_nonzero(scores))
    return {
        "detector": args.detector,
        "sensors": sensors,
        "per_sensor": per_sensor,
        "batch": touched * per_sensor,
        "readings": total,
        "state_bytes_per_sensor": detector.row_bytes,
        "seconds": round(spent, 3),
        "microseconds_per_reading": round(spent / max(total, 1) * 1e6, 3),
        # Timed readings scored above 0: none would be, were the fleet still learning.
        "scored_above_zero": told,
    }
