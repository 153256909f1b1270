"""Per-sensor health state, one record per sensor, indexed by the pipeline's dense sensor row.

What a reading of a sensor reads (the scalar columns, and the values, times and flags of its
ring of recent readings) lies in one NumPy record of 704 bytes (11 cache lines), the records
of all sensors in one array; what only its peers read of its ring lies in a second record
per sensor (see ``_PEER_RING``). Each named column is a strided view into one of the arrays,
so the kernels read ``table.sigma2[row]`` as before, but the state of one sensor is a few
adjacent cache lines instead of ~50 separate arrays. That matters for a large fleet: with
100,000 sensors the state (~80 MB) is far beyond the CPU cache, and a reading for a random
sensor then costs 9 adjacent lines and one more instead of ~50 scattered misses.

Rows are the same numbers as ``twinsync.pipeline.SensorTable`` rows, so the pipeline's
batch columns index this table directly. The table grows (doubling) when a row beyond its
capacity appears; growing replaces the views, so hold the table, not a column, across calls.

>>> table = HealthTable(window=5, capacity=4)
>>> table.ensure(9)
>>> table.capacity >= 10, table.ring_value.shape[1]
(True, 5)
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..jit import record_rows
from ..records import Field, Records, RowsSavepoint
from .checks import CHECKS, arrivals
from .rules import INLIER, USABLE

__all__ = ["INLIER", "USABLE", "FoldViews", "HealthRowsSavepoint", "HealthTable"]

class HealthRowsSavepoint(NamedTuple):
    records: RowsSavepoint
    peer_records: RowsSavepoint
    silence_records: RowsSavepoint


# name: (dtype, fill). One place, so growing cannot forget a column. Each check keeps its
# own columns (``checks``); these are the ones the fold itself keeps.
_HEAD: dict[str, Field] = {
    # First, in the record's first cache line: what a batch reads before the fold.
    "count": (np.int64, 0),
    "group": (np.int64, -1),
    "quality": (np.float64, 1.0),
    "interval_given": (np.float64, 0.0),
    "interval": (np.float64, np.nan),
    "resolution": (np.float64, 0.0),
    # smallest change seen between consecutive readings: the resolution when none is given
    "res_learned": (np.float64, np.inf),
    "last_time": (np.float64, -np.inf),
    "last_value": (np.float64, np.nan),
    "ring_head": (np.int64, 0),
}
_TAIL: dict[str, Field] = {
    # the declared character (see ``context``), and the residual against the peers'
    # consensus at the last trusted reading
    "character": (np.int8, 0),
    "peer_resid": (np.float64, np.nan),
    # after a silence: the last reading before it, its time and its slope (the window is
    # gone; the first readings after it are judged against this)
    "gap_level": (np.float64, np.nan),
    "gap_time": (np.float64, np.nan),
    "gap_slope": (np.float64, 0.0),
    # what the reference was last: the model, the peers (``peers.REF_*``)
    "ref_kind": (np.int64, 0),
    # the declared site event that concerns the row's readings now (``events``)
    "event_start": (np.float64, np.nan),
    "event_end": (np.float64, np.nan),
    # the verdict: condition bits (see ``rules.STUCK_BIT``…) and the state shown
    "cond": (np.int64, 0),
    "state": (np.int8, 0),
    "since": (np.float64, np.nan),
}


def _all_columns() -> dict[str, Field]:
    columns = dict(_HEAD)
    for check in (*CHECKS, None):
        own = _TAIL if check is None else check.COLUMNS
        clash = set(columns) & set(own)
        if clash:
            raise ImportError(f"health columns named twice: {sorted(clash)}")
        columns.update(own)
    return columns


_COLUMNS = _all_columns()

# The ring: every processed reading with its time and flags, which the sensor's own fit
# reads whole at each reading.
_RING: dict[str, tuple[Any, float]] = {
    "ring_value": (np.float64, np.nan),
    "ring_time": (np.float64, -np.inf),
    "ring_flags": (np.int8, 0),
}

# What only the sensor's peers read of its ring (the sensor writes one slot a reading): the
# local slope of its fit (so a peer can be compared at another time), its learned offset
# from its peers (so a peer's bias does not move the reference when another peer drops
# out) and how far its smoothed offset was out (in the property's unit, so that peers can
# compare whose is larger), each as it was at the slot's reading. They live in records of
# their own, slot by slot: a reading writes one slot's three values into one cache line,
# and the sensor's own record, which each reading reads whole, stays a few lines shorter.
_PEER_RING = ("ring_slope", "ring_offset", "ring_level")


# When readings arrive, and how their stamps lag (``checks.arrivals``): a record of their
# own, so that the timer's pass over every row reads one cache line a sensor.
_SILENCE: dict[str, Field] = arrivals.COLUMNS


class Core(NamedTuple):
    """The columns the fold keeps itself (not a check's), as it takes them (``count`` it
    reads in the record: a tuple's field of that name would hide ``tuple.count``)."""

    quality: NDArray[np.float64]
    interval_given: NDArray[np.float64]
    interval: NDArray[np.float64]
    resolution: NDArray[np.float64]
    res_learned: NDArray[np.float64]
    last_time: NDArray[np.float64]
    last_value: NDArray[np.float64]
    ring_head: NDArray[np.int64]
    character: NDArray[np.int8]
    peer_resid: NDArray[np.float64]
    gap_level: NDArray[np.float64]
    gap_time: NDArray[np.float64]
    gap_slope: NDArray[np.float64]
    ref_kind: NDArray[np.int64]
    event_start: NDArray[np.float64]
    event_end: NDArray[np.float64]
    cond: NDArray[np.int64]
    state: NDArray[np.int8]
    since: NDArray[np.float64]
    ring_value: NDArray[np.float64]
    ring_time: NDArray[np.float64]
    ring_flags: NDArray[np.int8]
    ring_slope: NDArray[np.float64]
    ring_offset: NDArray[np.float64]
    ring_level: NDArray[np.float64]


class Arrivals(NamedTuple):
    """``silence``'s columns, as the fold takes them."""

    heard: NDArray[np.float64]
    expect: NDArray[np.float64]
    cadence: NDArray[np.float64]
    cadence_n: NDArray[np.int64]
    lag_low: NDArray[np.float64]
    lag_before: NDArray[np.float64]
    lag_start: NDArray[np.float64]
    gaps: NDArray[np.int64]
    gap_first: NDArray[np.float64]
    gap_last: NDArray[np.float64]


class PeerColumns(NamedTuple):
    """What the checks read of their peers' rows (the rest of a check's state is read and
    written through the reading's own record)."""

    noise_s: NDArray[np.float64]
    step_tail: NDArray[np.float64]
    moved_start: NDArray[np.float64]
    moved_end: NDArray[np.float64]
    moved_before_start: NDArray[np.float64]
    moved_before_end: NDArray[np.float64]


class FoldViews(NamedTuple):
    """What the fold reads and writes: the records (a check's state is fields of its row's
    record), and column views grouped by who reads them; rebuilt whenever the table
    grows."""

    records: NDArray[np.void]
    core: Core
    peers: PeerColumns
    arrivals: Arrivals


def _views_of(table: HealthTable, kind: type[Any]) -> Any:
    return kind(*(getattr(table, name) for name in kind._fields))


class HealthTable:
    """Dense rows of health state. Attributes are the columns named in ``_COLUMNS``,
    ``_RING``, ``_PEER_RING`` and ``_SILENCE``."""

    def __init__(self, window: int, capacity: int = 1024) -> None:
        self.window = window
        self.capacity = max(int(capacity), 16)
        self.units: list[str] = [""] * self.capacity
        fields: dict[str, Field] = dict(_COLUMNS)
        fields.update({name: (dtype, fill, (window,)) for name, (dtype, fill) in _RING.items()})
        self._records = Records(fields, self.capacity)
        # Every peer-ring column starts at 0.0.
        self._peer_records = Records(
            {"peer_ring": (np.float64, 0.0, (window, len(_PEER_RING)))}, self.capacity)
        self._silence_records = Records(_SILENCE, self.capacity)
        self._bind()

    def _bind(self) -> None:
        for name, column in self._records.columns.items():
            setattr(self, name, column)
        slots = self._peer_records.columns["peer_ring"]
        for k, name in enumerate(_PEER_RING):
            setattr(self, name, slots[:, :, k])
        for name, column in self._silence_records.columns.items():
            setattr(self, name, column)
        self.views = FoldViews(record_rows(self._records.array), _views_of(self, Core),
                               _views_of(self, PeerColumns), _views_of(self, Arrivals))

    def ensure(self, max_row: int) -> None:
        """Grow so that ``max_row`` is a valid row (doubling, like a list)."""
        if self._records.grow(max_row + 1):
            self._peer_records.grow(len(self._records))
            self._silence_records.grow(len(self._records))
            self._bind()
            self.units.extend([""] * (len(self._records) - self.capacity))
            self.capacity = len(self._records)

    def savepoint(self, rows: NDArray[np.int64]) -> HealthRowsSavepoint:
        """The records of ``rows`` as they are (``units`` only change by configuration)."""
        return HealthRowsSavepoint(self._records.savepoint(rows),
                                   self._peer_records.savepoint(rows),
                                   self._silence_records.savepoint(rows))

    def rollback(self, point: HealthRowsSavepoint) -> None:
        self._records.rollback(point.records)
        self._peer_records.rollback(point.peer_records)
        self._silence_records.rollback(point.silence_records)

    def record_bytes(self) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
        """A row's fold state as bytes: its record and its peer ring (not its arrivals),
        one row each (replaced on growth). What ``refold`` keeps as a checkpoint."""
        return self._records.raw, self._peer_records.raw

    def column(self, name: str) -> NDArray[Any]:
        """A column by name, for code that walks all of them (tests, persistence)."""
        if (name not in _COLUMNS and name not in _RING and name not in _PEER_RING
                and name not in _SILENCE):
            raise KeyError(name)
        value: NDArray[Any] = getattr(self, name)
        return value

    @staticmethod
    def column_names() -> tuple[str, ...]:
        return (*_COLUMNS, *_RING, *_PEER_RING, *_SILENCE)

    views: FoldViews
    # mypy sees the columns through these annotations.
    count: NDArray[np.int64]
    group: NDArray[np.int64]
    interval_given: NDArray[np.float64]
    interval: NDArray[np.float64]
    resolution: NDArray[np.float64]
    res_learned: NDArray[np.float64]
    last_time: NDArray[np.float64]
    last_value: NDArray[np.float64]
    ring_head: NDArray[np.int64]
    sigma2: NDArray[np.float64]
    sigma_n: NDArray[np.int64]
    step_var: NDArray[np.float64]
    noise_s: NDArray[np.float64]
    noise_quiet: NDArray[np.float64]
    noise_fast: NDArray[np.float64]
    noise_bits: NDArray[np.int64]
    noise_last_big: NDArray[np.float64]
    character: NDArray[np.int8]
    step_tail: NDArray[np.float64]
    rel_step_var: NDArray[np.float64]
    peer_resid: NDArray[np.float64]
    peer_step_var: NDArray[np.float64]
    pending: NDArray[np.int64]
    pending_value: NDArray[np.float64]
    pending_size: NDArray[np.float64]
    pending_time: NDArray[np.float64]
    spike_hold: NDArray[np.int64]
    spike_size: NDArray[np.float64]
    spike_len: NDArray[np.int64]
    spike_wait: NDArray[np.int64]
    cand_size: NDArray[np.float64]
    cand_len: NDArray[np.int64]
    cand_time: NDArray[np.float64]
    cand_end: NDArray[np.float64]
    moved_start: NDArray[np.float64]
    moved_end: NDArray[np.float64]
    moved_before_start: NDArray[np.float64]
    moved_before_end: NDArray[np.float64]
    gap_level: NDArray[np.float64]
    gap_time: NDArray[np.float64]
    gap_slope: NDArray[np.float64]
    run_len: NDArray[np.int64]
    run_anchor: NDArray[np.float64]
    run_ref_start: NDArray[np.float64]
    run_ref_moved: NDArray[np.float64]
    p_same: NDArray[np.float64]
    p_same_n: NDArray[np.int64]
    ref_kind: NDArray[np.int64]
    event_start: NDArray[np.float64]
    event_end: NDArray[np.float64]
    d_n: NDArray[np.int64]
    d_mean: NDArray[np.float64]
    d_var: NDArray[np.float64]
    drift_level: NDArray[np.float64]
    drift_var: NDArray[np.float64]
    drift_calm_since: NDArray[np.float64]
    drift_start: NDArray[np.float64]
    reg_w: NDArray[np.float64]
    reg_mx: NDArray[np.float64]
    reg_mm: NDArray[np.float64]
    reg_vm: NDArray[np.float64]
    reg_cxm: NDArray[np.float64]
    reg_var: NDArray[np.float64]
    reg_t0: NDArray[np.float64]
    reg_t: NDArray[np.float64]
    drift_size: NDArray[np.float64]
    chart_n: NDArray[np.int64]
    plain_size: NDArray[np.float64]
    cond: NDArray[np.int64]
    state: NDArray[np.int8]
    since: NDArray[np.float64]
    quality: NDArray[np.float64]
    ring_value: NDArray[np.float64]
    ring_time: NDArray[np.float64]
    ring_slope: NDArray[np.float64]
    ring_offset: NDArray[np.float64]
    ring_level: NDArray[np.float64]
    ring_flags: NDArray[np.int8]
    heard: NDArray[np.float64]
    expect: NDArray[np.float64]
    cadence: NDArray[np.float64]
    cadence_n: NDArray[np.int64]
    lag_low: NDArray[np.float64]
    lag_before: NDArray[np.float64]
    lag_start: NDArray[np.float64]
    gaps: NDArray[np.int64]
    gap_first: NDArray[np.float64]
    gap_last: NDArray[np.float64]
