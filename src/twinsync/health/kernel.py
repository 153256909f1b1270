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
local quadratic through the sensor's own recent readings and take the residual; then spike
(Hampel, held until the next readings decide), noise (CUSUM on the squared residual),
stuck (run of unchanged values), drift (EWMA chart of the difference to the reference),
and finally the state and its quality.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from itertools import takewhile
from operator import attrgetter
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..jit import prefetch_cell, prefetch_row
from ._jit import compiled
from .context import RELATIVE, evidence_z2, is_bursty, peer_step, relative_step, shared_with_peers
from .params import HealthParams, knobs_of
from .peers import REF_MODEL, REF_NONE, REF_PEERS, peer_moved_between, peer_noise_rising, peer_view
from .robust import MAD_TO_SD, fit_window
from .silence import SilenceKnobs, arrive_one, held_state
from .states import OUTLIER_READING_QUALITY, State, quality_one
from .table import INLIER, USABLE, HealthTable

#: How many readings ahead the fold asks for a row's state: enough to cover a load from
#: memory with the work on the readings between, few enough to still be in cache.
PREFETCH_AHEAD = 3

STUCK_BIT = 1
NOISY_BIT = 2
DRIFT_BIT = 4

__all__ = [
    "DRIFT_BIT",
    "FOLD_COLUMNS",
    "NOISY_BIT",
    "REF_MODEL",
    "REF_NONE",
    "REF_PEERS",
    "STUCK_BIT",
    "Knobs",
    "diff_sd_one",
    "fold",
    "fold_batch",
    "interval_one",
    "knobs",
    "resolution_one",
]

# Quantisation to a resolution r adds noise of sd r/sqrt(12).
_QUANTISATION_SD = 1.0 / math.sqrt(12.0)
# Readings before the smallest change seen is taken as the resolution (when none is given).
_LEARN_RESOLUTION_AFTER = 96
#: A run of repeated readings this improbable for the sensor gives no drift evidence.
LOG_RUN_P = math.log(0.01)

_OK, _STALE, _STUCK, _SPIKE, _DRIFT, _NOISY, _OFFLINE = (
    int(State.OK), int(State.STALE), int(State.STUCK), int(State.SPIKE), int(State.DRIFT),
    int(State.NOISY), int(State.OFFLINE))


class Knobs(NamedTuple):
    """``HealthParams`` as the compiled code takes them (a named tuple of plain numbers)."""

    window: int
    min_window: int
    warmup: int
    stale_after: float
    offline_after: float
    interval_alpha: float
    hampel_k: float
    spike_hold: int
    spike_confirm: int
    noise_ratio: float
    noise_h: float
    noise_cap: float
    noise_alpha: float
    fast_alpha: float
    noise_big: float
    noise_confirm: int
    noise_recent: int
    tail_share: float
    bursty_noise_h: float
    noise_peer_share: float
    spike_burst: int
    peer_shared_k: float
    peer_shared_share: float
    stuck_min_run: int
    stuck_ref_k: float
    stuck_p: float
    drift_warmup: int
    drift_learn: float
    drift_memory: float
    drift_share_prior: float
    drift_settle: int
    drift_spread: int
    drift_tau: float
    drift_h: float
    drift_exit: float
    drift_min_size: float
    peer_trust: float
    drift_blame: float
    drift_clip: float
    drift_alpha: float
    drift_run_gate: int
    noise_unsettled: float


def knobs(params: HealthParams) -> Knobs:
    """The knobs of ``params``, each as the type the compiled code was built for."""
    return knobs_of(Knobs, params)


# -- small per-row rules, shared by the kernel, the timer and the reasons ---------------------

@compiled
def interval_one(given: float, learned: float) -> float:
    """The expected interval: given if set, else learned (NaN while unknown)."""
    return given if given > 0 else learned


@compiled
def resolution_one(given: float, learned: float, count: int) -> float:
    """The resolution: given if set, else the smallest change the sensor has made (once it
    has made enough readings for that to mean something), else 0."""
    if given > 0:
        return given
    if math.isfinite(learned) and count >= _LEARN_RESOLUTION_AFTER:
        return learned
    return 0.0


@compiled
def diff_sd_one(d_var: float, resolution: float) -> float:
    """Sd of the difference to the reference, floored by the quantisation noise."""
    floor = resolution * _QUANTISATION_SD
    return math.sqrt(max(d_var, max(floor * floor, 1e-18)))


