"""READINGS.csv read back as columns, for the tests."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from numpy.typing import NDArray


class Readings:
    """READINGS.csv as columns."""

    def __init__(self, path: Path) -> None:
        with path.open(newline="") as source:
            reader = csv.reader(source)
            self.header = next(reader)
            rows = list(reader)
        self.received: NDArray[np.float64] = np.array([float(r[0]) for r in rows])
        self.source = [r[1] for r in rows]
        self.sensor = np.array([r[2] for r in rows])
        self.time: NDArray[np.float64] = np.array([float(r[3]) for r in rows])
        self.value: NDArray[np.float64] = np.array([float(r[4]) for r in rows])
        self.seq = [r[5] for r in rows]

        self._rows: dict[str, list[int]] = {}
        for number, sensor_id in enumerate(r[2] for r in rows):
            self._rows.setdefault(sensor_id, []).append(number)

    def of(self, sensor_id: str) -> NDArray[np.bool_]:
        """Which readings are this sensor's."""
        mask = np.zeros(len(self.sensor), dtype=bool)
        mask[self._rows.get(sensor_id, [])] = True
        return mask
