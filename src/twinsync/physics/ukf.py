"""The unscented Kalman filter over a batch of elements, with Van der Merwe's scaled sigma
points.

It needs nothing of a model but ``step`` and ``measure``: ``2n + 1`` sigma points per
element are drawn from each state and the Cholesky factor of its covariance, all of them for
all elements are pushed through the model in one call (the batch axis becomes
``elements * points``), and the mean and covariance are taken back. This is why a model's
parameters can simply sit in its state (joint estimation): the UKF sees how the prediction
moves with them without any derivative.

The update reuses the sigma points of the prediction, as the standard formulation does; an
update with no prediction before it draws them afresh. Readings are screened by the
innovation gate and weighed by their quality as in the linear filter (``gate``).
"""

from __future__ import annotations

import numpy as np

from .contract import (
    Array,
    Counts,
    StateModel,
    batch_matrix,
    cholesky,
    floor_eigenvalues,
    symmetrise,
)
from .gate import DEFAULT_GATE, Gate, jump_covariance, screen
from .kalman import Innovation, _checked_state, _measurement, _weighted_noise, gain, whitened_square


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
        gate: Gate | None = DEFAULT_GATE,
    ) -> None:
        self.model = model
        self.x, self.P = _checked_state(x, P)
        self.weights = MerweWeights(self.x.shape[1], alpha, beta, kappa)
        self.gate = gate
        #: each element's gated readings in a row (the gate re-opens after a run)
        self.gated_run: Counts = np.zeros(self.x.shape[0], dtype=np.int64)
        #: what re-opening adds to an element's covariance: its covariance at the start
        self.reopen_covariance = self.P.copy()
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

    def update(self, z: Array, R: Array | float, quality: Array | None = None) -> Innovation:
        """Fold in measurements ``z`` ``(B, p)``, weighed by ``quality`` and screened by the
        gate, as ``KalmanFilter.update``."""
        batch = self.x.shape[0]
        measured = _measurement(z, batch)
        p = measured.shape[1]
        sigmas = self._sigmas if self._sigmas is not None else self.weights.points(self.x, self.P)
        Rb = _weighted_noise(R, quality, batch, p, self.gate)
        predicted, S, cross = self._seen(sigmas, self.x, Rb)
        residual = measured - predicted
        lower = cholesky(S, "innovation covariance")
        decided = screen(self.gate, whitened_square(lower, residual), p, self.gated_run)
        P, used_residual, used_S, used_lower = self.P, residual, S, lower
        if decided.reopened.any():
            # the covariance widened, the points are drawn afresh from it for those elements
            again = decided.reopened
            P = self.P.copy()
            # the measurement's statistical linearisation H = Pxzᵀ P⁻¹ for the jump, from
            # points drawn from P itself (the moved points' spread lacks Q)
            drawn = self.weights.points(self.x[again], self.P[again])
            _, _, drawn_cross = self._seen(drawn, self.x[again], Rb[again])
            H = np.swapaxes(np.linalg.solve(self.P[again], drawn_cross), -1, -2)
            P[again] += self.reopen_covariance[again] + jump_covariance(H, residual[again])
            points = self.weights.points(self.x[again], P[again])
            seen_again, S_again, cross_again = self._seen(points, self.x[again], Rb[again])
            cross, used_residual = cross.copy(), residual.copy()
            used_S, used_lower = S.copy(), lower.copy()
            cross[again] = cross_again
            used_residual[again] = measured[again] - seen_again
            used_S[again] = S_again
            used_lower[again] = cholesky(S_again, "innovation covariance")
        K = gain(used_lower, cross)
        K[decided.gated] = 0.0  # a gated reading is not folded in: x and P stay predicted
        self.x = self.x + (K @ used_residual[..., None])[..., 0]
        # P - K S Kᵀ from sigma points, after a reading far off the prediction, can fall off
        # positive definiteness: floored as in the prediction.
        self.P = floor_eigenvalues(symmetrise(P - K @ used_S @ np.swapaxes(K, -1, -2)))
        self.gated_run = np.where(decided.gated, self.gated_run + 1, 0)
        self._sigmas = None
        return Innovation(predicted, S, residual, decided.gated, decided.reopened)

    def _seen(self, sigmas: Array, mean: Array, R: Array) -> tuple[Array, Array, Array]:
        """The predicted measurement, its covariance with ``R`` and the state-measurement
        cross covariance, from sigma points ``(B, 2n + 1, n)`` round the state ``mean``."""
        batch, count, n = sigmas.shape
        seen = self.model.measure(sigmas.reshape(batch * count, n)).reshape(batch, count, -1)
        predicted, spread = self._transform(seen)
        S = symmetrise(spread + R)
        state_dev = sigmas - mean[:, None, :]
        seen_dev = seen - predicted[:, None, :]
        cross = np.einsum("k,bki,bkj->bij", self.weights.cov, state_dev, seen_dev)
        return predicted, S, cross

    def _transform(self, points: Array) -> tuple[Array, Array]:
        mean = np.einsum("k,bki->bi", self.weights.mean, points)
        deviation = points - mean[:, None, :]
        return mean, np.einsum("k,bki,bkj->bij", self.weights.cov, deviation, deviation)
