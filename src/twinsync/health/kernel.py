"""The per-reading update of every health check, compiled: one loop over a batch.

``HealthMonitor.update_many`` sorts a batch by event time (ties by row) and hands it to
``fold``, which takes the readings one by one, in that order, and reads and writes the
struct-of-arrays columns of the ``HealthTable`` by row. ``learn_one`` is a batch of one.
The work is a small constant per reading, whatever the batch holds and however large the
fleet: nothing here scans all rows. Silence and clocks (arrivals, the timer) are
``silence``'s.

Per reading, in order: learn the interval and forget the window after a long silence; look
up the reference (the model's ``expected`` value, else the median of the peers' latest
trusted readings older than this one, carried to this time along their local slope); fit a
local quadratic through the sensor's own recent readings and take the residual and its
scale; then the checks (``checks``), each with its evidence and its state in the row's
record: ``outlier``, ``noise``, ``stuck``, ``drift``, ``spike``; and finally the state and
its quality, and the reading into the ring.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..jit import Direct, prefetch_cell, prefetch_row
from ._jit import compiled
from .checks import drift, noise, outlier, spike, stuck
from .context import (
    RELATIVE,
    is_bursty,
    peers_moved_with,
    relative_bound,
    shared_with_peers,
)
from .params import HealthParams, knobs_of
from .peers import REF_MODEL, REF_NONE, REF_PEERS, peer_view
from .robust import MAD_TO_SD, fit_window
from .rules import (
    DRIFT_BIT,
    INLIER,
    NOISY_BIT,
    QUANTISATION_SD,
    STUCK_BIT,
    USABLE,
    diff_sd_one,
    interval_one,
    resolution_one,
)
from .silence import SilenceKnobs, arrive_one, held_state
from .states import OUTLIER_READING_QUALITY, State, quality_one
from .table import FoldViews, HealthTable

#: How many readings ahead the fold asks for a row's state: enough to cover a load from
#: memory with the work on the readings between, few enough to still be in cache.
PREFETCH_AHEAD = 3

__all__ = [
    "DRIFT_BIT",
    "NOISY_BIT",
    "REF_MODEL",
    "REF_NONE",
    "REF_PEERS",
    "STUCK_BIT",
    "AllKnobs",
    "Knobs",
    "diff_sd_one",
    "fold",
    "fold_batch",
    "interval_one",
    "knobs",
    "resolution_one",
]

_OK, _STALE, _STUCK, _SPIKE, _DRIFT, _NOISY, _OFFLINE = (
    int(State.OK), int(State.STALE), int(State.STUCK), int(State.SPIKE), int(State.DRIFT),
    int(State.NOISY), int(State.OFFLINE))


class Knobs(NamedTuple):
    """The fold's own knobs (what the checks share), as the compiled code takes them."""

    window: int
    min_window: int
    warmup: int
    stale_after: float
    interval_alpha: float
    hampel_k: float
    tail_share: float
    peer_shared_k: float
    peer_shared_share: float
    drift_warmup: int
    peer_trust: float
    stuck_min_run: int


class AllKnobs(NamedTuple):
    """``HealthParams`` as the compiled code takes them: the fold's and each check's."""

    fold: Knobs
    noise: noise.Knobs
    outlier: outlier.Knobs
    spike: spike.Knobs
    stuck: stuck.Knobs
    drift: drift.Knobs


def knobs(params: HealthParams) -> AllKnobs:
    """The knobs of ``params``, each as the type the compiled code was built for."""
    return AllKnobs(knobs_of(Knobs, params), knobs_of(noise.Knobs, params),
                    knobs_of(outlier.Knobs, params), knobs_of(spike.Knobs, params),
                    knobs_of(stuck.Knobs, params), knobs_of(drift.Knobs, params))


_NO_PEERS = np.empty(0, dtype=np.int64)