@compiled
def fold(count: Any, interval_given: Any, interval: Any, resolution: Any, res_learned: Any,
         last_time: Any, last_value: Any, ring_head: Any, sigma2: Any, sigma_n: Any,
         step_var: Any, noise_s: Any, noise_quiet: Any, noise_fast: Any, noise_bits: Any,
         character: Any, step_tail: Any, rel_step_var: Any, peer_resid: Any,
         peer_step_var: Any,
         pending: Any, pending_value: Any, pending_size: Any, pending_time: Any,
         spike_hold: Any, spike_size: Any, spike_len: Any, spike_wait: Any, cand_size: Any,
         cand_len: Any, cand_time: Any, cand_end: Any, moved_start: Any, moved_end: Any,
         moved_before_start: Any, moved_before_end: Any,
         gap_level: Any, gap_time: Any, gap_slope: Any, run_len: Any, run_anchor: Any,
         run_ref_start: Any, run_ref_moved: Any, p_same: Any,
         p_same_n: Any, ref_kind: Any, d_n: Any, d_mean: Any, d_var: Any, drift_level: Any,
         drift_var: Any, drift_calm_since: Any, drift_start: Any, reg_w: Any, reg_mx: Any,
         reg_mm: Any, reg_vm: Any, reg_cxm: Any, reg_var: Any, reg_t0: Any, reg_t: Any,
         drift_size: Any, chart_n: Any, cond: Any, state: Any,
         since: Any, quality: Any, ring_value: Any, ring_time: Any, ring_slope: Any,
         ring_offset: Any, ring_level: Any, ring_flags: Any, heard: Any,
         expect: Any, cadence: Any, cadence_n: Any, lag_low: Any, lag_before: Any,
         lag_start: Any, gaps: Any, gap_first: Any, gap_last: Any,
         p: Knobs, sk: SilenceKnobs, members: NDArray[np.int64], group_index: NDArray[np.int64],
         rows: NDArray[np.int64], values: NDArray[np.float64], times: NDArray[np.float64],
         expected: NDArray[np.float64], received: NDArray[np.float64],
         stamped: NDArray[np.float64], order: NDArray[np.int64],
         start: int, stop_after_change: NDArray[np.bool_],
         reading_quality: NDArray[np.float64], changes: NDArray[np.int64],
         change_quality: NDArray[np.float64], change_since: NDArray[np.float64],
         counter: NDArray[np.int64]) -> int:
    """Fold the readings ``order[start:]`` in, one by one; return where it stopped.

    Each reading's arrival (``received``) is noted first (``silence.arrive_one``), with
    the stamp its device gave it (``stamped``: ``times`` before the pipeline corrected a
    clock that runs ahead); the state that holds its sensor is shown instead of ``ok``.

    ``reading_quality[i]`` gets reading i's quality. A state change is appended to
    ``changes`` ([k, 0:3] = row, old, new), ``change_quality`` and ``change_since``, with
    ``counter[0]`` the number so far. After a change at a position where
    ``stop_after_change`` is set (the row has later readings in the batch), the fold
    returns, so the caller can describe the change before those readings move the row on.
    """
    window = p.window
    work = np.empty((7, max(window, 9)))
    present = np.empty(window, dtype=np.bool_)
    ring_x = np.empty(window)
    ring_t = np.empty(window)
    peer_work = np.empty((3, max(members.shape[1], 1)))
    rho2 = p.noise_ratio * p.noise_ratio
    gain = 0.5 * (1.0 - 1.0 / rho2)
    cost = 0.5 * math.log(rho2)
    noise_mask = (1 << p.noise_recent) - 1
    log_stuck_p = math.log(p.stuck_p)
    for position in range(start, order.shape[0]):
        if position + PREFETCH_AHEAD < order.shape[0]:
            # ``count`` is the first field: its view starts each row's record.
            prefetch_row(count, rows[order[position + PREFETCH_AHEAD]])
            prefetch_row(heard, rows[order[position + PREFETCH_AHEAD]])
        if position + 1 < order.shape[0]:
            # The peer-ring slot this reading's successor writes (its head is in the record
            # asked for above, readings ago). A store that misses the cache holds up every
            # store behind it.
            coming = rows[order[position + 1]]
            prefetch_cell(ring_slope, coming, ring_head[coming])
        i = order[position]
        r = rows[i]
        x = values[i]
        t = times[i]
        held_in = arrive_one(r, received[i], stamped[i], interval_given, state, heard,
                             expect, cadence, cadence_n, lag_low, lag_before, lag_start,
                             gaps, gap_first, gap_last, sk)
        old_state = int(state[r])
        c = int(cond[r])

        # -- interval, and forgetting after a silence ---------------------------------
        prev_t = last_time[r]
        has_prev = math.isfinite(prev_t)
        gap = t - prev_t if has_prev else np.nan
        learned = interval[r]
        if interval_given[r] <= 0 and has_prev and gap > 0:
            if math.isnan(learned):
                interval[r] = gap
            else:
                clipped = min(max(gap, 0.5 * learned), 2.0 * learned)
                interval[r] = learned + p.interval_alpha * (clipped - learned)
        expected_interval = interval_one(interval_given[r], interval[r])
        long_gap = has_prev and gap > p.stale_after * expected_interval
        tiny = 1e-9 * max(1.0, abs(x))
        # Without a given resolution, the smallest change a sensor makes is its quantum.
        change = abs(x - last_value[r])
        if has_prev and change > tiny:
            res_learned[r] = min(res_learned[r], change)
        res = resolution_one(resolution[r], res_learned[r], count[r])
        hold_tolerance = max(0.5 * res, tiny)
        released = (c & STUCK_BIT) != 0 and not (abs(x - run_anchor[r]) <= hold_tolerance)
        if long_gap or released:
            # After a silence, or when a stuck sensor moves again, the old window no longer
            # predicts; a held outlier and a run of equal values lose their meaning too.
            # Drift does not heal by silence: kept.
            for j in range(window):
                ring_flags[r, j] &= ~INLIER
            pending[r] = 0
            run_len[r] = 0
            if long_gap:
                c &= ~(STUCK_BIT | NOISY_BIT)
                # What is left to judge the first readings after the silence by: the last
                # reading before it, carried along its slope (``gap_level``, below).
                gap_level[r] = last_value[r]
                gap_time[r] = prev_t
                gap_slope[r] = ring_slope[r, (ring_head[r] - 1) % window]

        # -- the reference ----------------------------------------------------------------
        # ``ref`` (what the sensor is expected to follow) serves stuck; ``consensus`` (the
        # same, where the peers agree with each other) serves drift.
        ref = expected[i]
        consensus = ref
        kind = REF_MODEL if math.isfinite(ref) else REF_NONE
        peer_offset = 0.0
        if not math.isfinite(ref) and group_index[i] >= 0:
            ref, consensus, peer_offset = peer_view(
                members[group_index[i]], r, t, ring_time, ring_flags, ring_value, ring_offset,
                ring_slope, ring_level, interval_given, interval, p.stale_after, peer_work)
            kind = REF_PEERS if math.isfinite(ref) else REF_NONE
        if kind != REF_NONE:
            ref_kind[r] = kind

        # -- the robust fit of the sensor's own recent readings ------------------------
        head = ring_head[r]
        inliers = 0
        newest = window - 1
        for j in range(window):
            slot = (head + j) % window  # oldest → newest
            present[j] = (ring_flags[r, slot] & INLIER) != 0
            ring_x[j] = ring_value[r, slot]
            ring_t[j] = ring_time[r, slot]
            if present[j]:
                inliers += 1
                newest = j
        # While outliers are held the window loses a trusted reading to each of them; a
        # burst of up to ``spike_burst`` must still be judged against the level before it.
        can = inliers >= p.min_window or (pending[r] > 0 and inliers >= 4)
        pred, slope, mad, leverage, curvature = np.nan, 0.0, 0.0, 0.0, 0.0
        if can:
            pred, slope, mad, leverage, curvature = fit_window(ring_x, ring_t, present, t,
                                                               work)
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
        bursty = is_bursty(character[r], step_tail[r], p.tail_share)
        after_gap = not can and math.isfinite(gap_level[r]) and has_prev and not bursty
        if can:
            gap_level[r] = np.nan
        elif after_gap:
            elapsed = max(t - gap_time[r], 0.0)
            pred = gap_level[r] + gap_slope[r] * elapsed
            spread = 2.0 * math.sqrt(max(elapsed / expected_interval, 1.0)) \
                if math.isfinite(expected_interval) and expected_interval > 0 else np.inf
        resid = x - pred

        sd = math.sqrt(sigma2[r])
        noise_sd = max(max(sd, res * _QUANTISATION_SD), tiny)
        # Quantisation alone moves a reading by up to half a step: that is the least scale.
        scale = max(max(MAD_TO_SD * mad, sd), max(0.5 * res, tiny))
        if not can:
            # No window to measure the spread of its residuals: the sensor's step sd.
            scale = max(scale, math.sqrt(step_var[r]))
        # A gauge whose noise grows with its level (vibration RMS) shakes more in a burst
        # than at night: its yardstick grows with the level it is at (half its relative
        # step variance is the relative variance of one reading).
        if character[r] == RELATIVE and rel_step_var[r] > 0 and math.isfinite(pred):
            scale = max(scale, math.sqrt(0.5 * rel_step_var[r]) * max(abs(pred), 2.0 * res))
        warm = sigma_n[r] >= p.warmup
        judged = (can or after_gap) and warm
        was_noisy = (c & NOISY_BIT) != 0
        # The reading moved with its group's consensus: the process, not the sensor.
        d_sd = diff_sd_one(d_var[r], res)  # d_var is next written after the stuck check
        shared = shared_with_peers(x, ref, d_mean[r], d_sd, resid,
                                   kind == REF_PEERS and d_n[r] >= p.drift_warmup,
                                   p.peer_shared_k, p.peer_shared_share)
        far_off = judged and not was_noisy and abs(resid) > p.hampel_k * spread * scale
        outlier = far_off and not shared
        # A jump the peers made too is no evidence of the sensor's noise either: the peers'
        # readings older than this one lag a sharp transient, so its step against them
        # would be large as well.
        group_jump = far_off and shared

        # -- spike: hold outliers until the next readings decide -----------------------
        held_count = pending[r]
        held_size = pending_size[r]
        held = held_count > 0
        # A reading after a held outlier continues it when it is nearer the outlier than
        # the prediction (on the same side); otherwise the held readings were a spike.
        near = abs(x - pending_value[r]) < abs(resid)
        continues = held and near and _sign(resid) == _sign(held_size)
        # Up to ``spike_burst`` held readings may be one spike (welding heat lasts a few
        # readings); one more, or a held reading the peers moved with, is a level change.
        level_shift = continues and (held_count >= p.spike_burst or shared)
        spike_event = held and not continues
        starts = outlier and not continues
        event_size = held_size if spike_event else 0.0
        event_len = held_count if spike_event else 0
        if starts:
            pending[r] = 1
            pending_time[r] = t
        elif continues and not level_shift:
            pending[r] = held_count + 1
        else:
            pending[r] = 0
        pending_value[r] = x if starts or continues else np.nan
        if starts or (continues and abs(resid) > abs(held_size)):
            pending_size[r] = resid
        if level_shift:
            # The held readings and this one agree on a new level: it is real. Restart the
            # window from them.
            gap_level[r] = np.nan
            for j in range(window):
                ring_flags[r, j] &= ~INLIER
            for back in range(1, min(held_count, window - 1) + 1):
                ring_flags[r, (head - back) % window] |= INLIER
        inlier = (not outlier and not continues) or level_shift
        if far_off or continues:
            # Kept beyond the ring (nine readings: minutes on a 1-minute gauge) for as
            # long as a peer's spike takes to be announced.
            if not t - moved_end[r] <= 3.0 * expected_interval:
                moved_before_start[r] = moved_start[r]
                moved_before_end[r] = moved_end[r]
                moved_start[r] = t
            moved_end[r] = t

        # -- noise: CUSUM for a rise of the step sd by ``noise_ratio`` --------------------
        # The evidence is the step from the last trusted reading, less the local trend:
        # noise makes every step large, while a real level change makes one large step and
        # a lagging fit would make several large residuals. The trend is the fitted curve's
        # own rise since that reading, not the slope times the time: after held outliers
        # the step spans several intervals, and on a steep, curving daily cycle a straight
        # line would leave the curve's bend in the step and call a returning spike noise.
        has_last = inliers > 0
        since_last = t - ring_t[newest]
        trend = slope * since_last - curvature * since_last * since_last
        step_change = x - ring_x[newest] - trend if has_last else np.nan
        floor = 2.0 * (res * _QUANTISATION_SD) ** 2
        step_sd = math.sqrt(max(step_var[r], max(floor, tiny * tiny)))
        cap2 = p.noise_cap ** 2
        own_z2 = min((step_change / step_sd) ** 2, cap2)
        # A sensor whose noise grows with its level (vibration RMS) is judged on its steps
        # relative to the level; and wherever the peers are known, on its step against
        # their consensus as well (``context``).
        rel_change = (relative_step(step_change, ring_x[newest], res) if has_last
                      else np.nan)
        if character[r] == RELATIVE and has_last and rel_step_var[r] > 0:
            own_z2 = min(rel_change * rel_change / rel_step_var[r], cap2)
        resid_step = peer_step(x, ref, peer_resid[r]) if has_last else np.nan
        if character[r] == RELATIVE and math.isfinite(resid_step):
            # Its residual against the peers grows with the level too (each gauge sees
            # the work's shaking by its own factor): judged relative to the level.
            resid_step = relative_step(resid_step, ref, res)
        peer_z2 = np.nan
        if math.isfinite(resid_step) and peer_step_var[r] > 0:
            peer_sd2 = max(peer_step_var[r], max(floor, tiny * tiny))
            peer_z2 = min(resid_step * resid_step / peer_sd2, cap2)
        z2 = evidence_z2(own_z2, peer_z2)
        noise_h = p.noise_h * p.bursty_noise_h if bursty else p.noise_h
        # Not the first reading after held outliers: its step spans several intervals,
        # and the trend carried over them is less certain than one interval's step sd
        # allows, so a spike's return would count as noise and drop the spike.
        counted = judged and inlier and has_last and not held and not group_jump
        llr = gain * z2 - cost if counted else 0.0
        cusum = max(0.0, noise_s[r] + llr) if counted else noise_s[r]
        quiet = max(0.0, noise_quiet[r] - llr) if counted and was_noisy else 0.0
        if counted:
            noise_fast[r] = noise_fast[r] + p.fast_alpha * (z2 - noise_fast[r])
            big = 1 if z2 > p.noise_big ** 2 else 0
            noise_bits[r] = ((noise_bits[r] << 1) | big) & noise_mask
        # Large steps among the last few: noise makes many, the edges of a level change few.
        many_big = _popcount(noise_bits[r]) >= p.noise_confirm
        if not was_noisy and cusum > noise_h and many_big and not (
                group_index[i] >= 0 and peer_noise_rising(
                    members[group_index[i]], r, noise_s, cond, character, step_tail,
                    p.noise_h, p.bursty_noise_h, p.tail_share, p.noise_peer_share,
                    NOISY_BIT)):
            c |= NOISY_BIT
        if was_noisy and quiet > p.noise_h:
            c &= ~NOISY_BIT
            cusum = 0.0
        noise_s[r] = cusum
        noise_quiet[r] = quiet
        noisy = (c & NOISY_BIT) != 0

        # The noise baseline learns from ordinary readings only.
        n_sigma = sigma_n[r]
        # A vibration gauge's steps are wider all through the working day than at night:
        # stopping its baseline whenever the evidence rises would leave it at the night's
        # and call every busy day noisy. It learns on until it is named noisy.
        learn_sigma = can and inlier and not noisy and (
            cusum < 0.5 * p.noise_h or character[r] == RELATIVE) and (
            old_state in (_OK, _SPIKE) or not warm)
        if learn_sigma:
            alpha = 1.0 / (n_sigma + 1.0) if n_sigma < p.warmup else p.noise_alpha
            unit_resid = resid / spread
            capped = (min(unit_resid ** 2, (p.noise_cap * noise_sd) ** 2) if warm
                      else unit_resid ** 2)
            sigma2[r] = sigma2[r] + alpha * (capped - sigma2[r])
            if has_last:
                step2 = (min(step_change ** 2, (p.noise_cap * step_sd) ** 2) if warm
                         else step_change ** 2)
                step_var[r] = step_var[r] + alpha * (step2 - step_var[r])
                rel2 = rel_change * rel_change
                if warm:
                    rel2 = min(rel2, cap2 * rel_step_var[r])
                # The character: how often an ordinary step is beyond 3 sd.
                # (From the 16th step on: before that the step sd is no yardstick.)
                if n_sigma >= 16:
                    beyond = 1.0 if step_change ** 2 > 9.0 * step_sd * step_sd else 0.0
                    step_tail[r] = step_tail[r] + alpha * (beyond - step_tail[r])
                rel_step_var[r] = rel_step_var[r] + alpha * (rel2 - rel_step_var[r])
            if math.isfinite(resid_step):
                # Peers may come later than the sensor's first reading: the first step
                # against them starts the baseline.
                resid2 = resid_step * resid_step
                if warm and peer_step_var[r] > 0:
                    resid2 = min(resid2, cap2 * peer_step_var[r])
                peer_alpha = 1.0 if peer_step_var[r] <= 0 else alpha
                peer_step_var[r] = peer_step_var[r] + peer_alpha * (resid2 - peer_step_var[r])
            sigma_n[r] = n_sigma + 1

        # -- stuck: a run of readings within half a resolution of the run's first ------
        run = run_len[r]
        same = run > 0 and abs(x - run_anchor[r]) <= hold_tolerance
        if same:
            run += 1
            ref_start = run_ref_start[r]
        else:
            run = 1
            ref_start = ref
            run_anchor[r] = x
        if math.isnan(ref_start):
            ref_start = ref
        # How far the reference has moved since the run began (now, not the most it ever
        # was: a maximum would grow with the reference's own noise).
        if same and math.isfinite(ref):
            moved = abs(ref - ref_start)
        elif same:
            moved = run_ref_moved[r]
        else:
            moved = 0.0
        run_len[r] = run
        run_ref_start[r] = ref_start
        run_ref_moved[r] = moved
        # How often this sensor repeats itself when healthy, to judge a run without peers.
        n_same = p_same_n[r]
        if has_prev and not long_gap and old_state == _OK and (c & STUCK_BIT) == 0:
            rate = 1.0 / (n_same + 2.0) if n_same < 96 else 0.01
            p_same[r] = p_same[r] + rate * ((1.0 if same else 0.0) - p_same[r])
            p_same_n[r] = n_same + 1
        likely = min(max(p_same[r], 0.02), 0.98)
        # A sensor whose noise grows with its level (vibration) repeats itself at night and
        # seldom by day: its rate of repeats says little about one night's run. With peers
        # to follow, it is judged by them alone.
        # Nor is a run the peers held still through (their consensus within one step of
        # the sensor's resolution): a coarse room sensor's quiet night is its peers' too.
        peers_still = kind == REF_PEERS and d_n[r] >= p.drift_warmup and moved < 1.5 * res
        own_history = n_same >= p.warmup and (run - 1) * math.log(likely) < log_stuck_p and (
            not (character[r] == RELATIVE and kind == REF_PEERS)) and not peers_still
        reference_moved = d_n[r] >= p.drift_warmup and (
            moved > p.stuck_ref_k * d_sd + 2.0 * res)
        was_stuck = (c & STUCK_BIT) != 0
        stuck = same and (was_stuck or (run >= p.stuck_min_run
                                        and (reference_moved or own_history)))
        c = c | STUCK_BIT if stuck else c & ~STUCK_BIT

        # -- drift: the reading against what its peers' consensus predicts for it -------
        # A sensor follows its peers' consensus m as x = mx + share (m - mm) + residual: its
        # own offset, and its own share of what the group sees (a gauge carries 0.92 of a
        # column's load, a sensor nearer the heater 1.1 of the room's rise). Both are
        # learned as exponentially weighted moments over ``drift_memory``, from calm
        # readings only. A drift, a calibration step or a sensor wired to another bay is a
        # residual that persists: its EWMA over ``drift_tau`` (each residual clipped at
        # ``drift_clip`` residual sd) is charted against the chart's own learned spread
        # (the residuals are autocorrelated; a chart assuming white noise would cry drift).
        diff = x - consensus
        n_diff = d_n[r]
        # No drift evidence from a sensor whose noise is rising (the CUSUM past half-way,
        # or the fast estimate high): a noise burst's wide readings would walk the chart
        # before the sensor is known to be noisy.
        noise_rising = cusum >= 0.5 * p.noise_h
        unsettled = noise_rising or noise_fast[r] > p.noise_unsettled
        # Nor from a reading that repeats the last few values more often than this sensor
        # does when healthy (it may be freezing, not yet known stuck). A coarse sensor
        # repeats itself all the time: gating all its runs would leave its chart updated
        # on half the readings, lagging its peers' and losing the blame.
        repeating = run >= p.drift_run_gate and (run - 1) * math.log(likely) < LOG_RUN_P
        evidence = (math.isfinite(diff) and inlier and not repeating and not stuck
                    and not noisy and not unsettled)
        weight = reg_w[r]
        fitted = weight > 0
        prior = (p.drift_share_prior * noise_sd) ** 2
        share = min(max((reg_cxm[r] + prior) / (reg_vm[r] + prior), 0.2), 5.0)
        e = (x - reg_mx[r]) - share * (consensus - reg_mm[r]) if fitted else 0.0
        learned_for = t - reg_t0[r] if fitted else 0.0
        learning = evidence and (n_diff < p.drift_warmup or not learned_for >= p.drift_learn)
        charting = evidence and not learning
        if evidence and fitted and (c & DRIFT_BIT) == 0 and has_prev:
            # The share is learned on while the chart is out (the offset is not): a share
            # fitted on days without a load step or a pour would leave every later one as
            # an offset that never heals. A drift or a calibration step moves the sensor
            # alone, which leaves the share as it was.
            keep = math.exp(-min(max(gap, 0.0), p.drift_memory) / p.drift_memory)
            dx = x - reg_mx[r]
            dm = consensus - reg_mm[r]
            reg_vm[r] = keep * reg_vm[r] + (1.0 - keep) * dm * dm
            reg_cxm[r] = keep * reg_cxm[r] + (1.0 - keep) * dx * dm
        e_sd = diff_sd_one(reg_var[r], res)
        level = drift_level[r]
        size = drift_size[r]
        if charting:
            step = min(max(gap, 0.0), p.drift_tau) if has_prev else 0.0
            alpha = 1.0 - math.exp(-step / p.drift_tau)
            clipped = min(max(e, -p.drift_clip * e_sd), p.drift_clip * e_sd)
            level = level + alpha * (clipped - level)
            size = size + alpha * (e - size)
        # The chart's spread for white residuals at the sensor's own pace: its floor.
        pace = 1.0 - math.exp(-min(expected_interval, p.drift_tau) / p.drift_tau) \
            if math.isfinite(expected_interval) else 0.05
        white = e_sd * e_sd * pace / (2.0 - pace)
        spread_n = chart_n[r] - p.drift_settle  # samples of the spread so far
        level_var = drift_var[r]
        level_sd = math.sqrt(max(level_var, white))
        judging = charting and spread_n >= p.drift_spread
        calm = charting and spread_n >= 0 and abs(level) < 2.0 * level_sd and (
            old_state == _OK)
        if calm:
            rate = (1.0 / (max(spread_n, 0) + 1.0) if spread_n < p.drift_spread
                    else p.drift_alpha)
            drift_var[r] = level_var + rate * (level * level - level_var)
        # Every charted reading counts towards the time the spread is first measured in,
        # the calm ones only towards the spread: a level that left before the spread was
        # known would otherwise never be calm again, the spread never known and the sensor
        # never judged (a column's gauge sat so for the rest of the tune set, its
        # cross-wiring to the next bay unseen).
        if charting and (spread_n < p.drift_spread or calm):
            chart_n[r] = chart_n[r] + 1
        if learning or calm:
            decay = math.exp(-max(t - reg_t[r], 0.0) / p.drift_memory) if fitted else 0.0
            weight = decay * weight + 1.0
            a = 1.0 / weight
            if fitted:
                reg_var[r] = (1.0 - a) * reg_var[r] + a * e * e
            else:
                reg_t0[r] = t
            reg_mx[r] = reg_mx[r] + a * (x - reg_mx[r])
            reg_mm[r] = reg_mm[r] + a * (consensus - reg_mm[r])
            reg_w[r] = weight
            reg_t[r] = t
            # The plain difference to the consensus: the offset peers take off this
            # sensor's readings, and the yardstick of stuck and shared moves.
            mean = d_mean[r]
            var = d_var[r]
            rate = 1.0 / (n_diff + 1.0) if n_diff < p.drift_warmup else p.drift_alpha
            new_mean = mean + rate * (diff - mean)
            d_mean[r] = new_mean
            d_var[r] = var + rate * ((diff - mean) * (diff - new_mean) - var)
            d_n[r] = n_diff + 1
        if abs(level) <= level_sd:
            drift_calm_since[r] = t
        was_drifting = (c & DRIFT_BIT) != 0
        chart = abs(level) / level_sd
        # In a group, the sensor furthest out is the one to blame: a drifting peer pulls
        # the others' consensus by half its drift, and they must not be called drifting
        # for it. Furthest in the property's unit, not in each chart's own sd: a quiet
        # sensor's chart is narrower, and would otherwise take the blame for a noisy
        # peer's drift.
        # And only an offset that matters: a chart narrowed by calm days leaves its line on
        # the slow wander of a sensor's bias, an offset of one or two residual sd.
        material = abs(size) > p.drift_min_size * e_sd
        drift_on = (not was_drifting and judging and chart > p.drift_h and material
                    and abs(size) > p.drift_blame * peer_offset)
        drift_off = was_drifting and charting and (
            abs(level) < p.drift_exit * level_sd
            or abs(size) < 0.5 * p.drift_min_size * e_sd)
        if drift_on:
            drift_start[r] = drift_calm_since[r]
            c |= DRIFT_BIT
        # Leaving drift, or a stuck or noisy sensor, starts the evidence afresh: a frozen
        # value against moving peers is stuck, not drift, and must not turn into drift
        # later. (A peer in drift is no longer in the consensus: its readings are not
        # usable, so it stops pulling ours.)
        if (drift_off or stuck or noisy) and not drift_on:
            c &= ~DRIFT_BIT
            level = 0.0
            size = 0.0
        drift_level[r] = level
        drift_size[r] = size

        # -- the state ---------------------------------------------------------------------
        plain = (c & (STUCK_BIT | NOISY_BIT | DRIFT_BIT)) == 0
        # A spike is a candidate when the readings return; it is announced after
        # ``spike_confirm`` ordinary readings more. Another outlier, rising or unsettled
        # noise or another state in that time drops it: that is how a noise burst begins.
        candidate = spike_event and not starts and plain and not noise_rising
        if candidate:
            cand_size[r] = event_size
            cand_len[r] = event_len
            cand_time[r] = pending_time[r]
            cand_end[r] = t
        wait = spike_wait[r]
        doubtful = starts or not plain or unsettled
        if p.spike_confirm > 0:
            new_spike = wait == 1 and not doubtful and not candidate
            if new_spike and group_index[i] >= 0:
                # A burst the peers saw too (piling, a knock on the slab) is the process:
                # their readings were far off their own fits in the same span. Told only now,
                # when the span is over: while it lasted, their readings were not yet in.
                new_spike = not peer_moved_between(
                    members[group_index[i]], r, cand_time[r] - expected_interval,
                    cand_end[r], moved_start, moved_end, moved_before_start,
                    moved_before_end)
            if candidate:
                wait = p.spike_confirm
            elif doubtful:
                wait = 0
            else:
                wait = max(wait - 1, 0)
        else:
            new_spike = candidate
        spike_wait[r] = wait
        hold = p.spike_hold if new_spike else max(spike_hold[r] - 1, 0)
        if not plain:
            hold = 0
        spike_hold[r] = hold
        if new_spike:
            spike_size[r] = cand_size[r]
            spike_len[r] = cand_len[r]

        new_state = _OK
        if hold > 0:
            new_state = _SPIKE
        if (c & DRIFT_BIT) != 0:
            new_state = _DRIFT
        if (c & NOISY_BIT) != 0:
            new_state = _NOISY
        if (c & STUCK_BIT) != 0:
            new_state = _STUCK
        new_state = held_state(new_state, held_in)
        cond[r] = c
        state[r] = new_state
        if new_state != old_state:
            since[r] = t
        severity = 0.0
        if new_state == _NOISY:
            severity = math.sqrt(max(noise_fast[r], 0.0))
        elif new_state == _DRIFT:
            severity = abs(drift_size[r]) / e_sd
        q = quality_one(new_state, severity)
        quality[r] = q
        held_now = (outlier or continues) and not level_shift
        reading_quality[i] = min(OUTLIER_READING_QUALITY, q) if held_now else q

        # -- remember the reading -----------------------------------------------------------
        # Peers trust a reading only from a healthy sensor that is not repeating itself
        # (it may be stuck and not yet known) and whose offset chart is calm (it may be
        # drifting).
        usable = inlier and (new_state in (_OK, _SPIKE)) and (
            run < p.stuck_min_run) and abs(drift_level[r]) < p.peer_trust * level_sd
        flags = (INLIER if inlier else 0) | (USABLE if usable else 0)
        if inlier:
            peer_resid[r] = x - ref  # NaN without a reference
        ring_value[r, head] = x
        ring_time[r, head] = t
        ring_slope[r, head] = slope if can else 0.0
        ring_offset[r, head] = d_mean[r]
        ring_level[r, head] = abs(drift_size[r])
        ring_flags[r, head] = flags
        ring_head[r] = (head + 1) % window
        last_time[r] = t
        last_value[r] = x
        count[r] += 1

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


