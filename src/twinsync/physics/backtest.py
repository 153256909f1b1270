"""How wide a forecast's interval must be, told by the readings it was fitted on: forecasts
made from earlier grid steps of the window, checked against the readings that came after
them.

The noise variances a forecast uses are fitted by the likelihood of one-step predictions,
where the sensor's noise dominates; how fast a trend wanders shows little there, and two
days of readings do not pin it down. A forecast many steps ahead from a variance fitted
too low is too sure of itself, and its interval holds too few readings. The readings
themselves can say so: from every grid step of the window (an *origin*), the filter's state
there, looked ahead ``h`` steps with the same model, predicts a reading that was then taken;
the prediction's error divided by its standard deviation is ``N(0, 1)`` when the model's
variances are right. ``widening`` gives, per ``h``, how far the 90 % of those normalised
errors nearest to zero reach, in units of a normal's (1.645): above 1 the forecast is
widened by that factor, never narrowed (the model's own uncertainty stays the floor, so
an origin-by-origin check that happens to look good cannot make a forecast surer than
its model), and the widening needed at a horizon is kept for every longer one. The
state at an origin has seen only readings up to it, so the check is out of sample for
the state; the variances were fitted on the whole window, which if anything makes the
errors look smaller than they are.

>>> F = np.eye(2); Q = np.zeros((2, 2)); Q[0, 0] = 1.0
>>> states = np.zeros((1, 6, 2)); covariances = np.zeros((1, 6, 2, 2))
>>> readings = np.array([0.0, 1.0, -1.0, 1.0, -1.0, 1.0])
>>> widening(readings, np.ones(6), [(F, Q, 1.0, 1.0)], states, covariances, longest=2).shape
(2,)
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

from .contract import Array

#: The share of normalised errors the interval is checked on: that of the interval the
#: forecast answers besides its quantiles (90 %).
COVERAGE = 0.9
#: The fewest origins a horizon is checked from; a horizon with fewer is not checked.
MIN_ORIGINS = 8

#: A candidate for the check: transition ``F`` and process noise ``Q`` of one grid step,
#: the sensor's variance and the candidate's weight in the mixture.
Candidate = tuple[Array, Array, float, float]


def _ahead(F: Array, Q: Array, longest: int) -> tuple[Array, Array]:
    """The first row of ``F^h`` and the level's process variance accumulated over ``h``
    steps, for ``h`` from 1 to ``longest``."""
    n = F.shape[0]
    rows = np.empty((longest, n))
    accumulated = np.empty(longest)
    power, summed = np.eye(n), np.zeros((n, n))
    for h in range(longest):
        summed = F @ summed @ F.T + Q
        power = F @ power
        rows[h] = power[0]
        accumulated[h] = summed[0, 0]
    return rows, accumulated


def widening(
    readings: Array,
    quality: Array,
    candidates: list[Candidate],
    states: Array,
    covariances: Array,
    longest: int,
    start: int = 0,
    floor: float = 0.01,
) -> Array:
    """Per horizon of 1 to ``longest`` grid steps, the factor (1 or more) a forecast's
    standard deviation is widened by: the ``COVERAGE`` quantile of the mixture's normalised
    errors from every origin from ``start`` on, over a normal's. ``readings`` ``(T,)``
    (NaN for a gap) and their ``quality``; ``states`` ``(K, T, n)`` and ``covariances``
    ``(K, T, n, n)`` are each candidate's filtered state after each step; ``floor`` the
    least quality."""
    times = readings.size
    weights = np.array([weight for *_, weight in candidates])
    weights = weights / weights.sum()
    # a target reading's own noise, weighed by its quality as the filter weighs it
    doubt = 1.0 / np.clip(np.nan_to_num(quality, nan=1.0), floor, 1.0)
    # every (horizon, origin) pair at once: the reading h steps after each origin (NaN
    # past the window, at a gap, or before ``start``)
    horizon = np.arange(1, longest + 1)[:, None]
    target = np.arange(times)[None, :] + horizon
    inside = (target < times) & (np.arange(times)[None, :] >= start)
    at = np.where(inside, target, 0)
    later = np.where(inside, readings[at], np.nan)
    first = np.zeros(later.shape)
    second = np.zeros(later.shape)
    for k, (F, Q, noise, _) in enumerate(candidates):
        rows, accumulated = _ahead(F, Q, longest)
        mean = rows @ states[k].T
        # rowᵀ P row for every horizon's row and origin's P, as one product
        outer = (rows[:, :, None] * rows[:, None, :]).reshape(longest, -1)
        variance = (
            outer @ covariances[k].reshape(times, -1).T
            + accumulated[:, None]
            + noise * doubt[at]
        )
        first += weights[k] * mean
        second += weights[k] * (variance + mean**2)
    spread = np.sqrt(np.maximum(second - first**2, 1e-300))
    normalised = np.abs(later - first) / spread
    checked = np.isfinite(normalised)
    enough = checked.sum(axis=1) >= MIN_ORIGINS
    factor = np.ones(longest)
    if enough.any():
        z_at = NormalDist().inv_cdf(0.5 + COVERAGE / 2.0)
        # np.nanquantile row by row, in one sort (NaNs sort last)
        ordered = np.sort(normalised[enough], axis=1)
        position = (checked.sum(axis=1)[enough] - 1) * COVERAGE
        below = np.floor(position).astype(np.int64)
        above = np.minimum(below + 1, ordered.shape[1] - 1)
        rows_at = np.arange(ordered.shape[0])
        low, high = ordered[rows_at, below], ordered[rows_at, above]
        quantile = low + (position - below) * np.where(np.isfinite(high), high - low, 0.0)
        factor[enough] = np.maximum(1.0, quantile / z_at)
    # horizons with too few origins (past the longest checked) take the widening found
    # up to them (below)
    if not enough.all():
        longest_checked = int(np.argmin(enough))
        factor[longest_checked:] = factor[longest_checked - 1] if longest_checked else 1.0
    # A forecast found too sure h steps ahead is taken to be at least as short further
    # ahead: a variance fitted too low (the trend's wander, above all) costs more the
    # further a forecast looks, and the check further ahead rests on fewer independent
    # errors (a day ahead in two days of readings: about one), so it alone would miss it.
    widened: Array = np.maximum.accumulate(factor)
    return widened
