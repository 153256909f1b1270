"""The generic local level / local linear trend model: the model every bound property has
when nothing better is known, so that every property gets a one-step prediction and a
residual.

The level ``L`` (and trend ``β``, in units per hour) drift as random walks:

- local level: ``L' = L + w``, ``Var w = q_level · dt``;
- local linear trend: ``L' = L + β dt + w``, ``β' = β + v``, with the integrated
  random-walk noise of a trend that itself wanders (``Var v = q_trend · dt``), so a
  reading an hour later is allowed to be further off than a reading a minute later.

The sensor reads the level plus white noise of variance ``r``. ``LocalTrend`` is a linear
``StateModel`` (its Jacobians are its matrices); ``track`` runs it over a batch of series
with the linear Kalman filter and returns, per reading, the prediction made before it, that
prediction's standard deviation and the residual; ``forecast`` looks further ahead from a
filter's state, with an interval whose coverage is measured (``twinsync bench twin``).

>>> model = LocalTrend(level_noise=1.0, noise=1.0)
>>> track = model.track(np.array([[0.0, 1.0, 2.0]]), dt=1.0, initial_level=np.array([0.0]),
...                     initial_variance=1.0)
>>> track.prediction.tolist()
[[0.0, 0.0, 0.6]]
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from .contract import Array
from .gate import DEFAULT_GATE, Gate
from .kalman import KalmanFilter


@dataclass(frozen=True)
class Track:
    """Per element and reading ``(B, T)``: the one-step prediction, its standard deviation
    (state and sensor together), the residual ``reading - prediction`` and whether the
    innovation gate kept the reading out; and the filter's state ``(B, n)`` and covariance
    ``(B, n, n)`` after the last reading, where a ``forecast`` starts from."""

    prediction: Array
    deviation: Array
    residual: Array
    gated: Array
    state: Array
    covariance: Array

    @property
    def normalised(self) -> Array:
        """Residuals in standard deviations: ~ N(0, 1) while the model fits."""
        return self.residual / self.deviation


@dataclass(frozen=True)
class Forecast:
    """Per element and horizon ``(B, H)`` (horizon ``h`` is ``h`` steps ahead, from 1): the
    mean of the reading to come and its standard deviation, the level's uncertainty grown
    over the horizon plus the sensor's noise (a forecast of a *reading*, not of the level)."""

    mean: Array
    deviation: Array

    def interval(self, coverage: float = 0.9) -> tuple[Array, Array]:
        """The central interval that holds ``coverage`` of the readings to come."""
        if not 0.0 < coverage < 1.0:
            raise ValueError("coverage must be in (0, 1)")
        half = NormalDist().inv_cdf((1.0 + coverage) / 2.0) * self.deviation
        return self.mean - half, self.mean + half


