"""Ordering per sensor: duplicates dropped and counted, lost readings counted, counters
that restart recognised as new epochs, late and stale readings flagged — vectorised over
the batch, state in per-row records.

Sequence numbers: each sensor keeps the highest sequence number seen and a 64-bit window
of which of the 64 numbers below it have been seen (the anti-replay window of IPsec). A
reading whose number is in the window and marked is a duplicate. Numbers skipped when the
highest moves up are counted as lost; a skipped number that arrives later is taken off
the count.

Epochs: a device that reboots, or a simulator that restarts, numbers from 0 again. A
redelivered reading carries the time it was taken, so it is never newer than what the
sensor has already sent; a restarted counter's readings are newer than anything seen. So
a number at or below the highest whose event time is newer than the sensor's newest by
more than ``tolerance`` starts a new epoch: the window starts again and the sensor's
``epochs`` count goes up. "The sensor's newest" is the newest time of its numbered
readings in this epoch, or its watermark (the live event time) if that is newer. A
restarted service knows only the watermark (its windows rebuilt from the store's numbers,
``restore``, which may mix epochs): any reading newer than that starts an epoch, without
the tolerance — the clock correction starts afresh after a restart, so the tolerance could
not absorb its change anyway, and a rebooted device may resume within it. A reading
older than the start of the current epoch cannot be judged by the window (its number
belongs to an earlier count): like a number further behind than the window reaches, it is
marked ``behind_window`` and the caller asks the stored history (``lookups`` and
``stored_repeats``: a stored reading with its number within ``REPEAT_SLACK`` of its time;
only that much of the sensor's history is read). Readings without a time of
their own carry their arrival time and cannot tell a reboot from a redelivery by it: for
them only a number more than ``RESTART_GAP`` below the highest starts an epoch.

Readings without sequence numbers are recognised by (event time, value as sent). Within
a batch every repeat is found. Across batches each sensor remembers a 64-bit key of each
of the last ``RING`` such readings that were its newest when they came (64 bytes a
sensor): the retry of a sensor's last ``RING`` readings is dropped without asking the
store. A reading older than the sensor's newest and not remembered — a retry reaching
further back, or a reading out of order — is marked ``behind_window``, and the stored
history decides (``lookups`` and ``stored_repeats``: exact time and value). So a retry is
recognised however late it comes; only the cost differs. A reading with neither a number
nor a time of its own carries its arrival time: nothing identifies it, and it is kept.

Late: older than ``allowed_lateness`` behind the sensor's watermark: the newer of its
newest live event time and the newest time of its readings judged in order (``judged``:
kept, own-timed, not quarantined, not late themselves — stale ones included). A logger
that only uploads its buffer has no live time at all; without ``judged`` a reading of
days ago that it sends after newer ones would be taken as in order, folded by health and
taught to the anomaly detector. The watermark is the one from before the batch, so a
buffer uploaded in any order within one batch is not late to itself. Stale: older than
``freshness`` on arrival. Both are stored with a flag and neither moves the live state.

The counters (lost, duplicates, late, epochs) survive a restart through ``dump`` and
``load``, keyed by sensor id; the windows are rebuilt from the store (``restore``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..archive import ArchiveUnreadable, pack, unpack
from ..errors import InvalidInput
from ..jit import LIGHT_PASS_AHEAD, Direct, compiled, prefetch_item
from ..records import Field, Records, RowsSavepoint
from .batch import Flag

LATE = int(Flag.LATE)
STALE = int(Flag.STALE)

WINDOW = 64
#: For readings without a time of their own: a number this far below the highest is a
#: counter that started again (a redelivery reaching this far back is taken for one).
RESTART_GAP = 1024
#: Seconds a reading must be newer than its sensor's newest to start a new epoch. Above
#: the clock table's tolerance (0.5 s), so a correction switching on moves no redelivery
#: past it.
EPOCH_TOLERANCE = 1.0
#: How far (seconds) a repeat's event time may be from the stored original's: the same
#: reading is corrected by the source's clock estimate of its own arrival, which may have
#: moved in between (the clock table holds back steps of its estimate larger than this).
REPEAT_SLACK = 300.0
#: Readings behind the window further apart than this (seconds) are looked up in the
#: stored history separately, not as one span.
SPAN_GAP = 60.0
#: Keys of (time, value) remembered per sensor for readings without sequence numbers.
RING = 8

#: The counters that ``dump`` and ``load`` carry over a restart.
COUNTERS = ("lost", "duplicates", "late", "epochs")
#: Bumped when the meaning of a saved counter changes.
FORMAT = 1


class Lookup(NamedTuple):
    """A span of one sensor's stored history to ask about some of a batch's readings."""

    row: int
    readings: NDArray[np.int64]
    """Their positions in the batch."""
    start: float
    end: float
    """Exclusive, as ``Store.history`` takes it."""


@dataclass(slots=True)
class Admission:
    keep: NDArray[np.bool_]
    flags: NDArray[np.int64]
    duplicates: int
    late: int
    stale: int
    lost: int
    behind_window: NDArray[np.bool_]
    """Readings the in-memory state cannot judge — numbered ones further behind their
    sensor's highest number than the window reaches or older than its epoch, and ones
    without a number older than the sensor's newest and not remembered: whether they are
    repeats only the stored history can tell."""
    epochs: int = 0
    """Counters found to have started again in this batch."""


class CountersUnreadable(InvalidInput):
    """Saved sequence counters that cannot be loaded (damaged, or another layout)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "sequence_counters_unreadable")


