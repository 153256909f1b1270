"""One vectorised step of every health check over a set of distinct rows, one reading each.

``HealthMonitor.update_many`` cuts a batch into waves in which no two readings depend on
each other (distinct rows, and a reading comes after every peer reading older than it) and
calls ``step`` once per wave. ``learn_one`` calls it with a wave of one. Both run the same
arithmetic, which is why they give the same numbers.

Per reading, in order: learn the interval and forget the window after a long silence; look
up the reference (the model's ``expected`` value, else the median of the peers' latest
trusted readings older than this one, carried to this time along their local slope); fit a
local quadratic through the sensor's own recent readings and take the residual; then spike
(Hampel, held until the next readings decide), noise (CUSUM on the squared residual),
stuck (run of unchanged values), drift (CUSUM on the difference to the reference), and
finally the state and its quality.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .params import HealthParams
from .robust import MAD_TO_SD, local_quadratic, rows_nanmedian
from .states import OUTLIER_READING_QUALITY, State, quality_of
from .table import DRIFTING, INLIER, USABLE, HealthTable

STUCK_BIT = 1
NOISY_BIT = 2
DRIFT_BIT = 4

#: Reference kinds, for the reason text.
REF_NONE, REF_PEERS, REF_MODEL = 0, 1, 2

# Quantisation to a resolution r adds noise of sd r/sqrt(12).
_QUANTISATION_SD = 1.0 / np.sqrt(12.0)
# Readings before the smallest change seen is taken as the resolution (when none is given).
_LEARN_RESOLUTION_AFTER = 96


@dataclass(slots=True)
class PeerView:
    """What a sensor's peers say at the time of its reading."""

    median: NDArray[np.float64]
    """Median of the usable peers (the reference for stuck)."""
    consensus: NDArray[np.float64]
    """The median where at least two usable peers agree, else NaN (the reference for drift)."""
    largest_offset: NDArray[np.float64]
    """Largest smoothed offset (absolute, in the property's unit) among the peers heard."""
    peer_drifting: NDArray[np.bool_]
    """A peer heard from is in drift."""


@dataclass(slots=True)
class StepResult:
    rows: NDArray[np.int64]
    old: NDArray[np.int64]
    new: NDArray[np.int64]
    reading_quality: NDArray[np.float64]


def interval_of(table: HealthTable, rows: NDArray[np.int64]) -> NDArray[np.float64]:
    """The expected interval: given if set, else learned (NaN while unknown)."""
    given = table.interval_given[rows]
    return np.where(given > 0, given, table.interval[rows])


def severity_of(table: HealthTable, rows: NDArray[np.int64]) -> NDArray[np.float64]:
    """The severity ``quality_of`` needs, for reading-driven states."""
    noise = np.sqrt(np.maximum(table.noise_fast[rows], 0.0))
    drift = np.abs(table.drift_level[rows]) / diff_sd(table, rows)
    state = table.state[rows]
    severity: NDArray[np.float64] = np.where(
        state == State.NOISY, noise, np.where(state == State.DRIFT, drift, 0.0))
    return severity


def resolution_of(table: HealthTable, rows: NDArray[np.int64]) -> NDArray[np.float64]:
    """The resolution: given if set, else the smallest change the sensor has made (once it
    has made enough readings for that to mean something), else 0."""
    given = table.resolution[rows]
    learned = table.res_learned[rows]
    known = np.isfinite(learned) & (table.count[rows] >= _LEARN_RESOLUTION_AFTER)
    resolution: NDArray[np.float64] = np.where(given > 0, given, np.where(known, learned, 0.0))
    return resolution


def diff_sd(table: HealthTable, rows: NDArray[np.int64]) -> NDArray[np.float64]:
    """Sd of the difference to the reference, floored by the quantisation noise."""
    floor = resolution_of(table, rows) * _QUANTISATION_SD
    variance = np.maximum(table.d_var[rows], np.maximum(floor * floor, 1e-18))
    sd: NDArray[np.float64] = np.sqrt(variance)
    return sd


