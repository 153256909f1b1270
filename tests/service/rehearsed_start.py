"""Run in a fresh process by ``test_rehearsal.py``: rehearse as a starting demo does, then
seed the demo's IFC building and feed it from the demo's simulator for a few seconds, and
print (one JSON object) the compiled functions that gained machine code after the
rehearsal, that is, what the first live batches would have waited for.

A process of its own because compiled code is kept per process: in the test session,
any earlier test has already compiled what this asks about.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from twinsync import jit
from twinsync.ingest.simulator import SiteSimulator
from twinsync.service import TwinService
from twinsync.service.rehearsal import rehearse
from twinsync.startup import seed_demo

OPTIONS = {"anomaly_detection": True, "twin_models": True, "zone_models": True}


def machine_code() -> dict[str, int]:
    return {f"{d.py_func.__module__}.{d.py_func.__qualname__}": len(d.overloads)
            for d in jit.COMPILED}


async def main(rehearsed: bool, seconds: float) -> dict[str, object]:
    if rehearsed:
        await rehearse(**OPTIONS)
    before = machine_code()
    with tempfile.TemporaryDirectory() as folder:
        service = TwinService.open(f"sqlite:///{Path(folder) / 'demo.sqlite'}", **OPTIONS)
        try:
            await seed_demo(service, storeys=1)
            simulator = SiteSimulator(service.twin.sensors.values(), service.twin.bindings,
                                      interval=0.2, speed=600.0, tick=0.1)
            await simulator.start()
            batches = 0
            deadline = time.monotonic() + seconds
            async for delivery in simulator.deliveries():
                await service.ingest(delivery.batch)
                batches += 1
                if time.monotonic() > deadline:
                    break
            await simulator.aclose()
            await service.watch.check()
        finally:
            await service.aclose()
    after = machine_code()
    return {"batches": batches,
            "compiled_after": sorted(name for name, n in after.items() if n > before.get(name, 0))}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1] == "rehearsed", float(sys.argv[2])))))
