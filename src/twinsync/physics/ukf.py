"""The unscented Kalman filter over a batch of elements, with Van der Merwe's scaled sigma
points.

It needs nothing of a model but ``step`` and ``measure``: ``2n + 1`` sigma points per
element are drawn from each state and the Cholesky factor of its covariance, all of them for
all elements are pushed through the model in one call (the batch axis becomes
``elements * points``), and the mean and covariance are taken back. This is why a model's
parameters can simply sit in its state (joint estimation): the UKF sees how the prediction
moves with them without any derivative.

The update reuses the sigma points of the prediction, as the standard formulation does; an
update with no prediction before it draws them afresh.
"""

from __future__ import annotations

import numpy as np

from .contract import (
    Array,
    StateModel,
    batch_matrix,
    cholesky,
    floor_eigenvalues,
    solve_spd,
    symmetrise,
)
from .kalman import Innovation, _checked_state, _measurement


class MerweWeights:
    """Weights of the scaled unscented transform: ``alpha`` spreads the points (small keeps
    them near the mean), ``beta = 2`` is right for Gaussian priors, ``kappa`` is usually 0 or
    ``3 - n``."""

    def __init__(self, n: int, alpha: float = 1e-3, beta: float = 2.0, kappa: float = 0.0):
        if n < 1 or alpha <= 0:
            raise ValueError("n must be at least 1 and alpha positive")
        self.n = n
        self.lam = alpha**2 * (n + kappa) - n
        if n + self.lam <= 0:
            raise ValueError("alpha and kappa give a non-positive spread n + lambda")
        self.mean = np.full(2 * n + 1, 1.0 / (2.0 * (n + self.lam)))
        self.cov = self.mean.copy()
        self.mean[0] = self.lam / (n + self.lam)
        self.cov[0] = self.lam / (n + self.lam) + (1.0 - alpha**2 + beta)

    def points(self, x: Array, P: Array) -> Array:
        """Sigma points ``(B, 2n + 1, n)``: the mean, then ± each column of the factor."""
        spread = cholesky((self.n + self.lam) * P, "covariance")
        columns = np.swapaxes(spread, -1, -2)  # row k = column k of the lower factor
        return np.concatenate([x[:, None, :], x[:, None, :] + columns, x[:, None, :] - columns], 1)


class UnscentedKalmanFilter:
    """UKF over ``B`` elements of one ``StateModel``."""

    def __init__(
        self,
        model: StateModel,
        x: Array,
        P: Array,
        alpha: float = 1e-3,
        beta: float = 2.0,
        kappa: float = 0.0,
    ) -> None:
        self.model = model
        self.x, self.P = _checked_state(x, P)
        self.weights = MerweWeights(self.x.shape[1], alpha, beta, kappa)
        self._sigmas: Array | None = None

    def predict(self, dt: float, inputs: Array, Q: Array | float) -> None:
        batch, n = self.x.shape
        points = self.weights.points(self.x, self.P)
        count = points.shape[1]
        stepped_inputs = np.repeat(np.asarray(inputs, dtype=np.float64), count, axis=0)
        moved = self.model.step(points.reshape(batch * count, n), dt, stepped_inputs)
        moved = moved.reshape(batch, count, n)
        self.x, spread = self._transform(moved)
        # With a negative central weight (a small ``alpha``) the unscented spread can lose
        # positive definiteness by more than rounding, and then no sigma points exist for
        # the next step: such an element's eigenvalues are floored (the others untouched).
        self.P = floor_eigenvalues(symmetrise(spread + batch_matrix(Q, batch, n, n, "Q")))
        self._sigmas = moved

    def update(self, z: Array, R: Array | float) -> Innovation:
        batch, n = self.x.shape
        measured = _measurement(z, batch)
        p = measured.shape[1]
        sigmas = self._sigmas if self._sigmas is not None else self.weights.points(self.x, self.P)
        count = sigmas.shape[1]
        seen = self.model.measure(sigmas.reshape(batch * count, n)).reshape(batch, count, p)
        predicted, spread = self._transform(seen)
        S = symmetrise(spread + batch_matrix(R, batch, p, p, "R"))
        state_dev = sigmas - self.x[:, None, :]
        seen_dev = seen - predicted[:, None, :]
        cross = np.einsum("k,bki,bkj->bij", self.weights.cov, state_dev, seen_dev)
        # K = Pxz S⁻¹ = (S⁻¹ Pxzᵀ)ᵀ
        K = np.swapaxes(solve_spd(S, np.swapaxes(cross, -1, -2)), -1, -2)
        residual = measured - predicted
        self.x = self.x + (K @ residual[..., None])[..., 0]
        # The same for the update: P - K S Kᵀ from sigma points, after a reading far off the
        # prediction, can fall off positive definiteness.
        self.P = floor_eigenvalues(symmetrise(self.P - K @ S @ np.swapaxes(K, -1, -2)))
        self._sigmas = None
        return Innovation(predicted, S, residual)

    def _transform(self, points: Array) -> tuple[Array, Array]:
        mean = np.einsum("k,bki->bi", self.weights.mean, points)
        deviation = points - mean[:, None, :]
        return mean, np.einsum("k,bki,bkj->bij", self.weights.cov, deviation, deviation)
