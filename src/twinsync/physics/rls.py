"""Recursive least squares over a batch of elements, with a forgetting factor and windup
protection.

Each element ``b`` fits ``y = φᵀ θ`` to its own stream of regressors ``φ`` and outputs
``y``. The forgetting factor ``λ`` (``0 < λ ≤ 1``) weighs a reading ``k`` steps old by
``λᵏ``, so the estimate follows parameters that change (memory ≈ ``1 / (1 - λ)`` readings).

Forgetting has a known failure: when the regressors stop varying (no excitation: a heater
that stays off, a constant load), each step still divides the covariance by ``λ`` in the
directions the data no longer reach, ``P`` grows without bound (*windup*), and the first
readings after the quiet period throw the estimate about. The guard here bounds every
direction of ``P``: after each update, any eigenvalue above ``max_variance`` is cut down to
it (the eigenvectors are kept), so the directions the data still reach keep their
forgetting and only the starved ones stop growing. ``max_variance`` defaults to the initial
covariance: the estimate is never less sure than before any reading.

The update is the Kalman filter's with ``F = I``, ``R = 1`` and the prior covariance divided
by ``λ``; until the bound bites it is exactly classic exponentially weighted RLS.

>>> rls = RecursiveLeastSquares(np.zeros((1, 2)), forgetting=1.0, initial_covariance=1e6)
>>> for x in [0.0, 1.0, 2.0, 3.0]:
...     _ = rls.update(np.array([[1.0, x]]), np.array([2.0 + 3.0 * x]))
>>> np.round(rls.theta, 3).tolist()
[[2.0, 3.0]]
"""

from __future__ import annotations

import numpy as np

from .contract import Array, cholesky, symmetrise


class RecursiveLeastSquares:
    """RLS for ``B`` elements with ``p`` parameters each: ``theta`` ``(B, p)``, ``P``
    ``(B, p, p)``."""

    def __init__(
        self,
        theta: Array,
        forgetting: float = 0.99,
        initial_covariance: float = 1e3,
        max_variance: float | None = None,
    ) -> None:
        estimate = np.array(theta, dtype=np.float64)
        if estimate.ndim != 2:
            raise ValueError(f"theta must be (elements, parameters), got {estimate.shape}")
        if not 0.0 < forgetting <= 1.0:
            raise ValueError("the forgetting factor must be in (0, 1]")
        if initial_covariance <= 0:
            raise ValueError("the initial covariance must be positive")
        batch, p = estimate.shape
        self.theta = estimate
        self.P = np.broadcast_to(initial_covariance * np.eye(p), (batch, p, p)).copy()
        self.forgetting = forgetting
        self.max_variance = initial_covariance if max_variance is None else max_variance
        if self.max_variance <= 0:
            raise ValueError("max_variance must be positive")

    def update(self, regressors: Array, outputs: Array) -> Array:
        """Fold in one reading per element (``φ`` ``(B, p)``, ``y`` ``(B,)``); returns the
        a-priori residuals ``y - φᵀθ`` (what the old estimate got wrong)."""
        phi = np.asarray(regressors, dtype=np.float64)
        y = np.asarray(outputs, dtype=np.float64)
        if phi.shape != self.theta.shape or y.shape != self.theta.shape[:1]:
            raise ValueError(
                f"regressors must be {self.theta.shape} and outputs ({self.theta.shape[0]},)"
            )
        if not (np.all(np.isfinite(phi)) and np.all(np.isfinite(y))):
            raise ValueError("regressors and outputs must be finite")
        prior = self.P / self.forgetting
        P_phi = (prior @ phi[..., None])[..., 0]
        gain = P_phi / (1.0 + np.einsum("bi,bi->b", phi, P_phi))[:, None]
        residual = y - np.einsum("bi,bi->b", phi, self.theta)
        self.theta = self.theta + gain * residual[:, None]
        self.P = symmetrise(prior - gain[:, :, None] * P_phi[:, None, :])
        self._bound()
        return np.asarray(residual, dtype=np.float64)

    def _bound(self) -> None:
        # the largest eigenvalue is at most the trace: only those elements need the eigh
        suspect = np.trace(self.P, axis1=1, axis2=2) > self.max_variance
        if np.any(suspect):
            values, vectors = np.linalg.eigh(self.P[suspect])
            values = np.minimum(values, self.max_variance)
            self.P[suspect] = symmetrise(
                (vectors * values[:, None, :]) @ np.swapaxes(vectors, -1, -2)
            )
        cholesky(self.P, "RLS covariance")
