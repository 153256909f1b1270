"""What flows through the pipeline: raw readings in, NumPy columns out, rejects kept.

Connectors and the API hand the pipeline ``IncomingBatch`` objects: readings exactly as the
source sent them (sensor id, value, time, unit, sequence number; all unvalidated). The
pipeline turns the good ones into a ``Batch`` of NumPy columns indexed by dense sensor row,
and every bad one into a ``DeadLetter`` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from ..records import RowsSavepoint
    from .clocks import ClockSavepoint

NO_SEQ = -1


class Flag:
    """Bits of a stored reading's ``flags``."""

    LATE = 1
    """Older than the allowed lateness behind its sensor's watermark: history, not live."""
    STALE = 2
    """Older than the freshness bound on arrival: kept, but drives no real-time output."""
    QUARANTINED = 4
    """Its time cannot be believed (too far ahead of its arrival after correcting its
    device's clock, or before 2000): kept, but moves no live value, watermark or clock."""
    OUT_OF_RANGE = 8
    """Outside the physical range of its sensor's kind (``ranges``): kept, not believed."""


#: Flags of readings health does not fold in: behind their sensor's watermark, a time
#: not believed, a value no sensor of the kind can give.
NOT_JUDGED_IN_ORDER = Flag.LATE | Flag.QUARANTINED | Flag.OUT_OF_RANGE
#: Flags of readings that are history only: they never drive live state.
NOT_LIVE = Flag.LATE | Flag.STALE | Flag.QUARANTINED | Flag.OUT_OF_RANGE
#: Flags of readings whose time or value cannot be believed: kept as evidence, never
#: fitted on (a forecast's readings, a zone's inputs).
NOT_BELIEVED = Flag.QUARANTINED | Flag.OUT_OF_RANGE


class RawReading(NamedTuple):
    """One reading as a source sent it. Nothing here is trusted yet."""

    sensor_id: Any
    value: Any
    time: Any = None
    unit: Any = None
    seq: Any = None


@dataclass(slots=True)
class IncomingBatch:
    """Readings that arrived together from one source.

    ``source`` names the sender whose clock the event times come from (a gateway, an MQTT
    client id, an API key); ``connector`` names the way they came in (``http``, ``mqtt``…).
    """

    readings: list[RawReading]
    source: str
    received_at: float
    connector: str = "api"


@dataclass(slots=True)
class DeadLetter:
    """Input that could not be used, kept with the reason so nothing is silently lost."""

    received_at: float
    source: str
    reason: str
    detail: str
    payload: Any
    id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "received_at": self.received_at,
            "source": self.source,
            "reason": self.reason,
            "detail": self.detail,
            "payload": self.payload,
        }


@dataclass(slots=True)
class Batch:
    """Valid readings as columns. ``value`` is in the bound property's unit, calibrated;
    ``raw_value`` is what the sensor said, in the sensor's unit."""

    rows: NDArray[np.int64]
    value: NDArray[np.float64]
    raw_value: NDArray[np.float64]
    event_time: NDArray[np.float64]
    received_at: NDArray[np.float64]
    seq: NDArray[np.int64]
    source: str = ""
    connector: str = ""
    quality: NDArray[np.float64] | None = None
    """0..1 per reading, from sensor health; None means every reading is fully trusted."""
    flags: NDArray[np.int64] | None = None
    """Bit flags per reading (see ``Flag``); None means none set."""
    anomaly: NDArray[np.float64] | None = None
    """0..1 per reading, the anomaly score (NaN: not scored); None means none scored."""

    def __len__(self) -> int:
        return int(self.rows.shape[0])

    def live(self) -> NDArray[np.bool_]:
        """Which readings may drive the live view: not late, not stale, not quarantined."""
        return ~self.flagged(NOT_LIVE)

    def flagged(self, flag: int) -> NDArray[np.bool_]:
        """Which readings carry ``flag``."""
        if self.flags is None:
            return np.zeros(len(self), dtype=np.bool_)
        marked: NDArray[np.bool_] = (self.flags & flag) != 0
        return marked

    def in_order(self) -> NDArray[np.bool_]:
        """Which readings health folds in, in event-time order: every reading not behind
        its sensor's watermark. A stale reading (a logger uploading its buffer an hour
        later) is judged like a fresh one; it only stays out of the live view. A quarantined
        reading has no place in that order (its time is not believed), and one outside its
        kind's physical range is not a value to learn from."""
        return ~self.flagged(NOT_JUDGED_IN_ORDER)

    def select(self, mask: NDArray[np.bool_]) -> Batch:
        """The readings where ``mask`` is true, every column alike."""
        return Batch(
            self.rows[mask], self.value[mask], self.raw_value[mask], self.event_time[mask],
            self.received_at[mask], self.seq[mask], self.source, self.connector,
            None if self.quality is None else self.quality[mask],
            None if self.flags is None else self.flags[mask],
            None if self.anomaly is None else self.anomaly[mask])

    @classmethod
    def empty(cls) -> Batch:
        f = np.empty(0, dtype=np.float64)
        i = np.empty(0, dtype=np.int64)
        return cls(i, f, f.copy(), f.copy(), f.copy(), i.copy())


@dataclass(slots=True)
class Accepted:
    """The pipeline's answer for one incoming batch."""

    batch: Batch
    rejected: list[tuple[int, DeadLetter]] = field(default_factory=list)
    """(position in the incoming batch, dead letter) for every reading not accepted."""
    duplicates: int = 0
    """Readings dropped because the twin already has them (counted, not dead letters)."""
    late: int = 0
    stale: int = 0
    lost: int = 0
    """Change in readings known to be missing (sequence gaps) for the sensors touched."""
    quarantined: int = 0
    """Readings kept but not believed (``Flag.QUARANTINED``)."""
    out_of_range: int = 0
    """Readings outside their sensor kind's physical range (flagged, kept)."""
    behind_window: NDArray[np.bool_] | None = None
    """Per reading of ``batch``: too far behind its sensor's sequence window to be checked
    in memory (see ``order.Admission``); the service checks it against the store."""
    timed: NDArray[np.bool_] | None = None
    """Per reading of ``batch``: its time came from the source (so it measures latency)."""
    savepoint: PipelineSavepoint | None = None
    """The pipeline's state before this batch, until it is committed or rolled back."""


@dataclass(slots=True)
class PipelineSavepoint:
    """What ``Pipeline.accept`` changed, as it was before: the sequence windows and the
    device clocks of the batch's sensors, and the clock of its source."""

    sequences: RowsSavepoint
    clock: ClockSavepoint
