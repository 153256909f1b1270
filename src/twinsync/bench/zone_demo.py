"""``twinsync bench zone-demo``: the demo's rooms as thermal zones, through the service.

The demo project is seeded (``startup.seed_demo``) into a service on a temporary SQLite
store, and the demo's simulator (``ingest/simulator.py``) is read without its wall clock:
every sensor's value at each of ``--readings`` times, sent as one batch a time with the
service's clock at that time. ``--timing demo`` is the demo's own (its story 600 times
faster than its event times, a reading every 2 s: a room's day passes in 144 s of event
time); ``--timing story`` reads the same rooms every 15 minutes with the story at event
time (speed 1). Reported per room and over all: τ, the heat gain (null where the zone has
none) and the misfit ratio the forecast route's ``MISFIT`` guard reads.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from typing import Any

import numpy as np

from ..ingest.simulator import SiteSimulator
from ..pipeline import IncomingBatch, RawReading
from ..service import TwinService
from ..service.zone_forecasts import MISFIT
from ..startup import seed_demo

START = 1_767_225_600.0  # 2026-01-01


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--readings", type=int, default=300, help="readings a sensor")
    parser.add_argument("--timing", choices=("demo", "story"), default="demo")


def run(args: argparse.Namespace) -> dict[str, Any]:
    return asyncio.run(demo_zones(args.readings, args.timing))


async def demo_zones(readings: int, timing: str) -> dict[str, Any]:
    folder = tempfile.mkdtemp(prefix="zone-demo-")
    now = [START]
    service = TwinService.open(f"sqlite:///{folder}/twin.sqlite", clock=lambda: now[0])
    try:
        await seed_demo(service)
        story = timing == "story"
        simulator = SiteSimulator(service.twin.sensors.values(), service.twin.bindings,
                                  seed=7, speed=1.0 if story else 600.0,
                                  interval=900.0 if story else 2.0)
        # The story replayed without waiting on the wall clock: the simulator's own values,
        # its start and tracks set here (a bench's reach into it, not an interface).
        simulator._started_at = START
        tracks = simulator._tracks
        for _ in range(readings):
            at = now[0] + simulator.interval
            batch = []
            for track in tracks:
                track.seq += 1
                batch.append(RawReading(track.sensor_id, simulator.value(track, at), at, None,
                                        track.seq))
            now[0] = at
            await service.ingest(IncomingBatch(batch, "simulator", at, "simulator"))
        return _figures(service, readings, timing)
    finally:
        await service.aclose()


def _figures(service: TwinService, readings: int, timing: str) -> dict[str, Any]:
    desk = service.zones
    c = desk.bank.columns
    count = len(desk.zones)
    x = c["x"][:count]
    ratio = desk.bank.misfit(slice(0, count))
    tau = np.exp(x[:, 1] + x[:, 2])
    gain = x[:, 3]
    rooms = [{"element_id": zone.element_id, "readings": int(c["count"][k]),
              "tau_hours": round(float(tau[k]), 2), "gain_k": round(float(gain[k]), 2),
              "misfit": round(float(ratio[k]), 2)} for k, zone in enumerate(desk.zones)]
    fits = ratio <= MISFIT
    return {"timing": timing, "readings": readings, "zones": count,
            "misfit_median": round(float(np.median(ratio)), 2),
            "misfit_range": [round(float(ratio.min()), 2), round(float(ratio.max()), 2)],
            "above_misfit_bound": int(np.count_nonzero(~fits)),
            "tau_hours_median": round(float(np.median(tau)), 1),
            "tau_hours_range": [round(float(tau.min()), 2), round(float(tau.max()), 1)],
            "tau_hours_of_rooms_that_fit": [round(float(t), 1) for t in np.sort(tau[fits])],
            "rooms": rooms}
