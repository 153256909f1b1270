"""EVENTS.csv: declared site events for a replay, as the twin's ``/api/site-events`` holds them.

Columns ``start,end,kind`` (epoch seconds; ``kind`` free text, e.g. ``pour``) and what the
event concerns, in one of ``sensor_id``, ``group`` (a group the sensor list names) or
``element_id`` (every sensor bound to the element). A row naming nothing known is an error
with its line: the events are the replay's configuration, like the sensor list.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ...errors import InvalidInput
from .files import SensorList

__all__ = ["read_events"]

_TARGETS = ("sensor_id", "group", "element_id")


def read_events(path: Path, sensors: SensorList, index: dict[str, int]
                ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """The spans of ``path`` per sensor row (``index``: sensor id -> row)."""
    by_group: dict[str, list[str]] = {}
    for sensor_id, group in (sensors.groups or {}).items():
        by_group.setdefault(group, []).append(sensor_id)
    by_element: dict[str, list[str]] = {}
    for binding in sensors.twin.bindings.values():
        by_element.setdefault(binding.element_id, []).append(binding.sensor_id)
    rows: list[int] = []
    starts: list[float] = []
    ends: list[float] = []
    with path.open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        names = reader.fieldnames or ()
        if "start" not in names or "end" not in names or not set(_TARGETS) & set(names):
            raise InvalidInput(f"{path.name}: needs columns start, end and one of "
                               f"{', '.join(_TARGETS)}", "bad_columns")
        for line, row in enumerate(reader, start=2):
            try:
                start, end = float(row["start"]), float(row["end"])
            except (TypeError, ValueError) as exc:
                raise InvalidInput(f"{path.name} line {line}: start and end are epoch "
                                   f"seconds", "bad_event") from exc
            if not (np.isfinite(start) and end >= start):
                raise InvalidInput(f"{path.name} line {line}: the end is before the start",
                                   "bad_event")
            named = _sensors_named(row, by_group, by_element)
            known = [index[s] for s in named if s in index]
            if not known:
                raise InvalidInput(f"{path.name} line {line}: names no sensor of the list",
                                   "bad_event")
            rows.extend(known)
            starts.extend([start] * len(known))
            ends.extend([end] * len(known))
    return (np.array(rows, dtype=np.int64), np.array(starts, dtype=np.float64),
            np.array(ends, dtype=np.float64))


def _sensors_named(row: dict[str, str | None], by_group: dict[str, list[str]],
                   by_element: dict[str, list[str]]) -> list[str]:
    sensor = (row.get("sensor_id") or "").strip()
    group = (row.get("group") or "").strip()
    element = (row.get("element_id") or "").strip()
    named = [sensor] if sensor else []
    named += by_group.get(group, []) if group else []
    named += by_element.get(element, []) if element else []
    return named