_FIELDS: dict[str, Field] = {
    # What a numbered reading touches, in the record's first cache line.
    "max_seq": (np.int64, -1),
    # the lowest number seen since the counter (re)started: numbers below it were never
    # skipped over, so their arrival does not take anything off ``lost``
    "floor": (np.int64, -1),
    "window": (np.uint64, 0),
    # the newest event time of a numbered reading in this epoch
    "newest": (np.float64, -np.inf),
    # the event time of this epoch's first reading (-inf: the first epoch, or unknown)
    "epoch_start": (np.float64, -np.inf),
    "lost": (np.int64, 0),
    "duplicates": (np.int64, 0),
    "late": (np.int64, 0),
    "epochs": (np.int64, 0),
    # Readings without numbers: the newest time kept, and a ring of (time, value) keys.
    "plain_newest": (np.float64, -np.inf),
    "ring_next": (np.int64, 0),
    "ring": (np.uint64, 0, (RING,)),
    # the newest event time of a reading judged in order (see the module's docstring)
    "judged": (np.float64, -np.inf),
}

#: Every column of the table's records.
COLUMNS = tuple(_FIELDS)


class SequenceTable:
    """Per-row sequence state (one record per row, see ``twinsync.records``), grown on
    demand."""

    def __init__(self, capacity: int = 1024, *, tolerance: float = EPOCH_TOLERANCE,
                 repeat_slack: float = REPEAT_SLACK) -> None:
        self._records = Records(_FIELDS, capacity, owner=self)
        self.tolerance = tolerance
        self.repeat_slack = repeat_slack

    def ensure(self, capacity: int) -> None:
        self._records.grow(capacity)

    def __len__(self) -> int:
        return len(self._records)

    # mypy sees the columns through these annotations.
    max_seq: NDArray[np.int64]
    floor: NDArray[np.int64]
    window: NDArray[np.uint64]
    newest: NDArray[np.float64]
    epoch_start: NDArray[np.float64]
    lost: NDArray[np.int64]
    duplicates: NDArray[np.int64]
    late: NDArray[np.int64]
    epochs: NDArray[np.int64]
    plain_newest: NDArray[np.float64]
    ring_next: NDArray[np.int64]
    ring: NDArray[np.uint64]
    judged: NDArray[np.float64]

    def admit(self, rows: NDArray[np.int64], seq: NDArray[np.int64],
              event_time: NDArray[np.float64], value: NDArray[np.float64],
              received_at: NDArray[np.float64], *, timed: NDArray[np.bool_],
              live_time: NDArray[np.float64], allowed_lateness: float,
              freshness: float) -> Admission:
        """Decide for each reading: keep or drop as duplicate, and its flags.

        ``value`` is the reading as sent (in the sensor's unit, before calibration), so a
        retry is recognised even if the binding changed in between. ``timed`` says which
        readings carry a time of their own. ``live_time`` is the sensor table's column as
        it was before this batch: the sensor's live watermark. Only readings with a time
        of their own move ``judged``; a reading whose time is not believed (quarantined
        while its source's clock is learned) comes in as one without."""
        n = len(rows)
        duplicate = np.zeros(n, dtype=np.bool_)
        if n == 0:
            return Admission(duplicate, np.zeros(0, np.int64), 0, 0, 0, 0, duplicate.copy())
        # Arrays of one type each for the pass (``jit.Direct``): no copy of what already is.
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        seq = np.ascontiguousarray(seq, dtype=np.int64)
        event_time = np.ascontiguousarray(event_time, dtype=np.float64)
        received_at = np.ascontiguousarray(received_at, dtype=np.float64)
        timed = np.ascontiguousarray(timed, dtype=np.bool_)
        self.ensure(int(rows.max()) + 1)
        plain = seq < 0
        keys = np.zeros(n, dtype=np.uint64)
        if np.count_nonzero(plain):
            duplicate |= _same_time_and_value(rows, event_time, value, plain)
            keys[plain] = _plain_keys(event_time[plain], value[plain])
        behind_window = np.zeros(n, dtype=np.bool_)
        flags = np.zeros(n, dtype=np.int64)
        counts = np.zeros(4, dtype=np.int64)
        # The caller's watermark and the records' columns are the arguments whose types
        # may change (another array; the table grown); the rest are made here.
        columns = (self.max_seq, self.floor, self.window, self.newest, self.epoch_start,
                   self.lost, self.duplicates, self.late, self.epochs, self.plain_newest,
                   self.ring_next, self.ring, self.judged)
        lost: int = _ADMIT.call(
            (live_time, *columns), rows, seq, event_time, received_at, timed, keys,
            live_time, float(allowed_lateness), float(freshness), float(self.tolerance),
            *columns, duplicate, behind_window, flags, counts)
        numbered_behind = behind_window & ~plain
        if np.count_nonzero(numbered_behind):
            # The window cannot tell whether two readings far behind it repeat each other.
            again = _repeated_pairs(rows, seq, numbered_behind)
            if again.any():
                duplicate |= again
                behind_window &= ~again
                self.uncount(rows[again], flags[again])
                counts[0] += int(again.sum())
                counts[1] -= int((again & ((flags & Flag.LATE) != 0)).sum())
                counts[2] -= int((again & ((flags & Flag.STALE) != 0)).sum())
        # After the pass, so the whole batch was judged against the watermark from before.
        in_order = ~duplicate & ~behind_window & timed & ((flags & LATE) == 0)
        if np.count_nonzero(in_order):
            np.maximum.at(self.judged, rows[in_order], event_time[in_order])
        return Admission(~duplicate, flags, int(counts[0]), int(counts[1]), int(counts[2]),
                         lost, behind_window, int(counts[3]))

    def uncount(self, rows: NDArray[np.int64], flags: NDArray[np.int64]) -> None:
        """Readings admitted but then found to be stored already (by the stored history):
        count them as duplicates, and no longer as late."""
        np.add.at(self.duplicates, rows, 1)
        np.subtract.at(self.late, rows[(flags & Flag.LATE) != 0], 1)

    def lookups(self, rows: NDArray[np.int64], event_time: NDArray[np.float64],
                behind: NDArray[np.bool_]) -> list[Lookup]:
        """What to ask the stored history about the readings marked ``behind``: per
        sensor, spans of time around them (a redelivery carries the original times, so
        a span reaches ``repeat_slack`` either side and no further). Readings more than
        ``SPAN_GAP`` apart are asked about separately, so a sparse redelivery never reads
        the hours between its readings."""
        found: list[Lookup] = []
        index = np.flatnonzero(behind)
        if index.size == 0:
            return found
        order = index[np.lexsort((event_time[index], rows[index]))]
        r, t = rows[order], event_time[order]
        cut = np.flatnonzero((r[1:] != r[:-1]) | (t[1:] - t[:-1] > SPAN_GAP)) + 1
        for part in np.split(np.arange(order.size), cut):
            first, last = float(t[part[0]]), float(t[part[-1]])
            # The store's end is exclusive: one step past the last time it must see.
            found.append(Lookup(int(r[part[0]]), order[part], first - self.repeat_slack,
                                float(np.nextafter(last + self.repeat_slack, np.inf))))
        return found

    def stored_repeats(self, seq: NDArray[np.int64], event_time: NDArray[np.float64],
                       value: NDArray[np.float64], stored_seq: NDArray[np.int64],
                       stored_time: NDArray[np.float64], stored_value: NDArray[np.float64]
                       ) -> NDArray[np.bool_]:
        """Which readings (one sensor's) the stored ones already hold: a numbered reading
        when a stored one has its number within ``repeat_slack`` of its time (a number
        alone may belong to another epoch), one without a number when a stored one without
        a number has exactly its time and value (as sent, ``raw_value`` in the store)."""
        repeats = np.zeros(len(seq), dtype=np.bool_)
        numbered = seq >= 0
        if numbered.any():
            repeats[numbered] = _near_same_number(seq[numbered], event_time[numbered],
                                                  stored_seq, stored_time, self.repeat_slack)
        if (~numbered).any():
            plain = stored_seq < 0
            # A set of Python ints: ``np.isin`` sorts both sides, 50 µs on a few readings.
            stored = set(_plain_keys(stored_time[plain], stored_value[plain]).tolist())
            repeats[~numbered] = [key in stored for key in
                                  _plain_keys(event_time[~numbered], value[~numbered]).tolist()]
        return repeats

    def savepoint(self, rows: NDArray[np.int64]) -> RowsSavepoint:
        """The records of ``rows`` as they are, for ``rollback`` after a failed commit."""
        return self._records.savepoint(rows)

    def rollback(self, point: RowsSavepoint) -> None:
        self._records.rollback(point)

    def restore(self, rows: NDArray[np.int64], seq: NDArray[np.int64]) -> None:
        """Rebuild windows from stored readings (after a restart); counters are untouched
        (they come back with ``load``)."""
        if len(rows):
            self.ensure(int(rows.max()) + 1)
            lost = self.lost.copy()
            _remember_all(rows, seq, self.max_seq, self.floor, self.window, self.lost)
            self.lost[:] = lost

    def dump(self, sensor_ids: Sequence[str]) -> bytes:
        """The counters of rows ``0 .. len(sensor_ids)``, keyed by ``sensor_ids[row]``."""
        used = min(len(sensor_ids), len(self))
        arrays: dict[str, NDArray[Any]] = {
            name: np.ascontiguousarray(getattr(self, name)[:used]) for name in COUNTERS}
        header = {"format": FORMAT, "ids": [str(s) for s in sensor_ids[:used]],
                  "columns": {name: arrays[name].dtype.str for name in COUNTERS}}
        return pack(header, arrays)

    def load(self, body: bytes, sensor_ids: Sequence[str]) -> int:
        """Set the counters of the sensors in ``sensor_ids`` (``sensor_ids[row]`` names
        row ``row``) from a ``dump``; sensors unknown now are skipped. Returns how many
        were set. Raises ``CountersUnreadable``, having changed nothing, for a body that
        is not such a dump."""
        ids, arrays = _read_counters(body)
        row_of = {sensor_id: row for row, sensor_id in enumerate(sensor_ids)}
        saved = [i for i, sensor_id in enumerate(ids) if sensor_id in row_of]
        target = np.array([row_of[ids[i]] for i in saved], dtype=np.int64)
        if target.size:
            self.ensure(int(target.max()) + 1)
            for name in COUNTERS:
                getattr(self, name)[target] = arrays[name][saved]
        return int(target.size)


