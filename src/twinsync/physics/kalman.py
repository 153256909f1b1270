"""Kalman filters over a batch of elements: the linear filter and the extended one (EKF).

Each holds the states ``x`` ``(B, n)`` and covariances ``P`` ``(B, n, n)`` of ``B`` elements
and moves them all at once. The update is in Joseph form,
``P = (I - KH) P (I - KH)ᵀ + K R Kᵀ``, which stays symmetric positive semi-definite even
when the gain is not the optimal one (rounding, a mis-stated ``R``); the result is then
symmetrised. The gain comes from a Cholesky solve of the innovation covariance, and a
covariance that has no Cholesky factor raises ``NotPositiveDefinite`` naming the elements.

Every update also returns what the twin shows beside a measurement: the one-step prediction,
its variance and the residual (innovation), so a property always has both. Readings are
screened by an innovation gate and weighed by their health quality (``gate``).

>>> kf = KalmanFilter(x=np.zeros((2, 1)), P=np.ones((2, 1, 1)))
>>> kf.predict(F=np.eye(1), Q=0.0)
>>> kf.update(np.array([[2.0], [4.0]]), H=np.eye(1), R=1.0).residual.tolist()
[[2.0], [4.0]]
>>> np.round(kf.x, 12).tolist()
[[1.0], [2.0]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .contract import Array, Counts, Flags, StateModel, batch_matrix, cholesky, symmetrise
from .gate import DEFAULT_GATE, Gate, jump_covariance, quality_weighted, screen


@dataclass(frozen=True)
class Innovation:
    """What one update saw, per element: the predicted measurement ``(B, p)``, its
    covariance ``(B, p, p)`` (prediction and sensor noise together, the sensor's as weighed
    by the reading's quality), the residual, and what the gate did (``gated``: not folded
    in, the element stays as predicted; ``reopened``: folded in after a run of gated
    readings, its covariance inflated first). See ``gate``."""

    predicted: Array
    covariance: Array
    residual: Array
    gated: Flags
    reopened: Flags

    @property
    def normalised(self) -> Array:
        """Residuals whitened by their covariance: each component ~ N(0, 1) when the model
        fits (what a divergence detector watches)."""
        lower = cholesky(self.covariance, "innovation covariance")
        whitened = np.linalg.solve(lower, self.residual[..., None])[..., 0]
        return np.asarray(whitened, dtype=np.float64)


def _checked_state(x: Array, P: Array) -> tuple[Array, Array]:
    state = np.array(x, dtype=np.float64)
    covariance = np.array(P, dtype=np.float64)
    if state.ndim != 2:
        raise ValueError(f"x must be (elements, n), got {state.shape}")
    batch, n = state.shape
    if covariance.shape != (batch, n, n):
        raise ValueError(f"P must be ({batch}, {n}, {n}), got {covariance.shape}")
    cholesky(covariance, "initial covariance")
    return state, symmetrise(covariance)


def whitened_square(lower: Array, residual: Array) -> Array:
    """``rᵀ S⁻¹ r`` per element (``r`` the residual), from the Cholesky factor of ``S``."""
    whitened = np.linalg.solve(lower, residual[..., None])[..., 0]
    nis: Array = np.einsum("bi,bi->b", whitened, whitened)
    return nis


def gain(lower: Array, cross: Array) -> Array:
    """``K = Pxz S⁻¹`` from the Cholesky factor of ``S`` (``Pxz`` ``(B, n, p)``), never an
    explicit inverse: ``K = (S⁻¹ Pxzᵀ)ᵀ`` with ``S`` symmetric."""
    half = np.linalg.solve(lower, np.swapaxes(cross, -1, -2))
    solved = np.linalg.solve(np.swapaxes(lower, -1, -2), half)
    return np.swapaxes(solved, -1, -2)


def joseph_update(
    x: Array,
    P: Array,
    residual: Array,
    H: Array,
    R: Array,
    predicted: Array,
    gate: Gate | None,
    run: Counts,
    reopen_covariance: Array,
) -> tuple[Array, Array, Innovation, Counts]:
    """The Kalman update of a batch given each element's residual and measurement matrix,
    screened by ``gate`` (``run``: each element's gated readings in a row so far;
    ``reopen_covariance``: what re-opening adds to an element's covariance); returns the new
    state, covariance, innovation and run."""
    n = x.shape[1]
    Ht = np.swapaxes(H, -1, -2)
    PHt = P @ Ht
    S = symmetrise(H @ PHt + R)
    lower = cholesky(S, "innovation covariance")
    decided = screen(gate, whitened_square(lower, residual), residual.shape[1], run)
    if decided.reopened.any():
        widened = P + reopen_covariance + jump_covariance(H, residual)
        P = np.where(decided.reopened[:, None, None], widened, P)
        PHt = P @ Ht
        lower = cholesky(symmetrise(H @ PHt + R), "innovation covariance")
    K = gain(lower, PHt)
    K[decided.gated] = 0.0  # a gated reading is not folded in: x and P stay predicted
    new_x = x + (K @ residual[..., None])[..., 0]
    IKH = np.eye(n) - K @ H
    new_P = IKH @ P @ np.swapaxes(IKH, -1, -2) + K @ R @ np.swapaxes(K, -1, -2)
    innovation = Innovation(predicted, S, residual, decided.gated, decided.reopened)
    new_run: Counts = np.where(decided.gated, run + 1, 0)
    return new_x, symmetrise(new_P), innovation, new_run


def _weighted_noise(
    R: Array | float, quality: Array | None, batch: int, p: int, gate: Gate | None
) -> Array:
    floor = (gate or DEFAULT_GATE).quality_floor
    return quality_weighted(batch_matrix(R, batch, p, p, "R"), quality, floor)


def _measurement(z: Array, batch: int) -> Array:
    measured = np.asarray(z, dtype=np.float64)
    if measured.ndim != 2 or measured.shape[0] != batch:
        raise ValueError(f"z must be ({batch}, p), got {measured.shape}")
    if not np.all(np.isfinite(measured)):
        raise ValueError("z must be finite")
    return measured


class KalmanFilter:
    """Linear Kalman filter over ``B`` elements; ``F``, ``Q``, ``H``, ``R`` are given once for
    all elements or one per element (a leading batch axis). ``gate`` screens readings by
    their innovation (``None``: every reading is folded in, the classic filter)."""

    def __init__(self, x: Array, P: Array, gate: Gate | None = DEFAULT_GATE) -> None:
        self.x, self.P = _checked_state(x, P)
        self.gate = gate
        #: each element's gated readings in a row (the gate re-opens after a run)
        self.gated_run: Counts = np.zeros(self.x.shape[0], dtype=np.int64)
        #: what re-opening adds to an element's covariance: its covariance at the start
        self.reopen_covariance = self.P.copy()

    def predict(self, F: Array, Q: Array | float, u: Array | None = None) -> None:
        """``x ← F x (+ u)``, ``P ← F P Fᵀ + Q``."""
        batch, n = self.x.shape
        Fb = batch_matrix(F, batch, n, n, "F")
        Qb = batch_matrix(Q, batch, n, n, "Q")
        self.x = (Fb @ self.x[..., None])[..., 0]
        if u is not None:
            self.x = self.x + np.asarray(u, dtype=np.float64)
        self.P = symmetrise(Fb @ self.P @ np.swapaxes(Fb, -1, -2) + Qb)

    def update(
        self, z: Array, H: Array, R: Array | float, quality: Array | None = None
    ) -> Innovation:
        """Fold in measurements ``z`` ``(B, p)``, each weighed by its reading's ``quality``
        ``(B,)`` (0..1, default 1) and screened by the gate; returns the prediction, the
        residual and what the gate did."""
        batch, n = self.x.shape
        measured = _measurement(z, batch)
        p = measured.shape[1]
        Hb = batch_matrix(H, batch, p, n, "H")
        Rb = _weighted_noise(R, quality, batch, p, self.gate)
        predicted = (Hb @ self.x[..., None])[..., 0]
        self.x, self.P, innovation, self.gated_run = joseph_update(
            self.x, self.P, measured - predicted, Hb, Rb, predicted, self.gate, self.gated_run,
            self.reopen_covariance,
        )
        return innovation


class ExtendedKalmanFilter:
    """EKF over ``B`` elements of one ``StateModel``, linearised by the model's Jacobians.
    With the model's parameters in its state it estimates them jointly with the state."""

    def __init__(
        self, model: StateModel, x: Array, P: Array, gate: Gate | None = DEFAULT_GATE
    ) -> None:
        self.model = model
        self.x, self.P = _checked_state(x, P)
        self.gate = gate
        self.gated_run: Counts = np.zeros(self.x.shape[0], dtype=np.int64)
        self.reopen_covariance = self.P.copy()

    def predict(self, dt: float, inputs: Array, Q: Array | float) -> None:
        batch, n = self.x.shape
        # the Jacobian at the estimate before the step, as the EKF's derivation has it
        F = self.model.step_jacobian(self.x, dt, inputs)
        self.x = self.model.step(self.x, dt, inputs)
        Qb = batch_matrix(Q, batch, n, n, "Q")
        self.P = symmetrise(F @ self.P @ np.swapaxes(F, -1, -2) + Qb)

    def update(self, z: Array, R: Array | float, quality: Array | None = None) -> Innovation:
        """As ``KalmanFilter.update``, linearised at the predicted state."""
        batch, _ = self.x.shape
        measured = _measurement(z, batch)
        p = measured.shape[1]
        H = self.model.measure_jacobian(self.x)
        predicted = self.model.measure(self.x)
        Rb = _weighted_noise(R, quality, batch, p, self.gate)
        self.x, self.P, innovation, self.gated_run = joseph_update(
            self.x, self.P, measured - predicted, H, Rb, predicted, self.gate, self.gated_run,
            self.reopen_covariance,
        )
        return innovation
