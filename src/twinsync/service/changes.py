"""Moved live values as columns: what one delta says about sensor-fed properties.

A fleet whose every sensor moves within a tick makes deltas of thousands of property
changes. Written as one JSON object per change, each repeats a dozen key names and costs
a Python dict to build; written as columns (one array per field), the message is about
half the size, is built from NumPy arrays without a loop, and is encoded once for all
subscribers of everything. A client reads entry ``k`` of every column as one change:

    {"element_id": ["slab", …], "property": ["temperature", …], "sensor_id": ["t1", …],
     "unit": ["degC", …], "value": [21.4, …], "time": [1.7e9, …], "quality": [0.98, …],
     "sensor_value": [21.3, …], "sensor_time": [1.7e9, …], "sensor_quality": [1.0, …],
     "sensor_anomaly": [0.02, …]}

``value``, ``time`` and ``quality`` are the property's, fused over every sensor bound to
it (``fusion``); the ``sensor_`` columns are what the sensor that moved said itself.
``sensor_anomaly`` is the anomaly score of that reading (0..1, as stored with it), null
where it was not scored (detection off, or a live value restored after a restart): a
chart marks a live reading as the history routes would, without asking for it again.
It travels as float32, the precision the store keeps, so a live mark and a reloaded one
agree and the column costs some ten bytes an entry.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray


@dataclass(slots=True)
class PropertyChanges:
    """One entry per sensor whose live value moved, all columns the same length."""

    element_id: list[str]
    property: list[str]
    sensor_id: list[str]
    unit: list[str]
    value: NDArray[np.float64]
    time: NDArray[np.float64]
    quality: NDArray[np.float64]
    """The fused value's confidence."""
    sensor_value: NDArray[np.float64]
    sensor_time: NDArray[np.float64]
    sensor_quality: NDArray[np.float64]
    sensor_anomaly: NDArray[np.float32]
    """The score of the sensor's reading; NaN (null in JSON) where it was not scored."""

    def __len__(self) -> int:
        return len(self.sensor_id)

    def columns(self) -> dict[str, Any]:
        """The columns by name, as a delta carries them (NumPy arrays encode as lists)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def of_elements(self, wanted: Collection[str]) -> PropertyChanges | None:
        """The entries of the ``wanted`` elements only; None when there are none."""
        keep = [k for k, element_id in enumerate(self.element_id) if element_id in wanted]
        if not keep:
            return None
        if len(keep) == len(self):
            return self
        at = np.array(keep, dtype=np.int64)
        chosen: dict[str, Any] = {}
        for f in fields(self):
            column = getattr(self, f.name)
            chosen[f.name] = ([column[k] for k in keep] if isinstance(column, list)
                              else column[at])
        return PropertyChanges(**chosen)
