"""Nanoseconds a reading in each compiled stage of the reading path, caches flushed.

``twinsync bench passes --sensors 100000`` times admission (``Pipeline.accept``: id
look-up, sequence windows, clocks, transform), health (``HealthMonitor.update_many``) and
the live update (``Pipeline.settle`` + ``apply``) on batches of readings of sensors drawn
at random, with no store, no writer and no API around them. Between batches it writes
64 MB, so each batch finds the fleet's state out of cache as a busy server does; the
figure is the median over ``--batches`` batches. With ``--warm`` nothing is flushed: the
measure of a small batch's fixed cost (``--batch 1``), paid by a steady stream of them
with the interpreter and NumPy's code in cache.

This is the measure for the compiled code's tricks (a prefetch, a record layout): each
stays only where it takes 100 ns or more off a reading here, at 100,000 sensors. Compare
two commits by running this command in each.
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Any

import numpy as np

from ..health import HealthMonitor, configure_from_twin
from ..model import Twin
from ..pipeline import IncomingBatch, Pipeline, RawReading
from .ingest import fleet

#: Bytes written between batches: well past the last-level cache of a server CPU.
FLUSH_BYTES = 64 << 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sensors", type=int, default=100_000,
                        help="fleet size (default 100,000)")
    parser.add_argument("--batch", type=int, default=10_000, help="readings per batch")
    parser.add_argument("--batches", type=int, default=60,
                        help="timed batches (default 60); the median is reported")
    parser.add_argument("--warm-up", type=int, default=20, dest="warm_up",
                        help="readings per sensor before timing (default 20)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--warm", action="store_true",
                        help="no cache flush between batches: the fixed cost of a small "
                             "batch (interpreter, NumPy calls) as a steady stream of them "
                             "pays it")


class _Readings:
    """Readings of random sensors, each numbered and stamped as a device does."""

    def __init__(self, ids: list[str], seed: int, total: int) -> None:
        self.ids = ids
        self.rng = random.Random(seed)
        self.numbers = dict.fromkeys(ids, 0)
        # The ``total`` readings stamped over the last ten minutes, the newest now: fresh
        # on arrival (within the freshness bound), in order, so each goes the whole path.
        self.step = 600.0 / total
        self.time = time.time() - 600.0

    def batch(self, size: int) -> IncomingBatch:
        readings = []
        for sensor_id in self.rng.choices(self.ids, k=size):
            self.numbers[sensor_id] += 1
            self.time += self.step
            # A new string per reading, as decoding a payload makes one.
            readings.append(RawReading(sensor_id.encode().decode(),
                                       20.0 + self.rng.random(), self.time, None,
                                       self.numbers[sensor_id]))
        return IncomingBatch(readings, "bench", time.time(), "bench")


def run(args: argparse.Namespace) -> dict[str, Any]:
    elements, sensors, bindings = fleet(args.sensors)
    twin = Twin()
    for element in elements:
        twin.add_element(element)
    for sensor in sensors:
        twin.add_sensor(sensor)
    for binding in bindings:
        twin.bind_sensor(binding)
    pipeline = Pipeline(twin)
    health = HealthMonitor(capacity=args.sensors)
    configure_from_twin(health, twin, pipeline.table)
    warm_up = max(args.warm_up * args.sensors // args.batch, 1)
    source = _Readings([s.id for s in sensors], args.seed,
                       (warm_up + args.batches) * args.batch)
    for _ in range(warm_up):
        _one(pipeline, health, source.batch(args.batch))
    spent: dict[str, list[float]] = {"accept": [], "health": [], "apply": []}
    flush = np.zeros(FLUSH_BYTES // 8)
    for _ in range(args.batches):
        incoming = source.batch(args.batch)
        if not args.warm:
            flush += 1.0
        for stage, seconds in _one(pipeline, health, incoming).items():
            spent[stage].append(seconds)
    counts = dict(pipeline.counts)
    if counts["stale"] or counts["late"] or counts["duplicates"]:
        raise RuntimeError(f"not every reading went the whole path: {counts}")
    per_reading = {stage: round(float(np.median(s)) / args.batch * 1e9)
                   for stage, s in spent.items()}
    per_batch = {stage: round(float(np.median(s)) * 1e6, 1) for stage, s in spent.items()}
    return {"sensors": args.sensors, "batch": args.batch, "batches": args.batches,
            "warm": args.warm, "ns_per_reading": per_reading,
            "total_ns": sum(per_reading.values()), "us_per_batch": per_batch,
            "total_us": round(sum(per_batch.values()), 1), "counts": counts}


def _one(pipeline: Pipeline, health: HealthMonitor, incoming: IncomingBatch
         ) -> dict[str, float]:
    began = time.perf_counter()
    accepted = pipeline.accept(incoming)
    admitted = time.perf_counter()
    batch = accepted.batch
    batch.quality = health.update_many(batch.rows, batch.value,
                                       batch.event_time).reading_quality
    judged = time.perf_counter()
    pipeline.settle(accepted, time.time())
    pipeline.apply(batch)
    applied = time.perf_counter()
    return {"accept": admitted - began, "health": judged - admitted, "apply": applied - judged}
