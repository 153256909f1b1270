"""Noise: a rise of the sensor's step sd by ``noise_ratio``, told by a CUSUM.

The evidence is the step from the last trusted reading, less the local trend: noise makes
every step large, while a real level change makes one large step and a lagging fit would
make several large residuals. A sensor whose noise grows with its level (vibration RMS) is
judged on its steps relative to the level; and wherever the peers are known, on its step
against their consensus as well (``context``). Noisy needs, besides the CUSUM, several
large steps among the last few (the edges of a level change make one or two), and no peer
whose evidence rises at the same time (a busy day on a zone's gauges is the process). It
ends when the quiet CUSUM says so and the large steps have not come in numbers for
``noise_release`` (a day).

The check also owns the sensor's noise baselines: the slow variance of its residuals
(``sigma2``, the fit's yardstick), of its steps, of its relative steps and of its steps
against the peers, and the share of its steps beyond 3 sd (its character: bursty or not).
They learn from ordinary readings only.

Score: the CUSUM over its threshold (1 and more: evidence enough for noisy).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ...records import Field
from .._jit import compiled, compiled_inline
from ..context import RELATIVE, evidence_z2, is_bursty, peer_step, relative_step
from ..peers import peer_noise_rising
from ..rules import NOISY_BIT, QUANTISATION_SD, popcount

NAME = "noise"

COLUMNS: dict[str, Field] = {
    # the slow baseline of the squared residual (the fit's yardstick) and the readings the
    # baselines learned from; the step variance
    "sigma2": (np.float64, 0.0),
    "sigma_n": (np.int64, 0),
    "step_var": (np.float64, 0.0),
    # CUSUM up (the noise rose) and, while noisy, down (quiet again); the fast estimate of
    # the step variance over its baseline (the reason's factor); large steps among the last
    # ``noise_recent``, one bit each
    "noise_s": (np.float64, 0.0),
    "noise_quiet": (np.float64, 0.0),
    "noise_fast": (np.float64, 1.0),
    "noise_bits": (np.int64, 0),
    # the share of ordinary steps beyond 3 sd (the character), the baselines of relative
    # steps and of steps against the peers
    # when the last burst of large steps came while noisy (the release waits
    # ``noise_release``): several among the last few, as noisy needs to begin
    "noise_last_big": (np.float64, np.nan),
    "step_tail": (np.float64, 0.0),
    "rel_step_var": (np.float64, 0.0),
    "peer_step_var": (np.float64, 0.0),
}


class Knobs(NamedTuple):
    warmup: int
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
    noise_unsettled: float
    noise_release: float
    noise_group_move: float


class Evidence(NamedTuple):
    time: float
    value: float
    ref: float
    """What the sensor is expected to follow (NaN: nothing)."""
    res: float
    """The sensor's resolution (0: unknown)."""
    tiny: float
    step_change: float
    """The step from the last trusted reading, less the fit's trend (NaN: none)."""
    last_trusted: float
    peer_resid: float
    """The residual against the reference at the last trusted reading."""
    character: int
    resid: float
    spread: float
    """The fit's prediction error in units of one reading's noise."""
    can: bool
    """The sensor's own fit could be made."""
    judged: bool
    inlier: bool
    held: bool
    """Outliers were held before this reading (its step spans several intervals)."""
    group_jump: bool
    was_noisy: bool
    calm_state: bool
    """The sensor was ok or in a spike (or not warm yet): its readings may teach."""


class EvidenceColumns(NamedTuple):
    time: NDArray[np.float64]
    value: NDArray[np.float64]
    ref: NDArray[np.float64]
    res: NDArray[np.float64]
    tiny: NDArray[np.float64]
    step_change: NDArray[np.float64]
    last_trusted: NDArray[np.float64]
    peer_resid: NDArray[np.float64]
    character: NDArray[np.int8]
    resid: NDArray[np.float64]
    spread: NDArray[np.float64]
    can: NDArray[np.bool_]
    judged: NDArray[np.bool_]
    inlier: NDArray[np.bool_]
    held: NDArray[np.bool_]
    group_jump: NDArray[np.bool_]
    was_noisy: NDArray[np.bool_]
    calm_state: NDArray[np.bool_]


class Outcome(NamedTuple):
    noisy: bool
    rising: bool
    """The CUSUM is past half its threshold."""
    unsettled: bool
    """Rising, or the fast estimate is high: no evidence of drift or of a spike now."""
    score: float


