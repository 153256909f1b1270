"""Clock offsets per device, learned from the readings they send (NTP-style), and the
quarantine of readings whose time cannot be believed.

A device stamps readings with its own clock. For each reading the *ahead-ness*
``event_time - received_at`` is the device's clock offset minus the true latency, and the
greatest one in a window is the one with the least latency in it. One-way timestamps
cannot tell a clock that runs behind from latency (or from readings back-filled from a
logger), but a reading cannot arrive before it was taken. So the readings reveal clocks
that run *ahead*, by the greatest ahead-ness in the window, and that is what is corrected
from them. The window slides so a drifting clock is followed: the greatest ahead-ness is
kept for the current and the previous half window.

**Per device.** Each sensor row has its own estimate, one record of this table
(``twinsync.records``): a device whose clock is an hour ahead behind a gateway shared
with others corrects its own readings and never its neighbours'. The work per reading is
constant (its row's record, read and written in compiled loops over the batch), whatever
the fleet. A source's offset, as the API shows it, is the median correction its last
batch's believed readings got.

**Quarantine.** A reading more than ``max_ahead`` ahead of its arrival after correcting
its device's known offset, or stamped before ``earliest`` (a device that rebooted into
1970), is *quarantined*: kept and stored (``Flag.QUARANTINED``) but not believed — it
moves no live value, no watermark and no estimate. ``max_ahead`` stays well below the
allowed lateness, so that what the estimate may absorb from one reading can never make the
device's later true readings late. More than ``max_future`` ahead is not a time history
can hold at all (a segment's newest time places it in a partition and decides when
retention may drop it): such a reading is refused, a dead letter with its reason.

**Jumps, bounded.** A device whose clock really was set ahead (or back) sends readings
that all disagree with its estimate the same way: once ``jump_after`` of its batches in a
row agree (within ``max_step`` of each other), the estimate jumps to them, and the batch
that completes the agreement is believed. Samples further below the estimate than
``max_step`` need the same agreement, so one back-filled buffer does not reset a fast
clock. No estimate goes past ``max_offset``: a reading claiming more is quarantined or
refused, never a candidate. (Stamps that creep ahead by less than ``max_ahead`` a batch are
believed and carry their device's estimate along, up to the bound: only that device's.)

Clocks that run behind need the round trip: a source that does the four-timestamp
exchange of ``GET/POST /api/time`` (``sync``) gets its offset from that, NTP's formula,
and it takes precedence for all its devices while it is recent.

>>> import numpy as np
>>> clocks = ClockTable()
>>> # A device whose clock runs 90 s ahead: its readings seem to arrive 90 s early.
>>> placed = clocks.observe("gw-1", np.array([0, 0]), np.array([1_790_001_089.0,
...                         1_790_001_090.0]), received_at=1_790_001_000.5)
>>> round(clocks.offset("gw-1"), 1), placed.event_time.round(1).tolist()
(89.5, [1790000999.5, 1790001000.5])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidInput
from ..jit import LIGHT_PASS_AHEAD, Direct, compiled, prefetch_item
from ..records import Field, Records, RowsSavepoint

#: 2000-01-01T00:00:00Z: no device of a twin reports from before it; an earlier time is a
#: clock that lost its setting (a reboot into 1970), not a reading's time.
EARLIEST = 946_684_800.0

# A reading's verdict in ``_observe``.
_BELIEVED = 0
_QUARANTINED = 1
_REFUSED = 2

# name: (dtype, fill). One cache line a device.
_FIELDS: dict[str, Field] = {
    "device_offset": (np.float64, 0.0),
    # greatest ahead-ness (clamped at 0) in the current and the previous half window
    "peak": (np.float64, -np.inf),
    "peak_before": (np.float64, -np.inf),
    "half_start": (np.float64, -np.inf),
    # a jump waiting for agreement: the offset it proposes and how many batches agreed
    "pending": (np.float64, np.nan),
    "agreeing": (np.int64, 0),
    # scratch of ``observe``: the row's place among the batch's rows, -1 between batches
    "slot": (np.int64, -1),
    # readings judged not believable (a redelivered one counts again; ``Pipeline.counts``
    # has the committed figure)
    "quarantined": (np.int64, 0),
}


@dataclass(slots=True)
class SourceClock:
    """What is known of one source's clock."""

    offset: float | None = None
    """The median correction the believed readings of the source's last batch got."""
    synced_offset: float | None = None
    """From the last four-timestamp exchange, with its round-trip delay."""
    round_trip: float | None = None
    samples: int = 0
    """Devices' samples learned from (one per device a batch)."""
    jumps: int = 0
    """Estimates of its devices that jumped after agreement."""
    quarantined: int = 0
    """Its readings kept but not believed (see the module docstring)."""
    last_sync: float | None = None

    def to_dict(self) -> dict[str, object]:
        return {"offset_from_readings": self.offset, "synced_offset": self.synced_offset,
                "round_trip": self.round_trip, "last_sync": self.last_sync,
                "samples": self.samples, "jumps": self.jumps,
                "quarantined": self.quarantined}