def peer_reference(table: HealthTable, params: HealthParams, members: NDArray[np.int64],
                   group_index: NDArray[np.int64], rows: NDArray[np.int64],
                   times: NDArray[np.float64]) -> PeerView:
    """Median of the peers' latest trusted, fresh readings older than ``times``; the same
    median where at least two of those peers agree with each other (NaN elsewhere), which
    is the only reference a drift may be judged against; the largest smoothed offset among
    the peers heard from; and whether one of them is in drift.

    Each peer's reading is carried to the asking time along the slope of its own local
    fit, so readings minutes apart on a daily cycle still compare like for like. The raw
    reading is used, not a smoothed one: smoothing lags a cycle and would bias the median.
    Each peer's learned offset is taken off first, so the reference is the group's
    consensus whichever peers are present.
    Only readings strictly older than the asking one count: then the answer does not
    depend on which of two simultaneous readings was processed first.

    Agreement: the peers' spread is within ``peer_agree`` sd of what their noise explains.
    A frozen peer not yet known to be stuck, or a drifting one, makes two peers disagree;
    the drift reference is then absent rather than wrong, because the difference to it
    could not say which sensor moved. With three or more peers the one furthest from the
    median may be left out once.
    """
    peers = members[group_index]  # [n, m]
    valid = (peers >= 0) & (peers != rows[:, None])
    safe = np.where(valid, peers, 0)
    ring_time = table.ring_time[safe]  # [n, m, window]
    older = (ring_time < times[:, None, None]) & valid[:, :, None]
    pick = np.argmax(np.where(older, ring_time, -np.inf), axis=2)[:, :, None]
    found = np.take_along_axis(older, pick, axis=2)[:, :, 0]
    when = np.take_along_axis(ring_time, pick, axis=2)[:, :, 0]
    flags = np.take_along_axis(table.ring_flags[safe], pick, axis=2)[:, :, 0]
    value = np.take_along_axis(table.ring_value[safe], pick, axis=2)[:, :, 0]
    offset = np.take_along_axis(table.ring_offset[safe], pick, axis=2)[:, :, 0]
    slope = np.take_along_axis(table.ring_slope[safe], pick, axis=2)[:, :, 0]
    age = times[:, None] - when
    peer_interval = interval_of(table, safe.ravel()).reshape(safe.shape)
    fresh = age <= params.stale_after * np.where(np.isnan(peer_interval), np.inf, peer_interval)
    usable = found & ((flags & USABLE) != 0) & fresh
    noise = np.take_along_axis(table.ring_noise[safe], pick, axis=2)[:, :, 0]
    with np.errstate(invalid="ignore"):
        carried = np.where(usable, value - offset + slope * age, np.nan)
    level = np.take_along_axis(table.ring_level[safe], pick, axis=2)[:, :, 0]
    heard = found & fresh
    largest = np.max(np.where(heard, level, 0.0), axis=1)
    drifting = np.any(heard & ((flags & DRIFTING) != 0), axis=1)
    median = rows_nanmedian(carried)
    agree = _agree(carried, noise, usable, params.peer_agree)
    # Leave the peer furthest from the median out once, where that leaves two or more.
    distance = np.where(usable, np.abs(carried - median[:, None]), -np.inf)
    furthest = np.argmax(distance, axis=1)
    kept = usable & (np.arange(usable.shape[1])[None, :] != furthest[:, None])
    kept_agree = ~agree & (usable.sum(axis=1) >= 3) & _agree(carried, noise, kept,
                                                             params.peer_agree)
    kept_median = rows_nanmedian(np.where(kept, carried, np.nan))
    consensus = np.where(agree, median, np.where(kept_agree, kept_median, np.nan))
    return PeerView(median, consensus, largest, drifting)


def _agree(carried: NDArray[np.float64], noise: NDArray[np.float64],
           usable: NDArray[np.bool_], k: float) -> NDArray[np.bool_]:
    """At least two usable peers, and their range within ``k`` sd of a difference of two."""
    count = usable.sum(axis=1)
    mean_var = np.where(usable, noise * noise, 0.0).sum(axis=1) / np.maximum(count, 1)
    high = np.max(np.where(usable, carried, -np.inf), axis=1)
    low = np.min(np.where(usable, carried, np.inf), axis=1)
    with np.errstate(invalid="ignore"):
        agree: NDArray[np.bool_] = (count >= 2) & (high - low <= k * np.sqrt(2.0 * mean_var))
    return agree


