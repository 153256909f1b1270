"""Kalman filters over a batch of elements: the linear filter and the extended one (EKF).

Each holds the states ``x`` ``(B, n)`` and covariances ``P`` ``(B, n, n)`` of ``B`` elements
and moves them all at once. The update is in Joseph form,
``P = (I - KH) P (I - KH)ᵀ + K R Kᵀ``, which stays symmetric positive semi-definite even
when the gain is not the optimal one (rounding, a mis-stated ``R``); the result is then
symmetrised. The gain comes from a Cholesky solve of the innovation covariance, and a
covariance that has no Cholesky factor raises ``NotPositiveDefinite`` naming the elements.

Every update also returns what the twin shows beside a measurement: the one-step prediction,
its variance and the residual (innovation), so a property always has both.

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

from .contract import Array, StateModel, batch_matrix, cholesky, solve_spd, symmetrise


@dataclass(frozen=True)
class Innovation:
    """What one update saw, per element: the predicted measurement ``(B, p)``, its
    covariance ``(B, p, p)`` (prediction and sensor noise together) and the residual."""

    predicted: Array
    covariance: Array
    residual: Array

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


def joseph_update(
    x: Array, P: Array, residual: Array, H: Array, R: Array, predicted: Array
) -> tuple[Array, Array, Innovation]:
    """The Kalman update of a batch given each element's residual and measurement matrix."""
    n = x.shape[1]
    PHt = P @ np.swapaxes(H, -1, -2)
    S = symmetrise(H @ PHt + R)
    # K = P Hᵀ S⁻¹ = (S⁻¹ H P)ᵀ, S and P symmetric
    K = np.swapaxes(solve_spd(S, np.swapaxes(PHt, -1, -2)), -1, -2)
    new_x = x + (K @ residual[..., None])[..., 0]
    IKH = np.eye(n) - K @ H
    new_P = IKH @ P @ np.swapaxes(IKH, -1, -2) + K @ R @ np.swapaxes(K, -1, -2)
    return new_x, symmetrise(new_P), Innovation(predicted, S, residual)


def _measurement(z: Array, batch: int) -> Array:
    measured = np.asarray(z, dtype=np.float64)
    if measured.ndim != 2 or measured.shape[0] != batch:
        raise ValueError(f"z must be ({batch}, p), got {measured.shape}")
    if not np.all(np.isfinite(measured)):
        raise ValueError("z must be finite")
    return measured


class KalmanFilter:
    """Linear Kalman filter over ``B`` elements; ``F``, ``Q``, ``H``, ``R`` are given once for
    all elements or one per element (a leading batch axis)."""

    def __init__(self, x: Array, P: Array) -> None:
        self.x, self.P = _checked_state(x, P)

    def predict(self, F: Array, Q: Array | float, u: Array | None = None) -> None:
        """``x ← F x (+ u)``, ``P ← F P Fᵀ + Q``."""
        batch, n = self.x.shape
        Fb = batch_matrix(F, batch, n, n, "F")
        Qb = batch_matrix(Q, batch, n, n, "Q")
        self.x = (Fb @ self.x[..., None])[..., 0]
        if u is not None:
            self.x = self.x + np.asarray(u, dtype=np.float64)
        self.P = symmetrise(Fb @ self.P @ np.swapaxes(Fb, -1, -2) + Qb)

    def update(self, z: Array, H: Array, R: Array | float) -> Innovation:
        """Fold in measurements ``z`` ``(B, p)``; returns the prediction and residual."""
        batch, n = self.x.shape
        measured = _measurement(z, batch)
        p = measured.shape[1]
        Hb = batch_matrix(H, batch, p, n, "H")
        Rb = batch_matrix(R, batch, p, p, "R")
        predicted = (Hb @ self.x[..., None])[..., 0]
        self.x, self.P, innovation = joseph_update(
            self.x, self.P, measured - predicted, Hb, Rb, predicted
        )
        return innovation


class ExtendedKalmanFilter:
    """EKF over ``B`` elements of one ``StateModel``, linearised by the model's Jacobians.
    With the model's parameters in its state it estimates them jointly with the state."""

    def __init__(self, model: StateModel, x: Array, P: Array) -> None:
        self.model = model
        self.x, self.P = _checked_state(x, P)

    def predict(self, dt: float, inputs: Array, Q: Array | float) -> None:
        batch, n = self.x.shape
        # the Jacobian at the estimate before the step, as the EKF's derivation has it
        F = self.model.step_jacobian(self.x, dt, inputs)
        self.x = self.model.step(self.x, dt, inputs)
        Qb = batch_matrix(Q, batch, n, n, "Q")
        self.P = symmetrise(F @ self.P @ np.swapaxes(F, -1, -2) + Qb)

    def update(self, z: Array, R: Array | float) -> Innovation:
        batch, _ = self.x.shape
        measured = _measurement(z, batch)
        p = measured.shape[1]
        H = self.model.measure_jacobian(self.x)
        predicted = self.model.measure(self.x)
        Rb = batch_matrix(R, batch, p, p, "R")
        self.x, self.P, innovation = joseph_update(
            self.x, self.P, measured - predicted, H, Rb, predicted
        )
        return innovation
