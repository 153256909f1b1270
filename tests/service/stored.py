"""A twin service on a store URL with a few temperature sensors, and what it stored of them:
shared by the tests that feed it through connectors and count what was kept."""

from __future__ import annotations

import math
from collections.abc import Sequence

from twinsync.model import Sensor
from twinsync.service import TwinService


async def open_service(url: str, sensors: Sequence[str]) -> TwinService:
    """The service on ``url`` with ``sensors`` registered (kept if the store has them)."""
    service = TwinService.open(url)
    for sensor_id in sensors:
        if sensor_id not in service.twin.sensors:
            await service.add_sensor(Sensor(sensor_id, "temperature", "degC"))
    return service


def stored_values(service: TwinService, sensors: Sequence[str]) -> list[float]:
    """Every value stored for ``sensors``, sorted."""
    return sorted(v for sensor_id in sensors
                  for v in service.store.history(service.sensor_row(sensor_id), 0.0, math.inf)
                  .value.tolist())
