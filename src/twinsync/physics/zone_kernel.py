"""The zones' step on the reading path, compiled: one pass over a batch's readings, each
zone's in time order, each reading doing for its zone what a round of ``ZoneBank`` does
for the zones it reads (``ZoneBank.update_in_rounds``, the batch form kept as the oracle).

A round is a vectorised UKF over the zones it reads and costs some hundreds of µs whatever
its size; a batch of 10,000 readings of 100 rooms is a hundred of them. Here a reading
costs what its own arithmetic does (about 0.6 µs on the 2-core machine: ``ZoneBank.update``
timed on 99 zones, 101 readings a zone a batch; docs/PERFORMANCE.md, "A fleet of rooms"):

- a zone's first reading starts its temperature;
- the UKF's prediction and update (``zone_step.step``: sigma points, the exact RC step,
  the process noise by ``metered`` and the hours, the gate, the quality);
- the prior at a new time and the prior's error against a trusted reading; the Schmidt
  update of a reading stepped with guessed inputs (its parameters stay as predicted);
- the divergence watch (``zone_watch.ZoneWatch.observe``, a reading at a time): its ring,
  the CUSUM, the episode's start, restart and end, and the episode's size;
- a reading that starts an episode (or restarts one) recalibrates the zone as
  ``ZoneBank._recalibrate`` does: ``zone_watch.refit``'s filter run again over the ring
  from before the change point, here with the same compiled step. Recalibrating in the
  pass, not in NumPy between two calls of it, matters: a room the one-node model fits
  badly recalibrates often (the ingest bench's rooms, read as random values, every 16
  readings), and the NumPy refit (a round a reading of its window) cost 16 ms a call.

The numbers are the rounds' to rounding (``zone_step``; ``tests/physics/test_zone_kernel.py``).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..jit import compiled, compiled_inline
from .zone_step import POINTS, Knobs, Scratch, step
from .zone_watch import AGAIN, AGAIN_AFTER, ENDED, NOTHING, QUIET, RING, STARTED, STATE

HOUR = 3600.0

#: The bank's columns the pass reads and writes, in the order it takes them.
COLUMNS = ("x", "P", "time", "count", "gated_run", "prior_mean", "prior_variance",
           "prior_error", "ahead_x", "ahead_P", "ahead_time", "metered",
           "watch_diverging", "watch_upper", "watch_lower", "upper_since", "lower_since",
           "episode", "episode_since", "episode_start", "episodes", "quiet_run",
           "last_normalised", "recal_at_count", "ring_time", "ring_value", "ring_quality",
           "ring_outdoor", "ring_heating", "ring_neighbour", "ring_residual",
           "ring_normalised", "ring_p00",
           "ring_x", "ring_count", "recal_before", "recal_after", "recal_time",
           "recal_window", "recal_count")


class Said(NamedTuple):
    """Per reading of the pass (in its order; set where ``code`` is not ``NOTHING``): what
    the watch said, its statistic, direction, size (K, sd) and change point, and for a
    recalibration its window and the state before and after."""

    code: NDArray[np.int64]
    statistic: NDArray[np.float64]
    direction: NDArray[np.float64]
    size: NDArray[np.float64]
    size_sd: NDArray[np.float64]
    since: NDArray[np.float64]
    window: NDArray[np.int64]
    before: NDArray[np.float64]
    after: NDArray[np.float64]

    @staticmethod
    def of(size: int) -> Said:
        def unset() -> NDArray[np.float64]:
            return np.full(size, np.nan)

        return Said(np.zeros(size, dtype=np.int64), unset(), unset(), unset(), unset(),
                    unset(), np.zeros(size, dtype=np.int64), np.full((size, STATE), np.nan),
                    np.full((size, STATE), np.nan))


@compiled_inline
def _cusum(upper: float, lower: float, was: bool, watched: bool, normalised: float,
           k: Knobs) -> tuple[float, float, bool]:
    """``divergence.Cusum.update`` of one zone's reading: its sums and whether it is
    diverging after it (a reading the watch does not take leaves the sums)."""
    if watched and math.isfinite(normalised):
        step = min(max(normalised, -k.limit), k.limit)
        upper = min(max(upper + step - k.reference, 0.0), k.ceiling)
        lower = min(max(lower - step - k.reference, 0.0), k.ceiling)
    statistic = max(upper, lower)
    return upper, lower, statistic > k.release if was else statistic > k.threshold


@compiled_inline
def _episode(diverging: bool, was: bool, in_episode: bool, since_recalibration: int,
             quiet_run: int, watched: bool) -> tuple[int, int]:
    """What ``ZoneWatch.observe`` says of a reading (``STARTED``, ``AGAIN``, ``ENDED``,
    ``NOTHING``) and the quiet run after it."""
    started = diverging and not was and not in_episode
    again = diverging and in_episode and since_recalibration >= AGAIN_AFTER
    # Only a reading the watch took says the zone is in step (``zone_watch``).
    quiet = 0 if diverging else quiet_run + (1 if watched else 0)
    ended = in_episode and not again and quiet >= QUIET
    if started:
        return STARTED, 0
    if again:
        return AGAIN, quiet
    if ended:
        return ENDED, quiet
    return NOTHING, quiet if in_episode else 0


@compiled
def _size(ring_time: Any, ring_residual: Any, ring_normalised: Any, ring_count: Any, z: int,
          since: float) -> tuple[float, float]:
    """The episode's size: the mean innovation (K) and normalised innovation of the ring's
    readings since ``since``, oldest first (``ZoneWatch._size``)."""
    held = min(ring_count[z], RING)
    window, residuals, normalised = 0, 0.0, 0.0
    for offset in range(RING - held, RING):
        position = (ring_count[z] - RING + offset) % RING
        if ring_time[z, position] >= since:
            window += 1
            residuals += ring_residual[z, position]
            normalised += ring_normalised[z, position]
    window = max(window, 1)
    return residuals / window, normalised / window


@compiled
def _refit(c: Any, z: int, since: float, noise: Any, prior: Any, mean_weights: Any,
           cov_weights: Any, k: Knobs, s: Scratch, x_fit: Any, p_fit: Any) -> int:
    """``zone_watch.refit`` of zone ``z`` into ``x_fit`` and ``p_fit``: the filter run
    again over its ring's readings since ``since``, from the state after the reading
    before, the parameters' covariance re-opened to ``prior``'s (the heat gain keeps its
    own). Returns the window's readings, or -1 if a covariance had no factor."""
    (_, P, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, ring_time,
     ring_value, ring_quality, ring_outdoor, ring_heating, ring_neighbour, _, _, ring_p00,
     ring_x, ring_count, _, _, _, _, _) = c
    count = ring_count[z]
    held = min(count, RING)
    oldest = RING - held
    # The window starts after the newest reading before the change; when the ring holds
    # none before it, after its oldest.
    first = RING - 1
    for offset in range(oldest, RING):
        if ring_time[z, (count - RING + offset) % RING] >= since:
            first = offset
            break
    start = min(max(first - 1, oldest), RING - 1)
    at = (count - RING + start) % RING
    for a in range(STATE):
        x_fit[a] = ring_x[z, at, a]
        for b in range(STATE):
            p_fit[a, b] = 0.0
    p_fit[0, 0] = ring_p00[z, at]
    for a in range(1, 3):
        for b in range(1, 3):
            p_fit[a, b] = prior[a, b]
    # The heat gain and the neighbours' share keep their own (``zone_watch.refit``).
    for a in range(3, STATE):
        for b in range(3, STATE):
            p_fit[a, b] = P[z, a, b]
    gated_run = 0
    for offset in range(start + 1, RING):
        now, then = (count - RING + offset) % RING, (count - RING + offset - 1) % RING
        hours = max(ring_time[z, now] - ring_time[z, then], 0.0) / HOUR
        done, _, _, gated = step(x_fit, p_fit, gated_run, ring_outdoor[z, now],
                                 ring_heating[z, now], ring_neighbour[z, now], hours,
                                 ring_value[z, now],
                                 ring_quality[z, now], noise, prior, mean_weights,
                                 cov_weights, k, s)
        if not done:
            return -1
        gated_run = gated_run + 1 if gated else 0
    window: int = RING - 1 - start
    return window