def _read_counters(body: bytes) -> tuple[list[str], dict[str, NDArray[Any]]]:
    """The sensor ids and counter columns of a dump, checked whole."""
    try:
        header, arrays = unpack(body)
    except ArchiveUnreadable as exc:
        raise CountersUnreadable(f"sequence counters unreadable: {exc}") from exc
    if header.get("format") != FORMAT:
        raise CountersUnreadable(f"sequence counters of format {header.get('format')!r}, "
                                 f"expected {FORMAT}")
    ids = header.get("ids")
    expected = {name: np.dtype(np.int64).str for name in COUNTERS}
    if header.get("columns") != expected or set(arrays) != set(COUNTERS):
        raise CountersUnreadable(f"sequence counters hold {sorted(arrays)}, expected "
                                 f"{list(COUNTERS)} as int64")
    if (not isinstance(ids, list) or not all(isinstance(i, str) for i in ids)
            or any(arrays[name].shape != (len(ids),) or arrays[name].dtype != np.int64
                   for name in COUNTERS)):
        raise CountersUnreadable("sequence counters do not match their sensor ids")
    return ids, arrays


def _plain_keys(event_time: NDArray[np.float64], value: NDArray[np.float64]
                ) -> NDArray[np.uint64]:
    """A 64-bit key per (event time, value), never 0 (0 marks an empty ring slot)."""
    # -0.0 and 0.0 are the same value: one bit pattern for both.
    time_bits = (event_time + 0.0).view(np.uint64)
    value_bits = (value + 0.0).view(np.uint64)
    # splitmix64's finaliser over the mixed words: a retry must find its key, and two
    # different readings sharing one (odds ~ RING / 2**64) would lose one of them.
    key = time_bits * np.uint64(0x9E3779B97F4A7C15) ^ value_bits
    key ^= key >> np.uint64(30)
    key *= np.uint64(0xBF58476D1CE4E5B9)
    key ^= key >> np.uint64(27)
    key *= np.uint64(0x94D049BB133111EB)
    key ^= key >> np.uint64(31)
    key[key == 0] = 1
    return key