#: The per-device fields ``observe`` may change, saved per touched row for a rollback.
_SAVED = ("device_offset", "peak", "peak_before", "half_start", "pending", "agreeing",
          "quarantined")


@dataclass(frozen=True, slots=True)
class DevicesBefore:
    """The records of the devices a batch touched, as they were before it: row ``f`` of
    ``values`` holds field ``_SAVED[f]`` of each of ``rows`` (distinct)."""

    rows: NDArray[np.int64]
    values: NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ClockSavepoint:
    """One source's clock (None: not known yet) and its devices as they were, for
    ``ClockTable.rollback``."""

    source: str
    clock: SourceClock | None
    devices: RowsSavepoint | DevicesBefore | None = None


@dataclass(frozen=True, slots=True)
class Placed:
    """A batch's times put on the server's clock, and what could not be believed."""

    event_time: NDArray[np.float64]
    """Corrected by each reading's device (or its source's sync); untimed ones as given."""
    quarantined: NDArray[np.bool_]
    """Kept, but not believed: no live value, no watermark, no estimate."""
    refused: NDArray[np.bool_]
    """More than ``max_future`` ahead of arrival even after correction: a dead letter."""
    before: ClockSavepoint
    """The source's clock and the batch's devices as they were: ``rollback`` takes the
    batch back."""


