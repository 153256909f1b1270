"""One thermal zone's UKF step, compiled: what ``UnscentedKalmanFilter.predict`` and
``update`` do over a batch, for one zone and one reading (``zone_kernel`` runs it over a
batch's readings, and over a recalibration's window).

- The prediction: Van der Merwe's sigma points (the same weights, ``MerweWeights``) from
  the Cholesky factor (summed as LAPACK's ``potf2`` sums it, so it is NumPy's to the bit),
  the exact RC step of ``TimedZone`` (its equilibrium blending the outdoor and the
  neighbours' temperature by the share ``s``), the process noise of an hour times the
  hours.
- The update: the innovation gate (its re-opening after ``reopen_after`` gated readings,
  the jump that explains the residual and the prior's covariance added), the reading's
  variance divided by its quality (at least the gate's floor).
- ``floor_eigenvalues`` as ``contract.py`` has it after each: a covariance whose smallest
  eigenvalue is above the floor is left untouched to the bit. Deciding that needs no
  eigenvalues here: from its Cholesky factor, ``1 / trace(P⁻¹)`` is at most the smallest
  eigenvalue and ``trace(P)`` at least the largest; only when that bound cannot tell (at
  twice the floor's share, for rounding) are the eigenvalues computed as there.

The sums are NumPy's, in its order; the compiler's ``exp`` (the C library's) and NumPy's
own differ in the last bit on about one argument in twenty, so the numbers are the batch
form's to rounding, not to the bit.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ..jit import compiled, compiled_inline
from .zone_watch import STATE

#: The least positive double (``contract.floor_eigenvalues``'s floor of the floor).
TINY = float(np.finfo(np.float64).tiny)
#: Sigma points of a zone's state: the mean, then ± each column of the factor.
POINTS = 2 * STATE + 1


class Knobs(NamedTuple):
    """The pass's settings, from the bank's (``ZoneBank.kernel_knobs``): the sigma points'
    spread ``n + λ``, a reading's variance, the gate's quality floor, threshold (NIS) and
    re-opening run, the prior's error's memory and trusted quality, the floor's share of
    the largest eigenvalue, whether the zones are watched, from which reading, and the
    CUSUM's reference, threshold, release, ceiling and limit."""

    spread: float
    reading_variance: float
    quality_floor: float
    gate_threshold: float
    reopen_after: int
    error_readings: int
    trusted: float
    share: float
    watch: bool
    watch_after: int
    reference: float
    threshold: float
    release: float
    ceiling: float
    limit: float


class Scratch(NamedTuple):
    """Working arrays of a step, made once a pass: the factor ``(STATE, STATE)``, the
    sigma points before and after the step ``(POINTS, STATE)``, the cross covariance and
    a column ``(STATE,)``, the predicted state and covariance."""

    lower: Any
    points: Any
    moved: Any
    cross: Any
    column: Any
    x_pred: Any
    p_pred: Any


@compiled_inline
def _cholesky(matrix: Any, scale: float, lower: Any) -> bool:
    """The lower factor of ``scale · matrix`` into ``lower``; False if it has none. As
    LAPACK's unblocked ``potf2`` sums it (each dot product first, then subtracted; a
    column scaled by the pivot's reciprocal), so it is NumPy's ``cholesky`` to the bit."""
    for j in range(STATE):
        dot = 0.0
        for k in range(j):
            dot += lower[j, k] * lower[j, k]
        pivot = scale * matrix[j, j] - dot
        if not pivot > 0.0:
            return False
        diagonal = math.sqrt(pivot)
        lower[j, j] = diagonal
        reciprocal = 1.0 / diagonal
        for i in range(j):
            lower[i, j] = 0.0
        for i in range(j + 1, STATE):
            dot = 0.0
            for k in range(j):
                dot += lower[i, k] * lower[j, k]
            lower[i, j] = (scale * matrix[i, j] - dot) * reciprocal
    return True


@compiled_inline
def _clearly_positive(matrix: Any, share: float, lower: Any, column: Any) -> bool:
    """Whether the smallest eigenvalue of ``matrix`` is surely above ``share`` of its
    largest: ``1 / trace(P⁻¹)`` (from the factor's inverse, a column at a time in
    ``column``) against ``trace(P)``."""
    if not _cholesky(matrix, 1.0, lower):
        return False
    inverse_square = 0.0
    for j in range(STATE):
        for i in range(j, STATE):
            entry = 1.0 if i == j else 0.0
            for k in range(j, i):
                entry -= lower[i, k] * column[k]
            column[i] = entry / lower[i, i]
            inverse_square += column[i] * column[i]
    trace = 0.0
    for i in range(STATE):
        trace += matrix[i, i]
    return 1.0 / inverse_square > 2.0 * share * trace


