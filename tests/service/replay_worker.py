"""A twinsync process for the crash test of the learned state: it ingests batch after batch
into a store, saves the learned state once after ``SAVED`` batches, and goes on until it
is killed.

Run as a script with the store URL. The twin is a site with an outdoor sensor and two
heated rooms (thermal zones, health, anomalies, a level/trend model a sensor) and a gauge
that reads steadily, then 30 units higher (its model diverges and is recalibrated, its
anomaly detector fires). Each batch holds ``SLOTS`` 15-minute slots of every sensor and
depends only on its number, so the test can ingest the same ones into a twin that never
crashed. After each ingest it prints the batch's number; after the save, ``saved``.
"""

from __future__ import annotations

import asyncio
import sys

import numpy as np

from twinsync.model import Binding, Element, Sensor
from twinsync.physics.simulate import zone_weather
from twinsync.physics.thermal import ThermalZone
from twinsync.pipeline import IncomingBatch, RawReading
from twinsync.service import TwinService

STEP = 900.0
START = 1_767_225_600.0  # 2026-01-01
SLOTS = 4
"""Slots of readings in each batch."""
SAVED = 40
"""Batches ingested before the one save of the learned state."""
JUMP = 60
"""The batch from which the gauge reads 30 units higher."""
BATCHES = 400
"""Batches the simulation holds (the worker is killed long before)."""
ROOMS = 2
PER_BATCH = SLOTS * (2 + 2 * ROOMS)


def _simulated() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Outdoor (slot,), heating and rooms (room, slot), gauge (slot,)."""
    rng = np.random.default_rng(11)
    slots = BATCHES * SLOTS
    dt = STEP / 3600
    outdoor, heating = zone_weather(rng, ROOMS, slots, dt)
    outdoor = np.broadcast_to(outdoor[0], (ROOMS, slots))
    model = ThermalZone()
    state = model.state(np.full(ROOMS, 18.0), np.array([3.0, 6.0]), np.array([8.0, 15.0]))
    rooms = np.empty((ROOMS, slots))
    for k in range(slots):
        rooms[:, k] = state[:, 0]
        state = model.step(state, dt, np.column_stack([outdoor[:, k], heating[:, k]]))
    gauge = 100.0 + rng.normal(0.0, 1.0, slots)
    gauge[JUMP * SLOTS:] += 30.0
    return outdoor[0], heating, rooms + rng.normal(0, 0.05, rooms.shape), gauge


OUTDOOR, HEATING, ROOM_TEMPERATURES, GAUGE = _simulated()


def batch_number(number: int) -> IncomingBatch:
    readings: list[RawReading] = []
    for k in range(number * SLOTS, (number + 1) * SLOTS):
        at = START + k * STEP
        readings.append(RawReading("weather", round(float(OUTDOOR[k]), 3), at, None, k + 1))
        readings.append(RawReading("gauge", round(float(GAUGE[k]), 3), at, None, k + 1))
        for room in range(ROOMS):
            readings.append(RawReading(f"room-{room}-t",
                                       round(float(ROOM_TEMPERATURES[room, k]), 3), at,
                                       None, k + 1))
            readings.append(RawReading(f"room-{room}-kw", float(HEATING[room, k]), at,
                                       None, k + 1))
    return IncomingBatch(readings, "replay-test", START + (number + 1) * SLOTS * STEP, "test")


async def open_service(store_url: str) -> TwinService:
    service = TwinService.open(store_url, clock=lambda: START)
    if service.twin.sensors:
        return service
    elements = [Element("site", "IfcSite"), Element("block", "IfcBuilding", parent="site"),
                Element("column", "IfcColumn", parent="block")]
    sensors = [Sensor("weather", "temperature", "degC", STEP),
               Sensor("gauge", "logger", "degC", STEP)]
    bindings = [Binding("weather", "site", "ambient_temperature"),
                Binding("gauge", "column", "core_temperature")]
    for room in range(ROOMS):
        name = f"room-{room}"
        elements.append(Element(name, "IfcSpace", parent="block"))
        sensors += [Sensor(f"{name}-t", "air_temperature", "degC", STEP),
                    Sensor(f"{name}-kw", "power", "kW", STEP)]
        bindings += [Binding(f"{name}-t", name, "air_temperature"),
                     Binding(f"{name}-kw", name, "heating_power")]
    await service.import_project(elements, sensors, bindings)
    return service


async def main(store_url: str) -> None:
    service = await open_service(store_url)
    for number in range(BATCHES):
        result = await service.ingest(batch_number(number))
        assert result.accepted == PER_BATCH, result
        print(number, flush=True)
        if number + 1 == SAVED:
            await service.save_health()
            print("saved", flush=True)
    await asyncio.Event().wait()  # killed before it gets here


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