class ClockTable:
    """Offsets of every device (a sensor row) and source. Pure: the caller passes the
    times."""

    def __init__(self, *, window_seconds: float = 600.0, max_ahead: float = 120.0,
                 max_step: float = 300.0, jump_after: int = 3, tolerance: float = 0.5,
                 max_offset: float = 86_400.0, max_future: float = 86_400.0,
                 earliest: float = EARLIEST, sync_valid_seconds: float = 3600.0,
                 capacity: int = 1024) -> None:
        if not 0 < max_ahead <= max_offset:
            raise ValueError("max_ahead must be positive and at most max_offset")
        self.window_seconds = window_seconds
        self.max_ahead = max_ahead
        """A reading further ahead of its arrival than this, corrected, is quarantined."""
        self.max_step = max_step
        """Samples further apart than this need agreement (a jump), and agree within it."""
        self.jump_after = jump_after
        self.tolerance = tolerance
        """Offsets smaller than this are not corrected: they are within the minimum latency."""
        self.max_offset = max_offset
        """No device's or source's offset goes past this, either way."""
        self.max_future = max_future
        self.earliest = earliest
        self.sync_valid_seconds = sync_valid_seconds
        self.sources: dict[str, SourceClock] = {}
        self._records = Records(_FIELDS, capacity, owner=self)

    # mypy sees the per-device columns through these annotations.
    device_offset: NDArray[np.float64]
    peak: NDArray[np.float64]
    peak_before: NDArray[np.float64]
    half_start: NDArray[np.float64]
    pending: NDArray[np.float64]
    agreeing: NDArray[np.int64]
    slot: NDArray[np.int64]
    quarantined: NDArray[np.int64]

    def device_offsets(self, rows: NDArray[np.int64]) -> NDArray[np.float64]:
        """Seconds each device's clock is ahead of ours, from its readings (0 if unknown)."""
        rows = np.asarray(rows, dtype=np.int64)
        known = rows < len(self._records)
        result = np.zeros(len(rows))
        result[known] = self.device_offset[rows[known]]
        return result

    def offset(self, source: str, now: float | None = None, row: int | None = None) -> float:
        """Seconds the source's clock (or that of its device ``row``) is ahead of ours
        (negative: behind). A recent sync of the source speaks for all its devices."""
        synced = self._synced(source, now)
        if synced is not None:
            return synced
        if row is not None:
            return float(self.device_offsets(np.array([row]))[0])
        clock = self.sources.get(source)
        return 0.0 if clock is None or clock.offset is None else clock.offset

    def correction(self, source: str, now: float | None = None, row: int | None = None
                   ) -> float:
        """Seconds to subtract from the event times (0 within tolerance)."""
        offset = self.offset(source, now, row)
        return offset if abs(offset) > self.tolerance else 0.0

    def quarantined_of(self, row: int) -> int:
        """How many readings of sensor ``row`` had a time that could not be believed."""
        return int(self.quarantined[row]) if row < len(self._records) else 0

    def savepoint(self, source: str, rows: NDArray[np.int64] | None = None
                  ) -> ClockSavepoint:
        """What ``sync`` (or, given the batch's ``rows``, ``observe``) may change, as it is
        now. ``observe`` returns its own, cheaper one (``Placed.before``)."""
        clock = self.sources.get(source)
        devices = None if rows is None else self._records.savepoint(rows)
        return ClockSavepoint(source, None if clock is None else replace(clock), devices)

    def rollback(self, point: ClockSavepoint) -> None:
        if point.clock is None:
            self.sources.pop(point.source, None)
        else:
            self.sources[point.source] = point.clock
        devices = point.devices
        if isinstance(devices, DevicesBefore):
            for name, values in zip(_SAVED, devices.values, strict=True):
                self._records.columns[name][devices.rows] = values
        elif devices is not None:
            self._records.rollback(devices)

    def observe(self, source: str, rows: NDArray[np.int64], event_times: NDArray[np.float64],
                received_at: float, timed: NDArray[np.bool_] | None = None) -> Placed:
        """Put a batch of one source's readings on our clock, quarantine or refuse what
        cannot be believed, and learn each device's clock from the rest. ``timed`` says
        which readings carried their own time (the others are at ``received_at``)."""
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        times = np.ascontiguousarray(event_times, dtype=np.float64)
        n = len(rows)
        if timed is None:
            timed = np.ones(n, dtype=np.bool_)
        clock = self.sources.get(source)
        clock_before = None if clock is None else replace(clock)
        placed = times.copy()
        verdict = np.zeros(n, dtype=np.int8)
        if n == 0 or not np.count_nonzero(timed):
            return Placed(placed, verdict == _QUARANTINED, verdict == _REFUSED,
                          ClockSavepoint(source, clock_before))
        self._records.grow(int(rows.max()) + 1)
        synced = self._synced(source, received_at)
        counts = np.zeros(4, dtype=np.int64)  # [touched devices, samples, jumps, quarantined]
        saved = np.empty((len(_SAVED), n))
        touched = np.empty(n, np.int64)
        # The record's columns are the only arguments whose types may change (when the
        # table grows); every other one is an array made here or a number made a float
        # or an int here (``jit.Direct``).
        columns = (self.device_offset, self.peak, self.peak_before, self.half_start,
                   self.pending, self.agreeing, self.slot, self.quarantined)
        _OBSERVE.call(columns, rows, times, np.ascontiguousarray(timed, dtype=np.bool_),
                      float(received_at), math.nan if synced is None else float(synced),
                      float(self.window_seconds / 2.0), float(self.max_ahead),
                      float(self.max_step), int(self.jump_after), float(self.tolerance),
                      float(self.max_offset), float(self.max_future), float(self.earliest),
                      *columns, touched, np.empty(n, np.int64), np.empty(n), np.empty(n),
                      np.empty(n), np.empty(n, np.int64), saved, placed, verdict, counts)
        k = int(counts[0])
        # ``saved`` is this call's own: its rows can be kept as they are, without a copy each.
        devices = DevicesBefore(touched[:k], saved[:, :k])
        clock = self.sources.setdefault(source, SourceClock())
        clock.samples += int(counts[1])
        clock.jumps += int(counts[2])
        clock.quarantined += int(counts[3])
        believed = timed & (verdict == _BELIEVED)
        if np.count_nonzero(believed):
            clock.offset = median(times[believed] - placed[believed])
        return Placed(placed, verdict == _QUARANTINED, verdict == _REFUSED,
                      ClockSavepoint(source, clock_before, devices))

    def sync(self, source: str, t0: float, t1: float, t2: float, t3: float) -> SourceClock:
        """An NTP exchange: the source sent at ``t0`` and got the answer at ``t3`` (its
        clock); we received at ``t1`` and answered at ``t2`` (ours). An exchange that
        cannot have happened (a negative round trip, an offset past ``max_offset``) is
        refused with ``InvalidInput`` and changes nothing."""
        if not all(math.isfinite(t) for t in (t0, t1, t2, t3)):
            raise InvalidInput("time sync: every timestamp must be a finite number",
                               "bad_time_sync")
        # NTP's offset is ours minus theirs; twinsync keeps theirs minus ours.
        offset = -((t1 - t0) + (t2 - t3)) / 2.0
        round_trip = (t3 - t0) - (t2 - t1)
        if t2 < t1 or round_trip < 0:
            raise InvalidInput(f"time sync: t1..t2 ({t2 - t1:g} s) and t0..t3 "
                               f"({t3 - t0:g} s) cannot come from one exchange",
                               "bad_time_sync")
        if abs(offset) > self.max_offset:
            raise InvalidInput(f"time sync: an offset of {offset:g} s is past the bound of "
                               f"{self.max_offset:g} s", "bad_time_sync")
        clock = self.sources.setdefault(source, SourceClock())
        clock.synced_offset = offset
        clock.round_trip = round_trip
        clock.last_sync = t2
        return clock

    def _synced(self, source: str, now: float | None) -> float | None:
        clock = self.sources.get(source)
        if clock is None or clock.synced_offset is None or clock.last_sync is None:
            return None
        if now is not None and now - clock.last_sync >= self.sync_valid_seconds:
            return None
        return clock.synced_offset


