"""Clock offsets per source, learned from the readings they send (NTP-style).

A source stamps readings with its own clock. For each reading the delay
``received_at - event_time`` is the true latency minus the source's clock offset, and the
smallest delay in a window is the one with the least latency in it. One-way timestamps
cannot tell a clock that runs behind from latency (or from readings back-filled from a
logger), but a negative delay is impossible: a reading cannot arrive before it was taken.
So the readings reveal clocks that run *ahead*, by the most negative delay in the window,
and that is what is corrected from them. The window slides so a drifting clock is followed:
minima are kept per ``bucket_seconds`` bucket over the last ``window_seconds``.

Clocks that run behind need the round trip: a source that does the four-timestamp
exchange of ``GET/POST /api/time`` (``sync``) gets its offset from that, NTP's formula,
and it takes precedence while it is recent.

A single wild timestamp (a device that rebooted into 1970, a typo) must not drag the
whole source's estimate: samples further than ``max_step`` from the current estimate are
held back until ``jump_after`` batches in a row agree, and then the estimate jumps.

>>> clocks = ClockTable()
>>> # A device whose clock runs 90 s ahead: its readings seem to arrive 90 s early.
>>> clocks.observe("gw-1", event_times=[1089.0, 1090.0], received_at=1000.5)
>>> round(clocks.offset("gw-1"), 1)
89.5
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(slots=True)
class SourceClock:
    """What is known of one source's clock."""

    offset: float | None = None
    """Seconds the source's clock is ahead of the server's, from its readings."""
    synced_offset: float | None = None
    """From the last four-timestamp exchange, with its round-trip delay."""
    round_trip: float | None = None
    bucket_start: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    bucket_min_delay: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    samples: int = 0
    pending_jump: list[float] = field(default_factory=list)
    jumps: int = 0
    last_sync: float | None = None

    def to_dict(self) -> dict[str, object]:
        return {"offset_from_readings": self.offset, "synced_offset": self.synced_offset,
                "round_trip": self.round_trip, "last_sync": self.last_sync,
                "samples": self.samples, "jumps": self.jumps}


@dataclass(frozen=True, slots=True)
class ClockSavepoint:
    """One source's clock as it was (None: not known yet), for ``ClockTable.rollback``."""

    source: str
    clock: SourceClock | None


class ClockTable:
    """Offsets of every source. Pure: the caller passes the times."""

    def __init__(self, *, window_seconds: float = 600.0, bucket_seconds: float = 10.0,
                 max_step: float = 300.0, jump_after: int = 3, tolerance: float = 0.5,
                 sync_valid_seconds: float = 3600.0) -> None:
        self.sync_valid_seconds = sync_valid_seconds
        self.window_seconds = window_seconds
        self.bucket_seconds = bucket_seconds
        self.max_step = max_step
        self.jump_after = jump_after
        self.tolerance = tolerance
        """Offsets smaller than this are not corrected: they are within the minimum latency."""
        self.sources: dict[str, SourceClock] = {}

    def offset(self, source: str, now: float | None = None) -> float:
        """Seconds the source's clock is ahead of ours (negative: behind)."""
        clock = self.sources.get(source)
        if clock is None:
            return 0.0
        if clock.synced_offset is not None and clock.last_sync is not None and (
                now is None or now - clock.last_sync < self.sync_valid_seconds):
            return clock.synced_offset
        return 0.0 if clock.offset is None else clock.offset

    def correction(self, source: str, now: float | None = None) -> float:
        """Seconds to subtract from the source's event times (0 within tolerance)."""
        offset = self.offset(source, now)
        return offset if abs(offset) > self.tolerance else 0.0

    def savepoint(self, source: str) -> ClockSavepoint:
        """What ``observe`` may change for ``source``, as it is now."""
        clock = self.sources.get(source)
        if clock is None:
            return ClockSavepoint(source, None)
        return ClockSavepoint(source, replace(
            clock, bucket_start=clock.bucket_start.copy(),
            bucket_min_delay=clock.bucket_min_delay.copy(),
            pending_jump=list(clock.pending_jump)))

    def rollback(self, point: ClockSavepoint) -> None:
        if point.clock is None:
            self.sources.pop(point.source, None)
        else:
            self.sources[point.source] = point.clock

    def observe(self, source: str, event_times: ArrayLike, received_at: float) -> None:
        """Learn from a batch of one source's readings that carried their own time."""
        times = np.asarray(event_times, dtype=np.float64)
        if times.size == 0:
            return
        delay = float(received_at - times.max())  # the freshest reading: least buffering
        self._add(source, delay, received_at)

    def sync(self, source: str, t0: float, t1: float, t2: float, t3: float) -> SourceClock:
        """An NTP exchange: the source sent at ``t0`` and got the answer at ``t3`` (its
        clock); we received at ``t1`` and answered at ``t2`` (ours)."""
        clock = self.sources.setdefault(source, SourceClock())
        # NTP's offset is ours minus theirs; twinsync keeps theirs minus ours.
        clock.synced_offset = -((t1 - t0) + (t2 - t3)) / 2.0
        clock.round_trip = (t3 - t0) - (t2 - t1)
        clock.last_sync = t2
        return clock

    def _add(self, source: str, delay: float, now: float) -> None:
        clock = self.sources.setdefault(source, SourceClock())
        clock.samples += 1
        # A clock is presumed right until shown otherwise: a first estimate far off needs
        # the same agreement as a jump.
        if abs(max(0.0, -delay) - (clock.offset or 0.0)) > self.max_step:
            # Far from what we know: wait for agreement before believing a jump.
            pending = clock.pending_jump
            if pending and abs(pending[-1] - delay) > self.max_step:
                pending.clear()
            pending.append(delay)
            if len(pending) < self.jump_after:
                return
            clock.bucket_start = np.empty(0)
            clock.bucket_min_delay = np.empty(0)
            clock.jumps += 1
            delays: Sequence[float] = list(pending)
            pending.clear()
        else:
            clock.pending_jump.clear()
            delays = [delay]
        for value in delays:
            self._bucket(clock, value, now)
        keep = clock.bucket_start > now - self.window_seconds
        clock.bucket_start = clock.bucket_start[keep]
        clock.bucket_min_delay = clock.bucket_min_delay[keep]
        # Only a negative delay says anything about the clock (see the module docstring).
        clock.offset = max(0.0, -float(clock.bucket_min_delay.min()))

    def _bucket(self, clock: SourceClock, delay: float, now: float) -> None:
        start = now - now % self.bucket_seconds
        if clock.bucket_start.size and clock.bucket_start[-1] == start:
            clock.bucket_min_delay[-1] = min(clock.bucket_min_delay[-1], delay)
        else:
            clock.bucket_start = np.append(clock.bucket_start, start)
            clock.bucket_min_delay = np.append(clock.bucket_min_delay, delay)
