"""What a sensor's peers say at the time of its reading, compiled (called by the kernel).

The reference is the median of the peers' latest trusted, fresh readings older than the
asking one; the same median where at least two peers are heard from (NaN elsewhere) is
the consensus a drift is judged against.

Each peer's reading is carried to the asking time along the slope of its own local fit, so
readings minutes apart on a daily cycle still compare like for like. Not an RMS
(``RELATIVE``, a vibration gauge): it has no trend between readings (a burst stops at
once), and its slope carried minutes down a burst's end said the zone was still. The
raw reading is used, not a smoothed one: smoothing lags a cycle and would bias the
median. Each peer's learned offset is taken off first, so the reference is the group's
consensus whichever peers are present. Only readings strictly older than the asking one
count: then the answer does not depend on which of two simultaneous readings was
processed first.

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
from .context import RELATIVE, is_bursty
from .robust import median_of
from .rules import USABLE

#: Reference kinds, for the reason text.
REF_NONE, REF_PEERS, REF_MODEL = 0, 1, 2


@compiled
def peer_view(members: NDArray[np.int64], row: int, time: float,
              ring_time: NDArray[np.float64], ring_flags: NDArray[np.int8],
              ring_value: NDArray[np.float64], ring_offset: NDArray[np.float64],
              ring_slope: NDArray[np.float64], ring_level: NDArray[np.float64],
              interval_given: NDArray[np.float64], interval: NDArray[np.float64],
              character: NDArray[np.int8], stale_after: float,
              work: NDArray[np.float64]) -> tuple[float, float, float, float]:
    """(median, consensus, largest offset, spread) for ``row`` at ``time``.

    ``members`` is the row's group (padded with -1); ``work`` is scratch, [3, width].
    The largest offset is the largest smoothed offset (absolute, in the property's unit)
    among the peers heard from. The spread is how far the peers (offsets taken off) lie
    apart: the difference of two, twice the median distance from their median of three
    or more (one peer far off does not widen it), NaN with fewer than two.
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
            # An RMS (``RELATIVE``) has no trend between readings: it is the level of the
            # work going on, and a burst stops as it starts, at once. Carried along its last
            # fit's slope for the minutes to this reading, a gauge read as a burst fell
            # said the zone was still (0.3 mm/s carried to 0.001), one read as it rose
            # that it shook twice as hard; its last reading is the best word on the level.
            along = ring_value[peer, pick]
            if character[peer] != RELATIVE:
                along += ring_slope[peer, pick] * age
            carried[m] = along - ring_offset[peer, pick]
            count += 1
    median = _median_where(carried, usable, width, sorted_)
    consensus = median if count >= 2 else np.nan
    spread = np.nan
    if count == 2:
        spread = abs(_max_where(carried, usable, width) + _max_where(-carried, usable, width))
    elif count > 2:
        for m in range(width):
            carried[m] = abs(carried[m] - median)
        spread = 2.0 * _median_where(carried, usable, width, sorted_)
    return median, consensus, largest, spread


@compiled
def _max_where(values: NDArray[np.float64], mask: NDArray[np.float64], width: int) -> float:
    largest = -np.inf
    for m in range(width):
        if mask[m] > 0 and values[m] > largest:
            largest = values[m]
    return largest


@compiled
def peer_moved_between(members: NDArray[np.int64], row: int, start: float, end: float,
                       moved_start: NDArray[np.float64], moved_end: NDArray[np.float64],
                       before_start: NDArray[np.float64], before_end: NDArray[np.float64]
                       ) -> bool:
    """Whether a peer of ``row`` had readings far off its own fit in ``start``..``end``
    (one of its last two such spans overlaps it): the peers saw the same burst."""
    for m in range(members.shape[0]):
        peer = members[m]
        if peer < 0 or peer == row:
            continue
        if moved_start[peer] <= end and moved_end[peer] >= start:
            return True
        if before_start[peer] <= end and before_end[peer] >= start:
            return True
    return False


@compiled
def peer_noise_rising(members: NDArray[np.int64], row: int, noise_s: NDArray[np.float64],
                      cond: NDArray[np.int64], character: NDArray[np.int8],
                      step_tail: NDArray[np.float64], noise_h: float, bursty_h: float,
                      tail_share: float, share: float, noisy_bit: int) -> bool:
    """Whether a peer of ``row`` is noisy or its noise evidence is at ``share`` of its own
    threshold: the rise is the group's, not the sensor's."""
    for m in range(members.shape[0]):
        peer = members[m]
        if peer < 0 or peer == row:
            continue
        if (cond[peer] & noisy_bit) != 0:
            return True
        threshold = noise_h * bursty_h if is_bursty(character[peer], step_tail[peer],
                                                    tail_share) else noise_h
        if noise_s[peer] >= share * threshold:
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
