"""Drift, calibration offsets and cross-wiring: a residual against the peers that persists.

A sensor follows its peers' consensus m as x = mx + share (m - mm) + residual: its own
offset, and its own share of what the group sees (a gauge carries 0.92 of a column's load,
a sensor nearer the heater 1.1 of the room's rise). Both are learned as exponentially
weighted moments over ``drift_memory``, from calm readings only (and once the chart has
been out for longer than that with an offset that does not matter). A drift, a calibration
step or a sensor wired to another bay is a residual that persists: its EWMA over
``drift_tau`` (each residual clipped at ``drift_clip`` residual sd) is charted against the
chart's own learned spread (the residuals are autocorrelated; a chart assuming white
noise would cry drift). Within a declared site event (``events``: a pour, a load step) the
residual says little about the sensor: the chart is neither moved nor judged.

The check also keeps the plain difference to the consensus (its mean is the offset peers
take off this sensor's readings; its sd the yardstick of stuck and of moves the peers
share). Smoothed as the size is, less that mean, it is a second witness: a drift moves the
sensor away from its peers, so an offset is material only when the difference has moved
the same way and as far. One share for everything the consensus does misfits where the
group's moves are of two kinds (a slab's pour, which each sensor sees by its own factor,
and then the weather, which all see whole); the difference then stays where it was.

Score: the chart's level over its spread (``drift_h`` and more: far enough out for drift).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ...records import Field
from .._jit import compiled, compiled_inline
from ..rules import diff_sd_one

NAME = "drift"

#: A run of repeated readings this improbable for the sensor gives no drift evidence.
LOG_RUN_P = math.log(0.01)

COLUMNS: dict[str, Field] = {
    # the plain difference to the consensus: readings, mean, variance
    "d_n": (np.int64, 0),
    "d_mean": (np.float64, 0.0),
    "d_var": (np.float64, 0.0),
    # the chart (EWMA of the clipped residual), its spread learned while calm, since when it
    # was calm, and when the drift began
    "drift_level": (np.float64, 0.0),
    "drift_var": (np.float64, 0.0),
    "drift_calm_since": (np.float64, np.nan),
    "drift_start": (np.float64, np.nan),
    # how the sensor follows the consensus, x = mx + share (m - mm), as exponentially
    # weighted moments (weight, means, variance of m, covariance), the residual's variance,
    # when learning began and when it last learned
    "reg_w": (np.float64, 0.0),
    "reg_mx": (np.float64, 0.0),
    "reg_mm": (np.float64, 0.0),
    "reg_vm": (np.float64, 0.0),
    "reg_cxm": (np.float64, 0.0),
    "reg_var": (np.float64, 0.0),
    "reg_t0": (np.float64, np.nan),
    "reg_t": (np.float64, np.nan),
    # the residual smoothed unclipped (the size a reason names); charted readings towards
    # (and then calm ones in) the spread
    "drift_size": (np.float64, 0.0),
    "chart_n": (np.int64, 0),
    # the plain difference to the consensus less its learned mean, smoothed as the size
    # is: the second witness of a drift
    "plain_size": (np.float64, 0.0),
}


class Knobs(NamedTuple):
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
    drift_blame: float
    drift_clip: float
    drift_alpha: float
    drift_run_gate: int


class Evidence(NamedTuple):
    time: float
    value: float
    consensus: float
    """The peers' consensus where they agree with each other, or the model (NaN: none)."""
    gap: float
    """Time since the sensor's last reading (NaN: none)."""
    res: float
    noise_sd: float
    expected_interval: float
    peer_offset: float
    """How far out the furthest peer's own chart is (in the property's unit)."""
    inlier: bool
    run: int
    """Readings in the current run of repeated values."""
    likely: float
    """How likely a repeat is for the sensor."""
    stuck: bool
    noisy: bool
    unsettled: bool
    """The noise evidence is rising: no drift evidence now."""
    was_drifting: bool
    calm_state: bool
    """The sensor was ok: a calm chart may teach its spread."""
    declared: bool
    """A declared site event concerns the reading (a pour, a load step): its residual
    against the peers says little about the sensor."""


class EvidenceColumns(NamedTuple):
    time: NDArray[np.float64]
    value: NDArray[np.float64]
    consensus: NDArray[np.float64]
    gap: NDArray[np.float64]
    res: NDArray[np.float64]
    noise_sd: NDArray[np.float64]
    expected_interval: NDArray[np.float64]
    peer_offset: NDArray[np.float64]
    inlier: NDArray[np.bool_]
    run: NDArray[np.int64]
    likely: NDArray[np.float64]
    stuck: NDArray[np.bool_]
    noisy: NDArray[np.bool_]
    unsettled: NDArray[np.bool_]
    was_drifting: NDArray[np.bool_]
    calm_state: NDArray[np.bool_]
    declared: NDArray[np.bool_]


