"""``twinsync bench curing``: concrete maturity, alone and as the twin's rounds run it.

First the pure functions over one long column (``--readings`` temperatures): the
temperature-time factor and the equivalent age, each the best of ``--repeat`` runs. Then a
twin on a fresh SQLite store in a temporary folder: ``--slabs`` slabs of one mix, each with
two bound temperature sensors reading every 15 minutes for ``--days`` days (ingested
through the service's reading path, a batch per quarter hour), then one curing round over
every slab (each sensor's history read from the store, the maturity computed, the slabs
that reached their strength recorded), a second round with nothing new (skipped slabs),
and the view of one slab (``GET /api/elements/{id}/maturity``).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..physics.maturity import equivalent_age, temperature_time_factor
from .timing import best_of

STEP = 900.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--readings",
        type=int,
        default=1_000_000,
        help="temperatures in the column of the pure timing (default 1e6)",
    )
    parser.add_argument("--slabs", type=int, default=200, help="slabs in the twin (200)")
    parser.add_argument("--days", type=int, default=7, help="days of readings (default 7)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each step (default 3)")
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed)
    hours = np.arange(args.readings, dtype=np.float64) * 0.25
    temps = 10.0 + 5.0 * np.sin(hours / 24.0 * 2 * math.pi) + rng.normal(0, 0.1, args.readings)
    factor_s = best_of(args.repeat,
                       lambda: temperature_time_factor(hours, temps, max_gap_hours=1.0))
    age_s = best_of(args.repeat, lambda: equivalent_age(hours, temps, max_gap_hours=1.0))
    figures = {
        "readings": args.readings,
        "temperature_time_factor_s": round(factor_s, 4),
        "equivalent_age_s": round(age_s, 4),
    }
    with tempfile.TemporaryDirectory() as folder:
        figures.update(asyncio.run(_twin(Path(folder), args, rng)))
    print(
        f"pure: {args.readings} readings, temperature-time factor {factor_s:.4f} s, "
        f"equivalent age {age_s:.4f} s"
    )
    print(
        f"twin: {args.slabs} slabs x 2 sensors x {args.days} days; first round "
        f"{figures['first_round_s']} s ({figures['recorded']} recorded), round with "
        f"nothing new {figures['idle_round_s']} s, one slab's view {figures['view_s']} s"
    )
    return figures


async def _twin(folder: Path, args: argparse.Namespace, rng: np.random.Generator) -> dict[str, Any]:
    from ..model import Binding, Element, PropertyValue, Sensor
    from ..pipeline import IncomingBatch
    from ..pipeline.batch import RawReading
    from ..service import TwinService

    start = 1_772_438_400.0  # 2 March 2026, any instant
    now = [start]
    svc = TwinService.open(f"sqlite:///{folder / 'twin.sqlite'}", clock=lambda: now[0])
    try:
        poured = time.strftime("%Y-%m-%d %H:%M", time.localtime(start))
        elements = [
            Element(f"slab-{i}", "IfcSlab", properties={"poured_at": PropertyValue(poured)})
            for i in range(args.slabs)
        ]
        sensors, bindings = [], []
        for i in range(args.slabs):
            for place in ("core", "edge"):
                sensor_id = f"slab-{i}-{place}"
                sensors.append(
                    Sensor(sensor_id, "slab_temperature", "degC", expected_interval=STEP)
                )
                bindings.append(Binding(sensor_id, f"slab-{i}", f"{place}_temperature"))
        await svc.import_project(elements, sensors, bindings)
        await svc.curing.add_mix(
            {
                "name": "C30",
                "ifc_class": "IfcSlab",
                "curve": {"form": "logarithmic", "a": -20.0, "b": 12.0},
                "required_strength": 20.0,
            }
        )
        means = rng.uniform(2.0, 25.0, len(sensors))
        steps = int(args.days * 86_400 / STEP)
        ingest_started = time.perf_counter()
        for step in range(1, steps + 1):
            at = start + step * STEP
            now[0] = at + 1.0
            values = (
                means
                + 1.5 * math.sin(2 * math.pi * at / 86_400.0)
                + rng.normal(0, 0.05, len(sensors))
            )
            readings = [
                RawReading(s.id, float(v), at, None, step)
                for s, v in zip(sensors, values, strict=True)
            ]
            await svc.ingest(IncomingBatch(readings, "bench", now[0], "bench"))
        ingest_s = time.perf_counter() - ingest_started
        started = time.perf_counter()
        recorded = await svc.curing.check()
        first = time.perf_counter() - started
        started = time.perf_counter()
        again = await svc.curing.check()
        idle = time.perf_counter() - started
        started = time.perf_counter()
        await svc.curing.assess("slab-0")
        view = time.perf_counter() - started
    finally:
        await svc.aclose()
    return {
        "slabs": args.slabs,
        "sensors": len(sensors),
        "days": args.days,
        "readings_ingested": steps * len(sensors),
        "ingest_s": round(ingest_s, 2),
        "first_round_s": round(first, 3),
        "recorded": len(recorded),
        "recorded_again": len(again),
        "idle_round_s": round(idle, 4),
        "view_s": round(view, 4),
    }