@compiled
def fold(v: FoldViews, kn: AllKnobs, sk: SilenceKnobs, members: NDArray[np.int64],
         group_index: NDArray[np.int64], rows: NDArray[np.int64],
         values: NDArray[np.float64], times: NDArray[np.float64],
         expected: NDArray[np.float64], received: NDArray[np.float64],
         stamped: NDArray[np.float64], order: NDArray[np.int64],
         start: int, stop_after_change: NDArray[np.bool_],
         reading_quality: NDArray[np.float64], changes: NDArray[np.int64],
         change_quality: NDArray[np.float64], change_since: NDArray[np.float64],
         counter: NDArray[np.int64], no_peers: NDArray[np.int64]) -> int:
    """Fold the readings ``order[start:]`` in, one by one; return where it stopped.

    Each reading's arrival (``received``) is noted first (``silence.arrive_one``), with
    the stamp its device gave it (``stamped``: ``times`` before the pipeline corrected a
    clock that runs ahead); the state that holds its sensor is shown instead of ``ok``.

    ``reading_quality[i]`` gets reading i's quality. A state change is appended to
    ``changes`` ([k, 0:3] = row, old, new), ``change_quality`` and ``change_since``, with
    ``counter[0]`` the number so far. After a change at a position where
    ``stop_after_change`` is set (the row has later readings in the batch), the fold
    returns, so the caller can describe the change before those readings move the row on.
    ``no_peers`` is an empty row list, for a sensor in no group.
    """
    p = kn.fold
    records = v.records
    co = v.core
    pc = v.peers
    ar = v.arrivals
    window = p.window
    work = np.empty((7, max(window, 9)))
    present = np.empty(window, dtype=np.bool_)
    ring_x = np.empty(window)
    ring_t = np.empty(window)
    peer_work = np.empty((3, max(members.shape[1], 1)))
    for position in range(start, order.shape[0]):
        if position + PREFETCH_AHEAD < order.shape[0]:
            prefetch_row(records, rows[order[position + PREFETCH_AHEAD]])
            prefetch_row(ar.heard, rows[order[position + PREFETCH_AHEAD]])
        if position + 1 < order.shape[0]:
            # The peer-ring slot this reading's successor writes (its head is in the record
            # asked for above, readings ago). A store that misses the cache holds up every
            # store behind it.
            coming = rows[order[position + 1]]
            prefetch_cell(co.ring_slope, coming, co.ring_head[coming])
        i = order[position]
        r = rows[i]
        s = records[r]  # the row's record: every check's state of it
        x = values[i]
        t = times[i]
        peers = members[group_index[i]] if group_index[i] >= 0 else no_peers
        held_in = arrive_one(r, received[i], stamped[i], co.interval_given, co.state,
                             ar.heard, ar.expect, ar.cadence, ar.cadence_n, ar.lag_low,
                             ar.lag_before, ar.lag_start, ar.gaps, ar.gap_first,
                             ar.gap_last, sk)
        old_state = int(co.state[r])
        c = int(co.cond[r])

        # -- interval, and forgetting after a silence ---------------------------------
        prev_t = co.last_time[r]
        has_prev = math.isfinite(prev_t)
        gap = t - prev_t if has_prev else np.nan
        learned = co.interval[r]
        if co.interval_given[r] <= 0 and has_prev and gap > 0:
            if math.isnan(learned):
                co.interval[r] = gap
            else:
                clipped = min(max(gap, 0.5 * learned), 2.0 * learned)
                co.interval[r] = learned + p.interval_alpha * (clipped - learned)
        expected_interval = interval_one(co.interval_given[r], co.interval[r])
        long_gap = has_prev and gap > p.stale_after * expected_interval
        tiny = 1e-9 * max(1.0, abs(x))
        # Without a given resolution, the smallest change a sensor makes is its quantum.
        change = abs(x - co.last_value[r])
        if has_prev and change > tiny:
            co.res_learned[r] = min(co.res_learned[r], change)
        res = resolution_one(co.resolution[r], co.res_learned[r], s.count)
        hold_tolerance = max(0.5 * res, tiny)
        named_stuck = (c & STUCK_BIT) != 0
        released = named_stuck and not (
            abs(x - s.run_anchor) <= stuck.run_tolerance(hold_tolerance, res, named_stuck))
        if long_gap or released:
            # After a silence, or when a stuck sensor moves again, the old window no longer
            # predicts; a held outlier and a run of equal values lose their meaning too.
            # Drift does not heal by silence: kept.
            for j in range(window):
                co.ring_flags[r, j] &= ~INLIER
            s.pending = 0
            s.run_len = 0
            if long_gap:
                c &= ~(STUCK_BIT | NOISY_BIT)
                # What is left to judge the first readings after the silence by: the last
                # reading before it, carried along its slope (``gap_level``, below).
                co.gap_level[r] = co.last_value[r]
                co.gap_time[r] = prev_t
                co.gap_slope[r] = co.ring_slope[r, (co.ring_head[r] - 1) % window]

        # -- the reference ----------------------------------------------------------------
        # ``ref`` (what the sensor is expected to follow) serves stuck; ``consensus`` (the
        # same, where the peers agree with each other) serves drift.
        ref = expected[i]
        consensus = ref
        kind = REF_MODEL if math.isfinite(ref) else REF_NONE
        peer_offset = 0.0
        peer_spread = np.nan
        if not math.isfinite(ref) and peers.shape[0] > 0:
            ref, consensus, peer_offset, peer_spread = peer_view(
                peers, r, t, co.ring_time, co.ring_flags, co.ring_value, co.ring_offset,
                co.ring_slope, co.ring_level, co.interval_given, co.interval, co.character,
                p.stale_after, peer_work)
            kind = REF_PEERS if math.isfinite(ref) else REF_NONE
        if kind != REF_NONE:
            co.ref_kind[r] = kind

        # -- the robust fit of the sensor's own recent readings ------------------------
        head = co.ring_head[r]
        inliers = 0
        newest = window - 1
        for j in range(window):
            slot = (head + j) % window  # oldest → newest
            present[j] = (co.ring_flags[r, slot] & INLIER) != 0
            ring_x[j] = co.ring_value[r, slot]
            ring_t[j] = co.ring_time[r, slot]
            if present[j]:
                inliers += 1
                newest = j
        # While outliers are held the window loses a trusted reading to each of them; a
        # burst of up to ``spike_burst`` must still be judged against the level before it.
        can = inliers >= p.min_window or (s.pending > 0 and inliers >= 4)
        pred, slope, mad, leverage, curvature = np.nan, 0.0, 0.0, 0.0, 0.0
        if can:
            # While outliers are held the window stands still and the reading moves on: a
            # quadratic carried that far runs away (the return from a burst looked like more
            # of it); a straight line carried as far stays near the level.
            pred, slope, mad, leverage, curvature = fit_window(ring_x, ring_t, present, t,
                                                               work, s.pending > 0)
        # A prediction from few points is noisier than one reading; dividing by this puts
        # every residual on the scale of one reading's noise.
        spread = math.sqrt(1.0 + leverage)
        # After a silence the window is gone, and a +50 degC reading would be taken for the
        # new level at full trust. Until the window is rebuilt, a reading is judged against
        # the last one before the silence, carried along its slope, with a spread that grows
        # as a random walk of the sensor's steps over the intervals missed (twice that: the
        # slope carried over a silence is less sure than over one interval).
        # Not for a bursty sensor: it jumps by more than a random walk of its steps as a
        # matter of course (vibration at the start of work).
        character = co.character[r]
        bursty = is_bursty(character, s.step_tail, p.tail_share)
        after_gap = not can and math.isfinite(co.gap_level[r]) and has_prev and not bursty
        if can:
            co.gap_level[r] = np.nan
        elif after_gap:
            elapsed = max(t - co.gap_time[r], 0.0)
            pred = co.gap_level[r] + co.gap_slope[r] * elapsed
            spread = 2.0 * math.sqrt(max(elapsed / expected_interval, 1.0)) \
                if math.isfinite(expected_interval) and expected_interval > 0 else np.inf
        resid = x - pred

        sd = math.sqrt(s.sigma2)
        noise_sd = max(max(sd, res * QUANTISATION_SD), tiny)
        # Quantisation alone moves a reading by up to half a step: that is the least scale.
        scale = max(max(MAD_TO_SD * mad, sd), max(0.5 * res, tiny))
        if not can:
            # No window to measure the spread of its residuals: the sensor's step sd.
            scale = max(scale, math.sqrt(s.step_var))
        # A gauge whose noise grows with its level (vibration RMS) shakes more in a burst
        # than at night: its yardstick grows with the level it is at (half its relative
        # step variance is the relative variance of one reading).
        if character == RELATIVE and s.rel_step_var > 0 and math.isfinite(pred):
            scale = max(scale, math.sqrt(0.5 * s.rel_step_var) * max(abs(pred), 2.0 * res))
        warm = s.sigma_n >= p.warmup
        judged = (can or after_gap) and warm
        was_noisy = (c & NOISY_BIT) != 0
        # The reading moved with its group's consensus: the process, not the sensor.
        peers_known = kind == REF_PEERS and s.d_n >= p.drift_warmup
        d_sd = diff_sd_one(s.d_var, res)  # d_var is next written by drift
        shared = shared_with_peers(x, ref, s.d_mean, d_sd, resid, peers_known,
                                   p.peer_shared_k, p.peer_shared_share)
        # Held readings are a new level only if the peers went there too: their consensus
        # left the sensor's own prediction towards the reading. A burst's tail close to
        # the peers (welding heat cooling off) is near them because it came back, not
        # because they moved.
        moved_with = peers_known and s.pending > 0 and peers_moved_with(
            x, ref, s.d_mean, pred, p.peer_shared_share)
        bound = p.hampel_k * spread * scale
        if character == RELATIVE:
            # Its noise is a factor on its level: skewed upwards (``relative_bound``).
            bound = relative_bound(bound, resid, pred, s.rel_step_var, res,
                                   p.hampel_k * spread)
        far_off = judged and not was_noisy and abs(resid) > bound
        is_outlier = far_off and not shared
        # A jump the peers made too is no evidence of the sensor's noise either: the peers'
        # readings older than this one lag a sharp transient, so its step against them
        # would be large as well.
        group_jump = far_off and shared

        # -- the checks --------------------------------------------------------------------
        # What marks the span a peer's spike is asked about. An RMS a burst shakes is a
        # factor on the level: a gauge read every five minutes, its yardstick wide with the
        # day's scatter, read three times its level through the burst a one-minute peer
        # held as a spike, and was not "far off" its fit.
        shaken = far_off or (character == RELATIVE and judged and pred > 0.0 and (
            x > 2.0 * pred or x < 0.5 * pred) and abs(resid) > 2.0 * res)
        held = outlier.step(s, kn.outlier, outlier.Evidence(
            t, x, resid, is_outlier, shaken, shared and moved_with, expected_interval))
        if held.level_shift:
            # The held readings and this one agree on a new level: it is real. Restart the
            # window from them.
            co.gap_level[r] = np.nan
            for j in range(window):
                co.ring_flags[r, j] &= ~INLIER
            for back in range(1, min(held.held_count, window - 1) + 1):
                co.ring_flags[r, (head - back) % window] |= INLIER
        inlier = (not is_outlier and not held.continues) or held.level_shift

        # The step from the last trusted reading, less the local trend. The trend is the
        # fitted curve's own rise since that reading, not the slope times the time: after
        # held outliers the step spans several intervals, and on a steep, curving daily
        # cycle a straight line would leave the curve's bend in the step and call a
        # returning spike noise.
        has_last = inliers > 0
        since_last = t - ring_t[newest]
        trend = slope * since_last - curvature * since_last * since_last
        if character == RELATIVE:
            # Not an RMS's: the level of the work going on has no trend between readings
            # (a burst stops at once), and the curve fitted through a burst's fall carried
            # on made a step of 0.05 mm/s one of 3 and the gauge noisy (``peers.peer_view``
            # carries its peers flat for the same reason).
            trend = 0.0
        step_change = x - ring_x[newest] - trend if has_last else np.nan
        calm_state = old_state in (_OK, _SPIKE) or not warm
        nv = noise.step(s, kn.noise, noise.Evidence(
            t, x, ref, res, tiny, step_change, ring_x[newest] if has_last else np.nan,
            co.peer_resid[r], character, resid, spread, can, judged, inlier, held.held,
            group_jump, was_noisy, calm_state), r, peers, pc.noise_s, pc.step_tail, co.cond,
            co.character)
        c = c | NOISY_BIT if nv.noisy else c & ~NOISY_BIT

        # A declared site event (a pour, a load step) concerns the reading: its peers' moves
        # are not the sensor's to follow.
        declared = co.event_start[r] <= t <= co.event_end[r]
        was_stuck = (c & STUCK_BIT) != 0
        # A gauge whose noise grows with its level reads the same value over and over at
        # the bottom of its range (vibration at night, 0.05 mm/s in steps of 0.01): within
        # ten steps of zero, a relative noise of 5 % is less than half a step. Its relative
        # step variance is no guide there: it is learned mostly from the working day.
        quiet = character == RELATIVE and abs(x) < 10.0 * res
        sv = stuck.step(s, kn.stuck, stuck.Evidence(
            x, ref, res, hold_tolerance, d_sd, s.d_n >= p.drift_warmup,
            kind == REF_PEERS, character == RELATIVE, quiet,
            has_prev and not long_gap and old_state == _OK and not was_stuck, was_stuck,
            declared, peer_spread))
        c = c | STUCK_BIT if sv.stuck else c & ~STUCK_BIT

        dv = drift.step(s, kn.drift, drift.Evidence(
            t, x, consensus, gap, res, noise_sd, expected_interval, peer_offset, inlier,
            sv.run, sv.likely, sv.stuck, nv.noisy, nv.unsettled, (c & DRIFT_BIT) != 0,
            old_state == _OK, declared))
        c = c | DRIFT_BIT if dv.drifting else c & ~DRIFT_BIT

        plain = (c & (STUCK_BIT | NOISY_BIT | DRIFT_BIT)) == 0
        sp = spike.step(s, kn.spike, spike.Evidence(
            t, held.spike_event and not held.starts and plain and not nv.rising,
            held.event_size, held.event_len, s.pending_time,
            held.starts or not plain or nv.unsettled, plain, expected_interval),
            r, peers, pc.moved_start, pc.moved_end, pc.moved_before_start, pc.moved_before_end)

        # -- the state ---------------------------------------------------------------------
        new_state = _OK
        if sp.hold > 0:
            new_state = _SPIKE
        if (c & DRIFT_BIT) != 0:
            new_state = _DRIFT
        if (c & NOISY_BIT) != 0:
            new_state = _NOISY
        if (c & STUCK_BIT) != 0:
            new_state = _STUCK
        new_state = held_state(new_state, held_in)
        co.cond[r] = c
        co.state[r] = new_state
        if new_state != old_state:
            co.since[r] = t
        severity = 0.0
        if new_state == _NOISY:
            severity = math.sqrt(max(s.noise_fast, 0.0))
        elif new_state == _DRIFT:
            severity = abs(s.drift_size) / dv.residual_sd
        q = quality_one(new_state, severity)
        co.quality[r] = q
        reading_quality[i] = min(OUTLIER_READING_QUALITY, q) if held.held_now else q

        # -- remember the reading -----------------------------------------------------------
        # Peers trust a reading only from a healthy sensor that is not repeating itself
        # (it may be stuck and not yet known) and whose offset chart is calm (it may be
        # drifting).
        usable = inlier and (new_state in (_OK, _SPIKE)) and (
            sv.run < p.stuck_min_run) and abs(s.drift_level) < p.peer_trust * dv.level_sd
        flags = (INLIER if inlier else 0) | (USABLE if usable else 0)
        if inlier:
            co.peer_resid[r] = x - ref  # NaN without a reference
        co.ring_value[r, head] = x
        co.ring_time[r, head] = t
        co.ring_slope[r, head] = slope if can else 0.0
        co.ring_offset[r, head] = s.d_mean
        co.ring_level[r, head] = abs(s.drift_size)
        co.ring_flags[r, head] = flags
        co.ring_head[r] = (head + 1) % window
        co.last_time[r] = t
        co.last_value[r] = x
        s.count += 1

        if new_state != old_state:
            k = counter[0]
            changes[k, 0] = r
            changes[k, 1] = old_state
            changes[k, 2] = new_state
            change_quality[k] = q
            change_since[k] = t
            counter[0] = k + 1
            if stop_after_change[position]:
                return position + 1
    return int(order.shape[0])