class LocalTrend:
    """Local level (``trend_noise=None``) or local linear trend; noise intensities are
    variances per hour, ``noise`` the sensor's variance."""

    input_names: tuple[str, ...] = ()
    parameter_names: tuple[str, ...] = ()
    measurement_names: tuple[str, ...] = ("reading",)

    def __init__(self, level_noise: float, noise: float, trend_noise: float | None = None) -> None:
        if level_noise < 0 or noise <= 0 or (trend_noise is not None and trend_noise < 0):
            raise ValueError("noise variances must be non-negative (the sensor's positive)")
        self.level_noise = level_noise
        self.trend_noise = trend_noise
        self.noise = noise
        self.state_names = ("level",) if trend_noise is None else ("level", "trend")

    @property
    def size(self) -> int:
        return len(self.state_names)

    def transition(self, dt: float) -> Array:
        if self.trend_noise is None:
            return np.eye(1)
        return np.array([[1.0, dt], [0.0, 1.0]])

    def process_noise(self, dt: float) -> Array:
        if self.trend_noise is None:
            return np.array([[self.level_noise * dt]])
        q = self.trend_noise
        # the trend's random walk integrated into the level over dt, plus the level's own
        return np.array(
            [[self.level_noise * dt + q * dt**3 / 3.0, q * dt**2 / 2.0], [q * dt**2 / 2.0, q * dt]]
        )

    def step(self, state: Array, dt: float, inputs: Array) -> Array:
        return state @ self.transition(dt).T

    def measure(self, state: Array) -> Array:
        return state[:, :1].copy()

    def step_jacobian(self, state: Array, dt: float, inputs: Array) -> Array:
        return np.broadcast_to(self.transition(dt), (state.shape[0], self.size, self.size))

    def measure_jacobian(self, state: Array) -> Array:
        H = np.zeros((1, self.size))
        H[0, 0] = 1.0
        return np.broadcast_to(H, (state.shape[0], 1, self.size))

    def forecast(self, x: Array, P: Array, dt: float, horizon: int) -> Forecast:
        """Readings 1 to ``horizon`` steps of ``dt`` hours after states ``x`` ``(B, n)`` with
        covariances ``P`` ``(B, n, n)`` (a filter's, after its last update)."""
        if horizon < 1:
            raise ValueError("the horizon must be at least one step")
        F, Q = self.transition(dt), self.process_noise(dt)
        state = np.asarray(x, dtype=np.float64)
        covariance = np.asarray(P, dtype=np.float64)
        mean = np.empty((state.shape[0], horizon))
        variance = np.empty((state.shape[0], horizon))
        for h in range(horizon):
            state = state @ F.T
            covariance = F @ covariance @ F.T + Q
            mean[:, h] = state[:, 0]
            variance[:, h] = covariance[:, 0, 0] + self.noise
        return Forecast(mean, np.sqrt(variance))

    def track(
        self,
        readings: Array,
        dt: float,
        initial_level: Array,
        initial_variance: float = 1e6,
        gate: Gate | None = DEFAULT_GATE,
        quality: Array | None = None,
    ) -> Track:
        """Run the filter over ``readings`` ``(B, T)`` taken ``dt`` hours apart; the first
        prediction is ``initial_level``. A NaN reading is a gap: predicted, not updated; a
        reading the ``gate`` refuses is predicted too, and marked in ``Track.gated``;
        ``quality`` ``(B, T)`` (0..1) weighs each reading (see ``gate``)."""
        values = np.asarray(readings, dtype=np.float64)
        if values.ndim != 2:
            raise ValueError(f"readings must be (elements, times), got {values.shape}")
        batch, times = values.shape
        x = np.zeros((batch, self.size))
        x[:, 0] = np.asarray(initial_level, dtype=np.float64)
        P = np.broadcast_to(initial_variance * np.eye(self.size), (batch, self.size, self.size))
        kf = KalmanFilter(x, P, gate)
        gated = np.zeros((batch, times), dtype=bool)
        H = np.eye(1, self.size)
        prediction = np.empty((batch, times))
        deviation = np.empty((batch, times))
        F, Q = self.transition(dt), self.process_noise(dt)
        for t in range(times):
            if t > 0:
                kf.predict(F, Q)
            prediction[:, t] = kf.x[:, 0]
            deviation[:, t] = np.sqrt(kf.P[:, 0, 0] + self.noise)
            seen = np.isfinite(values[:, t])
            weight = None if quality is None else np.asarray(quality, dtype=np.float64)[:, t]
            if np.all(seen):
                gated[:, t] = kf.update(values[:, t : t + 1], H, self.noise, weight).gated
            elif np.any(seen):
                # only the elements that read: a sub-filter over them, written back
                part = KalmanFilter(kf.x[seen], kf.P[seen], gate)
                part.gated_run = kf.gated_run[seen]
                part.reopen_covariance = kf.reopen_covariance[seen]
                part_weight = None if weight is None else weight[seen]
                gated[seen, t] = part.update(
                    values[seen, t : t + 1], H, self.noise, part_weight
                ).gated
                kf.x[seen], kf.P[seen] = part.x, part.P
                kf.gated_run[seen] = part.gated_run
        return Track(prediction, deviation, values - prediction, gated, kf.x.copy(), kf.P.copy())
