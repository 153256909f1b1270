"""What a sensor's peers say at the time of its reading, compiled (called by the kernel).

The reference is the median of the peers' latest trusted, fresh readings older than the
asking one; the same median where at least two of those peers agree with each other (NaN
elsewhere) is the only reference a drift may be judged against.

Each peer's reading is carried to the asking time along the slope of its own local fit, so
readings minutes apart on a daily cycle still compare like for like. The raw reading is
used, not a smoothed one: smoothing lags a cycle and would bias the median. Each peer's
learned offset is taken off first, so the reference is the group's consensus whichever
peers are present. Only readings strictly older than the asking one count: then the answer
does not depend on which of two simultaneous readings was processed first.

Agreement: the peers' spread is within ``peer_agree`` sd of what their noise explains. A
frozen peer not yet known to be stuck, or a drifting one, makes two peers disagree; the
drift reference is then absent rather than wrong, because the difference to it could not
say which sensor moved. With three or more peers the one furthest from the median may be
left out once.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ._jit import compiled
from .robust import median_of, pairwise_sum
from .table import DRIFTING, USABLE

#: Reference kinds, for the reason text.
REF_NONE, REF_PEERS, REF_MODEL = 0, 1, 2


@compiled
def peer_view(members: NDArray[np.int64], row: int, time: float,
              ring_time: NDArray[np.float64], ring_flags: NDArray[np.int8],
              ring_value: NDArray[np.float64], ring_offset: NDArray[np.float64],
              ring_slope: NDArray[np.float64], ring_noise: NDArray[np.float64],
              ring_level: NDArray[np.float64], interval_given: NDArray[np.float64],
              interval: NDArray[np.float64], stale_after: float, peer_agree: float,
              work: NDArray[np.float64]) -> tuple[float, float, float, bool]:
    """(median, consensus, largest offset, a peer in drift) for ``row`` at ``time``.

    ``members`` is the row's group (padded with -1); ``work`` is scratch, [4, width].
    The largest offset is the largest smoothed offset (absolute, in the property's unit)
    among the peers heard from.
    """
    width = members.shape[0]
    window = ring_time.shape[1]
    carried, noise, usable, sorted_ = work[0], work[1], work[2], work[3]
    largest = 0.0
    drifting = False
    count = 0
    for m in range(width):
        peer = members[m]
        carried[m] = np.nan
        noise[m] = 0.0
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
        drifting = drifting or (flags & DRIFTING) != 0
        noise[m] = ring_noise[peer, pick]
        if (flags & USABLE) != 0:
            usable[m] = 1.0
            carried[m] = (ring_value[peer, pick] - ring_offset[peer, pick]
                          + ring_slope[peer, pick] * age)
            count += 1
    median = _median_where(carried, usable, width, sorted_)
    agree = _agree(carried, noise, usable, width, peer_agree, sorted_)
    consensus = median if agree else np.nan
    if not agree and count >= 3:
        # Leave the peer furthest from the median out once, where that leaves two or more.
        furthest = 0
        distance = -np.inf
        for m in range(width):
            if usable[m] > 0 and abs(carried[m] - median) > distance:
                distance = abs(carried[m] - median)
                furthest = m
        usable[furthest] = 0.0
        if _agree(carried, noise, usable, width, peer_agree, sorted_):
            consensus = _median_where(carried, usable, width, sorted_)
    return median, consensus, largest, drifting


@compiled
def _median_where(values: NDArray[np.float64], mask: NDArray[np.float64], width: int,
                  scratch: NDArray[np.float64]) -> float:
    found = 0
    for m in range(width):
        if mask[m] > 0:
            scratch[found] = values[m]
            found += 1
    return median_of(scratch, found)


@compiled
def _agree(carried: NDArray[np.float64], noise: NDArray[np.float64],
           usable: NDArray[np.float64], width: int, k: float,
           scratch: NDArray[np.float64]) -> bool:
    """At least two usable peers, and their range within ``k`` sd of a difference of two."""
    count = 0
    high, low = -np.inf, np.inf
    for m in range(width):
        if usable[m] > 0:
            count += 1
            scratch[m] = noise[m] * noise[m]
            high = max(high, carried[m])
            low = min(low, carried[m])
        else:
            scratch[m] = 0.0
    mean_var = pairwise_sum(scratch, width) / max(count, 1)
    return count >= 2 and high - low <= k * math.sqrt(2.0 * mean_var)