@compiled
def read_first_line(rows: NDArray[np.int64], group: Any, quality: Any, last_time: Any,
                    row_group: NDArray[np.int64], row_quality: NDArray[np.float64],
                    row_last_time: NDArray[np.float64]) -> None:
    """What a batch needs of each reading's row before the fold: its peer group, its
    quality and its newest time. They share a record's first cache line, so one pass fetches
    it once per reading (three NumPy gathers fetched a large fleet's lines three times)."""
    n = rows.shape[0]
    for i in range(n):
        r = rows[i]
        row_group[i] = group[r]
        row_quality[i] = quality[r]
        row_last_time[i] = last_time[r]


#: The fold, called past numba's typing of its views and knobs (``jit.Direct``).
_FOLD = Direct(fold)


def fold_batch(table: HealthTable, params: AllKnobs, silence_params: SilenceKnobs,
               members: NDArray[np.int64],
               group_index: NDArray[np.int64], rows: NDArray[np.int64],
               values: NDArray[np.float64], times: NDArray[np.float64],
               expected: NDArray[np.float64], received: NDArray[np.float64],
               stamped: NDArray[np.float64], order: NDArray[np.int64], start: int,
               stop_after_change: NDArray[np.bool_],
               reading_quality: NDArray[np.float64], changes: NDArray[np.int64],
               change_quality: NDArray[np.float64], change_since: NDArray[np.float64],
               counter: NDArray[np.int64]) -> int:
    """``fold`` over the table's columns."""
    views = table.views
    # The views and knobs are the only arguments whose types may differ between calls (a
    # table of another window, other knobs); the rest are arrays ``update_many`` made.
    result: int = _FOLD.call((views, params, silence_params),
                             views, params, silence_params, members, group_index, rows,
                             values, times, expected, received, stamped, order, start,
                             stop_after_change, reading_quality, changes, change_quality,
                             change_since, counter, _NO_PEERS)
    return result