@compiled_inline
def beyond_quantum(step: float, res: float, coarse: bool) -> float:
    """A coarse sensor's step less half a resolution (the whole step otherwise): a step
    of one resolution, the edge of a step crossed, then counts as a quarter of the
    floor's variance of a quantised step, too little to move the noise CUSUM.

    >>> beyond_quantum(0.5, 0.5, True), beyond_quantum(-1.5, 0.5, True)
    (0.25, -1.25)
    >>> beyond_quantum(0.5, 0.5, False)
    0.5
    """
    if not coarse:
        return step
    return math.copysign(max(abs(step) - 0.5 * res, 0.0), step)


@compiled_inline
def step(n: Any, k: Knobs, ev: Evidence, r: int, peers: NDArray[np.int64],
         noise_s: NDArray[np.float64], step_tail: NDArray[np.float64],
         cond: NDArray[np.int64], character: NDArray[np.int8]) -> Outcome:
    """Judge one reading of the row ``n`` (row ``r`` of the table whose columns
    ``noise_s``, ``step_tail``, ``cond`` and ``character`` are; ``peers``: the rows of its
    group, maybe none)."""
    res = ev.res
    tiny = ev.tiny
    relative = ev.character == RELATIVE
    has_last = math.isfinite(ev.last_trusted)
    warm = n.sigma_n >= k.warmup
    noise_sd = max(max(math.sqrt(n.sigma2), res * QUANTISATION_SD), tiny)
    rho2 = k.noise_ratio * k.noise_ratio
    gain = 0.5 * (1.0 - 1.0 / rho2)
    cost = 0.5 * math.log(rho2)

    floor = 2.0 * (res * QUANTISATION_SD) ** 2
    step_sd = math.sqrt(max(n.step_var, max(floor, tiny * tiny)))
    cap2 = k.noise_cap ** 2
    step_change = ev.step_change
    # A sensor whose noise (quantisation included) is below half its resolution shows a
    # step of one resolution whenever its value sits at the edge of a step (and flickers
    # there): much of such a step is the quantisation's, no evidence of noise
    # (``beyond_quantum``). A finer one's steps of a resolution or two are its noise.
    coarse = res > 0 and not relative and math.sqrt(n.sigma2) < 0.5 * res
    own_z2 = min((beyond_quantum(step_change, res, coarse) / step_sd) ** 2, cap2)
    rel_change = relative_step(step_change, ev.last_trusted, res) if has_last else np.nan
    if relative and has_last and n.rel_step_var > 0:
        own_z2 = min(rel_change * rel_change / n.rel_step_var, cap2)
    resid_step = peer_step(ev.value, ev.ref, ev.peer_resid) if has_last else np.nan
    # How far the peers' consensus itself moved since the last trusted reading.
    group_moved = abs(ev.value - ev.last_trusted - resid_step) if math.isfinite(
        resid_step) else 0.0
    if relative and math.isfinite(resid_step):
        # Its residual against the peers grows with the level too (each gauge sees the
        # work's shaking by its own factor): judged relative to the level.
        resid_step = relative_step(resid_step, ev.ref, res)
    peer_z2 = np.nan
    if math.isfinite(resid_step) and n.peer_step_var > 0:
        peer_sd2 = max(n.peer_step_var, max(floor, tiny * tiny))
        beyond = beyond_quantum(resid_step, res, coarse)
        peer_z2 = min(beyond * beyond / peer_sd2, cap2)
    z2 = evidence_z2(own_z2, peer_z2)
    bursty = is_bursty(ev.character, n.step_tail, k.tail_share)
    noise_h = k.noise_h * k.bursty_noise_h if bursty else k.noise_h
    # Not the first reading after held outliers: its step spans several intervals, and the
    # trend carried over them is less certain than one interval's step sd allows, so a
    # spike's return would count as noise and drop the spike.
    # Nor a reading within a transient the group shares (``noise_group_move``).
    shared_move = group_moved > k.noise_group_move * step_sd
    counted = (ev.judged and ev.inlier and has_last and not ev.held and not ev.group_jump
               and not shared_move)
    was_noisy = ev.was_noisy
    llr = gain * z2 - cost if counted else 0.0
    cusum = max(0.0, n.noise_s + llr) if counted else n.noise_s
    quiet = max(0.0, n.noise_quiet - llr) if counted and was_noisy else 0.0
    if counted:
        n.noise_fast = n.noise_fast + k.fast_alpha * (z2 - n.noise_fast)
        big = 1 if z2 > k.noise_big ** 2 else 0
        n.noise_bits = ((n.noise_bits << 1) | big) & ((1 << k.noise_recent) - 1)
    # Large steps among the last few: noise makes many, the edges of a level change few.
    many_big = popcount(n.noise_bits) >= k.noise_confirm
    if many_big and was_noisy:
        n.noise_last_big = ev.time
    noisy = was_noisy
    if not was_noisy and cusum > noise_h and many_big and not (
            peers.shape[0] > 0 and peer_noise_rising(
                peers, r, noise_s, cond, character, step_tail, k.noise_h,
                k.bursty_noise_h, k.tail_share, k.noise_peer_share, NOISY_BIT)):
        noisy = True
        n.noise_last_big = ev.time
    if was_noisy and quiet > k.noise_h and not ev.time - n.noise_last_big < k.noise_release:
        noisy = False
        cusum = 0.0
    n.noise_s = cusum
    n.noise_quiet = quiet

    # The baselines learn from ordinary readings only. A vibration gauge's steps are wider
    # all through the working day than at night: stopping its baseline whenever the
    # evidence rises would leave it at the night's and call every busy day noisy. It
    # learns on until it is named noisy.
    n_sigma = n.sigma_n
    learn = ev.can and ev.inlier and not noisy and (
        cusum < 0.5 * k.noise_h or relative) and ev.calm_state
    if learn:
        alpha = 1.0 / (n_sigma + 1.0) if n_sigma < k.warmup else k.noise_alpha
        unit_resid = ev.resid / ev.spread
        capped = (min(unit_resid ** 2, (k.noise_cap * noise_sd) ** 2) if warm
                  else unit_resid ** 2)
        n.sigma2 = n.sigma2 + alpha * (capped - n.sigma2)
        if has_last:
            step2 = (min(step_change ** 2, (k.noise_cap * step_sd) ** 2) if warm
                     else step_change ** 2)
            n.step_var = n.step_var + alpha * (step2 - n.step_var)
            rel2 = rel_change * rel_change
            if warm:
                rel2 = min(rel2, cap2 * n.rel_step_var)
            # The character: how often an ordinary step is beyond 3 sd.
            # (From the 16th step on: before that the step sd is no yardstick.)
            if n_sigma >= 16:
                beyond = 1.0 if step_change ** 2 > 9.0 * step_sd * step_sd else 0.0
                n.step_tail = n.step_tail + alpha * (beyond - n.step_tail)
            n.rel_step_var = n.rel_step_var + alpha * (rel2 - n.rel_step_var)
        if math.isfinite(resid_step):
            # Peers may come later than the sensor's first reading: the first step against
            # them starts the baseline.
            resid2 = resid_step * resid_step
            if warm and n.peer_step_var > 0:
                resid2 = min(resid2, cap2 * n.peer_step_var)
            peer_alpha = 1.0 if n.peer_step_var <= 0 else alpha
            n.peer_step_var = n.peer_step_var + peer_alpha * (
                resid2 - n.peer_step_var)
        n.sigma_n = n_sigma + 1
    rising = cusum >= 0.5 * k.noise_h
    unsettled = rising or n.noise_fast > k.noise_unsettled
    return Outcome(noisy, rising, unsettled, cusum / noise_h)


@compiled
def learn_many(records: NDArray[np.void], k: Knobs, rows: NDArray[np.int64], ev: EvidenceColumns,
               scores: NDArray[np.float64]) -> None:
    """``step`` over readings in order, without peers; ``scores[i]``: reading i's."""
    no_peers = np.empty(0, dtype=np.int64)
    no_cond = np.empty(0, dtype=np.int64)
    no_character = np.empty(0, dtype=np.int8)
    no_column = np.empty(0)
    for i in range(rows.shape[0]):
        out = step(records[rows[i]], k, Evidence(
            ev.time[i], ev.value[i], ev.ref[i], ev.res[i], ev.tiny[i], ev.step_change[i],
            ev.last_trusted[i], ev.peer_resid[i], ev.character[i], ev.resid[i],
            ev.spread[i], ev.can[i], ev.judged[i], ev.inlier[i], ev.held[i],
            ev.group_jump[i], ev.was_noisy[i], ev.calm_state[i]), rows[i], no_peers,
            no_column, no_column, no_cond, no_character)
        scores[i] = out.score

