"""A rehearsal of the reading path before the twin serves.

The per-reading loops are compiled (``jit.py``) on their first call, or loaded from the
disk cache, which is keyed on the package's source and so empty after every install or
upgrade. Compiling them costs tens of seconds on a two-core machine; falling on the first
live batches, it held the one writer for that long: readings, field updates and the health
watch waited past the writer's bound and were refused ("waited 10 s for the writer").
Warming each kernel by hand missed whatever a batch calls that no one listed (the
pipeline's own table, the zones' step, the ordering of late readings).

So a starting twin rehearses: it opens a throwaway twin in a temporary folder with the
serving twin's options, imports a small site that has something of every modelled kind
(an outdoor station, two heated rooms side by side, a slab with two loggers, a column's
gauges), sends it a few batches of readings in order, late and out of order, runs the
health watch, and closes it. What it compiles is what the live path calls; nothing of it
reaches the real store.

>>> import asyncio
>>> asyncio.run(rehearse(anomaly_detection=False, twin_models=False, zone_models=False)) >= 0
True
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path
from typing import Any

from ..model import Binding, Element, PropertyValue, Sensor, Source
from ..pipeline import IncomingBatch, RawReading
from .twin_service import TwinService

#: Live readings each of the rehearsal's sensors sends, ``SPACING`` seconds apart.
READINGS = 40
SPACING = 5.0


def _site() -> tuple[list[Element], list[Sensor], list[Binding]]:
    def bim(value: object) -> PropertyValue:
        return PropertyValue(value, "", 0.0, Source.BIM, 1.0)

    elements = [Element("site", "IfcSite", "site"),
                Element("building", "IfcBuilding", "building", parent="site"),
                Element("storey", "IfcBuildingStorey", "storey", parent="building"),
                Element("room-a", "IfcSpace", "room a", parent="storey",
                        properties={"adjacent_spaces": bim(["room-b"])}),
                Element("room-b", "IfcSpace", "room b", parent="storey",
                        properties={"adjacent_spaces": bim(["room-a"])}),
                Element("slab", "IfcSlab", "slab", parent="storey"),
                Element("column", "IfcColumn", "column", parent="storey")]
    feeds = [("outdoor", "ambient_temperature", "degC", "site", "ambient_temperature"),
             ("room-a-t", "temperature", "degC", "room-a", "air_temperature"),
             ("room-a-q", "power", "kW", "room-a", "heating_power"),
             ("room-b-t", "temperature", "degC", "room-b", "air_temperature"),
             ("slab-t1", "temperature", "degC", "slab", "core_temperature"),
             ("slab-t2", "temperature", "degC", "slab", "core_temperature"),
             ("column-s1", "strain", "microstrain", "column", "strain"),
             ("column-s2", "strain", "microstrain", "column", "strain")]
    sensors = [Sensor(sensor_id, kind, unit, expected_interval=SPACING, resolution=0.01)
               for sensor_id, kind, unit, _, _ in feeds]
    bindings = [Binding(sensor_id, element, prop) for sensor_id, _, _, element, prop in feeds]
    return elements, sensors, bindings


def _value(sensor_id: str, minute: float) -> float:
    daily = math.sin(2 * math.pi * minute / 1440.0)
    if sensor_id == "outdoor":
        return 8.0 + 3.0 * daily
    if sensor_id == "room-a-q":
        return 2.0 if minute % 2 < 1 else 0.0
    if sensor_id.startswith("column"):
        return 300.0 + minute * 0.5
    return 20.0 + daily + 0.01 * (int(minute * 12) % 7)


async def rehearse(**service_options: Any) -> float:
    """Run the reading path once on a throwaway twin opened with ``service_options`` (as
    ``TwinService.open`` takes them); returns the seconds it took."""
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="twinsync-rehearsal-") as folder:
        clock_now = time.time()
        service = TwinService.open(f"sqlite:///{Path(folder) / 'rehearsal.sqlite'}",
                                   **service_options)
        try:
            elements, sensors, bindings = _site()
            await service.import_project(elements, sensors, bindings, source="rehearsal")
            start = clock_now - READINGS * SPACING
            ids = [sensor.id for sensor in sensors]
            sequence = {sensor_id: 0 for sensor_id in ids}

            def reading(sensor_id: str, at: float) -> RawReading:
                sequence[sensor_id] += 1
                return RawReading(sensor_id, _value(sensor_id, (at - start) / 60.0), at, None,
                                  sequence[sensor_id])

            # Live, in order, a few readings a sensor a batch, as a gateway sends them.
            for first in range(0, READINGS, 5):
                times = [start + SPACING * n for n in range(first, first + 5)]
                await service.ingest(IncomingBatch(
                    [reading(s, at) for at in times for s in ids], "rehearsal",
                    times[-1] + 0.5))
            # A logger's buffer of the last hour uploaded late and newest first (judged off
            # the live path), and a reading with no sequence number.
            late = [reading(s, clock_now - 3600.0 + 300.0 * k)
                    for k in range(10, 0, -1) for s in ("slab-t2", "room-b-t")]
            late.append(RawReading("column-s1", 330.0, clock_now, None, None))
            await service.ingest(IncomingBatch(late, "rehearsal-late", clock_now + 0.5))
            await service.watch.check()
        finally:
            await service.aclose()
    return time.perf_counter() - began