@compiled
def fold(c: Any, prior: Any, noises: Any, mean_weights: Any, cov_weights: Any, k: Knobs,
         zones: Any, times: Any, values: Any, quality: Any, outdoor: Any, heating: Any,
         neighbour: Any, judged_by: Any, guessed: Any, starts: Any, said: Said) -> int:
    """Fold each zone's readings (``starts[g]`` up to ``starts[g + 1]``, one zone's, in
    time order) into the bank's columns ``c`` (``COLUMNS``). Returns -1, or the reading
    at which a covariance had no Cholesky factor or was not finite (the pass stops
    there: the caller raises, and the service rolls the batch back)."""
    (x, P, last, count, gated_run, prior_mean, prior_variance, prior_error, ahead_x,
     ahead_P, ahead_time, metered, watch_diverging, watch_upper, watch_lower, upper_since,
     lower_since, episode, episode_since, episode_start, episodes, quiet_run,
     last_normalised, recal_at_count, ring_time, ring_value, ring_quality, ring_outdoor,
     ring_heating, ring_neighbour, ring_residual, ring_normalised, ring_p00, ring_x,
     ring_count, recal_before, recal_after, recal_time, recal_window, recal_count) = c
    s = Scratch(np.empty((STATE, STATE)), np.empty((POINTS, STATE)),
                np.empty((POINTS, STATE)), np.empty(STATE), np.empty(STATE), np.empty(STATE),
                np.empty((STATE, STATE)))
    x_fit = np.empty(STATE)
    p_fit = np.empty((STATE, STATE))
    for g in range(starts.shape[0] - 1):
        z = zones[starts[g]]
        noise = noises[1 if metered[z] else 0]
        for i in range(starts[g], starts[g + 1]):
            at = times[i]
            if count[z] == 0:
                # The first reading starts the temperature.
                x[z, 0] = values[i]
                last[z] = at
                count[z] = 1
                continue
            hours = max(at - last[z], 0.0) / HOUR
            done, residual, whitened, gated = step(
                x[z], P[z], gated_run[z], outdoor[i], heating[i], neighbour[i], hours,
                values[i],
                quality[i], noise, prior, mean_weights, cov_weights, k, s)
            if not done:
                return i
            if hours > 0.0:
                # The prior of a new time (a second reading of the time keeps the first's).
                prior_mean[z] = s.x_pred[0]
                prior_variance[z] = s.p_pred[0, 0]
                if judged_by[i] >= k.trusted:
                    miss = (values[i] - s.x_pred[0]) ** 2
                    error = prior_error[z]
                    if math.isnan(error):
                        prior_error[z] = miss
                    else:
                        prior_error[z] = error + 1.0 / min(count[z], k.error_readings) * (
                            miss - error)
            if guessed[i]:
                # Stepped with guessed inputs: a Schmidt update (``ZoneBank._round``), the
                # parameters' mean and covariance as predicted.
                for a in range(1, STATE):
                    x[z, a] = s.x_pred[a]
                    for b in range(1, STATE):
                        P[z, a, b] = s.p_pred[a, b]
            gated_run[z] = gated_run[z] + 1 if gated else 0
            last[z] = max(last[z], at)
            count[z] += 1
            if not k.watch:
                continue
            # The watch (``ZoneWatch.observe``): the ring first, then the CUSUM.
            slot = ring_count[z] % RING
            ring_time[z, slot], ring_value[z, slot] = at, values[i]
            ring_quality[z, slot] = judged_by[i]
            ring_outdoor[z, slot], ring_heating[z, slot] = outdoor[i], heating[i]
            ring_neighbour[z, slot] = neighbour[i]
            ring_residual[z, slot], ring_normalised[z, slot] = residual, whitened
            ring_p00[z, slot] = P[z, 0, 0]
            for a in range(STATE):
                ring_x[z, slot, a] = x[z, a]
            ring_count[z] += 1
            last_normalised[z] = whitened
            watched = count[z] >= k.watch_after and judged_by[i] >= k.trusted
            was = watch_diverging[z] > 0.0
            upper, lower, diverging = _cusum(watch_upper[z], watch_lower[z], was, watched,
                                             whitened, k)
            # The change point's estimate: the first reading after a side left zero.
            if watch_upper[z] <= 0.0 and upper > 0.0:
                upper_since[z] = at
            if watch_lower[z] <= 0.0 and lower > 0.0:
                lower_since[z] = at
            watch_upper[z], watch_lower[z] = upper, lower
            watch_diverging[z] = 1.0 if diverging else 0.0
            code, quiet_run[z] = _episode(diverging, was, episode[z] > 0.0,
                                          count[z] - recal_at_count[z], quiet_run[z], watched)
            if code == NOTHING:
                continue
            up = upper >= lower
            since = upper_since[z] if up else lower_since[z]
            if code == STARTED:
                episode[z] = 1.0
                episode_since[z] = since
                episode_start[z] = at
                episodes[z] += 1
            elif code == ENDED:
                episode[z] = 0.0
            said.code[i] = code
            said.statistic[i] = max(upper, lower)
            said.direction[i] = 1.0 if up else -1.0
            said.size[i], said.size_sd[i] = _size(ring_time, ring_residual, ring_normalised,
                                                  ring_count, z, since)
            said.since[i] = since
            if code == ENDED:
                continue
            window = _refit(c, z, said.since[i], noise, prior, mean_weights, cov_weights, k,
                            s, x_fit, p_fit)
            if window < 0:
                return i
            said.window[i] = window
            newest = (ring_count[z] - 1) % RING
            for a in range(STATE):
                said.before[i, a] = x[z, a]
                recal_before[z, a] = x[z, a]
                said.after[i, a] = x_fit[a]
                recal_after[z, a] = x_fit[a]
                ring_x[z, newest, a] = x_fit[a]
                x[z, a] = x_fit[a]
                for b in range(STATE):
                    P[z, a, b] = p_fit[a, b]
            ring_p00[z, newest] = p_fit[0, 0]
            recal_time[z] = at
            recal_window[z] = window
            recal_count[z] += 1
            recal_at_count[z] = count[z]
            watch_diverging[z] = 0.0
            watch_upper[z] = 0.0
            watch_lower[z] = 0.0
        # The coasted state starts again from the zone's last reading.
        for a in range(STATE):
            ahead_x[z, a] = x[z, a]
            for b in range(STATE):
                ahead_P[z, a, b] = P[z, a, b]
        ahead_time[z] = last[z]
    return -1