@compiled
def _floored(matrix: Any, share: float) -> bool:
    """``contract.floor_eigenvalues`` of one covariance, in place, when the bound could not
    tell (see the module); False if it is not finite."""
    for i in range(STATE):
        for j in range(STATE):
            if not math.isfinite(matrix[i, j]):
                return False
    values = np.linalg.eigvalsh(matrix)
    floor = share * max(np.abs(values).max(), TINY)
    if values.min() > floor:
        return True
    w, v = np.linalg.eigh(matrix)
    w = np.maximum(w, floor)
    repaired = v @ (w.reshape(STATE, 1) * v.T)
    for i in range(STATE):
        for j in range(STATE):
            matrix[i, j] = (repaired[i, j] + repaired[j, i]) / 2.0
    return True


@compiled_inline
def _floor(matrix: Any, share: float, lower: Any, column: Any) -> bool:
    if _clearly_positive(matrix, share, lower, column):
        return True
    return _floored(matrix, share)


@compiled_inline
def _points(x: Any, covariance: Any, spread: float, lower: Any, points: Any) -> bool:
    """Sigma points ``(POINTS, STATE)`` of ``x`` and ``covariance``; False: no factor."""
    if not _cholesky(covariance, spread, lower):
        return False
    for i in range(STATE):
        points[0, i] = x[i]
        for k in range(STATE):
            points[1 + k, i] = x[i] + lower[i, k]
            points[1 + STATE + k, i] = x[i] - lower[i, k]
    return True


@compiled_inline
def _mean_spread(points: Any, mean_weights: Any, cov_weights: Any, mean: Any,
                 spread: Any) -> None:
    """The weighted mean of ``points`` and their spread about it."""
    for i in range(STATE):
        total = 0.0
        for k in range(POINTS):
            total += mean_weights[k] * points[k, i]
        mean[i] = total
    for i in range(STATE):
        for j in range(STATE):
            total = 0.0
            for k in range(POINTS):
                total += cov_weights[k] * (points[k, i] - mean[i]) * (points[k, j] - mean[j])
            spread[i, j] = total


@compiled_inline
def _seen(points: Any, mean: Any, mean_weights: Any, cov_weights: Any,
          cross: Any) -> tuple[float, float]:
    """The predicted temperature of ``points`` about the state ``mean``, its spread and the
    state's covariance with it (``cross``): ``UnscentedKalmanFilter._seen`` for a sensor
    that reads the temperature."""
    predicted = 0.0
    for k in range(POINTS):
        predicted += mean_weights[k] * points[k, 0]
    spread = 0.0
    for k in range(POINTS):
        spread += cov_weights[k] * (points[k, 0] - predicted) * (points[k, 0] - predicted)
    for i in range(STATE):
        total = 0.0
        for k in range(POINTS):
            total += cov_weights[k] * (points[k, i] - mean[i]) * (points[k, 0] - predicted)
        cross[i] = total
    return predicted, spread


@compiled_inline
def _symmetrised(matrix: Any) -> None:
    for i in range(STATE):
        for j in range(i + 1, STATE):
            both = (matrix[i, j] + matrix[j, i]) / 2.0
            matrix[i, j] = both
            matrix[j, i] = both


@compiled_inline
def _predict(x: Any, covariance: Any, outdoor: float, heating: float, neighbour: float,
             hours: float, noise: Any, mean_weights: Any, cov_weights: Any, k: Knobs,
             lower: Any, points: Any, moved: Any, x_out: Any, p_out: Any, column: Any
             ) -> bool:
    """``UnscentedKalmanFilter.predict`` of one zone ``hours`` on, the inputs held: the
    sigma points through ``TimedZone.step`` into ``moved``, their mean and spread plus the
    process noise (``noise`` an hour, diagonal), symmetrised and floored."""
    if not _points(x, covariance, k.spread, lower, points):
        return False
    # The factor is lower triangular: the points along its last columns hold the mean's
    # ln R (or ln R and ln C) to the bit, so their R (and decay) are the mean's: 19 exps
    # instead of 33, the same numbers (and 11 more for the share where a neighbour is
    # read: the logit is the factor's last row, which every column reaches).
    central_resistance = math.exp(points[0, 1])
    central_capacitance = math.exp(points[0, 2])
    central_decay = math.exp(-hours / (central_resistance * central_capacitance))
    # ``NeighbourZone``'s blend, summed in its order. With no neighbour read (the
    # neighbours' temperature is the outdoor one) the share multiplies 0 exactly, and
    # its 11 exps are not taken.
    beyond = neighbour - outdoor
    coupled = beyond != 0.0
    central_share = 1.0 / (1.0 + math.exp(-points[0, 4])) if coupled else 0.0
    for p in range(POINTS):
        same_resistance = points[p, 1] == points[0, 1]
        resistance = central_resistance if same_resistance else math.exp(points[p, 1])
        if same_resistance and points[p, 2] == points[0, 2]:
            decay = central_decay
        else:
            decay = math.exp(-hours / (resistance * math.exp(points[p, 2])))
        share = central_share
        if coupled and points[p, 4] != points[0, 4]:
            share = 1.0 / (1.0 + math.exp(-points[p, 4]))
        equilibrium = outdoor + share * beyond + resistance * heating + points[p, 3]
        moved[p, 0] = equilibrium + (points[p, 0] - equilibrium) * decay
        for i in range(1, STATE):
            moved[p, i] = points[p, i]
    _mean_spread(moved, mean_weights, cov_weights, x_out, p_out)
    for i in range(STATE):
        p_out[i, i] += noise[i, i] * hours
    _symmetrised(p_out)
    return _floor(p_out, k.share, lower, column)