def _near_same_number(seq: NDArray[np.int64], event_time: NDArray[np.float64],
                      stored_seq: NDArray[np.int64], stored_time: NDArray[np.float64],
                      slack: float) -> NDArray[np.bool_]:
    """For each (seq, time): is there a stored reading with that number within
    ``slack`` of that time?"""
    found = np.zeros(len(seq), dtype=np.bool_)
    _find_near_same_number(np.ascontiguousarray(seq, dtype=np.int64),
                           np.ascontiguousarray(event_time, dtype=np.float64),
                           np.ascontiguousarray(stored_seq, dtype=np.int64),
                           np.ascontiguousarray(stored_time, dtype=np.float64),
                           float(slack), found)
    return found


@compiled
def _find_near_same_number(seq: NDArray[np.int64], event_time: NDArray[np.float64],
                           stored_seq: NDArray[np.int64], stored_time: NDArray[np.float64],
                           slack: float, found: NDArray[np.bool_]) -> None:
    """``_near_same_number`` into ``found``: the stored readings sorted by number, each
    reading's run of its number searched. Compiled: as a dozen NumPy calls (sort, search,
    repeat, cumsum) it cost 31 µs on one reading and forty stored, as the replay's
    look-ups have them, most of the 37 µs of ``stored_repeats``."""
    order = np.argsort(stored_seq, kind="mergesort")
    numbers = stored_seq[order]
    times = stored_time[order]
    for i in range(seq.shape[0]):
        j = np.searchsorted(numbers, seq[i])
        while j < numbers.shape[0] and numbers[j] == seq[i]:
            if abs(times[j] - event_time[i]) <= slack:
                found[i] = True
                break
            j += 1


