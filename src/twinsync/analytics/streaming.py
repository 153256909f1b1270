"""What every streaming anomaly detector shares: a table of per-sensor records and the
detector contract (``twinsync.detect``) around one compiled pass over readings.

A detector is a subclass that names its record's ``COLUMNS`` and its ``evidence``, keeps
its parameters in ``knobs`` (a NamedTuple of numbers, built in ``__init__`` and never
changed), and implements ``_learn`` with its compiled kernel. Saving, restoring, growth
and ``score_one`` are ``detect.RecordDetector``'s, as for the health checks.

Readings may carry a ``teach`` column besides their evidence: a reading with ``teach``
False (a reading health does not trust) is scored as ``score_one`` would score it, and
the state is left as it was; the others are learned. Without the column every reading
teaches, as the contract says. The kernel runs such a reading on a copy of its record
(``_learn``'s ``scratch``), so the batch stays one compiled pass.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from ..detect import Readings, RecordDetector
from ..jit import record_rows
from ..records import Field, Records

__all__ = ["StreamingDetector"]


class StreamingDetector(RecordDetector):
    """The contract's plumbing for a detector with one record a sensor (see the module)."""

    #: A reading: its event time (seconds since the epoch, UTC) and its value.
    evidence = ("time", "value")
    COLUMNS: ClassVar[dict[str, Field]]
    #: The parameters, a NamedTuple of numbers (what a saved state was learned with).
    knobs: Any

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

    def _run_prefetching(self, kernel: Any, rows: NDArray[np.int64],
                         times: NDArray[np.float64], values: NDArray[np.float64],
                         teach: NDArray[np.bool_], scores: NDArray[np.float64]) -> None:
        """``_learn`` for a kernel of the shape the pattern detectors share (``novelty``,
        ``surprise``): the tables, the column it prefetches rows by, the knobs, then the
        readings (``pattern_pass.learn_pass``, which picks each detector's step by the
        class of its knobs)."""
        records, raw, scratch, scratch_raw = self._kernel_tables()
        kernel(records, raw, scratch, scratch_raw, self._records.columns["count"],
               self.knobs, rows, times, values, teach, scores)

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
