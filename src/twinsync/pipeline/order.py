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

from ..jit import LIGHT_PASS_AHEAD, compiled, prefetch_item
from ..records import Field, Records, RowsSavepoint
from .batch import Flag

LATE = int(Flag.LATE)
STALE = int(Flag.STALE)

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
    # the lowest number seen since the counter (re)started: numbers below it were never
    # skipped over, so their arrival does not take anything off ``lost``
    "floor": (np.int64, -1),
    "window": (np.uint64, 0),
    "lost": (np.int64, 0),
    "duplicates": (np.int64, 0),
    "late": (np.int64, 0),
}


class SequenceTable:
    """Per-row sequence state (one record per row, see ``twinsync.records``), grown on
    demand."""

    def __init__(self, capacity: int = 1024) -> None:
        self._records = Records(_FIELDS, capacity, owner=self)

    def ensure(self, capacity: int) -> None:
        self._records.grow(capacity)

    # mypy sees the columns through these annotations.
    max_seq: NDArray[np.int64]
    floor: NDArray[np.int64]
    window: NDArray[np.uint64]
    lost: NDArray[np.int64]
    duplicates: NDArray[np.int64]
    late: NDArray[np.int64]

    def admit(self, rows: NDArray[np.int64], seq: NDArray[np.int64],
              event_time: NDArray[np.float64], value: NDArray[np.float64],
              received_at: NDArray[np.float64], *, live_time: NDArray[np.float64],
              live_value: NDArray[np.float64],
              allowed_lateness: float, freshness: float) -> Admission:
        """Decide for each reading: keep or drop as duplicate, and its flags.

        ``live_time`` and ``live_value`` are the sensor table's columns as they were before
        this batch; the live time is the sensor's watermark."""
        n = len(rows)
        duplicate = np.zeros(n, dtype=np.bool_)
        if n == 0:
            return Admission(duplicate, np.zeros(0, np.int64), 0, 0, 0, 0, duplicate.copy())
        self.ensure(int(rows.max()) + 1)
        plain = seq < 0
        if plain.any():
            duplicate |= _same_time_and_value(rows, event_time, value, plain, live_time,
                                              live_value)
        behind_window = np.zeros(n, dtype=np.bool_)
        flags = np.zeros(n, dtype=np.int64)
        counts = np.zeros(3, dtype=np.int64)
        lost = _admit(rows, seq, event_time, received_at, live_time, allowed_lateness,
                      freshness, self.max_seq, self.floor, self.window, self.lost,
                      self.duplicates, self.late, duplicate, behind_window, flags, counts)
        if behind_window.any():
            # The window cannot tell whether two readings far behind it repeat each other.
            again = _repeated_pairs(rows, seq, behind_window)
            if again.any():
                duplicate |= again
                behind_window &= ~again
                np.add.at(self.duplicates, rows[again], 1)
                counts[0] += int(again.sum())
                late = (flags & Flag.LATE) != 0
                counts[1] -= int((again & late).sum())
                counts[2] -= int((again & ((flags & Flag.STALE) != 0)).sum())
                np.subtract.at(self.late, rows[again & late], 1)
        return Admission(~duplicate, flags, int(counts[0]), int(counts[1]), int(counts[2]),
                         lost, behind_window)

    def savepoint(self, rows: NDArray[np.int64]) -> RowsSavepoint:
        """The windows of ``rows`` as they are, for ``rollback`` after a failed commit."""
        return self._records.savepoint(rows)

    def rollback(self, point: RowsSavepoint) -> None:
        self._records.rollback(point)

    def restore(self, rows: NDArray[np.int64], seq: NDArray[np.int64]) -> None:
        """Rebuild windows from stored readings (after a restart); counts stay at zero."""
        if len(rows):
            self.ensure(int(rows.max()) + 1)
            lost = self.lost.copy()
            _remember_all(rows, seq, self.max_seq, self.floor, self.window, self.lost)
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


