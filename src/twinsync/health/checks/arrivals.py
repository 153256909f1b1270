"""Arrivals: when a sensor's readings arrive, and whether their stamps fit (``silence``).

The per-reading half of dropout and clock checks, under the detector contract: each
reading's arrival teaches the sensor's cadence (a high quantile of the gaps between its
deliveries), counts an episode of gaps, and keeps the least lag of stamp behind arrival
over two half windows. The other half is the timer (``silence.silence``), which names a
sensor stale, offline or ``clock`` from that state as time passes with nothing arriving;
it runs over the whole fleet on the clock, not per reading, so it is no detector of
readings. The state lives in a record of its own (``table``): the timer's pass over every
sensor reads one cache line each.

Evidence of a reading: its arrival, the stamp its device gave it, the sensor's given
interval, and the state the sensor is shown in (a sensor named stale stays held until its
readings have come regularly for a while). Score: 1 when the arrival holds the sensor
(still stale, or its clock off), else 0.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from ...records import Field
from .._jit import compiled
from ..silence import NOT_HELD, SilenceKnobs, arrive_one

NAME = "arrivals"

#: ``silence``'s knobs are this check's.
Knobs = SilenceKnobs

COLUMNS: dict[str, Field] = {
    "heard": (np.float64, -np.inf),  # newest arrival
    "expect": (np.float64, np.nan),  # expected gap between arrivals
    "cadence": (np.float64, np.nan),  # learned high quantile of the arrival gaps
    "cadence_n": (np.int64, 0),
    # least lag of stamp behind arrival in the current and the previous half window
    "lag_low": (np.float64, np.inf),
    "lag_before": (np.float64, np.nan),
    "lag_start": (np.float64, -np.inf),
    # the current episode of gaps: how many, from when, the last one's arrival
    "gaps": (np.int64, 0),
    "gap_first": (np.float64, np.nan),
    "gap_last": (np.float64, -np.inf),
}


class Evidence(NamedTuple):
    received: float
    stamped: float
    """The stamp the device gave the reading (before any clock correction)."""
    interval_given: float
    """The sensor's declared interval (0: none)."""
    state: int
    """The state the sensor is shown in (``states.State``)."""


class EvidenceColumns(NamedTuple):
    received: NDArray[np.float64]
    stamped: NDArray[np.float64]
    interval_given: NDArray[np.float64]
    state: NDArray[np.int64]


@compiled
def learn_many(records: NDArray[np.void], k: SilenceKnobs, rows: NDArray[np.int64],
               ev: EvidenceColumns, scores: NDArray[np.float64]) -> None:
    """``silence.arrive_one`` over readings in order; ``scores[i]``: 1 if reading i's
    arrival holds its sensor."""
    given = np.zeros(records.shape[0])
    shown = np.zeros(records.shape[0], dtype=np.int8)
    heard = records["heard"]
    expect = records["expect"]
    cadence = records["cadence"]
    cadence_n = records["cadence_n"]
    lag_low = records["lag_low"]
    lag_before = records["lag_before"]
    lag_start = records["lag_start"]
    gaps = records["gaps"]
    gap_first = records["gap_first"]
    gap_last = records["gap_last"]
    for i in range(rows.shape[0]):
        r = rows[i]
        given[r] = ev.interval_given[i]
        shown[r] = ev.state[i]
        held = arrive_one(r, ev.received[i], ev.stamped[i], given, shown, heard, expect,
                          cadence, cadence_n, lag_low, lag_before, lag_start, gaps,
                          gap_first, gap_last, k)
        scores[i] = 0.0 if held == NOT_HELD else 1.0
