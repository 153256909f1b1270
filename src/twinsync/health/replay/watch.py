"""The service's watch on simulated time: ``HealthMonitor.tick`` once a second.

Live, the watch ticks every second (``service.watch``). Between two batches nothing but
time changes the health table, so most of those ticks find nothing: a tick changes a
sensor's state only at the first second past its stale or offline threshold (its newest
reading's time plus ``stale_after`` or ``offline_after`` expected intervals), and
otherwise only brings the quality of a stale sensor up to date. The replay therefore ticks
at exactly those seconds of the live grid where a state changes, and at the last second
before a batch whenever a sensor is stale (its quality, as of that second, is what the
batch's readings of it read): the table, the changes and their reasons come out as if
every second had been ticked, at a cost that does not grow with the replayed span.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from .._jit import compiled
from ..monitor import HealthChanges, HealthMonitor
from ..silence import SilenceKnobs, cadence_known, clock_off, silence_knobs, silent_since
from ..states import State

_OK, _STALE, _SPIKE, _OFFLINE = (int(State.OK), int(State.STALE), int(State.SPIKE),
                                 int(State.OFFLINE))

#: Seconds between the watch's rounds, as ``service.watch.Watch`` runs them.
CADENCE = 1.0


class SimulatedWatch:
    """Ticks ``monitor`` on the grid ``origin + k * cadence``; ``origin`` is the first
    time it is told (the service starts, then its watch ticks a second later)."""

    def __init__(self, monitor: HealthMonitor, cadence: float = CADENCE) -> None:
        self.monitor = monitor
        self.cadence = cadence
        # The knobs of the monitor's parameters, built again only if those are replaced:
        # built and typed anew at each batch they cost more than the search they serve.
        self._params = monitor.params
        self._knobs = silence_knobs(monitor.params)
        self.origin = math.nan
        self.done = 0
        """The last grid step whose tick has been run or shown to change nothing."""
        self._due = np.empty(0)
        """Per row: the first grid step after ``done`` at which a tick changes its state
        (inf: none while no reading comes)."""

    def until(self, now: float) -> Iterator[tuple[float, HealthChanges]]:
        """Run the ticks of every grid second up to ``now``: (time, what changed) for the
        ones that changed something."""
        if math.isnan(self.origin):
            self.origin = now
            self.forget()
            return
        last = math.floor((now - self.origin) / self.cadence)
        while True:
            if self._due.shape[0] < self.monitor.rows_in_use:
                self.forget()
            step = float(self._due.min()) if self._due.size else math.inf
            if step > last:
                break
            yield from self._tick(int(step))
        if last > self.done:
            used = self.monitor.rows_in_use
            if np.count_nonzero(self.monitor.table.state[:used] == _STALE):
                yield from self._tick(last)
            self.done = last

    def forget(self, rows: NDArray[np.int64] | None = None) -> None:
        """Work out again when ``rows`` (all when None) next change: a batch moved them."""
        used = self.monitor.rows_in_use
        if self._due.shape[0] < used:
            grown = np.full(used, math.inf)
            grown[: self._due.shape[0]] = self._due
            self._due = grown
            rows = None
        # A row named twice gets the same step twice: no need to make them unique first.
        at = np.arange(used) if rows is None else rows
        self._due[at] = self._next_change(at)

    def _tick(self, step: int) -> Iterator[tuple[float, HealthChanges]]:
        now = self.origin + step * self.cadence
        changes = self.monitor.tick(now)
        self.done = step
        self.forget(changes.rows if len(changes) else np.empty(0, np.int64))
        # Rows whose due step has passed without a change (a stale row's quality only).
        passed = np.flatnonzero(self._due <= step)
        if passed.size:
            self._due[passed] = self._next_change(passed)
        if len(changes):
            yield now, changes

    def _silence_knobs(self) -> SilenceKnobs:
        if self.monitor.params is not self._params:
            self._params = self.monitor.params
            self._knobs = silence_knobs(self._params)
        return self._knobs

    def _next_change(self, rows: NDArray[np.int64]) -> NDArray[np.float64]:
        """The first grid step after ``done`` at which a tick would change each row's state."""
        monitor = self.monitor
        table = monitor.table
        found = np.empty(rows.size)
        # Before its first tick the monitor has not started: it will at the first grid step.
        started = monitor.started
        if math.isnan(started):
            started = self.origin + self.cadence
        next_silence(rows, float(self.done + 1), self.origin, self.cadence, started,
                     table.heard, table.cadence,
                     table.expect, table.lag_low, table.lag_before, table.state,
                     self._silence_knobs(), found)
        return found


@compiled
def next_silence(rows: NDArray[np.int64], first: float, origin: float, cadence: float,
                 started: float, heard: NDArray[np.float64],
                 delivery: NDArray[np.float64], expect: NDArray[np.float64],
                 lag_low: NDArray[np.float64], lag_before: NDArray[np.float64],
                 state: NDArray[np.int8], k: SilenceKnobs, found: NDArray[np.float64]) -> None:
    """For each row, the first grid step from ``first`` on at which ``silence.silence``
    would change its state (inf: none while no reading comes), found with the timer's own
    arithmetic (``now - heard > factor * expect``), so that no rounding moves it by a
    second. A row whose readings arrive stamped far behind or ahead changes at ``first``."""
    for i in range(rows.shape[0]):
        r = rows[i]
        found[i] = math.inf
        s = state[r]
        e = expect[r]
        if ((s in (_OK, _SPIKE, _STALE, _OFFLINE))
                and clock_off(lag_low[r], lag_before[r], k, e)
                and not (origin + first * cadence) - silent_since(heard[r], started)
                > k.stale_after * e):
            found[i] = first
            continue
        if s == _OFFLINE:
            continue
        # A row whose cadence is not known yet is named offline only (``silence.silence``).
        known = cadence_known(heard[r], delivery[r])
        factor = k.offline_after if s == _STALE or not known else k.stale_after
        threshold = factor * e
        last = silent_since(heard[r], started)
        reach = (last + threshold - origin) / cadence
        if not math.isfinite(reach):
            # A row with no expected gap yet (never read, none given) waits for one. (Tested
            # before ``floor``: as plain Python, without the compiler, floor(inf) raises.)
            if (origin + first * cadence) - last > threshold:
                found[i] = first
            continue
        guess = math.floor(reach) - 1.0
        for offset in range(4):
            step = max(guess + offset, first)
            if (origin + step * cadence) - last > threshold:
                found[i] = step
                break
