"""A twinsync process for the crash test of the reading counters: it ingests batch after
batch into a SQLite file until it is killed.

Run as a script with the store URL and a base time. Each batch (``batch_number``) holds
readings that are stored, repeats of the batch before (duplicates), a skipped sequence
number (lost), readings without sequence numbers, and a reading of an unknown sensor (a
dead letter). After each ingest it prints the batch's number. Batches depend only on
their number and the base time, so the test can ingest the same ones into a fresh store
and compare the counts.
"""

from __future__ import annotations

import asyncio
import sys

from twinsync.model import Sensor
from twinsync.pipeline import IncomingBatch, RawReading
from twinsync.service import TwinService

SENSORS = [f"c-{i}" for i in range(4)]
PER_SENSOR = 5
"""Readings a sensor has in each batch."""


def batch_number(number: int, base: float) -> IncomingBatch:
    received_at = base + number
    readings = _fresh(number, base)
    if number:  # the first two readings of the batch before, sent again
        readings += _fresh(number - 1, base)[:2]
    readings.append(RawReading("nobody", 1.0, received_at, None, number))
    return IncomingBatch(readings, "crash-test", received_at, "test")


def _fresh(number: int, base: float) -> list[RawReading]:
    """The batch's own readings: the last sensor's without sequence numbers, and one
    number of each other sensor's never sent (lost)."""
    received_at = base + number
    readings: list[RawReading] = []
    for k, sensor_id in enumerate(SENSORS):
        first = number * (PER_SENSOR + 1)
        for step in range(PER_SENSOR):
            seq = None if k == len(SENSORS) - 1 else first + step + (step >= 2)
            readings.append(RawReading(sensor_id, float(number * 100 + k * 10 + step),
                                       received_at - 1 + step * 0.01, None, seq))
    return readings


async def open_service(store_url: str) -> TwinService:
    service = TwinService.open(store_url)
    for sensor_id in SENSORS:
        if sensor_id not in service.twin.sensors:
            await service.add_sensor(Sensor(sensor_id, "temperature", "degC"))
    return service


async def main(store_url: str, base: float) -> None:
    service = await open_service(store_url)
    number = 0
    while True:
        await service.ingest(batch_number(number, base))
        print(number, flush=True)
        number += 1


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2])))