def _repeated_pairs(rows: NDArray[np.int64], seq: NDArray[np.int64],
                    among: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The second and later of equal (row, seq) pairs among the marked readings."""
    index = np.flatnonzero(among)
    r, s = rows[index], seq[index]
    order = np.lexsort((index, s, r))
    same = np.r_[False, (r[order][1:] == r[order][:-1]) & (s[order][1:] == s[order][:-1])]
    again = np.zeros(len(rows), dtype=np.bool_)
    again[index[order[same]]] = True
    return again


@compiled
def _admit(rows: NDArray[np.int64], seq: NDArray[np.int64], event_time: NDArray[np.float64],
           received_at: NDArray[np.float64], watermark: NDArray[np.float64],
           allowed_lateness: float, freshness: float, max_seq: NDArray[np.int64],
           floor: NDArray[np.int64], window: NDArray[np.uint64], lost: NDArray[np.int64],
           duplicates: NDArray[np.int64], late: NDArray[np.int64],
           duplicate: NDArray[np.bool_], behind_window: NDArray[np.bool_],
           flags: NDArray[np.int64], counts: NDArray[np.int64]) -> int:
    """One pass over the batch in arrival order. ``duplicate`` comes in with the readings
    already known to repeat (no sequence number, same time and value); the pass adds those
    whose number its sensor's window has seen — including earlier in this batch — flags
    late and stale readings, and folds kept numbers into the windows. ``counts`` gets
    [duplicates, late, stale] of the batch; returns the change in lost readings. ``lost``
    may dip below zero inside the pass (a filled gap before the skip that made it, in
    arrival order); it is clamped at the end, per row."""
    lost_change = 0
    n = rows.shape[0]
    # Rows whose lost count dipped below zero, to clamp at the end: a second pass over
    # every reading's row would fetch a large fleet's records all over again.
    dipped = np.empty(n, dtype=np.int64)
    dips = 0
    for i in range(n):
        if i + LIGHT_PASS_AHEAD < n:
            # A large fleet's records are rarely in cache: ask for them while working.
            prefetch_item(max_seq, rows[i + LIGHT_PASS_AHEAD])
            prefetch_item(watermark, rows[i + LIGHT_PASS_AHEAD])
        r = rows[i]
        s = seq[i]
        if s >= 0 and not duplicate[i]:
            m = max_seq[r]
            # A counter that started again: far below the highest, yet newer than anything.
            if m - s > RESTART_GAP and event_time[i] > watermark[r]:
                max_seq[r] = -1
                floor[r] = -1
                window[r] = 0
                m = -1
            behind = m - s
            if (m >= 0 and 0 <= behind < WINDOW
                    and (window[r] >> np.uint64(behind)) & np.uint64(1) != 0):
                duplicate[i] = True
            else:
                behind_window[i] = m >= 0 and behind >= WINDOW
                before = lost[r]
                _remember(r, s, max_seq, floor, window, lost)
                lost_change += lost[r] - before
                if lost[r] < 0:
                    dipped[dips] = r
                    dips += 1
        if duplicate[i]:
            duplicates[r] += 1
            counts[0] += 1
            continue
        if event_time[i] < watermark[r] - allowed_lateness:
            flags[i] |= LATE
            late[r] += 1
            counts[1] += 1
        if received_at[i] - event_time[i] > freshness:
            flags[i] |= STALE
            counts[2] += 1
    for d in range(dips):
        r = dipped[d]
        if lost[r] < 0:  # a row may dip more than once; it is clamped once
            lost_change -= lost[r]
            lost[r] = 0
    return lost_change


@compiled
def _remember(r: int, s: int, max_seq: NDArray[np.int64], floor: NDArray[np.int64],
              window: NDArray[np.uint64], lost: NDArray[np.int64]) -> None:
    """Fold a kept sequence number ``s`` of row ``r`` into its window and lost count."""
    m = max_seq[r]
    if m < 0:
        max_seq[r] = s
        floor[r] = s
        window[r] = np.uint64(1)
    elif s > m:
        advance = s - m
        lost[r] += advance - 1  # the numbers jumped over
        if advance < WINDOW:
            window[r] = (window[r] << np.uint64(advance)) | np.uint64(1)
        else:
            window[r] = np.uint64(1)
        max_seq[r] = s
    else:
        behind = m - s
        if s >= floor[r]:
            lost[r] -= 1  # a number skipped over earlier has arrived
        elif behind < WINDOW:
            lost[r] += floor[r] - s - 1  # the range seen extends down: its gap is lost
            floor[r] = s
        if behind < WINDOW:
            window[r] |= np.uint64(1) << np.uint64(behind)


@compiled
def _remember_all(rows: NDArray[np.int64], seq: NDArray[np.int64], max_seq: NDArray[np.int64],
                  floor: NDArray[np.int64], window: NDArray[np.uint64],
                  lost: NDArray[np.int64]) -> None:
    for i in range(rows.shape[0]):
        if seq[i] >= 0:
            _remember(rows[i], seq[i], max_seq, floor, window, lost)
