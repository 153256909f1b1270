"""``HealthMonitor``: every sensor's health state and quality, from readings and a timer.

One contract, as river's estimators have: ``__init__`` stores parameters only; state is
built on first use. ``update_many`` takes a batch as NumPy columns (the pipeline's
``Batch.rows``, ``value``, ``event_time``, ``received_at``), ``learn_one`` takes one
reading, and the two give the same numbers. ``tick(now)`` runs on a timer and is what makes
a silent sensor stale and then offline with no reading arriving, and a sensor whose stamps
lag its arrivals by far ``clock``.

>>> monitor = HealthMonitor()
>>> monitor.configure(np.array([0]), expected_interval=np.array([900.0]))
>>> for i in range(40):
...     _ = monitor.learn_one(0, 20.0 + 0.1 * (i % 3), 900.0 * i)
>>> monitor.state(0).state
'ok'
>>> [(c.old, c.new) for c in monitor.tick(900.0 * 39 + 3600.0)]
[('ok', 'stale')]
>>> monitor.state(0).reason
'no reading for 60 min (expected every 15 min)'
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .batch_order import has_later, in_time_order
from .context import LEARN
from .events import DeclaredEvents
from .kernel import NOISY_BIT, fold_batch, knobs, read_first_line, resolution_one
from .params import HealthParams
from .peers import peer_view
from .reasons import reason
from .refold import REACH, RefoldLog, RefoldPlan, RefoldSavepoint
from .robust import MAD_TO_SD, local_quadratic
from .rules import QUANTISATION_SD
from .silence import arrive, silence, silence_knobs
from .states import OUTLIER_READING_QUALITY, STATE_NAMES, State
from .table import INLIER, HealthRowsSavepoint, HealthTable


class HealthChange(NamedTuple):
    """One sensor whose state changed."""

    row: int
    old: str
    new: str
    quality: float
    reason: str
    since: float
    """Event time from which the new state applies."""


@dataclass(slots=True)
class HealthChanges:
    """What an update or a tick changed, for events and alarms.

    ``reading_quality`` has one entry per reading given to ``update_many``, in the order
    given: the quality to store with that reading (low for a suspected spike). A row may
    appear more than once when a batch moved it through several states.
    """

    rows: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    old: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    new: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    quality: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    since: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    reasons: list[str] = field(default_factory=list)
    reading_quality: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    behind: int = 0
    """Readings of the batch older than their sensor's newest before it."""
    placed: int = 0
    """Of those, the ones judged in their place by a re-fold (``refold``)."""

    def __len__(self) -> int:
        return int(self.rows.shape[0])

    def __iter__(self) -> Iterator[HealthChange]:
        for i in range(len(self)):
            yield HealthChange(int(self.rows[i]), STATE_NAMES[self.old[i]],
                               STATE_NAMES[self.new[i]], float(self.quality[i]),
                               self.reasons[i], float(self.since[i]))


class HealthSavepoint(NamedTuple):
    """Rows of the health table as they were before a batch (see ``savepoint``)."""

    rows: HealthRowsSavepoint
    used: int
    refold: RefoldSavepoint


@dataclass(frozen=True, slots=True)
class HealthStatus:
    """A sensor's health as the API shows it."""

    row: int
    state: str
    quality: float
    reason: str
    since: float
    last_reading: float