class Outcome(NamedTuple):
    drifting: bool
    residual_sd: float
    """Sd of the regression's residual (the yardstick of the size)."""
    level_sd: float
    """The chart's spread now."""
    score: float


@compiled_inline
def step(d: Any, k: Knobs, ev: Evidence) -> Outcome:
    """Judge one reading of the row."""
    t = ev.time
    x = ev.value
    consensus = ev.consensus
    gap = ev.gap
    has_prev = math.isfinite(gap)
    diff = x - consensus
    n_diff = d.d_n
    # Nor from a reading that repeats the last few values more often than this sensor does
    # when healthy (it may be freezing, not yet known stuck). A coarse sensor repeats
    # itself all the time: gating all its runs would leave its chart updated on half the
    # readings, lagging its peers' and losing the blame.
    repeating = ev.run >= k.drift_run_gate and (ev.run - 1) * math.log(ev.likely) < LOG_RUN_P
    evidence = (math.isfinite(diff) and ev.inlier and not repeating and not ev.stuck
                and not ev.noisy and not ev.unsettled)
    weight = d.reg_w
    fitted = weight > 0
    prior = (k.drift_share_prior * ev.noise_sd) ** 2
    share = min(max((d.reg_cxm + prior) / (d.reg_vm + prior), 0.2), 5.0)
    e = (x - d.reg_mx) - share * (consensus - d.reg_mm) if fitted else 0.0
    learned_for = t - d.reg_t0 if fitted else 0.0
    learning = evidence and (n_diff < k.drift_warmup or not learned_for >= k.drift_learn)
    # Within a declared site event the chart is neither moved nor judged (the residual says
    # little about the sensor); what the check learns first (offset, share, the plain
    # difference that stuck and shared moves go by) it learns on: a pour in a sensor's
    # first days would otherwise leave those unknown for the length of the pour.
    charting = evidence and not learning and not ev.declared
    if evidence and fitted and not ev.was_drifting and has_prev:
        # The share is learned on while the chart is out (the offset is not): a share
        # fitted on days without a load step or a pour would leave every later one as an
        # offset that never heals. A drift or a calibration step moves the sensor alone,
        # which leaves the share as it was.
        keep = math.exp(-min(max(gap, 0.0), k.drift_memory) / k.drift_memory)
        dx = x - d.reg_mx
        dm = consensus - d.reg_mm
        d.reg_vm = keep * d.reg_vm + (1.0 - keep) * dm * dm
        d.reg_cxm = keep * d.reg_cxm + (1.0 - keep) * dx * dm
    e_sd = diff_sd_one(d.reg_var, ev.res)
    level = d.drift_level
    size = d.drift_size
    plain = d.plain_size
    if charting:
        step_time = min(max(gap, 0.0), k.drift_tau) if has_prev else 0.0
        alpha = 1.0 - math.exp(-step_time / k.drift_tau)
        clipped = min(max(e, -k.drift_clip * e_sd), k.drift_clip * e_sd)
        level = level + alpha * (clipped - level)
        size = size + alpha * (e - size)
        plain = plain + alpha * (diff - d.d_mean - plain)
    # The chart's spread for white residuals at the sensor's own pace: its floor.
    pace = 1.0 - math.exp(-min(ev.expected_interval, k.drift_tau) / k.drift_tau) \
        if math.isfinite(ev.expected_interval) else 0.05
    white = e_sd * e_sd * pace / (2.0 - pace)
    spread_n = d.chart_n - k.drift_settle  # samples of the spread so far
    level_var = d.drift_var
    level_sd = math.sqrt(max(level_var, white))
    judging = charting and spread_n >= k.drift_spread
    calm = charting and spread_n >= 0 and abs(level) < 2.0 * level_sd and ev.calm_state
    if calm:
        rate = (1.0 / (max(spread_n, 0) + 1.0) if spread_n < k.drift_spread
                else k.drift_alpha)
        d.drift_var = level_var + rate * (level * level - level_var)
    # Every charted reading counts towards the time the spread is first measured in, the
    # calm ones only towards the spread: a level that left before the spread was known
    # would otherwise never be calm again, the spread never known and the sensor never
    # judged (a column's gauge sat so for the rest of the tune set, its cross-wiring to the
    # next bay unseen).
    if charting and (spread_n < k.drift_spread or calm):
        d.chart_n = d.chart_n + 1
    # A chart out for longer than the fit remembers (``drift_memory``) with an offset that
    # does not matter (below half of ``drift_min_size``, where a named drift ends) is the
    # slow wander of the sensor's bias, not a fault building up: its offset is learned
    # again. Calm alone is the chart's narrow band (its spread is learned from inside it,
    # so it comes out at about 0.4 of how far a healthy chart swings); out of it for days,
    # the offset stayed as it was while the wander and a day's misfit added up to a drift
    # "over 4-5 days" (4 of the 11 false drifts on fault-free sensors of the four tune
    # sets). A fault is named, or its offset has become material, long before.
    settled = calm or (charting and spread_n >= 0 and ev.calm_state
                       and t - d.drift_calm_since > k.drift_memory
                       and abs(size) < 0.5 * k.drift_min_size * e_sd)
    if learning or settled:
        decay = math.exp(-max(t - d.reg_t, 0.0) / k.drift_memory) if fitted else 0.0
        weight = decay * weight + 1.0
        a = 1.0 / weight
        if fitted:
            d.reg_var = (1.0 - a) * d.reg_var + a * e * e
        else:
            d.reg_t0 = t
        d.reg_mx = d.reg_mx + a * (x - d.reg_mx)
        d.reg_mm = d.reg_mm + a * (consensus - d.reg_mm)
        d.reg_w = weight
        d.reg_t = t
        # The plain difference to the consensus: the offset peers take off this sensor's
        # readings, and the yardstick of stuck and shared moves.
        mean = d.d_mean
        var = d.d_var
        rate = 1.0 / (n_diff + 1.0) if n_diff < k.drift_warmup else k.drift_alpha
        new_mean = mean + rate * (diff - mean)
        d.d_mean = new_mean
        d.d_var = var + rate * ((diff - mean) * (diff - new_mean) - var)
        d.d_n = n_diff + 1
    if abs(level) <= level_sd:
        d.drift_calm_since = t
    chart = abs(level) / level_sd
    # In a group, the sensor furthest out is the one to blame: a drifting peer pulls the
    # others' consensus by half its drift, and they must not be called drifting for it.
    # Furthest in the property's unit, not in each chart's own sd: a quiet sensor's chart
    # is narrower, and would otherwise take the blame for a noisy peer's drift.
    # And only an offset that matters: a chart narrowed by calm days leaves its line on
    # the slow wander of a sensor's bias, an offset of one or two residual sd.
    # And one the plain difference to the peers shows too, the same way and as far: a drift
    # moves the sensor, not the share. The share is one number for all the consensus does,
    # and a pour's heat (20 degC, each logger at its depth seeing 0.86-1.1 of it) outweighs
    # days of weather in it: days after, a front every logger saw whole was 0.4-0.6 degC
    # "from peers" on one whose difference to them had not moved (tune set seeds 3 and 4,
    # four false drifts of fault-free slab loggers). Where the share is right and the plain
    # difference is not (a load step each gauge of a column carries by its own factor), the
    # share's residual says no.
    material = abs(size) > k.drift_min_size * e_sd and size * plain > 0.0 and (
        abs(plain) > k.drift_min_size * e_sd)
    drift_on = (not ev.was_drifting and judging and chart > k.drift_h and material
                and abs(size) > k.drift_blame * ev.peer_offset)
    drift_off = ev.was_drifting and charting and (
        abs(level) < k.drift_exit * level_sd or abs(size) < 0.5 * k.drift_min_size * e_sd)
    drifting = ev.was_drifting
    if drift_on:
        d.drift_start = d.drift_calm_since
        drifting = True
    # Leaving drift, or a stuck or noisy sensor, starts the evidence afresh: a frozen value
    # against moving peers is stuck, not drift, and must not turn into drift later. (A
    # peer in drift is no longer in the consensus: its readings are not usable, so it
    # stops pulling ours.)
    if (drift_off or ev.stuck or ev.noisy) and not drift_on:
        drifting = False
        level = 0.0
        size = 0.0
        plain = 0.0
    d.drift_level = level
    d.drift_size = size
    d.plain_size = plain
    return Outcome(drifting, e_sd, level_sd, chart)


@compiled
def learn_many(records: NDArray[np.void], k: Knobs, rows: NDArray[np.int64], ev: EvidenceColumns,
               scores: NDArray[np.float64]) -> None:
    """``step`` over readings in order; ``scores[i]``: the chart at reading i."""
    for i in range(rows.shape[0]):
        out = step(records[rows[i]], k, Evidence(
            ev.time[i], ev.value[i], ev.consensus[i], ev.gap[i], ev.res[i],
            ev.noise_sd[i], ev.expected_interval[i], ev.peer_offset[i], ev.inlier[i],
            ev.run[i], ev.likely[i], ev.stuck[i], ev.noisy[i], ev.unsettled[i],
            ev.was_drifting[i], ev.calm_state[i], ev.declared[i]))
        scores[i] = out.score
