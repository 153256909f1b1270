"""What the twin knows about its sensors, as the arrays ``HealthMonitor.configure`` takes.

Peers are sensors bound to the same property of the same element: redundant measurements
of one quantity, so each can be checked against the others.

>>> from twinsync.model import Binding, Element, Sensor, Twin
>>> from twinsync.pipeline import Pipeline
>>> twin = Twin()
>>> _ = twin.add_element(Element(id="slab", type="IfcSlab"))
>>> for name in ("a", "b", "c"):
...     _ = twin.add_sensor(Sensor(id=name, kind="temperature", unit="degC"))
...     _ = twin.bind_sensor(Binding(name, "slab", "core_temperature"))
>>> settings = sensor_settings(twin, Pipeline(twin).table)
>>> settings.group.tolist()
[0, 0, 0]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..model import Twin
from ..pipeline import SensorTable
from .monitor import HealthMonitor


@dataclass(slots=True)
class SensorSettings:
    rows: NDArray[np.int64]
    group: NDArray[np.int64]
    expected_interval: NDArray[np.float64]
    resolution: NDArray[np.float64]
    unit: list[str]


def sensor_settings(twin: Twin, table: SensorTable) -> SensorSettings:
    """Peer group, promised interval, resolution and unit of every registered sensor."""
    rows: list[int] = []
    groups: list[int] = []
    intervals: list[float] = []
    resolutions: list[float] = []
    units: list[str] = []
    members: dict[tuple[str, str], list[str]] = {}
    for binding in twin.bindings.values():
        members.setdefault((binding.element_id, binding.property), []).append(binding.sensor_id)
    group_of: dict[str, int] = {}
    for number, sensor_ids in enumerate(sorted(m for m in members.values() if len(m) > 1)):
        for sensor_id in sensor_ids:
            group_of[sensor_id] = number
    for sensor_id, sensor in twin.sensors.items():
        row = table.index.get(sensor_id)
        if row is None:
            continue
        rows.append(row)
        groups.append(group_of.get(sensor_id, -1))
        intervals.append(sensor.expected_interval)
        resolutions.append(sensor.resolution)
        bound = twin.bindings.get(sensor_id)
        units.append((bound.transform.unit if bound is not None else "") or sensor.unit)
    return SensorSettings(np.array(rows, np.int64), np.array(groups, np.int64),
                          np.array(intervals, np.float64), np.array(resolutions, np.float64),
                          units)


def configure_from_twin(monitor: HealthMonitor, twin: Twin, table: SensorTable) -> None:
    """Tell the monitor the peer groups, intervals, resolutions and units the twin knows.

    Call again after sensors are added or (un)bound. Resolution is in the sensor's unit; a
    binding that rescales (a unit conversion or gain) should be reflected by the caller.
    """
    settings = sensor_settings(twin, table)
    monitor.configure(settings.rows, group=settings.group,
                      expected_interval=settings.expected_interval,
                      resolution=settings.resolution, unit=settings.unit)
