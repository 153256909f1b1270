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

from ..errors import TwinsyncError
from ..model import Binding, Sensor, Twin
from ..pipeline import SensorTable
from ..units import converter
from .context import character_of_kind
from .monitor import HealthMonitor


@dataclass(slots=True)
class SensorSettings:
    rows: NDArray[np.int64]
    group: NDArray[np.int64]
    expected_interval: NDArray[np.float64]
    resolution: NDArray[np.float64]
    unit: list[str]
    character: NDArray[np.int8]


def sensor_settings(twin: Twin, table: SensorTable) -> SensorSettings:
    """Peer group, promised interval, resolution and unit of every registered sensor."""
    rows: list[int] = []
    groups: list[int] = []
    intervals: list[float] = []
    resolutions: list[float] = []
    units: list[str] = []
    characters: list[int] = []
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
        bound = twin.bindings.get(sensor_id)
        resolutions.append(sensor.resolution * _scale(sensor, bound))
        units.append((bound.transform.unit if bound is not None else "") or sensor.unit)
        characters.append(character_of_kind(sensor.kind))
    return SensorSettings(np.array(rows, np.int64), np.array(groups, np.int64),
                          np.array(intervals, np.float64), np.array(resolutions, np.float64),
                          units, np.array(characters, np.int8))


def _scale(sensor: Sensor, binding: Binding | None) -> float:
    """How much a binding stretches the sensor's readings on their way to the property
    (calibration gain times unit conversion): the resolution stretches with them."""
    if binding is None:
        return 1.0
    transform = binding.transform
    try:
        unit_scale = converter(sensor.unit, transform.unit or sensor.unit).scale
    except TwinsyncError:
        unit_scale = 1.0  # the pipeline rejects such readings anyway
    return abs(transform.gain * unit_scale)


def configure_from_twin(monitor: HealthMonitor, twin: Twin, table: SensorTable) -> None:
    """Tell the monitor the peer groups, intervals, resolutions and units the twin knows.

    Call again after sensors are added or (un)bound. The sensor's resolution is in its own
    unit; it is scaled by the binding's gain and unit conversion, as the readings are.
    """
    settings = sensor_settings(twin, table)
    monitor.configure(settings.rows, group=settings.group,
                      expected_interval=settings.expected_interval,
                      resolution=settings.resolution, unit=settings.unit,
                      character=settings.character)