#: Up to this many values ``median`` sorts a Python list: ``np.median`` costs tens of
#: microseconds whatever the size, more than the rest of a batch of a few readings.
SMALL_MEDIAN = 32


def median(values: NDArray[np.float64]) -> float:
    """``float(np.median(values))``, the same number, without NumPy's overhead on a few.

    >>> median(np.array([3.0, 1.0, 2.0, 10.0]))
    2.5
    """
    if values.size > SMALL_MEDIAN or values.size == 0:
        return float(np.median(values))
    ordered: list[float] = sorted(values.tolist())
    if any(value != value for value in ordered):
        return math.nan  # NaN sorts nowhere in particular; NumPy answers NaN
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    # NumPy's mean of the two middle values: their sum, then halved.
    return (ordered[middle - 1] + ordered[middle]) / 2.0


@compiled
def _observe(rows: NDArray[np.int64], times: NDArray[np.float64], timed: NDArray[np.bool_],
             received_at: float, synced: float, half: float, max_ahead: float,
             max_step: float, jump_after: int, tolerance: float, max_offset: float,
             max_future: float, earliest: float, offset: NDArray[np.float64],
             peak: NDArray[np.float64], peak_before: NDArray[np.float64],
             half_start: NDArray[np.float64], pending: NDArray[np.float64],
             agreeing: NDArray[np.int64], slot: NDArray[np.int64],
             quarantined: NDArray[np.int64], touched: NDArray[np.int64],
             slot_of: NDArray[np.int64], believed_peak: NDArray[np.float64],
             candidate_peak: NDArray[np.float64], correction: NDArray[np.float64],
             quarantined_now: NDArray[np.int64], saved: NDArray[np.float64],
             placed: NDArray[np.float64], verdict: NDArray[np.int8],
             counts: NDArray[np.int64]) -> None:
    """Judge each timed reading against what was known of its device before the batch
    (``synced``, when not NaN, speaks for every device); learn one sample per device from
    its believed readings, or propose a jump from its quarantined ones; then correct every
    timed reading with what is known now and give its final verdict.

    Each device's record is read in the first pass and written in the second, once per
    device, which first copies it into ``saved`` (``_SAVED`` order) for a rollback; the
    third pass works on the batch's own arrays. ``counts`` gets [devices touched, samples,
    jumps, quarantined]. ``slot`` is -1 outside this call."""
    n = rows.shape[0]
    have_sync = synced == synced
    k = 0
    for i in range(n):
        if i + LIGHT_PASS_AHEAD < n:
            prefetch_item(slot, rows[i + LIGHT_PASS_AHEAD])  # the whole record: one line
        if not timed[i]:
            continue
        r = rows[i]
        if slot[r] < 0:
            slot[r] = k
            touched[k] = r
            believed_peak[k] = -np.inf
            candidate_peak[k] = -np.inf
            quarantined_now[k] = 0
            k += 1
        s = slot[r]
        slot_of[i] = s
        ahead = times[i] - received_at
        beyond = ahead - (synced if have_sync else offset[r])
        if times[i] < earliest or beyond > max_future:
            continue  # absurd: never a sample, not even a candidate
        if beyond > max_ahead:
            if ahead <= max_offset:
                candidate_peak[s] = max(candidate_peak[s], ahead)
        else:
            believed_peak[s] = max(believed_peak[s], ahead)
    counts[0] = k
    for s in range(k):
        if s + LIGHT_PASS_AHEAD < k:
            # With a large fleet the first pass's early records have left the cache by now.
            prefetch_item(slot, touched[s + LIGHT_PASS_AHEAD])
        r = touched[s]
        slot[r] = -1
        saved[0, s] = offset[r]
        saved[1, s] = peak[r]
        saved[2, s] = peak_before[r]
        saved[3, s] = half_start[r]
        saved[4, s] = pending[r]
        saved[5, s] = agreeing[r]
        saved[6, s] = quarantined[r]
        # One sample a device: the greatest ahead-ness of its believed readings, else of
        # its quarantined candidates (a jump to be agreed). Inline: a call per device
        # passing the record's columns cost more than the rest of the pass.
        if believed_peak[s] > -np.inf:
            # Only a positive ahead-ness says anything about the clock (see the docstring).
            sample = min(max(believed_peak[s], 0.0), max_offset)
            far = sample - offset[r] > max_ahead or offset[r] - sample > max_step
        elif candidate_peak[s] > -np.inf:
            sample = candidate_peak[s]
            far = True
        else:
            sample = np.nan
            far = False
        if sample == sample:
            counts[1] += 1
            if not far:
                pending[r] = np.nan
                agreeing[r] = 0
                start = received_at - received_at % half
                if start > half_start[r]:
                    peak_before[r] = peak[r] if start - half_start[r] <= half else -np.inf
                    peak[r] = -np.inf
                    half_start[r] = start
                peak[r] = max(peak[r], sample)
                offset[r] = max(peak[r], peak_before[r])
            else:
                if agreeing[r] > 0 and abs(sample - pending[r]) <= max_step:
                    agreeing[r] += 1
                    pending[r] = max(pending[r], sample)
                else:
                    pending[r] = sample
                    agreeing[r] = 1
                if agreeing[r] >= jump_after:
                    offset[r] = pending[r]
                    peak[r] = pending[r]
                    peak_before[r] = -np.inf
                    half_start[r] = received_at - received_at % half
                    pending[r] = np.nan
                    agreeing[r] = 0
                    counts[2] += 1
        c = synced if have_sync else offset[r]
        correction[s] = c if abs(c) > tolerance else 0.0
    for i in range(n):
        if not timed[i]:
            continue
        s = slot_of[i]
        t = times[i] - correction[s]
        placed[i] = t
        if t - received_at > max_future:
            verdict[i] = _REFUSED
        elif times[i] < earliest or t < earliest or t - received_at > max_ahead:
            verdict[i] = _QUARANTINED
            quarantined_now[s] += 1
        else:
            verdict[i] = _BELIEVED
    for s in range(k):
        if quarantined_now[s]:
            quarantined[touched[s]] += quarantined_now[s]
            counts[3] += quarantined_now[s]



#: The clock pass, called past numba's typing of its 31 arguments (``jit.Direct``): typing
#: them cost more than the pass over a batch of two readings.
_OBSERVE = Direct(_observe)