@compiled_inline
def _reopen(x: Any, covariance: Any, residual: float, noise_variance: float, value: float,
            prior: Any, mean_weights: Any, cov_weights: Any, k: Knobs, lower: Any,
            points: Any, cross: Any) -> tuple[bool, float, float]:
    """Widen ``covariance`` in place as the gate re-opens (``UnscentedKalmanFilter.update``:
    the jump that explains ``residual`` and the prior's covariance) and see the reading
    again from points drawn from it: ``cross``, the residual and its variance."""
    if not _points(x, covariance, k.spread, lower, points):
        return False, 0.0, 0.0
    _seen(points, x, mean_weights, cov_weights, cross)
    # The measurement's statistical linearisation H = Pxzᵀ P⁻¹ (solved as NumPy does).
    drawn = np.empty((STATE, 1))
    for i in range(STATE):
        drawn[i, 0] = cross[i]
    linear = np.linalg.solve(covariance.copy(), drawn)
    square = 0.0
    for i in range(STATE):
        square += linear[i, 0] * linear[i, 0]
    along = residual / square
    for i in range(STATE):
        for j in range(STATE):
            covariance[i, j] += prior[i, j] + (linear[i, 0] * along) * (linear[j, 0] * along)
    if not _points(x, covariance, k.spread, lower, points):
        return False, 0.0, 0.0
    predicted, spread = _seen(points, x, mean_weights, cov_weights, cross)
    return True, value - predicted, spread + noise_variance



@compiled_inline
def step(x: Any, covariance: Any, gated_run: int, outdoor: float, heating: float,
         neighbour: float, hours: float, value: float, quality: float, noise: Any,
         prior: Any,
         mean_weights: Any, cov_weights: Any, k: Knobs, s: Scratch
         ) -> tuple[bool, float, float, bool]:
    """Predict one zone's ``x`` and ``covariance`` ``hours`` on (``noise`` an hour,
    diagonal) and update them with ``value``, in place; the prediction is left in
    ``s.x_pred`` and ``s.p_pred``. Returns whether the covariances had a factor and were
    finite, the innovation, its normalised value (what the gate judges) and whether the
    gate held the reading out (``gated_run`` its run so far)."""
    if not _predict(x, covariance, outdoor, heating, neighbour, hours, noise, mean_weights,
                    cov_weights, k, s.lower, s.points, s.moved, s.x_pred, s.p_pred, s.column):
        return False, 0.0, 0.0, False
    noise_variance = k.reading_variance / min(max(quality, k.quality_floor), 1.0)
    predicted, spread = _seen(s.moved, s.x_pred, mean_weights, cov_weights, s.cross)
    innovation_variance = spread + noise_variance
    residual = value - predicted
    whitened = residual / math.sqrt(innovation_variance)
    fails = not whitened * whitened <= k.gate_threshold
    reopened = fails and gated_run >= k.reopen_after
    gated = fails and not reopened
    for a in range(STATE):
        for b in range(STATE):
            covariance[a, b] = s.p_pred[a, b]
    used_residual, used_variance = residual, innovation_variance
    if reopened:
        done, used_residual, used_variance = _reopen(
            s.x_pred, covariance, residual, noise_variance, value, prior, mean_weights,
            cov_weights, k, s.lower, s.points, s.cross)
        if not done:
            return False, residual, whitened, gated
    scale = math.sqrt(used_variance)
    for a in range(STATE):
        # K = Pxz S⁻¹ as NumPy solves it by the factor of S: (Pxz / √S) / √S.
        gain = 0.0 if gated else s.cross[a] / scale / scale
        x[a] = s.x_pred[a] + gain * used_residual
        s.cross[a] = gain
    for a in range(STATE):
        for b in range(STATE):
            covariance[a, b] = covariance[a, b] - s.cross[a] * used_variance * s.cross[b]
    _symmetrised(covariance)
    return _floor(covariance, k.share, s.lower, s.column), residual, whitened, gated