def step(table: HealthTable, params: HealthParams, members: NDArray[np.int64],
         group_index: NDArray[np.int64], rows: NDArray[np.int64], x: NDArray[np.float64],
         t: NDArray[np.float64], expected: NDArray[np.float64]) -> StepResult:
    """Fold one reading per row (rows distinct) into the table."""
    p = params
    window = p.window
    old_state = table.state[rows].astype(np.int64)
    cond = table.cond[rows].copy()

    # -- interval, and forgetting after a silence -------------------------------------
    prev_t = table.last_time[rows]
    has_prev = np.isfinite(prev_t)
    gap = np.where(has_prev, t - prev_t, np.nan)
    learned = table.interval[rows]
    learn = (table.interval_given[rows] <= 0) & has_prev & (gap > 0)
    with np.errstate(invalid="ignore"):
        clipped = np.where(np.isnan(learned), gap, np.clip(gap, 0.5 * learned, 2.0 * learned))
        updated = np.where(np.isnan(learned), gap, learned + p.interval_alpha * (clipped - learned))
    table.interval[rows] = np.where(learn, updated, learned)
    interval = interval_of(table, rows)
    long_gap = has_prev & (gap > p.stale_after * interval)
    tiny = 1e-9 * np.maximum(1.0, np.abs(x))
    # Without a given resolution, the smallest change a sensor makes is its quantum.
    with np.errstate(invalid="ignore"):
        change = np.abs(x - table.last_value[rows])
    moved_at_all = has_prev & (change > tiny)
    table.res_learned[rows] = np.where(moved_at_all,
                                       np.minimum(table.res_learned[rows], change),
                                       table.res_learned[rows])
    resolution = resolution_of(table, rows)
    hold_tolerance = np.maximum(0.5 * resolution, tiny)
    with np.errstate(invalid="ignore"):
        released = ((cond & STUCK_BIT) != 0) & ~(
            np.abs(x - table.run_anchor[rows]) <= hold_tolerance)
    forget = long_gap | released
    if forget.any():
        # After a silence, or when a stuck sensor moves again, the old window no longer
        # predicts; a held outlier and a run of equal values lose their meaning too.
        # Drift does not heal by silence: kept.
        gone = rows[forget]
        table.ring_flags[gone] &= np.int8(~INLIER)
        table.pending[gone] = 0
        table.run_len[gone] = 0
        cond[long_gap] &= ~(STUCK_BIT | NOISY_BIT)

    # -- the reference -----------------------------------------------------------------
    # ``ref`` (what the sensor is expected to follow) serves stuck; ``consensus`` (the
    # same, where the peers agree with each other) serves drift.
    ref = expected.astype(np.float64, copy=True)
    consensus = ref.copy()
    ref_kind = np.where(np.isfinite(ref), REF_MODEL, REF_NONE)
    ask = ~np.isfinite(ref) & (group_index >= 0)
    peer_offset = np.zeros(len(rows))
    peer_drifting = np.zeros(len(rows), dtype=bool)
    if ask.any():
        view = peer_reference(table, p, members, group_index[ask], rows[ask], t[ask])
        ref[ask] = view.median
        consensus[ask] = view.consensus
        peer_offset[ask] = view.largest_offset
        peer_drifting[ask] = view.peer_drifting
        ref_kind[ask] = np.where(np.isfinite(view.median), REF_PEERS, REF_NONE)
    table.ref_kind[rows] = np.where(ref_kind != REF_NONE, ref_kind, table.ref_kind[rows])

    # -- the robust fit of the sensor's own recent readings ----------------------------
    head = table.ring_head[rows]
    slots = (head[:, None] + np.arange(window)) % window  # oldest → newest
    ring_flags = table.ring_flags[rows[:, None], slots]
    inlier_ring = (ring_flags & INLIER) != 0
    ring_values = np.where(inlier_ring, table.ring_value[rows[:, None], slots], np.nan)
    ring_times = np.where(inlier_ring, table.ring_time[rows[:, None], slots], np.nan)
    can = inlier_ring.sum(axis=1) >= p.min_window
    pred = np.full(len(rows), np.nan)
    slope = np.zeros(len(rows))
    mad = np.zeros(len(rows))
    leverage = np.zeros(len(rows))
    if can.any():
        pred[can], slope[can], mad[can], leverage[can] = local_quadratic(
            ring_values[can], ring_times[can], t[can])
    # A prediction from few points is noisier than one reading; dividing by this puts every
    # residual on the scale of one reading's noise.
    spread = np.sqrt(1.0 + leverage)
    resid = x - pred

    sd = np.sqrt(table.sigma2[rows])
    noise_sd = np.maximum(np.maximum(sd, resolution * _QUANTISATION_SD), tiny)
    # Quantisation alone moves a reading by up to half a step: that is the least scale.
    scale = np.maximum(np.maximum(MAD_TO_SD * mad, sd), np.maximum(0.5 * resolution, tiny))
    warm = table.sigma_n[rows] >= p.warmup
    judged = can & warm
    was_noisy = (cond & NOISY_BIT) != 0
    with np.errstate(invalid="ignore"):
        outlier = judged & ~was_noisy & (np.abs(resid) > p.hampel_k * spread * scale)

    # -- spike: hold outliers until the next readings decide ---------------------------
    pending = table.pending[rows]
    pending_size = table.pending_size[rows]
    held = pending > 0
    # A reading after a held outlier continues it when it is nearer the outlier than the
    # prediction (on the same side); otherwise the held readings were a spike.
    with np.errstate(invalid="ignore"):
        near = np.abs(x - table.pending_value[rows]) < np.abs(resid)
    continues = held & near & (np.sign(resid) == np.sign(pending_size))
    level_shift = continues & (pending >= 2)
    spike_event = held & ~continues
    starts = outlier & ~continues
    spike_size = np.where(spike_event, pending_size, 0.0)
    spike_len = np.where(spike_event, pending, 0)
    table.pending[rows] = np.where(starts, 1, np.where(continues & ~level_shift, pending + 1, 0))
    table.pending_value[rows] = np.where(starts | continues, x, np.nan)
    bigger = np.abs(resid) > np.abs(pending_size)
    table.pending_size[rows] = np.where(
        starts, resid, np.where(continues & bigger, resid, pending_size))
    if level_shift.any():
        # Three readings agree on a new level: it is real. Restart the window from them.
        moved_rows = rows[level_shift]
        table.ring_flags[moved_rows] &= np.int8(~INLIER)
        for back in (1, 2):
            slot = (head[level_shift] - back) % window
            table.ring_flags[moved_rows, slot] |= np.int8(INLIER)
    inlier = (~outlier & ~continues) | level_shift

    # -- noise: CUSUM for a rise of the step sd by ``noise_ratio`` ----------------------
    # The evidence is the step from the last trusted reading, less the local trend: noise
    # makes every step large, while a real level change makes one large step and a
    # lagging fit would make several large residuals.
    newest = window - 1 - np.argmax(inlier_ring[:, ::-1], axis=1)
    picked = np.arange(len(rows))
    has_last = inlier_ring.any(axis=1)
    with np.errstate(invalid="ignore"):
        step_change = (x - ring_values[picked, newest]
                       - slope * (t - ring_times[picked, newest]))
    floor = 2.0 * (resolution * _QUANTISATION_SD) ** 2
    step_sd = np.sqrt(np.maximum(table.step_var[rows], np.maximum(floor, tiny * tiny)))
    rho2 = p.noise_ratio ** 2
    gain, cost = 0.5 * (1.0 - 1.0 / rho2), 0.5 * np.log(rho2)
    with np.errstate(invalid="ignore"):
        z2 = np.minimum((step_change / step_sd) ** 2, p.noise_cap ** 2)
    counted = judged & inlier & has_last
    llr = np.where(counted, gain * z2 - cost, 0.0)
    noise_s = np.where(counted, np.maximum(0.0, table.noise_s[rows] + llr), table.noise_s[rows])
    quiet = np.where(counted & was_noisy, np.maximum(0.0, table.noise_quiet[rows] - llr), 0.0)
    table.noise_fast[rows] = np.where(
        counted, table.noise_fast[rows] + p.fast_alpha * (z2 - table.noise_fast[rows]),
        table.noise_fast[rows])
    # Large steps among the last few: noise makes many, the edges of a level change few.
    mask = (1 << p.noise_recent) - 1
    big = counted & (z2 > p.noise_big ** 2)
    bits = np.where(counted, ((table.noise_bits[rows] << 1) | big) & mask,
                    table.noise_bits[rows])
    table.noise_bits[rows] = bits
    many_big = np.bitwise_count(bits) >= p.noise_confirm
    noisy_on = ~was_noisy & (noise_s > p.noise_h) & many_big
    noisy_off = was_noisy & (quiet > p.noise_h)
    cond = np.where(noisy_on, cond | NOISY_BIT, cond)
    cond = np.where(noisy_off, cond & ~NOISY_BIT, cond)
    noise_s = np.where(noisy_off, 0.0, noise_s)
    table.noise_s[rows] = noise_s
    table.noise_quiet[rows] = quiet
    noisy = (cond & NOISY_BIT) != 0

    # The noise baseline learns from ordinary readings only.
    n_sigma = table.sigma_n[rows]
    learn_sigma = can & inlier & ~noisy & (noise_s < 0.5 * p.noise_h) & (
        (old_state == State.OK) | (old_state == State.SPIKE) | ~warm)
    alpha = np.where(n_sigma < p.warmup, 1.0 / (n_sigma + 1.0), p.noise_alpha)
    with np.errstate(invalid="ignore"):
        unit_resid = resid / spread
        capped = np.where(warm, np.minimum(unit_resid ** 2, (p.noise_cap * noise_sd) ** 2),
                          unit_resid ** 2)
    sigma2 = table.sigma2[rows]
    table.sigma2[rows] = np.where(learn_sigma, sigma2 + alpha * (capped - sigma2), sigma2)
    learn_step = learn_sigma & has_last
    with np.errstate(invalid="ignore"):
        step2 = np.where(warm, np.minimum(step_change ** 2, (p.noise_cap * step_sd) ** 2),
                         step_change ** 2)
    step_var = table.step_var[rows]
    table.step_var[rows] = np.where(learn_step, step_var + alpha * (step2 - step_var),
                                    step_var)
    table.sigma_n[rows] = n_sigma + learn_sigma

    # -- stuck: a run of readings within half a resolution of the run's first --------
    anchor = table.run_anchor[rows]
    run = table.run_len[rows]
    with np.errstate(invalid="ignore"):
        same = (run > 0) & (np.abs(x - anchor) <= hold_tolerance)
    run = np.where(same, run + 1, 1)
    ref_start = np.where(same, table.run_ref_start[rows], ref)
    ref_start = np.where(np.isnan(ref_start), ref, ref_start)
    # How far the reference has moved since the run began (now, not the most it ever was:
    # a maximum would grow with the reference's own noise).
    with np.errstate(invalid="ignore"):
        moved = np.where(same & np.isfinite(ref), np.abs(ref - ref_start),
                         np.where(same, table.run_ref_moved[rows], 0.0))
    table.run_anchor[rows] = np.where(same, anchor, x)
    table.run_len[rows] = run
    table.run_ref_start[rows] = ref_start
    table.run_ref_moved[rows] = moved
    # How often this sensor repeats itself when healthy, to judge a run without peers.
    n_same = table.p_same_n[rows]
    learn_same = has_prev & ~long_gap & (old_state == State.OK) & ((cond & STUCK_BIT) == 0)
    p_same = table.p_same[rows]
    rate = np.where(n_same < 96, 1.0 / (n_same + 2.0), 0.01)
    p_same = np.where(learn_same, p_same + rate * (same - p_same), p_same)
    table.p_same[rows] = p_same
    table.p_same_n[rows] = n_same + learn_same
    likely = np.clip(p_same, 0.02, 0.98)
    own_history = (n_same >= p.warmup) & ((run - 1) * np.log(likely) < np.log(p.stuck_p))
    d_sd = diff_sd(table, rows)
    reference_moved = (table.d_n[rows] >= p.drift_warmup) & (
        moved > p.stuck_ref_k * d_sd + 2.0 * resolution)
    was_stuck = (cond & STUCK_BIT) != 0
    stuck = same & (was_stuck | ((run >= p.stuck_min_run) & (reference_moved | own_history)))
    cond = np.where(stuck, cond | STUCK_BIT, cond & ~STUCK_BIT)

    # -- drift: an EWMA chart of the difference to the reference ------------------------
    # The chart's own spread is learned rather than derived from the difference's sd:
    # quantisation and the carried peer values make the difference autocorrelated, and a
    # chart that assumed white noise would cry drift every few days.
    diff = x - consensus
    d_n = table.d_n[rows]
    d_mean = table.d_mean[rows]
    d_var = table.d_var[rows]
    # Nor from a sensor whose noise is rising: a noise burst's wide readings would walk
    # the chart before the sensor is known to be noisy.
    noise_rising = noise_s >= 0.5 * p.noise_h
    evidence = (np.isfinite(diff) & inlier & (run < p.drift_run_gate) & ~stuck & ~noisy
                & ~noise_rising & ~peer_drifting)
    learning = evidence & (d_n < p.drift_warmup)
    first = 1.0 / (d_n + 1.0)
    with np.errstate(invalid="ignore"):
        warm_mean = d_mean + first * (diff - d_mean)
        warm_var = d_var + first * ((diff - d_mean) * (diff - warm_mean) - d_var)
        deviation = np.clip(diff - d_mean, -p.drift_clip * d_sd, p.drift_clip * d_sd)
    charting = evidence & (d_n >= p.drift_warmup)
    level = table.drift_level[rows]
    level = np.where(charting, level + p.drift_level_alpha * (deviation - level), level)
    white = d_sd * d_sd * p.drift_level_alpha / (2.0 - p.drift_level_alpha)
    spread_n = d_n - p.drift_warmup - p.drift_settle  # samples of the chart's spread so far
    level_var = table.drift_var[rows]
    level_sd = np.sqrt(np.maximum(level_var, white))
    judging = charting & (spread_n >= p.drift_spread)
    calm = charting & (spread_n >= 0) & (np.abs(level) < 2.0 * level_sd) & (
        old_state == State.OK)
    rate = np.where(spread_n < p.drift_spread, 1.0 / (np.maximum(spread_n, 0) + 1.0),
                    p.drift_alpha)
    table.drift_var[rows] = np.where(calm, level_var + rate * (level * level - level_var),
                                     level_var)
    with np.errstate(invalid="ignore"):
        slow_mean = d_mean + p.drift_alpha * (diff - d_mean)
        slow_var = d_var + p.drift_alpha * ((diff - slow_mean) ** 2 - d_var)
    table.d_mean[rows] = np.where(learning, warm_mean, np.where(calm, slow_mean, d_mean))
    table.d_var[rows] = np.where(learning, warm_var, np.where(calm, slow_var, d_var))
    table.d_n[rows] = d_n + (learning | (charting & ((spread_n < 0) | calm)))
    calm_since = np.where(np.abs(level) <= level_sd, t, table.drift_calm_since[rows])
    table.drift_calm_since[rows] = calm_since
    was_drifting = (cond & DRIFT_BIT) != 0
    chart = np.abs(level) / level_sd
    # In a group, the sensor furthest out is the one to blame: a drifting peer pulls the
    # others' reference by half its drift, and they must not be called drifting for it.
    # Furthest in the property's unit, not in each chart's own sd: a quiet sensor's chart
    # is narrower, and would otherwise take the blame for a noisy peer's drift.
    drift_on = (~was_drifting & judging & (chart > p.drift_h)
                & (np.abs(level) > p.drift_blame * peer_offset))
    drift_off = was_drifting & charting & (np.abs(level) < p.drift_exit * level_sd)
    table.drift_start[rows] = np.where(drift_on, calm_since, table.drift_start[rows])
    cond = np.where(drift_on, cond | DRIFT_BIT, cond)
    # Leaving drift, or a stuck or noisy sensor, starts the evidence afresh: a frozen
    # value against moving peers is stuck, not drift, and must not turn into drift later.
    # A peer in drift explains our own offset (it pulled our reference): start afresh too.
    restart = (drift_off | stuck | noisy | (peer_drifting & ~was_drifting)) & ~drift_on
    cond = np.where(restart, cond & ~DRIFT_BIT, cond)
    table.drift_level[rows] = np.where(restart, 0.0, level)

    # -- the state ----------------------------------------------------------------------
    quiet_enough = ~noise_rising
    plain = (cond & (STUCK_BIT | NOISY_BIT | DRIFT_BIT)) == 0
    # A spike is a candidate when the readings return; it is announced after
    # ``spike_confirm`` ordinary readings more. Another outlier, rising noise or another
    # state in that time drops it: that is how a noise burst begins.
    candidate = spike_event & ~starts & plain & quiet_enough
    table.cand_size[rows] = np.where(candidate, spike_size, table.cand_size[rows])
    table.cand_len[rows] = np.where(candidate, spike_len, table.cand_len[rows])
    wait = table.spike_wait[rows]
    doubtful = starts | ~plain | ~quiet_enough
    if p.spike_confirm > 0:
        new_spike = (wait == 1) & ~doubtful & ~candidate
        wait = np.where(candidate, p.spike_confirm,
                        np.where(doubtful, 0, np.maximum(wait - 1, 0)))
    else:
        new_spike = candidate
    table.spike_wait[rows] = wait
    hold = np.where(new_spike, p.spike_hold, np.maximum(table.spike_hold[rows] - 1, 0))
    hold = np.where(plain, hold, 0)
    table.spike_hold[rows] = hold
    table.spike_size[rows] = np.where(new_spike, table.cand_size[rows], table.spike_size[rows])
    table.spike_len[rows] = np.where(new_spike, table.cand_len[rows], table.spike_len[rows])

    new_state = np.full(len(rows), int(State.OK), dtype=np.int64)
    new_state[hold > 0] = State.SPIKE
    new_state[(cond & DRIFT_BIT) != 0] = State.DRIFT
    new_state[(cond & NOISY_BIT) != 0] = State.NOISY
    new_state[(cond & STUCK_BIT) != 0] = State.STUCK
    table.cond[rows] = cond
    table.state[rows] = new_state.astype(np.int8)
    changed = new_state != old_state
    table.since[rows] = np.where(changed, t, table.since[rows])
    quality = quality_of(new_state, severity_of(table, rows))
    table.quality[rows] = quality
    held_now = (outlier | continues) & ~level_shift
    reading_quality = np.where(held_now, np.minimum(OUTLIER_READING_QUALITY, quality), quality)

    # -- remember the reading -------------------------------------------------------------
    # Peers trust a reading only from a healthy sensor that is not repeating itself (it
    # may be stuck and not yet known) and whose offset chart is calm (it may be drifting).
    usable = inlier & ((new_state == State.OK) | (new_state == State.SPIKE)) & (
        run < p.stuck_min_run) & (np.abs(table.drift_level[rows]) < p.peer_trust * level_sd)
    flags = (np.where(inlier, INLIER, 0) | np.where(usable, USABLE, 0)
             | np.where(new_state == State.DRIFT, DRIFTING, 0))
    table.ring_value[rows, head] = x
    table.ring_time[rows, head] = t
    table.ring_slope[rows, head] = np.where(can, slope, 0.0)
    table.ring_offset[rows, head] = table.d_mean[rows]
    table.ring_level[rows, head] = np.abs(table.drift_level[rows])
    table.ring_noise[rows, head] = noise_sd
    table.ring_flags[rows, head] = flags.astype(np.int8)
    table.ring_head[rows] = (head + 1) % window
    table.last_time[rows] = t
    table.last_value[rows] = x
    table.count[rows] += 1
    return StepResult(rows, old_state, new_state, reading_quality)
