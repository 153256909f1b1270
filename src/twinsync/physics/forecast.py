"""A property's forecast from its recent readings: the local level or local linear trend
(``level``) fitted to them, and looked ahead with an interval.

Readings come at whatever times their sensors sent them (several sensors may feed one
property), and the filter steps on a regular grid: each reading falls into the grid step
nearest to it, counted back from the newest, and a step's value is the quality-weighted
mean of its readings (a step without one is a gap, predicted and not updated). A step's
quality, the best of its readings', weighs it in the filter (``gate``): a doubtful reading
counts for less rather than being averaged in as if good.

The noise variances are not known in advance, so they are fitted by maximum likelihood
over a small grid of ratios to the sensor's noise, for both models, on readings scaled to
unit spread: the sensor's variance itself has a closed form given the ratios (the
innovations' variances all scale with it), and all candidates are filtered at once, as
one batch. The candidate of lowest AIC (-2 log-likelihood, plus 2 per noise parameter)
names the model (a series that only wanders takes the local level, one that climbs takes
the trend), but the forecast is not that candidate's alone: the variances fitted are
themselves uncertain, and a forecast that took them as known held 79 % of readings a day
ahead in its 90 % interval. Every candidate within reach of the best (Akaike weight
exp(-ΔAIC / 2), normalised, of ``MIN_WEIGHT`` or more) forecasts, and the answer is their
mixture by weight: its mean, and the variance of the mixture (each candidate's variance
plus how far its mean is from the mixture's), read as a normal. Candidates that fit about
as well but let the trend wander more widen the interval at long horizons, which is where
the single candidate fell short. The mixture still held only 85 % a day ahead: when two
days of readings show little of the trend's wander, every candidate within reach says so.
So the window checks its own forecasts (``backtest``): from each earlier grid step, the
mixture's forecast of the readings that followed; where their errors spread wider than
the interval allowed, the interval is widened by as much (never narrowed).

>>> hours = np.arange(40.0)
>>> answer = forecast_readings(hours * 3600, 2.0 * hours, np.ones(40), horizon=7200, steps=2)
>>> answer.model, [round(m, 3) for m in answer.mean]
('local_trend', [80.0, 82.0])
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .backtest import widening
from .contract import Array
from .gate import DEFAULT_GATE, Gate
from .kalman import KalmanFilter
from .level import LocalTrend

#: The fewest grid steps with a reading a forecast is fitted on: the trend model's two
#: states take the first two, and the likelihood needs some left.
MIN_READINGS = 8
#: Grid steps over the readings' span at most (one more with both ends): the filter is a
#: Python loop over them.
MAX_STEPS = 400
#: Step ratios tried, level and trend noise to the sensor's (per grid step); a level ratio
#: of 0 is a level that does not drift at all (with a trend: a straight line, nearly).
LEVEL_RATIOS = (0.0, 1e-3, 1e-2, 1e-1, 1.0, 10.0)
TREND_RATIOS = (1e-6, 1e-4, 1e-2)
#: The prior's variance, in units of the readings' spread: as good as no prior.
DIFFUSE = 1e4
#: Forecast points the threshold crossing is looked for on (the mean is linear between
#: them for both models, so the crossing found is exact).
CROSSING_POINTS = 512
SECONDS_PER_HOUR = 3600.0
#: Candidates of less Akaike weight than this are left out of the mixture (their share of
#: the forecast would be below a percent; each costs a filter pass).
MIN_WEIGHT = 0.01


class TooFewReadings(ValueError):
    """Fewer than ``MIN_READINGS`` grid steps hold a reading: nothing to fit on."""


@dataclass(frozen=True)
class Fit:
    """The model chosen (in the readings' units, variances per hour) and the filter's state
    after the newest grid step."""

    name: str
    model: LocalTrend
    state: Array  # (n,)
    covariance: Array  # (n, n)
    aic: float
    weight: float = 1.0
    """Its share of the forecast (Akaike weight among the candidates kept)."""


@dataclass(frozen=True)
class PropertyForecast:
    """A forecast at ``time`` (epoch seconds, after ``origin``, the newest reading's time):
    the mean reading, its standard deviation, and the model fitted to get them."""

    model: str
    parameters: dict[str, float | None]
    readings: int
    steps_fitted: int
    step: float
    fitted_from: float
    origin: float
    level: float
    trend: float | None
    time: list[float]
    mean: list[float]
    deviation: list[float]
    crossing: float | None

    def quantile(self, probability: float) -> list[float]:
        """The Gaussian ``probability`` quantile of each forecast reading."""
        return gaussian_quantile(np.asarray(self.mean), np.asarray(self.deviation),
                                 probability)


def gaussian_quantile(mean: Array, deviation: Array, probability: float) -> list[float]:
    """The Gaussian ``probability`` quantile of forecast readings of ``mean`` and
    ``deviation``."""
    if not 0.0 < probability < 1.0:
        raise ValueError("a quantile's probability must be in (0, 1)")
    z = NormalDist().inv_cdf(probability)
    values: list[float] = (mean + z * deviation).tolist()
    return values


def regular_grid(
    times: Array,
    values: Array,
    quality: Array,
    window: float,
    source: NDArray[np.integer[Any]] | Array | None = None,
) -> tuple[Array, Array, Array, float]:
    """Readings put on a regular grid counted back from the newest: the grid's times, the
    quality-weighted mean value of each step (NaN where none), each step's best quality and
    the step in seconds: the median spacing of each ``source``'s (sensor's) own readings,
    so that two sensors read together fall in one step, and at least ``window /
    MAX_STEPS``."""
    origin = np.zeros(times.size) if source is None else np.asarray(source, dtype=np.float64)
    by_source = np.lexsort((times, origin))
    same = origin[by_source][1:] == origin[by_source][:-1]
    spacing = np.diff(times[by_source])[same]
    spacing = spacing[spacing > 0]
    step = max(float(np.median(spacing)) if spacing.size else 1.0, window / MAX_STEPS, 1e-3)
    order = np.argsort(times, kind="stable")
    times, values, quality = times[order], values[order], quality[order]
    back = np.rint((times[-1] - times) / step).astype(np.int64)
    size = int(back.max()) + 1
    index = size - 1 - back
    weight = np.maximum(quality, DEFAULT_GATE.quality_floor)
    total = np.bincount(index, weights=weight, minlength=size)
    weighted = np.bincount(index, weights=weight * values, minlength=size)
    best = np.zeros(size)
    np.maximum.at(best, index, quality)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(total > 0, weighted / np.where(total > 0, total, 1.0), np.nan)
    grid = times[-1] - step * (size - 1 - np.arange(size))
    return grid, mean, best, step


def _candidates(dt: float) -> list[tuple[str, float, float | None]]:
    """(model name, level ratio, trend ratio) of every candidate, ratios per grid step."""
    levels = [("local_level", ratio, None) for ratio in LEVEL_RATIOS]
    trends = [("local_trend", ratio, trend) for trend in TREND_RATIOS for ratio in LEVEL_RATIOS]
    return [*levels, *trends]


def _model(level_ratio: float, trend_ratio: float | None, noise: float, dt: float) -> LocalTrend:
    """A candidate in variances per hour: a ratio per step of ``dt`` hours, times ``noise``;
    the trend's ratio is of the level's move over a step (``Var v · dt²``)."""
    return LocalTrend(
        level_noise=noise * level_ratio / dt,
        noise=noise,
        trend_noise=None if trend_ratio is None else noise * trend_ratio / dt**3,
    )


@dataclass(frozen=True)
class _Pass:
    """Candidates filtered at once over the scaled readings: per candidate and reading the
    residual and its variance (``(K, readings)``), and the state and covariance after each
    grid step (``(K, T, 2)``, ``(K, T, 2, 2)``)."""

    residual: Array
    variance: Array
    states: Array
    covariances: Array


def _matrices(dt: float, candidates: list[tuple[str, float, float | None]]) -> tuple[Array, Array]:
    """Each candidate's transition and process noise over one step ``(K, 2, 2)``, the
    sensor's variance taken as 1: a local level is the pair with the identity for
    transition and a trend that is never read."""
    F = np.empty((len(candidates), 2, 2))
    Q = np.zeros((len(candidates), 2, 2))
    for k, (_, level_ratio, trend_ratio) in enumerate(candidates):
        model = _model(level_ratio, trend_ratio, 1.0, dt)
        size = model.size
        F[k] = np.eye(2)
        F[k, :size, :size] = model.transition(dt)
        Q[k, :size, :size] = model.process_noise(dt)
    return F, Q


def _filter(scaled: Array, quality: Array, F: Array, Q: Array, noise: Array,
            gate: Gate | None) -> _Pass:
    """The two-state filter of every candidate (``F``, ``Q`` ``(K, 2, 2)``, the sensor's
    variance ``noise`` ``(K,)``) over the scaled readings at once, from the diffuse prior."""
    batch = F.shape[0]
    prior = np.broadcast_to(DIFFUSE * np.eye(2), (batch, 2, 2))
    kf = KalmanFilter(np.zeros((batch, 2)), prior, gate)
    H = np.array([[1.0, 0.0]])
    R = noise[:, None, None]
    seen = np.flatnonzero(np.isfinite(scaled))
    residual = np.zeros((batch, seen.size))
    variance = np.ones((batch, seen.size))
    states = np.empty((batch, scaled.size, 2))
    covariances = np.empty((batch, scaled.size, 2, 2))
    at = 0
    for t in range(scaled.size):
        if t > 0:
            kf.predict(F, Q)
        if np.isfinite(scaled[t]):
            update = kf.update(np.full((batch, 1), scaled[t]), H, R, np.full(batch, quality[t]))
            residual[:, at] = update.residual[:, 0]
            variance[:, at] = update.covariance[:, 0, 0]
            at += 1
        states[:, t], covariances[:, t] = kf.x, kf.P
    return _Pass(residual, variance, states, covariances)


def _log_likelihoods(scaled: Array, quality: Array, F: Array, Q: Array) -> tuple[Array, Array]:
    """Every candidate filtered at once, and per candidate its Gaussian log-likelihood with
    the sensor's variance concentrated out, and that variance. The first two readings only
    set the diffuse prior and are left out."""
    run = _filter(scaled, quality, F, Q, np.ones(F.shape[0]), gate=None)
    residual, variance = run.residual[:, 2:], run.variance[:, 2:]
    count = residual.shape[1]
    sigma2 = np.maximum(np.mean(residual**2 / variance, axis=1), 1e-12)
    loglik = -0.5 * np.sum(np.log(variance), axis=1) - 0.5 * count * (np.log(sigma2) + 1.0)
    return loglik, sigma2


def fit(values: Array, quality: Array, dt: float) -> list[Fit]:
    """The local levels and trends that explain ``values`` (a grid ``dt`` hours apart, NaN
    for gaps; ``quality`` 0..1 per step), each of ``LEVEL_RATIOS`` with (no trend,
    ``TREND_RATIOS``), by AIC: the best first, then every other of Akaike weight
    ``MIN_WEIGHT`` or more, with their weights summing to one."""
    return checked_fit(values, quality, dt)[0]


def checked_fit(values: Array, quality: Array, dt: float) -> tuple[list[Fit], Array]:
    """``fit``, and how much the mixture of its fits must be widened ``h`` grid steps
    ahead (``backtest.widening``), for ``h`` from 1 to half the grid's steps."""
    finite = values[np.isfinite(values)]
    if finite.size < 3:
        raise ValueError("too few readings to fit a model")
    # Scaled to unit spread: the diffuse prior and the ratios mean the same for any unit.
    centre = float(finite[-1])
    spread = float(np.std(finite)) or 1.0
    scaled = (values - centre) / spread
    candidates = _candidates(dt)
    F, Q = _matrices(dt, candidates)
    loglik, sigma2 = _log_likelihoods(scaled, quality, F, Q)
    parameters = np.array([2.0 if trend is None else 3.0 for _, _, trend in candidates])
    aic = -2.0 * loglik + 2.0 * parameters
    weight = np.exp(-0.5 * (aic - aic.min()))
    weight /= weight.sum()
    kept = [k for k in np.argsort(aic, kind="stable").tolist() if weight[k] >= MIN_WEIGHT]
    share = weight[kept] / weight[kept].sum()
    # The kept ones once more, with the gate now that their variances are known: a
    # reading far off the prediction (a spike) is kept out of the states the forecast
    # starts from and the check starts from. One batch, whatever the number kept.
    noise = sigma2[kept]
    run = _filter(scaled, quality, F[kept], Q[kept] * noise[:, None, None], noise, DEFAULT_GATE)
    fits = []
    for j, (k, w) in enumerate(zip(kept, share.tolist(), strict=True)):
        name, level_ratio, trend_ratio = candidates[k]
        model = _model(level_ratio, trend_ratio, float(sigma2[k]) * spread**2, dt)
        size = model.size
        unit = np.full(size, spread)
        state = run.states[j, -1, :size] * unit
        state[0] += centre
        covariance = run.covariances[j, -1, :size, :size] * np.outer(unit, unit)
        fits.append(Fit(name, model, state, covariance, float(aic[k]), w))
    checked = [(F[k], Q[k] * sigma2[k], float(sigma2[k]), w)
               for k, w in zip(kept, share.tolist(), strict=True)]
    # from the third reading on: the first two only set the diffuse prior
    start = int(np.flatnonzero(np.isfinite(scaled))[2])
    factor = widening(scaled, quality, checked, run.states, run.covariances,
                      max(1, values.size // 2), start, DEFAULT_GATE.quality_floor)
    return fits, factor


def mixture(fits: list[Fit], dt: float, steps: int) -> tuple[Array, Array]:
    """The mean and standard deviation of the weighted mixture of the fits' forecasts,
    ``steps`` points ``dt`` hours apart."""
    means = np.empty((len(fits), steps))
    second = np.zeros(steps)
    for k, fitted in enumerate(fits):
        ahead = fitted.model.forecast(fitted.state[None], fitted.covariance[None], dt, steps)
        means[k] = ahead.mean[0]
        second += fitted.weight * (ahead.deviation[0] ** 2 + ahead.mean[0] ** 2)
    weights = np.array([fitted.weight for fitted in fits])
    mean = weights @ means
    deviation: Array = np.sqrt(np.maximum(second - mean**2, 0.0))
    return mean, deviation


def first_crossing(path: Array, origin: float, step_seconds: float) -> float | None:
    """When ``path`` (a forecast mean less its threshold, at the origin and at each step's
    end) first reaches 0 (epoch seconds), linear between steps; None if it does not."""
    if path[0] == 0.0:
        return origin
    changed = np.flatnonzero(np.sign(path[1:]) != np.sign(path[0]))
    if changed.size == 0:
        return None
    after = int(changed[0]) + 1
    fraction = float(path[after - 1] / (path[after - 1] - path[after]))
    return origin + (after - 1 + fraction) * step_seconds


def _crossing(fits: list[Fit], horizon_hours: float, threshold: float,
              origin: float) -> float | None:
    """When the forecast mean first reaches ``threshold`` within the horizon (epoch
    seconds), by linear interpolation between ``CROSSING_POINTS`` forecast points."""
    dt = horizon_hours / CROSSING_POINTS
    path, _ = mixture(fits, dt, CROSSING_POINTS)
    start = sum(fitted.weight * fitted.state[0] for fitted in fits)
    return first_crossing(np.concatenate([[start], path]) - threshold, origin,
                          dt * SECONDS_PER_HOUR)


def forecast_readings(
    times: Array,
    values: Array,
    quality: Array,
    horizon: float,
    steps: int = 12,
    threshold: float | None = None,
    window: float | None = None,
    source: NDArray[np.integer[Any]] | Array | None = None,
) -> PropertyForecast:
    """Readings (epoch seconds, values, quality 0..1) forecast ``steps`` evenly spaced
    times up to ``horizon`` seconds after the newest; ``window`` is the span they were read
    over (it bounds the grid's step), by default theirs; ``source`` the sensor of each
    reading (``regular_grid``). Raises ``TooFewReadings`` when
    fewer than ``MIN_READINGS`` grid steps hold a reading."""
    if horizon <= 0 or steps < 1:
        raise ValueError("the horizon and the number of steps must be positive")
    times, values, quality = (np.asarray(a, dtype=np.float64) for a in (times, values, quality))
    keep = np.isfinite(times) & np.isfinite(values)
    times, values = times[keep], values[keep]
    sensors = None if source is None else np.asarray(source)[keep]
    quality = np.clip(np.nan_to_num(quality[keep], nan=1.0), 0.0, 1.0)
    if times.size < MIN_READINGS:
        raise TooFewReadings(f"{times.size} readings")
    span = float(times.max() - times.min()) if window is None else window
    grid, grid_values, grid_quality, step = regular_grid(times, values, quality, span, sensors)
    filled = int(np.isfinite(grid_values).sum())
    if filled < MIN_READINGS:
        raise TooFewReadings(f"{times.size} readings on {filled} distinct steps of {step:g} s")
    dt = step / SECONDS_PER_HOUR
    fits, factor = checked_fit(grid_values, grid_quality, dt)
    fitted = fits[0]
    horizon_hours = horizon / SECONDS_PER_HOUR
    mean, deviation = mixture(fits, horizon_hours / steps, steps)
    # each forecast time widened by the check of the nearest horizon in grid steps (past
    # the longest checked, by the longest's)
    ahead = np.rint(horizon_hours / steps * np.arange(1, steps + 1) / dt).astype(np.int64)
    deviation = deviation * factor[np.clip(ahead, 1, factor.size) - 1]
    origin = float(grid[-1])
    model = fitted.model
    return PropertyForecast(
        model=fitted.name,
        parameters={
            "level_noise": model.level_noise,
            "trend_noise": model.trend_noise,
            "noise": model.noise,
        },
        readings=int(times.size),
        steps_fitted=filled,
        step=step,
        fitted_from=float(grid[0]),
        origin=origin,
        level=float(fitted.state[0]),
        trend=float(fitted.state[1]) if model.size > 1 else None,
        time=(origin + horizon / steps * np.arange(1, steps + 1)).tolist(),
        mean=mean.tolist(),
        deviation=deviation.tolist(),
        crossing=None
        if threshold is None
        else _crossing(fits, horizon_hours, threshold, origin),
    )
