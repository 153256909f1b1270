"""What a sensor's peers say at the time of its reading, compiled (called by the kernel).

The reference is the median of the peers' latest trusted, fresh readings older than the
asking one; the same median where at least two peers are heard from (NaN elsewhere) is
the consensus a drift is judged against.

Each peer's reading is carried to the asking time along the slope of its own local fit, so
readings minutes apart on a daily cycle still compare like for like. The raw reading is
used, not a smoothed one: smoothing lags a cycle and would bias the median. Each peer's
learned offset is taken off first, so the reference is the group's consensus whichever
peers are present. Only readings strictly older than the asking one count: then the answer
does not depend on which of two simultaneous readings was processed first.

With one peer the consensus is absent: a difference to it could not say which of the two
moved. Peers that differ from each other by more than their noise are no reason to refuse
a consensus (gauges sharing a column's load, sensors nearer a heater always do): the drift
check learns how the sensor follows the consensus (``kernel``), and a drifting peer is told
from its victims by the size of their offsets.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ._jit import compiled
from .robust import median_of
from .table import INLIER, USABLE

#: Reference kinds, for the reason text.
REF_NONE, REF_PEERS, REF_MODEL = 0, 1, 2


@compiled
def peer_view(members: NDArray[np.int64], row: int, time: float,
              ring_time: NDArray[np.float64], ring_flags: NDArray[np.int8],
              ring_value: NDArray[np.float64], ring_offset: NDArray[np.float64],
              ring_slope: NDArray[np.float64], ring_level: NDArray[np.float64],
              interval_given: NDArray[np.float64], interval: NDArray[np.float64],
              stale_after: float, work: NDArray[np.float64]) -> tuple[float, float, float]:
    """(median, consensus, largest offset) for ``row`` at ``time``.

    ``members`` is the row's group (padded with -1); ``work`` is scratch, [3, width].
    The largest offset is the largest smoothed offset (absolute, in the property's unit)
    among the peers heard from.
    """
    width = members.shape[0]
    window = ring_time.shape[1]
    carried, usable, sorted_ = work[0], work[1], work[2]
    largest = 0.0
    count = 0
    for m in range(width):
        peer = members[m]
        carried[m] = np.nan
        usable[m] = 0.0
        if peer < 0 or peer == row:
            continue
        # The peer's latest reading strictly older than ours (the first slot on a tie).
        pick = 0
        best = -np.inf
        for j in range(window):
            when_j = ring_time[peer, j]
            if when_j < time and when_j > best:
                best = when_j
                pick = j
        if not ring_time[peer, pick] < time:
            continue
        age = time - ring_time[peer, pick]
        peer_interval = interval_given[peer] if interval_given[peer] > 0 else interval[peer]
        if math.isnan(peer_interval):
            peer_interval = np.inf
        if not age <= stale_after * peer_interval:
            continue
        flags = ring_flags[peer, pick]
        largest = max(largest, ring_level[peer, pick])
        if (flags & USABLE) != 0:
            usable[m] = 1.0
            carried[m] = (ring_value[peer, pick] - ring_offset[peer, pick]
                          + ring_slope[peer, pick] * age)
            count += 1
    median = _median_where(carried, usable, width, sorted_)
    consensus = median if count >= 2 else np.nan
    return median, consensus, largest


@compiled
def peer_held_between(members: NDArray[np.int64], row: int, start: float, end: float,
                      ring_time: NDArray[np.float64], ring_flags: NDArray[np.int8]) -> bool:
    """Whether a peer of ``row`` has a reading from ``start`` to ``end`` that its own fit
    left out (a held outlier): the peers saw the same burst."""
    window = ring_time.shape[1]
    for m in range(members.shape[0]):
        peer = members[m]
        if peer < 0 or peer == row:
            continue
        for j in range(window):
            when = ring_time[peer, j]
            if start <= when <= end and (ring_flags[peer, j] & INLIER) == 0:
                return True
    return False


@compiled
def _median_where(values: NDArray[np.float64], mask: NDArray[np.float64], width: int,
                  scratch: NDArray[np.float64]) -> float:
    found = 0
    for m in range(width):
        if mask[m] > 0:
            scratch[found] = values[m]
            found += 1
    return median_of(scratch, found)
