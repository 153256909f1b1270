"""Silence and clocks: when a sensor's readings *arrive*, and whether their stamps fit.

A user calls a sensor stale when nothing has arrived for it for longer than its delivery
allows, not when its stamps are old. Readings behind a building system polled every
5 minutes, or a gateway that sends every 10, arrive in groups: a one-minute sensor there
meets silences of 10 minutes that are no fault. So each sensor learns its *cadence*, a
high quantile (``cadence_quantile``) of the gaps between its arrivals (a group is one
arrival), and the timer (``silence``) measures silence from the newest arrival against
``stale_after`` and ``offline_after`` of that cadence (never less than a given interval).

**Hold.** A sensor named stale stays named until its readings have come regularly for a
hold time (``hold_min``, at least ``hold_after`` cadences) after its last gap: one that
drops out intermittently is named once instead of flapping stale/ok on every gap.

**Clock.** ``received_at - event_time`` is latency plus the device clock's lag. Its least
value over the current and the previous half window (``clock_half``) is the lag of the
quickest reading: hours for a clock that runs behind, near zero for any working delivery
(a logger uploading a buffer sends its newest reading fresh too). When both halves'
least lag exceeds the bound (``clock_bound``, at least ``clock_cadences`` cadences), the
readings keep arriving but cannot be placed in time: state ``clock``. One reading stamped
right clears it. A clock that runs *ahead* is the same with the sign turned: the pipeline's
per-device estimate (``pipeline.clocks``) corrects such stamps before they are placed, and
health is given the stamp the device gave (``judge_batch``'s ``ahead``), so its least lag is
an hour negative and the sensor is named ``clock`` all the same (``clock_off``).

The bookkeeping per reading (``arrive_one``) runs for every reading of a batch: in the fold
for the readings it folds in (each in its turn, so a batch equals its readings one by one),
and in ``arrive`` for the rest, those behind their sensor's newest stamp included: a clock
set back an hour makes all its readings look old, and they still show that the sensor is
alive. It gives the state the sensor is held in, which the fold shows instead of ``ok``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from ._jit import compiled
from .params import HealthParams, knobs_of
from .states import State, quality_one

_OK, _STALE, _SPIKE, _OFFLINE, _CLOCK = (
    int(State.OK), int(State.STALE), int(State.SPIKE), int(State.OFFLINE), int(State.CLOCK))

#: What ``arrive_one`` returns for a sensor held in no state.
NOT_HELD = -1
#: The first gaps, whose shortest is the cadence, named by the timer or not.
WARM_GAPS = 8
#: Seconds within which two arrivals are one delivery: a gateway's group may be handed
#: over in pieces (between another source's readings), and its pieces are no gaps.
SAME_DELIVERY = 2.0

__all__ = ["NOT_HELD", "SilenceKnobs", "arrive", "arrive_one", "cadence_known", "clock_bound",
           "clock_lag",
           "clock_off", "hold_time", "silence", "silence_knobs", "silent_since"]


class SilenceKnobs(NamedTuple):
    """The parameters of silence and clocks as the compiled code takes them."""

    stale_after: float
    offline_after: float
    cadence_quantile: float
    cadence_rate: float
    hold_min: float
    hold_after: float
    clock_bound: float
    clock_cadences: float
    clock_half: float


def silence_knobs(params: HealthParams) -> SilenceKnobs:
    return knobs_of(SilenceKnobs, params)


@compiled
def hold_time(k: SilenceKnobs, expect: float) -> float:
    """How long a sensor must arrive regularly after its last gap to be let go."""
    return max(k.hold_min, k.hold_after * expect)


@compiled
def clock_bound(k: SilenceKnobs, expect: float) -> float:
    """The least lag of stamp behind arrival that a working delivery cannot explain."""
    return max(k.clock_bound, k.clock_cadences * expect)


@compiled
def clock_lag(lag_low: float, lag_before: float) -> float:
    """The lag of the quickest reading over the last one to two half windows (NaN until
    two halves have been seen)."""
    if not (math.isfinite(lag_low) and math.isfinite(lag_before)):
        return np.nan
    return min(lag_low, lag_before)


@compiled
def clock_off(lag_low: float, lag_before: float, k: SilenceKnobs, expect: float) -> bool:
    """The device's stamps are further from their arrival than a working delivery explains,
    behind or ahead: the one rule of the fold, the timer, the replay's schedule and the
    reasons."""
    return abs(clock_lag(lag_low, lag_before)) > clock_bound(k, expect)


@compiled
def _expect(cadence: float, given: float) -> float:
    """The expected gap between arrivals: the learned cadence, never less than a given
    interval (a sensor cannot deliver faster than it samples); the given one until then."""
    if math.isnan(cadence):
        return given if given > 0 else np.nan
    return max(cadence, given)


@compiled
def arrive_one(r: int, at: float, stamp: float, interval_given: NDArray[np.float64],
               state: NDArray[np.int8], heard: NDArray[np.float64],
               expect: NDArray[np.float64], cadence: NDArray[np.float64],
               cadence_n: NDArray[np.int64], lag_low: NDArray[np.float64],
               lag_before: NDArray[np.float64], lag_start: NDArray[np.float64],
               gaps: NDArray[np.int64], gap_first: NDArray[np.float64],
               gap_last: NDArray[np.float64], k: SilenceKnobs) -> int:
    """Note one reading of row ``r`` stamped ``stamp`` that arrived ``at``; return the state
    its sensor is held in (``NOT_HELD``: none)."""
    if not math.isfinite(at):
        return NOT_HELD
    prev = heard[r]
    e = expect[r]
    if at > prev:
        if math.isfinite(prev) and at - prev >= SAME_DELIVERY:
            gap = at - prev
            irregular = gap > k.stale_after * e
            if irregular:
                # A gap the timer names: an episode of dropouts starts or goes on.
                if at - gap_last[r] <= hold_time(k, e):
                    gaps[r] += 1
                else:
                    gaps[r] = 1
                    gap_first[r] = prev
                gap_last[r] = at
            c = cadence[r]
            if cadence_n[r] < WARM_GAPS:
                # The first few gaps are all it has to go by (a given interval may be
                # shorter than its delivery): the shortest of them, so that one dropout
                # among them does not teach the sensor to be silent.
                cadence[r] = gap if math.isnan(c) else min(c, gap)
                cadence_n[r] += 1
            elif not irregular:
                # A high quantile of the gaps between arrivals, learned by a step up when a
                # gap is longer and a smaller step down when it is not; their sizes set the
                # share of gaps above it. Not from a gap the timer names: a dropout must
                # not teach the sensor to be silent.
                step = k.cadence_quantile if gap > c else k.cadence_quantile - 1.0
                cadence[r] = c * math.exp(k.cadence_rate * step)
                cadence_n[r] += 1
        heard[r] = at
        e = _expect(cadence[r], interval_given[r])
        expect[r] = e
    lag = at - stamp
    if math.isfinite(lag):
        if at - lag_start[r] >= k.clock_half:
            lag_before[r] = lag_low[r] if math.isfinite(lag_start[r]) else np.nan
            lag_low[r] = lag
            lag_start[r] = at
        else:
            lag_low[r] = min(lag_low[r], lag)
    s = int(state[r])
    if (s in (_STALE, _OFFLINE)) and heard[r] - gap_last[r] <= hold_time(k, e):
        return _STALE
    if clock_off(lag_low[r], lag_before[r], k, e):
        return _CLOCK
    return NOT_HELD


@compiled
def arrive(rows: NDArray[np.int64], stamped: NDArray[np.float64],
           received: NDArray[np.float64], order: NDArray[np.int64],
           interval_given: NDArray[np.float64], state: NDArray[np.int8],
           heard: NDArray[np.float64], expect: NDArray[np.float64],
           cadence: NDArray[np.float64], cadence_n: NDArray[np.int64],
           lag_low: NDArray[np.float64], lag_before: NDArray[np.float64],
           lag_start: NDArray[np.float64], gaps: NDArray[np.int64],
           gap_first: NDArray[np.float64], gap_last: NDArray[np.float64],
           k: SilenceKnobs) -> None:
    """``arrive_one`` for readings ``order`` that are not folded in (the fold notes its own
    readings' arrivals, each in its turn)."""
    for position in range(order.shape[0]):
        i = order[position]
        arrive_one(rows[i], received[i], stamped[i], interval_given, state, heard, expect,
                   cadence, cadence_n, lag_low, lag_before, lag_start, gaps, gap_first,
                   gap_last, k)


@compiled
def held_state(shown: int, held: int) -> int:
    """The state the fold shows: a sensor held stale or with a wrong clock shows that
    instead of ``ok``; a finding of its readings (stuck, noisy, drift, spike) comes first."""
    if held != NOT_HELD and shown == _OK:
        return held
    return shown


@compiled
def silent_since(heard: float, started: float) -> float:
    """Since when a row has had nothing arrive: its newest arrival, or, never heard from,
    since the timer started (a fresh twin is not offline in its first second)."""
    return started if heard == -np.inf else heard


@compiled
def cadence_known(heard: float, cadence: float) -> bool:
    """Whether a sensor's deliveries have shown their pace: it was heard from, and a gap
    between two deliveries was seen. Until then it is named only offline, never stale: a
    sensor not yet heard from may still be joining, and one heard from once may sit behind
    a gateway that hands over ten minutes of one-minute readings at a time."""
    return heard != -np.inf and not math.isnan(cadence)


@compiled
def silence(used: int, now: float, started: float, heard: NDArray[np.float64],
            cadence: NDArray[np.float64], expect: NDArray[np.float64],
            lag_low: NDArray[np.float64], lag_before: NDArray[np.float64],
            state: NDArray[np.int8], quality: NDArray[np.float64],
            since: NDArray[np.float64], k: SilenceKnobs, changed: NDArray[np.int64]) -> int:
    """The timer: rows with nothing arrived become stale, then offline; rows whose readings
    arrive with stamps far behind or ahead become ``clock``. A row never heard from is
    silent since ``started`` (the first tick); one whose cadence is not known yet
    (``cadence_known``) goes straight to offline. Writes the
    changed rows and their old states into ``changed`` ([k, 0:2]) and returns how many."""
    found = 0
    for r in range(used):
        e = expect[r]
        last = silent_since(heard[r], started)
        age = now - last
        offline = age > k.offline_after * e
        stale = age > k.stale_after * e and not offline and cadence_known(heard[r],
                                                                         cadence[r])
        if stale or offline:
            old = int(state[r])
            new = _OFFLINE if offline else _STALE
            span = (k.offline_after - k.stale_after) * e
            fraction = (age - k.stale_after * e) / span
            quality[r] = quality_one(new, fraction)
            if new != old:
                factor = k.offline_after if offline else k.stale_after
                state[r] = new
                since[r] = last + factor * e
                changed[found, 0] = r
                changed[found, 1] = old
                found += 1
        elif clock_off(lag_low[r], lag_before[r], k, e):
            old = int(state[r])
            if old in (_OK, _SPIKE, _STALE, _OFFLINE):
                state[r] = _CLOCK
                quality[r] = quality_one(_CLOCK, 0.0)
                since[r] = now
                changed[found, 0] = r
                changed[found, 1] = old
                found += 1
    return found
