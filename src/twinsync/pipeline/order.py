"""Ordering per sensor: duplicates dropped and counted, lost readings counted, late and
stale readings flagged — vectorised over the batch, state in per-row arrays.

Sequence numbers: each sensor keeps the highest sequence number seen and a 64-bit window
of which of the 64 numbers below it have been seen (the anti-replay window of IPsec). A
reading whose number is in the window and marked is a duplicate. Numbers skipped when the
highest moves up are counted as lost; a skipped number that arrives later is taken off
the count. A number far below the highest, on a reading newer than the sensor's
watermark, is a device that restarted its counter: the window starts again.

Readings without sequence numbers are duplicates when their event time and value equal
another reading's in the batch, or the sensor's live reading.

Late: older than ``allowed_lateness`` behind the sensor's watermark (its newest live
event time). Stale: older than ``freshness`` on arrival. Both are stored with a flag and
neither moves the live state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..records import Field, Records
from .batch import Flag

WINDOW = 64
RESTART_GAP = 1024


@dataclass(slots=True)
class Admission:
    keep: NDArray[np.bool_]
    flags: NDArray[np.int64]
    duplicates: int
    late: int
    stale: int
    lost: int
    behind_window: NDArray[np.bool_]
    """Numbered readings further behind their sensor's highest number than the window
    reaches: whether they are repeats only the stored history can tell."""


_FIELDS: dict[str, Field] = {
    "max_seq": (np.int64, -1),
    "window": (np.uint64, 0),
    "lost": (np.int64, 0),
    "duplicates": (np.int64, 0),
    "late": (np.int64, 0),
}


class SequenceTable:
    """Per-row sequence state (one record per row, see ``twinsync.records``), grown on
    demand."""

    def __init__(self, capacity: int = 1024) -> None:
        self._records = Records(_FIELDS, capacity)
        self._bind()

    def _bind(self) -> None:
        for name, column in self._records.columns.items():
            setattr(self, name, column)

    def ensure(self, capacity: int) -> None:
        if self._records.grow(capacity):
            self._bind()

    # mypy sees the columns through these annotations.
    max_seq: NDArray[np.int64]
    window: NDArray[np.uint64]
    lost: NDArray[np.int64]
    duplicates: NDArray[np.int64]
    late: NDArray[np.int64]

    def admit(self, rows: NDArray[np.int64], seq: NDArray[np.int64],
              event_time: NDArray[np.float64], value: NDArray[np.float64],
              received_at: NDArray[np.float64], *, watermark: NDArray[np.float64],
              live_time: NDArray[np.float64], live_value: NDArray[np.float64],
              allowed_lateness: float, freshness: float) -> Admission:
        """Decide for each reading: keep or drop as duplicate, and its flags.

        ``watermark``, ``live_time`` and ``live_value`` are the sensor table's columns as
        they were before this batch."""
        n = len(rows)
        duplicate = np.zeros(n, dtype=np.bool_)
        if n == 0:
            return Admission(duplicate, np.zeros(0, np.int64), 0, 0, 0, 0, duplicate.copy())
        self.ensure(int(rows.max()) + 1)
        numbered = seq >= 0
        lost = 0
        if numbered.any():
            duplicate |= self._sequence_duplicates(rows, seq, event_time, numbered, watermark)
        # After the restart check above, so a counter that started again is not looked up.
        behind_window = numbered & (self.max_seq[rows] - seq >= WINDOW) & (self.max_seq[rows] >= 0)
        plain = ~numbered
        if plain.any():
            duplicate |= _same_time_and_value(rows, event_time, value, plain, live_time,
                                              live_value)
        keep = ~duplicate
        if numbered.any():
            lost = self._remember(rows[keep & numbered], seq[keep & numbered])
        flags = np.zeros(n, dtype=np.int64)
        late = event_time < watermark[rows] - allowed_lateness
        stale = received_at - event_time > freshness
        flags[late] |= Flag.LATE
        flags[stale] |= Flag.STALE
        np.add.at(self.duplicates, rows[duplicate], 1)
        np.add.at(self.late, rows[late & keep], 1)
        return Admission(keep, flags, int(duplicate.sum()), int((late & keep).sum()),
                         int((stale & keep).sum()), lost, behind_window & keep)

    def _sequence_duplicates(self, rows: NDArray[np.int64], seq: NDArray[np.int64],
                             event_time: NDArray[np.float64], numbered: NDArray[np.bool_],
                             watermark: NDArray[np.float64]) -> NDArray[np.bool_]:
        index = np.flatnonzero(numbered)
        r, s = rows[index], seq[index]
        duplicate = np.zeros(len(rows), dtype=np.bool_)
        # A counter that started again: far below the highest, yet newer than anything seen.
        restarted = (self.max_seq[r] - s > RESTART_GAP) & (event_time[index] > watermark[r])
        if restarted.any():
            self.max_seq[r[restarted]] = -1
            self.window[r[restarted]] = 0
        # Within the batch: the second of two equal (row, seq) pairs.
        order = np.lexsort((s, r))
        same = np.r_[False, (r[order][1:] == r[order][:-1]) & (s[order][1:] == s[order][:-1])]
        duplicate[index[order[same]]] = True
        # Against what was seen before.
        behind = self.max_seq[r] - s
        in_window = (behind >= 0) & (behind < WINDOW) & (self.max_seq[r] >= 0)
        shift = np.where(in_window, behind, 0).astype(np.uint64)
        seen = ((self.window[r] >> shift) & np.uint64(1)).astype(np.bool_) & in_window
        duplicate[index[seen]] = True
        return duplicate

    def _remember(self, rows: NDArray[np.int64], seq: NDArray[np.int64]) -> int:
        """Fold kept numbered readings into the windows; returns the change in lost."""
        if len(rows) == 0:
            return 0
        touched, inverse = np.unique(rows, return_inverse=True)
        lost_before = int(self.lost[touched].sum())
        old_max = self.max_seq[touched]
        batch_max = np.full(len(touched), -1, dtype=np.int64)
        np.maximum.at(batch_max, inverse, seq)
        batch_min = np.full(len(touched), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(batch_min, inverse, seq)
        new_max = np.maximum(old_max, batch_max)
        # Numbers the highest skipped over are lost until they turn up.
        fresh_start = old_max < 0
        above = seq > old_max[inverse]
        arrived_above = np.bincount(inverse, weights=above, minlength=len(touched))
        span = np.where(fresh_start, new_max - batch_min + 1, new_max - old_max)
        self.lost[touched] += (span - arrived_above).astype(np.int64)
        filled = ~above & ~fresh_start[inverse]
        np.subtract.at(self.lost, rows[filled], 1)
        self.lost[touched] = np.maximum(self.lost[touched], 0)  # the batch's rows only
        # Slide each window up to its new highest number, then mark what arrived.
        advance = (new_max - np.maximum(old_max, 0)).astype(np.uint64)
        window = np.where(fresh_start | (advance >= WINDOW), np.uint64(0),
                          self.window[touched] << np.minimum(advance, np.uint64(WINDOW - 1)))
        self.window[touched] = window
        self.max_seq[touched] = new_max
        behind = new_max[inverse] - seq
        mark = behind < WINDOW
        bits = np.left_shift(np.uint64(1), behind[mark].astype(np.uint64))
        np.bitwise_or.at(self.window, rows[mark], bits)
        return int(self.lost[touched].sum()) - lost_before

    def restore(self, rows: NDArray[np.int64], seq: NDArray[np.int64]) -> None:
        """Rebuild windows from stored readings (after a restart); counts stay at zero."""
        if len(rows):
            self.ensure(int(rows.max()) + 1)
            numbered = seq >= 0
            lost = self.lost.copy()
            self._remember(rows[numbered], seq[numbered])
            self.lost[:] = lost


def _same_time_and_value(rows: NDArray[np.int64], event_time: NDArray[np.float64],
                         value: NDArray[np.float64], plain: NDArray[np.bool_],
                         live_time: NDArray[np.float64], live_value: NDArray[np.float64]
                         ) -> NDArray[np.bool_]:
    index = np.flatnonzero(plain)
    r, t, v = rows[index], event_time[index], value[index]
    duplicate = np.zeros(len(rows), dtype=np.bool_)
    order = np.lexsort((v, t, r))
    same = np.r_[False, (r[order][1:] == r[order][:-1]) & (t[order][1:] == t[order][:-1])
                 & (v[order][1:] == v[order][:-1])]
    duplicate[index[order[same]]] = True
    repeat = (t == live_time[r]) & (v == live_value[r])
    duplicate[index[repeat]] = True
    return duplicate
