"""Recalibration: re-estimate a model's parameters over a recent window, for the elements
whose twin has diverged from reality.

The online filter follows slow drift; a sudden change (a window left open, a heater that
lost a stage, a sensor moved) leaves it far behind, and the divergence detector says so. The
cure is a fresh fit over a recent window of inputs and readings: an *output-error* least
squares, which simulates the model over the window from a starting state (its parameters
included) and finds the one whose simulated readings are nearest the real ones,

    minimise over x₀   Σₜ ‖ yₜ - h(xₜ) ‖²,   xₜ₊₁ = step(xₜ, dt, uₜ).

Simulating, rather than regressing each reading on the last, keeps the sensor's noise out of
the regressors (an ARX fit's ``T`` on ``T`` would be biased by it). It needs nothing of a
model but the contract: ``step``, ``measure`` and their Jacobians, chained through the
window for the sensitivities ``∂xₜ/∂x₀``. It is solved by Levenberg-Marquardt, every element
of the batch at once with its own damping. For the thermal zone this re-estimates the
temperature at the window's start, R and C; for the local level (no parameters) it is the
re-initialisation: the level (and trend) that best fits the window.

``recalibrate`` is pure: the caller keeps the window (inputs, readings, the filter's state at
its start) and gets back, per element, the states before and after (the parameters are in
them), the tracking error of each over the window, and the state at the window's end to
restart the filter from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .contract import Array, Counts, Flags, StateModel


@dataclass(frozen=True)
class Recalibration:
    """For the recalibrated ``elements`` (indices into the batch): the window-start states
    before (the caller's) and after (fitted), the root-mean-square tracking error of each
    over the window (readings minus simulated readings), the fitted state at the window's
    end, and whether the fit converged within its iterations."""

    elements: Counts
    before: Array
    after: Array
    error_before: Array
    error_after: Array
    end: Array
    converged: Flags


def recalibrate(
    model: StateModel,
    start: Array,
    inputs: Array,
    readings: Array,
    dt: float,
    elements: Flags | None = None,
    *,
    iterations: int = 60,
    tolerance: float = 1e-10,
) -> Recalibration:
    """Fit the chosen elements' window-start states (parameters included) to their window.

    ``start`` ``(B, n)``: each element's state at the window's first reading (the first
    guess, and the "before"); ``inputs`` ``(B, W, m)``: held from reading ``t`` to ``t + 1``;
    ``readings`` ``(B, W, p)``, NaN for a gap; ``elements`` ``(B,)``: which to fit (all by
    default)."""
    x0 = np.asarray(start, dtype=np.float64)
    u = np.asarray(inputs, dtype=np.float64)
    y = np.asarray(readings, dtype=np.float64)
    if x0.ndim != 2 or u.ndim != 3 or y.ndim != 3:
        raise ValueError("start must be (B, n), inputs (B, W, m), readings (B, W, p)")
    if u.shape[:2] != y.shape[:2] or u.shape[0] != x0.shape[0] or y.shape[1] < 2:
        raise ValueError("start, inputs and readings must cover the same elements and window")
    chosen = np.ones(x0.shape[0], dtype=bool) if elements is None else np.asarray(elements, bool)
    index: Counts = np.flatnonzero(chosen)
    x, u, y = x0[index], u[index], y[index]
    seen = np.isfinite(y)
    y = np.where(seen, y, 0.0)

    count = np.maximum(seen.sum(axis=(1, 2)), 1)
    cost, _ = _misfit(model, x, u, y, seen, dt)
    before_error = np.sqrt(cost / count)
    damping = np.full(x.shape[0], 1e-3)
    converged = np.zeros(x.shape[0], dtype=bool)
    for _ in range(iterations):
        normal, gradient = _normal_equations(model, x, u, y, seen, dt)
        scale = np.diagonal(normal, axis1=1, axis2=2)
        scale = scale + 1e-12 * scale.max(axis=1, keepdims=True) + 1e-300
        damped = normal + damping[:, None, None] * (scale[:, :, None] * np.eye(x.shape[1]))
        step = np.linalg.solve(damped, gradient[..., None])[..., 0]
        step[converged] = 0.0
        trial = x + step
        with np.errstate(all="ignore"):
            trial_cost, _ = _misfit(model, trial, u, y, seen, dt)
        better = np.isfinite(trial_cost) & (trial_cost <= cost)
        settled = better & (cost - trial_cost <= tolerance * np.maximum(cost, 1e-300))
        x = np.where(better[:, None], trial, x)
        cost = np.where(better, trial_cost, cost)
        damping = np.where(better, damping / 3.0, damping * 4.0)
        converged |= settled
        if converged.all():
            break
    _, end = _misfit(model, x, u, y, seen, dt)
    return Recalibration(index, x0[index], x, before_error, np.sqrt(cost / count), end, converged)


def _misfit(
    model: StateModel, x: Array, u: Array, y: Array, seen: Flags, dt: float
) -> tuple[Array, Array]:
    """The sum of squared readings minus simulated readings, and the state at the end."""
    total, state = np.zeros(x.shape[0]), x
    for t in range(y.shape[1]):
        if t > 0:
            state = model.step(state, dt, u[:, t - 1])
        miss = np.where(seen[:, t], y[:, t] - model.measure(state), 0.0)
        total += np.einsum("bp,bp->b", miss, miss)
    return total, state


def _normal_equations(
    model: StateModel, x: Array, u: Array, y: Array, seen: Flags, dt: float
) -> tuple[Array, Array]:
    """``JᵀJ`` and ``Jᵀr`` of the simulated readings over the window, the Jacobian chained
    through the steps (``∂xₜ/∂x₀ = Fₜ₋₁ … F₀``)."""
    batch, n = x.shape
    normal = np.zeros((batch, n, n))
    gradient = np.zeros((batch, n))
    state = x
    sensitivity = np.broadcast_to(np.eye(n), (batch, n, n)).copy()
    for t in range(y.shape[1]):
        if t > 0:
            jacobian = model.step_jacobian(state, dt, u[:, t - 1])
            state = model.step(state, dt, u[:, t - 1])
            sensitivity = jacobian @ sensitivity
        miss = np.where(seen[:, t], y[:, t] - model.measure(state), 0.0)
        rows = np.where(seen[:, t, :, None], model.measure_jacobian(state) @ sensitivity, 0.0)
        normal += np.swapaxes(rows, -1, -2) @ rows
        gradient += np.einsum("bpn,bp->bn", rows, miss)
    return normal, gradient
