"""``twinsync bench health-speed``: microseconds per reading in ``HealthMonitor.update_many``.

A fleet of ``--sensors`` sensors, each reading every ``--interval`` seconds (a daily cycle
plus noise, quantised to ``--resolution``, with an occasional spike), is fed to the monitor
in batches of ``--batch`` readings holding ``--per-sensor`` readings of each sensor they
touch: 100 sensors x 100 per batch is one gateway's backlog, 100,000 x 1 a large fleet where
a batch touches a tenth of it. ``--group`` sensors share a property (peers; 1: none). Only
``update_many`` is timed, plus, separately, ``tick`` over the whole fleet. The readings are
made before the clock starts.

``--store URL`` also times what the service does with the health table every few minutes
and at a restart: ``snapshot.dump`` of the whole fleet, the store's ``save_snapshot`` and
``load_snapshot``, and ``snapshot.load`` into a fresh monitor.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from ..health import HealthMonitor, snapshot, warm_up
from ..store import open_store

DAY = 86_400.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sensors", type=int, default=100, help="fleet size (default 100)")
    parser.add_argument("--per-sensor", type=int, default=100,
                        help="readings of each sensor in a batch (default 100)")
    parser.add_argument("--batch", type=int, default=10_000,
                        help="readings per batch (default 10,000)")
    parser.add_argument("--readings", type=int, default=1_000_000,
                        help="readings to feed (default 1,000,000)")
    parser.add_argument("--group", type=int, default=1,
                        help="sensors per property, peers of each other (default 1: none)")
    parser.add_argument("--interval", type=float, default=60.0,
                        help="expected interval in seconds (default 60)")
    parser.add_argument("--resolution", type=float, default=0.01)
    parser.add_argument("--ticks", type=int, default=20, help="timed calls of tick")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--store", default="",
                        help="also time saving and loading the health table in this store "
                             "(a store URL; its 'health' snapshot is overwritten)")


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed)
    sensors = int(args.sensors)
    per_sensor = max(int(args.per_sensor), 1)
    touched = max(int(args.batch) // per_sensor, 1)  # sensors in one batch
    batches = max(int(args.readings) // (touched * per_sensor), 1)
    group = max(int(args.group), 1)
    monitor = HealthMonitor(capacity=sensors)
    rows = np.arange(sensors)
    monitor.configure(rows, group=np.where(group > 1, rows // group, -1),
                      expected_interval=np.full(sensors, args.interval),
                      resolution=np.full(sensors, args.resolution))
    offset = rng.uniform(0.0, args.interval, sensors)
    noise = rng.uniform(0.02, 0.1, sensors)
    phase = rng.uniform(0.0, 2 * np.pi, sensors // group + 1)[rows // group]
    rounds = np.zeros(sensors, dtype=np.int64)  # readings each sensor has sent so far

    def make(b: int) -> tuple[np.ndarray[Any, Any], ...]:
        first = (b * touched) % sensors
        at = (first + np.arange(touched)) % sensors
        k = rounds[at][:, None] + np.arange(per_sensor)[None, :]
        rounds[at] += per_sensor
        t = k * args.interval + offset[at][:, None]
        x = 20 + 2 * np.sin(2 * np.pi * t / DAY + phase[at][:, None])
        x = x + rng.normal(0.0, 1.0, x.shape) * noise[at][:, None]
        spike = rng.random(x.shape) < 0.001
        x = np.where(spike, x + 3.0, x)
        x = np.round(x / args.resolution) * args.resolution
        r = np.broadcast_to(at[:, None], x.shape)
        order = np.argsort(t, axis=None, kind="stable")
        return r.ravel()[order], x.ravel()[order], t.ravel()[order]

    batches_made = [make(b) for b in range(batches)]
    warm_up()  # compiles (or loads the cache) before the clock
    total = 0
    changes = 0
    spent = 0.0
    for batch_rows, batch_values, batch_times in batches_made:
        started = time.perf_counter()
        result = monitor.update_many(batch_rows, batch_values, batch_times)
        spent += time.perf_counter() - started
        total += batch_rows.size
        changes += len(result)
    now = float(np.max(batches_made[-1][2])) if batches_made else 0.0
    started = time.perf_counter()
    for i in range(args.ticks):
        monitor.tick(now + i)
    tick_seconds = (time.perf_counter() - started) / max(args.ticks, 1)
    figures = {
        "sensors": sensors, "per_sensor": per_sensor, "batch": touched * per_sensor,
        "group": group, "readings": total, "state_changes": changes,
        "readings_per_sensor": round(total / sensors, 1),
        "seconds": round(spent, 3),
        "microseconds_per_reading": round(spent / max(total, 1) * 1e6, 3),
        "tick_milliseconds": round(tick_seconds * 1e3, 3),
        "summary": monitor.summary(),
    }
    if args.store:
        figures["snapshot"] = _time_snapshot(monitor, sensors, args.store)
    return figures


def _time_snapshot(monitor: HealthMonitor, sensors: int, url: str) -> dict[str, Any]:
    """Milliseconds to dump, save, load back and restore the whole table, and its size."""
    ids = [f"s{row}" for row in range(sensors)]
    store = open_store(url)
    try:
        started = time.perf_counter()
        body = snapshot.dump(monitor, ids)
        dumped = time.perf_counter()
        store.save_snapshot("health", body)
        saved = time.perf_counter()
        loaded_body = store.load_snapshot("health")
        loaded = time.perf_counter()
    finally:
        store.close()
    assert loaded_body is not None
    restored = snapshot.load(HealthMonitor(capacity=sensors), loaded_body, ids)
    done = time.perf_counter()
    return {"bytes": len(body), "bytes_per_sensor": round(len(body) / max(sensors, 1)),
            "sensors_restored": restored, "dump_ms": round(1e3 * (dumped - started), 1),
            "save_ms": round(1e3 * (saved - dumped), 1),
            "load_ms": round(1e3 * (loaded - saved), 1),
            "restore_ms": round(1e3 * (done - loaded), 1)}
