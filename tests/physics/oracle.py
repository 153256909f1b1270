"""filterpy set up on the same problems as twinsync's estimators, one element at a time:
the oracle the estimator tests compare against (tests only, never at run time)."""

from __future__ import annotations

from typing import Any

import numpy as np
from filterpy.kalman import (
    ExtendedKalmanFilter,
    KalmanFilter,
    MerweScaledSigmaPoints,
    UnscentedKalmanFilter,
)

from twinsync.physics.contract import StateModel


def linear(
    x: np.ndarray, P: np.ndarray, F: np.ndarray, Q: np.ndarray, H: np.ndarray, R: np.ndarray
) -> KalmanFilter:
    kf = KalmanFilter(dim_x=x.shape[0], dim_z=H.shape[0])
    kf.x, kf.P, kf.F, kf.Q, kf.H, kf.R = x.copy(), P.copy(), F, Q, H, R
    return kf


class ModelEKF(ExtendedKalmanFilter):  # type: ignore[misc]
    """filterpy's EKF with the model's step as its prediction of the state."""

    def __init__(self, model: StateModel, x: np.ndarray, P: np.ndarray) -> None:
        super().__init__(dim_x=x.shape[0], dim_z=len(model.measurement_names))
        self.model = model
        self.x, self.P = x.copy(), P.copy()

    def step(self, dt: float, inputs: np.ndarray, Q: np.ndarray) -> None:
        self.F = self.model.step_jacobian(self.x[None, :], dt, inputs[None, :])[0]
        self.Q = Q
        self._dt, self._inputs = dt, inputs
        self.predict()

    def predict_x(self, u: Any = 0) -> None:
        self.x = self.model.step(self.x[None, :], self._dt, self._inputs[None, :])[0]

    def correct(self, z: np.ndarray, R: np.ndarray) -> None:
        self.update(
            z,
            lambda x: self.model.measure_jacobian(x[None, :])[0],
            lambda x: self.model.measure(x[None, :])[0],
            R=R,
        )


def unscented(
    model: StateModel, x: np.ndarray, P: np.ndarray, alpha: float, beta: float, kappa: float
) -> UnscentedKalmanFilter:
    n = x.shape[0]
    points = MerweScaledSigmaPoints(n, alpha=alpha, beta=beta, kappa=kappa)
    ukf = UnscentedKalmanFilter(
        dim_x=n,
        dim_z=len(model.measurement_names),
        dt=1.0,
        hx=lambda s: model.measure(s[None, :])[0],
        fx=lambda s, dt, u: model.step(s[None, :], dt, u[None, :])[0],
        points=points,
    )
    ukf.x, ukf.P = x.copy(), P.copy()
    return ukf
