"""What every streaming anomaly detector shares: a table of per-sensor records and the
detector contract (``twinsync.detect``) around one compiled pass over readings.

A detector is a subclass that names its record's ``COLUMNS`` and its ``evidence``, keeps
its parameters in ``knobs`` (a NamedTuple of numbers, built in ``__init__`` and never
changed), and implements ``_learn`` with its compiled kernel. Saving, restoring, growth
and ``score_one`` (the score of a reading with the state put back after) are here, once.

Readings may carry a ``teach`` column besides their evidence: a reading with ``teach``
False (a reading health does not trust) is scored as ``score_one`` would score it, and
the state is left as it was; the others are learned. Without the column every reading
teaches, as the contract says. The kernel runs such a reading on a copy of its record
(``_learn``'s ``scratch``), so the batch stays one compiled pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from ..detect import Readings
from ..jit import record_rows
from ..records import Field, Records

__all__ = ["StreamingDetector"]


class StreamingDetector:
    """The contract's plumbing for a detector with one record a sensor (see the module)."""

    name: ClassVar[str]
    #: A reading: its event time (seconds since the epoch, UTC) and its value.
    evidence: ClassVar[tuple[str, ...]] = ("time", "value")
    COLUMNS: ClassVar[dict[str, Field]]

    def __init__(self, capacity: int = 16) -> None:
        self._records = Records(self.COLUMNS, max(int(capacity), 1))

    def _learn(
        self,
        rows: NDArray[np.int64],
        times: NDArray[np.float64],
        values: NDArray[np.float64],
        teach: NDArray[np.bool_],
        scores: NDArray[np.float64],
    ) -> None:
        raise NotImplementedError

    def _kernel_tables(
        self,
    ) -> tuple[NDArray[np.void], NDArray[np.uint8], NDArray[np.void], NDArray[np.uint8]]:
        """The records as the kernel reads them, their bytes, and a one-record scratch
        (with its bytes) for readings that do not teach."""
        array = self._records.array
        scratch = np.zeros(1, dtype=array.dtype)
        return (
            record_rows(array),
            array.view(np.uint8).reshape(len(array), -1),
            record_rows(scratch),
            scratch.view(np.uint8).reshape(1, -1),
        )

    @property
    def row_bytes(self) -> int:
        """The state of one sensor, in bytes."""
        return self._records.row_bytes

    def ensure(self, max_row: int) -> None:
        self._records.grow(max_row + 1)

    def learn_many(self, rows: NDArray[np.int64], readings: Readings) -> NDArray[np.float64]:
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        times = np.ascontiguousarray(readings["time"], dtype=np.float64)
        values = np.ascontiguousarray(readings["value"], dtype=np.float64)
        taught = readings.get("teach")
        teach = (
            np.ones(rows.shape[0], dtype=np.bool_)
            if taught is None
            else np.ascontiguousarray(taught, dtype=np.bool_)
        )
        if teach.shape != rows.shape:
            raise ValueError(f"{self.name}: one teach flag a reading")
        if values.shape != rows.shape or times.shape != rows.shape:
            raise ValueError(
                f"{self.name}: one time and one value a reading "
                f"({times.shape[0]} times, {values.shape[0]} values, "
                f"{rows.shape[0]} rows)"
            )
        scores = np.zeros(rows.shape[0])
        if rows.shape[0] == 0:
            return scores
        if rows.min() < 0:
            raise ValueError(f"{self.name}: rows are 0 or more")
        self.ensure(int(rows.max()))
        self._learn(rows, times, values, teach, scores)
        return scores

    def learn_one(self, row: int, reading: Mapping[str, Any]) -> float:
        rows = np.array([row], dtype=np.int64)
        columns = {name: np.array([reading[name]], dtype=np.float64) for name in self.evidence}
        return float(self.learn_many(rows, columns)[0])

    def score_one(self, row: int, reading: Mapping[str, Any]) -> float:
        self.ensure(row)
        point = self._records.savepoint(np.array([row], dtype=np.int64))
        try:
            return self.learn_one(row, reading)
        finally:
            self._records.rollback(point)

    def save(self, rows: NDArray[np.int64]) -> dict[str, NDArray[Any]]:
        rows = np.asarray(rows, dtype=np.int64)
        if rows.shape[0]:
            self.ensure(int(rows.max()))  # a row beyond the table is in its first state
        return {name: column[rows].copy() for name, column in self._records.columns.items()}

    def restore(self, rows: NDArray[np.int64], saved: Mapping[str, NDArray[Any]]) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        columns = self._records.columns
        if set(saved) != set(columns):
            raise ValueError(
                f"{self.name}: a saved state has columns "
                f"{sorted(saved)}, this detector {sorted(columns)}"
            )
        for name, column in columns.items():
            if (
                saved[name].dtype != column.dtype
                or saved[name].shape[:1] != rows.shape
                or saved[name].shape[1:] != column.shape[1:]
            ):
                raise ValueError(
                    f"{self.name}: saved column {name} is {saved[name].dtype}{saved[name].shape}"
                )
        if rows.shape[0]:
            self.ensure(int(rows.max()))
            for name, column in self._records.columns.items():
                column[rows] = saved[name]