def _same_time_and_value(rows: NDArray[np.int64], event_time: NDArray[np.float64],
                         value: NDArray[np.float64], plain: NDArray[np.bool_]
                         ) -> NDArray[np.bool_]:
    """The second and later of readings without numbers equal in (row, time, value)."""
    index = np.flatnonzero(plain)
    r, t, v = rows[index], event_time[index], value[index]
    duplicate = np.zeros(len(rows), dtype=np.bool_)
    order = np.lexsort((index, v, t, r))
    same = np.r_[False, (r[order][1:] == r[order][:-1]) & (t[order][1:] == t[order][:-1])
                 & (v[order][1:] == v[order][:-1])]
    duplicate[index[order[same]]] = True
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
           received_at: NDArray[np.float64], timed: NDArray[np.bool_],
           keys: NDArray[np.uint64], watermark: NDArray[np.float64],
           allowed_lateness: float, freshness: float, tolerance: float,
           max_seq: NDArray[np.int64], floor: NDArray[np.int64], window: NDArray[np.uint64],
           newest: NDArray[np.float64], epoch_start: NDArray[np.float64],
           lost: NDArray[np.int64], duplicates: NDArray[np.int64], late: NDArray[np.int64],
           epochs: NDArray[np.int64], plain_newest: NDArray[np.float64],
           ring_next: NDArray[np.int64], ring: NDArray[np.uint64],
           judged: NDArray[np.float64],
           duplicate: NDArray[np.bool_], behind_window: NDArray[np.bool_],
           flags: NDArray[np.int64], counts: NDArray[np.int64]) -> int:
    """One pass over the batch in arrival order. ``duplicate`` comes in with the readings
    already known to repeat (no sequence number, same time and value in the batch); the
    pass adds those whose number its sensor's window has seen — including earlier in this
    batch — and those without a number whose key its sensor's ring holds; it starts new
    epochs, marks what only the store can judge, flags late and stale readings, and folds
    kept readings into the records. ``counts`` gets [duplicates, late, stale, epochs] of
    the batch; returns the change in lost readings. ``lost`` may dip below zero inside the
    pass (a filled gap before the skip that made it, in arrival order); it is clamped at
    the end, per row."""
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
        t = event_time[i]
        if s >= 0 and not duplicate[i]:
            m = max_seq[r]
            reference = newest[r]
            # Against times seen in this run, a tolerance for the source's clock correction
            # moving a little; a window restored from the store has only the watermark it
            # restored, and the correction starts afresh anyway: compared exactly.
            margin = tolerance if reference > -np.inf else 0.0
            if watermark[r] > reference:
                reference = watermark[r]
            if m >= 0 and s <= m and (
                    (timed[i] and t > reference + margin)
                    or (not timed[i] and m - s > RESTART_GAP)):
                # A counter that started again: at or below the highest, yet newer.
                max_seq[r] = -1
                floor[r] = -1
                window[r] = 0
                epoch_start[r] = t if timed[i] else -np.inf
                newest[r] = -np.inf
                epochs[r] += 1
                counts[3] += 1
                m = -1
            behind = m - s
            if timed[i] and t < epoch_start[r]:
                # Taken before this epoch began (or before its first reading): its number
                # may belong to an earlier count, so the window does not judge it.
                behind_window[i] = True
            elif (m >= 0 and 0 <= behind < WINDOW
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
            # Only what the window judged: a reading left to the store may be a repeat.
            if timed[i] and not duplicate[i] and not behind_window[i] and t > newest[r]:
                newest[r] = t
        elif s < 0 and not duplicate[i] and timed[i]:
            key = keys[i]
            for slot in range(RING):
                if ring[r, slot] == key:
                    duplicate[i] = True
            if not duplicate[i]:
                reference = plain_newest[r]
                if watermark[r] > reference:
                    reference = watermark[r]
                if t <= reference:
                    # Not remembered, yet no newer than the sensor's newest: it may repeat
                    # a reading from further back than the ring reaches. Kept out of the
                    # ring, so a retried batch does not push out its own newest readings.
                    behind_window[i] = True
                else:
                    ring[r, ring_next[r] % RING] = key
                    ring_next[r] += 1
                    plain_newest[r] = t
        if duplicate[i]:
            duplicates[r] += 1
            counts[0] += 1
            continue
        mark = watermark[r]
        if judged[r] > mark:
            mark = judged[r]
        if t < mark - allowed_lateness:
            flags[i] |= LATE
            late[r] += 1
            counts[1] += 1
        if received_at[i] - t > freshness:
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


#: The sequence windows' pass, called past numba's typing of its 27 arguments
#: (``jit.Direct``): typing them cost more than the pass over a batch of two readings.
_ADMIT = Direct(_admit)