#: The table columns ``fold`` takes: its parameters before the knobs, in their order.
FOLD_COLUMNS = tuple(takewhile(lambda name: name != "p", inspect.signature(fold).parameters))
if not set(FOLD_COLUMNS) <= set(HealthTable.column_names()):
    raise ImportError(f"fold takes what is not a health column: "
                      f"{sorted(set(FOLD_COLUMNS) - set(HealthTable.column_names()))}")
#: Every column ``fold`` takes, in one C call: a checked ``table.column`` call per column
#: added tens of microseconds to each batch, more than the fold of one or two readings.
_fold_columns = attrgetter(*FOLD_COLUMNS)


def fold_batch(table: HealthTable, params: Knobs, silence_params: SilenceKnobs,
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
    run: Callable[..., int] = fold
    return run(*_fold_columns(table), params, silence_params,
               members, group_index, rows, values, times, expected, received, stamped, order,
               start, stop_after_change,
               reading_quality, changes, change_quality, change_since, counter)


@compiled
def _sign(value: float) -> float:
    """``np.sign``: NaN stays NaN (and compares unequal to everything)."""
    if value > 0:
        return 1.0
    if value < 0:
        return -1.0
    if value == 0:
        return 0.0
    return np.nan


@compiled
def _popcount(bits: int) -> int:
    total = 0
    while bits:
        bits &= bits - 1
        total += 1
    return total