class HealthMonitor:
    """Health of every sensor, in struct-of-arrays state indexed by the pipeline's rows."""

    def __init__(self, params: HealthParams | None = None, *, capacity: int = 1024,
                 reach: float = REACH) -> None:
        self.params = params if params is not None else HealthParams()
        self.reach = reach
        self._knobs = knobs(self.params)
        self._silence_knobs = silence_knobs(self.params)
        self.capacity = capacity
        self._table: HealthTable | None = None
        self._refold: RefoldLog | None = None
        self._members: NDArray[np.int64] | None = None
        self._group_ids: NDArray[np.int64] = np.empty(0, np.int64)
        self._used = 0
        self._now = float("nan")
        self._started = float("nan")
        self._events = DeclaredEvents()

    # -- set-up ----------------------------------------------------------------------------

    @property
    def table(self) -> HealthTable:
        if self._table is None:
            self._table = HealthTable(self.params.window, self.capacity)
        return self._table

    @property
    def refold(self) -> RefoldLog:
        """The checkpoints and logs of the sensors whose readings come out of order."""
        if self._refold is None:
            main, peer = self.table.record_bytes()
            self._refold = RefoldLog(main.shape[1], peer.shape[1], reach=self.reach)
        return self._refold

    def _touch(self, rows: NDArray[np.int64]) -> None:
        if rows.size:
            top = int(rows.max())
            self.table.ensure(top)
            self._used = max(self._used, top + 1)

    @property
    def events(self) -> DeclaredEvents:
        """The declared site events, as last set."""
        return self._events

    def set_events(self, rows: ArrayLike, starts: ArrayLike, ends: ArrayLike) -> None:
        """Declare the site events (``events``): one span ``[start, end]`` per entry,
        replacing every span declared before. Rows beyond the table are taken as they come."""
        self._events.set(rows, starts, ends)
        table = self.table
        table.event_start[:] = np.nan
        table.event_end[:] = np.nan

    def configure(self, rows: ArrayLike, *, group: ArrayLike | None = None,
                  expected_interval: ArrayLike | None = None,
                  resolution: ArrayLike | None = None,
                  unit: Sequence[str] | None = None,
                  character: ArrayLike | None = None) -> None:
        """Set what is known about sensors: peer group (-1: none), the interval they promise
        (seconds; 0: learn it), their resolution (0: unknown), unit (for reasons) and
        character (``context.LEARN``: learn it; see ``context.character_of_kind``)."""
        at = np.asarray(rows, dtype=np.int64).ravel()
        self._touch(at)
        # A re-fold puts a sensor back to a checkpoint of its whole row, settings too: a
        # sensor tracked before this change would get back the settings it had.
        self.refold.forget(at)
        table = self.table
        if group is not None:
            table.group[at] = np.asarray(group, dtype=np.int64)
            self._members = None
        if expected_interval is not None:
            given = np.asarray(expected_interval, dtype=np.float64)
            table.interval_given[at] = given
            # Until arrivals teach a cadence, silence is counted in the promised interval.
            cadence = table.cadence[at]
            table.expect[at] = np.where(np.isnan(cadence),
                                        np.where(given > 0, given, np.nan),
                                        np.maximum(cadence, given))
        if resolution is not None:
            table.resolution[at] = np.asarray(resolution, dtype=np.float64)
        if character is not None:
            # A declared character is set; "learn" keeps what was learned already (configure
            # runs again whenever sensors are added).
            given = np.asarray(character, dtype=np.int8)
            table.character[at] = np.where(given != LEARN, given, table.character[at])
        if unit is not None:
            for row, name in zip(at.tolist(), unit, strict=True):
                table.units[row] = name

    @property
    def started(self) -> float:
        """The first tick's time (NaN before it): a sensor never heard from is silent since."""
        return self._started

    @property
    def rows_in_use(self) -> int:
        """One more than the largest row seen (configured or read): the rows with state."""
        return self._used

    def restore_rows(self, rows: NDArray[np.int64], columns: Mapping[str, NDArray[Any]],
                     units: Sequence[str]) -> None:
        """Write saved state into ``rows``: ``columns[name][i]`` becomes row ``rows[i]``'s
        value of the table column ``name`` (see ``snapshot.load``, which checks it first)."""
        self._touch(rows)
        table = self.table
        for name, values in columns.items():
            table.column(name)[rows] = values
        for row, unit in zip(rows.tolist(), units, strict=True):
            table.units[row] = unit
        self.refold.forget(rows)
        # Peer groups came with the state: the member matrix is rebuilt on next use.
        self._members = None

    def _peer_matrix(self) -> NDArray[np.int64]:
        """Members of every peer group as a padded matrix (built again only after configure)."""
        if self._members is None:
            groups = self.table.group[: self._used]
            grouped = np.flatnonzero(groups >= 0)
            ids, inverse, sizes = np.unique(groups[grouped], return_inverse=True,
                                            return_counts=True)
            width = int(sizes.max()) if sizes.size else 1
            members = np.full((max(ids.size, 1), width), -1, dtype=np.int64)
            order = np.argsort(inverse, kind="stable")
            starts = np.r_[0, np.cumsum(sizes)[:-1]] if sizes.size else np.empty(0, np.int64)
            within = np.arange(order.size) - np.repeat(starts, sizes)
            members[inverse[order], within] = grouped[order]
            self._members, self._group_ids = members, ids
        return self._members

    def _group_index(self, groups: NDArray[np.int64]) -> NDArray[np.int64]:
        """Each peer group's row in the member matrix; -1 for none."""
        index = np.searchsorted(self._group_ids, groups)
        return np.where(groups >= 0, index, -1)

    # -- transactions ------------------------------------------------------------------------

    def savepoint(self, rows: NDArray[np.int64]) -> HealthSavepoint:
        """The state of ``rows`` as it is, for ``rollback`` if the batch that is about to
        be folded in is not committed. Peers are only read by a fold, never written."""
        used = self._used
        self._touch(rows)  # grown first, so that every saved row is inside the table
        return HealthSavepoint(self.table.savepoint(rows), used, self.refold.savepoint(rows))

    def rollback(self, point: HealthSavepoint) -> None:
        self.table.rollback(point.rows)
        self.refold.rollback(point.refold)
        self._used = point.used

    # -- readings --------------------------------------------------------------------------

    def update_many(self, rows: ArrayLike, values: ArrayLike, event_times: ArrayLike, *,
                    expected: ArrayLike | None = None,
                    received_at: ArrayLike | None = None,
                    stamped: ArrayLike | None = None) -> HealthChanges:
        """Fold a batch of readings in; return the state changes and each reading's quality.

        Readings are taken in event-time order (ties by row). A reading older than its
        sensor's newest is judged in its place by a re-fold when the sensor is tracked and
        the reading is after its older checkpoint (``refold``); otherwise it is history,
        not news, and leaves the state alone, but its arrival still counts
        (``received_at``, the event time when not given): the sensor is alive.
        ``stamped`` is each reading's time as its device stamped it, when the pipeline
        corrected the device's clock (the event time when not given): health judges the
        clock by it.
        The result equals calling ``learn_one`` for each reading in that order: it is the
        same compiled loop. Changes come in that order too.
        """
        rows_ = np.asarray(rows, dtype=np.int64).ravel()
        values_ = np.asarray(values, dtype=np.float64).ravel()
        times_ = np.asarray(event_times, dtype=np.float64).ravel()
        expected_ = (np.full(rows_.size, np.nan) if expected is None
                     else np.asarray(expected, dtype=np.float64).ravel())
        received_ = (times_ if received_at is None
                     else np.asarray(received_at, dtype=np.float64).ravel())
        stamped_ = (times_ if stamped is None
                    else np.asarray(stamped, dtype=np.float64).ravel())
        self._touch(rows_)
        table = self.table
        given = rows_.size
        groups, reading_quality, newest = self._first_line(rows_)
        finite = np.isfinite(values_) & np.isfinite(times_)
        behind = finite & (times_ < newest)
        plan = (self.refold.plan(table, rows_, times_, behind)
                if np.count_nonzero(behind) else None)
        if plan is not None:
            # The sensors put back to a checkpoint fold their logged readings again, with
            # the batch's, in event-time order (``refold``).
            rows_, values_, times_, expected_, received_, stamped_ = (
                np.concatenate((rows_, plan.log_rows)),
                np.concatenate((values_, plan.log_values)),
                np.concatenate((times_, plan.log_times)),
                np.concatenate((expected_, plan.log_expected)),
                np.concatenate((received_, plan.log_received)),
                np.concatenate((stamped_, plan.log_stamped)))
            finite = np.concatenate((finite, np.ones(plan.log_rows.size, dtype=np.bool_)))
            # Read again: the sensors put back have their checkpoint's newest and quality.
            groups, reading_quality, newest = self._first_line(rows_)
        if len(self._events):
            self._events.apply(rows_, times_, table.event_start, table.event_end)
        members = self._peer_matrix()
        usable = finite & (times_ >= newest)
        chosen = np.flatnonzero(usable)
        order = in_time_order(chosen, rows_, times_)
        # Readings not folded in arrived too (the fold notes its own, each in its turn).
        rest = np.flatnonzero(~usable)
        if rest.size:
            self._arrive(rows_, stamped_, received_, rest)
        if order.size == 0:
            self.refold.note(table, rows_, values_, times_, expected_, received_, stamped_,
                             usable, behind)
            return HealthChanges(reading_quality=reading_quality,
                                 behind=int(np.count_nonzero(behind)))
        group_index = self._group_index(groups)
        found = np.empty((order.size, 3), dtype=np.int64)
        quality = np.empty(order.size)
        since = np.empty(order.size)
        counter = np.zeros(1, dtype=np.int64)
        reasons: list[str] = []
        parts = [order]
        if plan is not None and plan.split_rows.size:
            # Sensors put back to their older checkpoint fold up to their newer one's time
            # first, so that the newer one is taken again, now with the placed readings.
            split = np.argsort(plan.split_rows)
            split_rows, split_times = plan.split_rows[split], plan.split_times[split]
            at = np.minimum(np.searchsorted(split_rows, rows_[order]), split_rows.size - 1)
            first = (split_rows[at] == rows_[order]) & (times_[order] <= split_times[at])
            parts = [order[first], order[~first]]
        for part, chunk in enumerate(parts):
            if part == 1:
                assert plan is not None
                self.refold.retake(table, plan.split_rows)
            later = has_later(rows_[chunk])
            position = 0
            while position < chunk.size:
                # The fold returns early after a change of a row with later readings in the
                # batch, so that the change is described before those readings move it on.
                position = fold_batch(table, self._knobs, self._silence_knobs, members,
                                      group_index, rows_, values_, times_, expected_,
                                      received_, stamped_, chunk, position, later,
                                      reading_quality, found, quality, since, counter)
                reasons.extend(reason(table, self.params, row, self._now)
                               for row in found[len(reasons):counter[0], 0].tolist())
        # Only the batch's own readings are logged: the logged ones are in the log already.
        self.refold.note(table, rows_[:given], values_[:given], times_[:given],
                         expected_[:given], received_[:given], stamped_[:given],
                         usable[:given], behind)
        if plan is not None:
            news = self._news(plan, found[: counter[0]], quality, since, reasons,
                              reading_quality[:given])
            news.behind = int(np.count_nonzero(behind))
            news.placed = int(np.count_nonzero(plan.placed))
            return news
        k = int(counter[0])
        return HealthChanges(found[:k, 0].copy(), found[:k, 1].copy(), found[:k, 2].copy(),
                             quality[:k].copy(), since[:k].copy(), reasons, reading_quality,
                             int(np.count_nonzero(behind)))

    def _first_line(self, rows: NDArray[np.int64]) -> tuple[
            NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
        """Each reading's sensor's group, quality and newest time, as the table has them."""
        table = self.table
        groups = np.empty(rows.size, dtype=np.int64)
        quality = np.empty(rows.size)
        newest = np.empty(rows.size)
        read_first_line(rows, table.group, table.quality, table.last_time, groups, quality,
                        newest)
        return groups, quality, newest

    def _news(self, plan: RefoldPlan, found: NDArray[np.int64], quality: NDArray[np.float64],
              since: NDArray[np.float64], reasons: list[str],
              reading_quality: NDArray[np.float64]) -> HealthChanges:
        """A batch's changes when some sensors were folded again from a checkpoint: theirs
        are told against what was shown before the batch, not against the checkpoint's
        state (a spike already announced is not announced again; one the placed reading
        revealed is), and a sensor whose state the re-fold left other than shown gets a
        change to it even where the re-fold itself saw none (the checkpoint was in it)."""
        shown = dict(zip(plan.rows.tolist(), plan.states.tolist(), strict=True))
        rows, old, new = found[:, 0].tolist(), found[:, 1].tolist(), found[:, 2].tolist()
        told_quality, told_since = quality[: len(rows)].tolist(), since[: len(rows)].tolist()
        told = list(reasons)
        keep: list[int] = []
        for k, row in enumerate(rows):
            if row in shown:
                if new[k] == shown[row]:
                    continue
                old[k] = shown[row]
                shown[row] = new[k]
            keep.append(k)
        table = self.table
        for row, state in shown.items():
            now = int(table.state[row])
            if now != state:
                keep.append(len(rows))
                rows.append(row)
                old.append(state)
                new.append(now)
                told_quality.append(float(table.quality[row]))
                told_since.append(float(table.since[row]))
                told.append(reason(table, self.params, row, self._now))
        return HealthChanges(np.array([rows[k] for k in keep], dtype=np.int64),
                             np.array([old[k] for k in keep], dtype=np.int64),
                             np.array([new[k] for k in keep], dtype=np.int64),
                             np.array([told_quality[k] for k in keep]),
                             np.array([told_since[k] for k in keep]),
                             [told[k] for k in keep], reading_quality)

    def _arrive(self, rows: NDArray[np.int64], stamped: NDArray[np.float64],
                received: NDArray[np.float64], which: NDArray[np.int64]) -> None:
        """Note the arrival of readings ``which``, not folded in."""
        table = self.table
        arrive(rows, stamped, received, which, table.interval_given, table.state, table.heard,
               table.expect, table.cadence, table.cadence_n, table.lag_low, table.lag_before,
               table.lag_start, table.gaps, table.gap_first, table.gap_last,
               self._silence_knobs)

    def arrived(self, rows: ArrayLike, event_times: ArrayLike, received_at: ArrayLike,
                stamped: ArrayLike | None = None) -> None:
        """Readings that arrived but are not folded in (late, quarantined, out of range):
        their arrival still says the sensor is alive, and their stamps (``stamped``, the
        event times when not given) how its clock runs."""
        rows_ = np.asarray(rows, dtype=np.int64).ravel()
        if rows_.size == 0:
            return
        self._touch(rows_)
        stamped_ = np.asarray(event_times if stamped is None else stamped,
                              dtype=np.float64).ravel()
        received_ = np.asarray(received_at, dtype=np.float64).ravel()
        self._arrive(rows_, stamped_, received_, np.arange(rows_.size))

    def learn_one(self, row: int, value: float, event_time: float,
                  expected: float | None = None,
                  received_at: float | None = None) -> HealthChanges:
        """One reading: the same arithmetic as ``update_many`` with a batch of one."""
        return self.update_many(
            np.array([row]), np.array([value]), np.array([event_time]),
            expected=None if expected is None else np.array([expected]),
            received_at=None if received_at is None else np.array([received_at]))

    def score_one(self, row: int, value: float, event_time: float) -> float:
        """The quality a reading would get, learning nothing: the sensor's quality, or the
        suspected-spike quality if the reading is an outlier against the sensor's window
        (judged as the fold judges it: not while the window or noise is still being learned,
        nor while the sensor is noisy)."""
        table = self.table
        if row >= self._used or table.count[row] == 0:
            return 1.0
        p = self.params
        slots = (int(table.ring_head[row]) + np.arange(p.window)) % p.window  # oldest first
        inlier = (table.ring_flags[row, slots] & INLIER) != 0
        if (inlier.sum() < p.min_window or table.sigma_n[row] < p.warmup
                or table.cond[row] & NOISY_BIT):
            return float(table.quality[row])
        values = np.where(inlier, table.ring_value[row, slots], np.nan)
        times = np.where(inlier, table.ring_time[row, slots], np.nan)
        level, _, mad, leverage = local_quadratic(values, times, event_time)
        resolution = resolution_one(float(table.resolution[row]),
                                    float(table.res_learned[row]), int(table.count[row]))
        scale = max(MAD_TO_SD * mad, float(np.sqrt(table.sigma2[row])),
                    0.5 * resolution, 1e-9 * max(1.0, abs(value)))
        if abs(value - level) > p.hampel_k * float(np.sqrt(1.0 + leverage)) * scale:
            return min(OUTLIER_READING_QUALITY, float(table.quality[row]))
        return float(table.quality[row])

    def reference(self, row: int, event_time: float) -> float:
        """The peers' median a reading of ``row`` at ``event_time`` would be compared with."""
        table = self.table
        if row >= self._used or table.group[row] < 0:
            return float("nan")
        members = self._peer_matrix()
        group = int(self._group_index(table.group[[row]])[0])
        work = np.empty((3, max(members.shape[1], 1)))
        median, _, _, _ = peer_view(
            members[group], row, float(event_time), table.ring_time, table.ring_flags,
            table.ring_value, table.ring_offset, table.ring_slope, table.ring_level,
            table.interval_given, table.interval, table.character,
            float(self.params.stale_after), work)
        return float(median)

    # -- the timer ---------------------------------------------------------------------------

    def tick(self, now: float) -> HealthChanges:
        """Mark sensors with nothing arrived stale, then offline, and sensors whose readings
        arrive stamped far behind ``clock``: one compiled pass over all rows."""
        self._now = now
        if math.isnan(self._started):
            self._started = float(now)
        if self._used == 0:
            return HealthChanges()
        table = self.table
        changed = np.empty((self._used, 2), dtype=np.int64)
        found = silence(self._used, float(now), self._started, table.heard, table.cadence,
                        table.expect,
                        table.lag_low, table.lag_before, table.state, table.quality,
                        table.since, self._silence_knobs, changed)
        if found == 0:
            return HealthChanges()
        rows = changed[:found, 0]
        return self._changes(rows, changed[:found, 1], table.state[rows].astype(np.int64))

    # -- reading the state --------------------------------------------------------------------

    def _changes(self, rows: NDArray[np.int64], old: NDArray[np.int64],
                 new: NDArray[np.int64]) -> HealthChanges:
        table = self.table
        texts = [reason(table, self.params, row, self._now) for row in rows.tolist()]
        return HealthChanges(rows.copy(), old.copy(), new.copy(), table.quality[rows].copy(),
                             table.since[rows].copy(), texts)

    def state(self, row: int) -> HealthStatus:
        """One sensor's health: state name, quality 0..1, reason and since when."""
        if row >= self._used:
            return HealthStatus(row, "ok", 1.0, "no reading yet", float("nan"), float("nan"))
        table = self.table
        return HealthStatus(row, STATE_NAMES[int(table.state[row])], float(table.quality[row]),
                            reason(table, self.params, row, self._now), float(table.since[row]),
                            float(table.last_time[row]))

    def snapshot(self, rows: ArrayLike | None = None) -> list[HealthStatus]:
        """Health of several sensors (all known rows when ``rows`` is None)."""
        at = (np.arange(self._used) if rows is None
              else np.asarray(rows, dtype=np.int64).ravel())
        return [self.state(row) for row in at.tolist()]

    def summary(self) -> dict[str, int]:
        """How many sensors are in each state (for a fleet overview)."""
        counts = np.bincount(self.table.state[: self._used].astype(np.int64),
                             minlength=len(STATE_NAMES))
        return {name: int(counts[i]) for i, name in enumerate(STATE_NAMES)}

    def noise_variance(self, rows: ArrayLike) -> NDArray[np.float64]:
        """The noise variance learned for each row (at least its quantisation's), NaN for
        rows still learning it (fewer than ``warmup`` readings judged) or never seen. A
        pure read, like ``quality``."""
        at = np.asarray(rows, dtype=np.int64)
        variance = np.full(at.shape, np.nan)
        seen = at < self._used
        table = self.table
        picked = at[seen]
        learned = table.sigma_n[picked] >= self.params.warmup
        floor = (table.resolution[picked] * QUANTISATION_SD) ** 2
        variance[seen] = np.where(learned, np.maximum(table.sigma2[picked], floor), np.nan)
        return variance

    def clock_behind(self, rows: ArrayLike) -> NDArray[np.float64]:
        """Seconds each row's stamps run behind, where health names its clock so (state
        ``clock``, the quickest reading's lag positive); 0 for every other row. The lag
        includes the quickest reading's latency, so a stamp plus it is at most the
        arrival. A pure read, like ``quality``. (A clock that runs ahead is corrected by
        the pipeline before health sees the times.)"""
        at = np.asarray(rows, dtype=np.int64)
        behind = np.zeros(at.shape, dtype=np.float64)
        seen = np.flatnonzero(at < self._used)
        table = self.table
        picked = at[seen]
        lag = np.minimum(table.lag_low[picked], table.lag_before[picked])
        named = (table.state[picked] == int(State.CLOCK)) & np.isfinite(lag) & (lag > 0)
        behind[seen[named]] = lag[named]
        return behind

    def quality(self, rows: ArrayLike) -> NDArray[np.float64]:
        """Current quality of each row (1.0 for rows never seen).

        A pure read: it may run beside an update in another thread, so it must not grow the
        table (growing replaces the columns the update is writing)."""
        at = np.asarray(rows, dtype=np.int64)
        quality = np.ones(at.shape, dtype=np.float64)
        seen = at < self._used
        quality[seen] = self.table.quality[at[seen]]
        return quality


def warm_up() -> float:
    """Compile the health kernels now; returns the seconds it took.

    The kernels are compiled on first use and cached on disk. On a fresh install that first
    use costs seconds, and it should not fall on the first batch of live readings (which
    would wait for it): the service calls this once while it starts.
    """
    started = time.perf_counter()
    monitor = HealthMonitor(capacity=4)
    rows = np.arange(3, dtype=np.int64)
    monitor.configure(rows, group=np.zeros(3, dtype=np.int64),
                      expected_interval=np.full(3, 60.0), resolution=np.full(3, 0.01))
    times = 1_000_000.0 + np.arange(30, dtype=np.float64) * 60.0
    monitor.update_many(np.tile(rows, 10), np.linspace(20.0, 21.0, 30), np.repeat(times[:10], 3))
    monitor.tick(float(times[-1]) + 3600.0)
    monitor.score_one(0, 20.5, float(times[-1]) + 60.0)
    return time.perf_counter() - started
