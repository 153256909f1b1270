"""A sensor list and readings file for ``twinsync health replay``: plain signals, no faults.

``python -m twinsync.bench.replay_data OUT_DIR --days 28 --sensors 200`` writes
OUT_DIR/sensors.csv and OUT_DIR/readings.csv: every sensor reads a daily cycle with noise
every ``--interval`` seconds at its own offset; four sensors measure each element's
temperature (peers). ``--arrival gateway`` (the default) has each of ``--gateways``
gateways forward its sensors' readings together once an interval; ``--arrival direct``
has every reading arrive on its own about a second after it was taken (one batch each).
Used to measure the replay's speed (docs/HEALTH.md, "Offline replay").
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

START = 1_767_225_600.0  # 2026-01-01T00:00:00Z
PEERS = 4


def write(out: Path, *, days: float = 28.0, sensors: int = 200, interval: float = 300.0,
          gateways: int = 10, arrival: str = "gateway", seed: int = 1) -> int:
    """Write the two files; returns how many readings."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    gateway = np.arange(sensors) % max(gateways, 1)
    with (out / "sensors.csv").open("w") as file:
        file.write("sensor_id,kind,unit,element_id,property,expected_interval_s,resolution,"
                   "source\n")
        for s in range(sensors):
            file.write(f"t-{s},temperature,degC,room-{s // PEERS},temperature,{interval:g},"
                       f"0.01,gw-{gateway[s]}\n")
    steps = int(days * 86_400.0 / interval)
    offset = rng.uniform(0.0, interval, sensors)
    times = START + np.arange(steps)[:, None] * interval + offset[None, :]
    hours = (times - START) / 3600.0
    level = rng.uniform(18.0, 24.0, sensors // PEERS + 1)[np.arange(sensors) // PEERS]
    values = (level + 2.0 * np.sin(2 * np.pi * hours / 24.0)
              + rng.normal(0.0, 0.05, times.shape))
    values = np.round(values, 2)
    if arrival == "gateway":
        # A gateway sends once an interval, at its own moment, what its sensors read since.
        send = rng.uniform(0.0, interval, max(gateways, 1))[gateway]
        slot = np.ceil((times - START - send) / interval)
        received = START + slot * interval + send + rng.uniform(0.05, 0.5, times.shape)
        received = np.maximum(received, times + 0.05)
    else:
        received = times + rng.uniform(0.2, 1.5, times.shape)
    seq = np.broadcast_to(np.arange(steps)[:, None], times.shape)
    sensor = np.broadcast_to(np.arange(sensors)[None, :], times.shape)
    order = np.argsort(received, axis=None, kind="stable")
    columns = (received.ravel()[order].round(3).tolist(), gateway[sensor.ravel()[order]].tolist(),
               sensor.ravel()[order].tolist(), times.ravel()[order].round(3).tolist(),
               values.ravel()[order].tolist(), seq.ravel()[order].tolist())
    with (out / "readings.csv").open("w") as file:
        file.write("received_at,source,sensor_id,time,value,seq\n")
        file.writelines(f"{r},gw-{g},t-{s},{t},{v},{q}\n"
                        for r, g, s, t, v, q in zip(*columns, strict=True))
    return steps * sensors


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--days", type=float, default=28.0)
    parser.add_argument("--sensors", type=int, default=200)
    parser.add_argument("--interval", type=float, default=300.0)
    parser.add_argument("--gateways", type=int, default=10)
    parser.add_argument("--arrival", choices=["gateway", "direct"], default="gateway")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    count = write(args.out, days=args.days, sensors=args.sensors, interval=args.interval,
                  gateways=args.gateways, arrival=args.arrival, seed=args.seed)
    print(f"{count} readings of {args.sensors} sensors written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
