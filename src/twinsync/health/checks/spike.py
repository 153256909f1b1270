"""Spikes: held readings that returned (``outlier``), announced once calm follows.

A spike is a candidate when the readings return; it is announced after ``spike_confirm``
ordinary readings more. Another outlier, rising or unsettled noise or another condition in
that time drops it: that is how a noise burst begins. A burst the peers saw too (piling, a
knock on the slab) is the process: their readings were far off their own fits in the same
span (``peers.peer_moved_between``), told only when the span is over. An announced spike
holds the state for ``spike_hold`` readings.

Score: 1 while the state shows the spike, else 0.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ...records import Field
from .._jit import compiled, compiled_inline
from ..peers import peer_moved_between

NAME = "spike"

COLUMNS: dict[str, Field] = {
    # the announced spike: readings the state still shows it, its size and length; calm
    # readings still to come before the candidate is announced
    "spike_hold": (np.int64, 0),
    "spike_size": (np.float64, 0.0),
    "spike_len": (np.int64, 0),
    "spike_wait": (np.int64, 0),
    # the candidate: the returned readings' size, length, first time and return
    "cand_size": (np.float64, 0.0),
    "cand_len": (np.int64, 0),
    "cand_time": (np.float64, np.nan),
    "cand_end": (np.float64, np.nan),
}


class Knobs(NamedTuple):
    spike_hold: int
    spike_confirm: int


class Evidence(NamedTuple):
    time: float
    candidate: bool
    """Held readings returned, with nothing else amiss: a spike, if calm follows."""
    event_size: float
    event_len: int
    event_time: float
    """When the returned readings' first came."""
    doubtful: bool
    """An outlier, another condition or unsettled noise: no spike is announced now."""
    plain: bool
    """No other condition holds the sensor."""
    expected_interval: float


class EvidenceColumns(NamedTuple):
    time: NDArray[np.float64]
    candidate: NDArray[np.bool_]
    event_size: NDArray[np.float64]
    event_len: NDArray[np.int64]
    event_time: NDArray[np.float64]
    doubtful: NDArray[np.bool_]
    plain: NDArray[np.bool_]
    expected_interval: NDArray[np.float64]


class Outcome(NamedTuple):
    announced: bool
    hold: int


@compiled_inline
def step(s: Any, k: Knobs, ev: Evidence, r: int, peers: NDArray[np.int64],
         moved_start: NDArray[np.float64], moved_end: NDArray[np.float64],
         moved_before_start: NDArray[np.float64],
         moved_before_end: NDArray[np.float64]) -> Outcome:
    """Judge one reading of the row ``s`` (row ``r`` of its table; ``peers``: the rows of
    its group, maybe none, with the spans their readings were far off, ``outlier``'s
    columns)."""
    if ev.candidate:
        s.cand_size = ev.event_size
        s.cand_len = ev.event_len
        s.cand_time = ev.event_time
        s.cand_end = ev.time
    wait = s.spike_wait
    if k.spike_confirm > 0:
        announced = wait == 1 and not ev.doubtful and not ev.candidate
        if announced and peers.shape[0] > 0:
            announced = not peer_moved_between(
                peers, r, s.cand_time - ev.expected_interval, s.cand_end,
                moved_start, moved_end, moved_before_start, moved_before_end)
        if ev.candidate:
            wait = k.spike_confirm
        elif ev.doubtful:
            wait = 0
        else:
            wait = max(wait - 1, 0)
    else:
        announced = ev.candidate
    s.spike_wait = wait
    hold = k.spike_hold if announced else max(s.spike_hold - 1, 0)
    if not ev.plain:
        hold = 0
    s.spike_hold = hold
    if announced:
        s.spike_size = s.cand_size
        s.spike_len = s.cand_len
    return Outcome(announced, hold)


@compiled
def learn_many(records: NDArray[np.void], k: Knobs, rows: NDArray[np.int64], ev: EvidenceColumns,
               scores: NDArray[np.float64]) -> None:
    """``step`` over readings in order, without peers; ``scores[i]``: 1 while held."""
    none = np.empty(0, dtype=np.int64)
    no_span = np.empty(0)
    for i in range(rows.shape[0]):
        out = step(records[rows[i]], k, Evidence(
            ev.time[i], ev.candidate[i], ev.event_size[i], ev.event_len[i],
            ev.event_time[i], ev.doubtful[i], ev.plain[i], ev.expected_interval[i]),
            rows[i], none, no_span, no_span, no_span, no_span)
        scores[i] = 1.0 if out.hold > 0 else 0.0
