"""The check of a forecast's interval on its own fitting window: a model whose trend is
made to wander too little is found too sure a day ahead and widened, most of the way back
to the coverage asked; a model with the right variances is widened little; nothing is ever
narrowed, and a longer horizon is never widened less than a shorter one."""

from __future__ import annotations

import numpy as np

from twinsync.physics.backtest import widening
from twinsync.physics.contract import Array
from twinsync.physics.kalman import KalmanFilter
from twinsync.physics.level import LocalTrend

STEP = 1 / 6  # hours: a reading every 10 minutes
NOISE = 0.01  # the sensor's variance
FITTED, AHEAD = 288, 144  # two days of readings, a day ahead


def _candidate(trend_ratio: float) -> LocalTrend:
    """A local trend of the forecast's grid of candidates: level ratio 1e-2 per step."""
    return LocalTrend(NOISE * 1e-2 / STEP, NOISE, NOISE * trend_ratio / STEP**3)


def _coverage_a_day_ahead(used: LocalTrend, series: int = 200) -> tuple[float, float, Array]:
    """Series drawn from the candidate of trend ratio 1e-4, forecast a day ahead by
    ``used``: the share of readings inside its 90 % interval, the same widened by the
    check, and the widening of each series (``(series, AHEAD)``)."""
    rng = np.random.default_rng(100)
    truth = _candidate(1e-4)
    moves = rng.multivariate_normal(
        np.zeros(2), truth.process_noise(STEP), (series, FITTED + AHEAD)
    )
    state = np.column_stack([np.full(series, 20.0), 0.3 * rng.normal(size=series)])
    level = np.empty((series, FITTED + AHEAD))
    for k in range(FITTED + AHEAD):
        state = state @ truth.transition(STEP).T + moves[:, k]
        level[:, k] = state[:, 0]
    readings = level + rng.normal(0.0, np.sqrt(NOISE), level.shape)
    prior = np.broadcast_to(1e4 * np.eye(2), (series, 2, 2))
    kf = KalmanFilter(np.column_stack([readings[:, 0], np.zeros(series)]), prior, gate=None)
    states, covariances = np.empty((series, FITTED, 2)), np.empty((series, FITTED, 2, 2))
    F, Q = used.transition(STEP), used.process_noise(STEP)
    for t in range(FITTED):
        if t > 0:
            kf.predict(F, Q)
        kf.update(readings[:, t : t + 1], np.eye(1, 2), NOISE)
        states[:, t], covariances[:, t] = kf.x, kf.P
    ahead = used.forecast(kf.x, kf.P, STEP, AHEAD)
    error = np.abs(readings[:, FITTED - 1 + AHEAD] - ahead.mean[:, -1]) / ahead.deviation[:, -1]
    factor = np.array([
        widening(readings[b, :FITTED], np.ones(FITTED), [(F, Q, NOISE, 1.0)],
                 states[b : b + 1], covariances[b : b + 1], AHEAD, start=2)
        for b in range(series)
    ])
    plain, widened = np.mean(error <= 1.645), np.mean(error <= 1.645 * factor[:, -1])
    return float(plain), float(widened), factor


def test_a_trend_made_to_wander_ten_times_too_little_is_widened_most_of_the_way_back() -> None:
    plain, widened, factor = _coverage_a_day_ahead(_candidate(1e-5))
    # the model alone holds about half the readings a day later in its 90 % interval
    assert plain < 0.6
    assert widened > 0.75
    assert np.median(factor[:, -1]) > 1.5


def test_the_right_variances_are_widened_little_and_nothing_is_ever_narrowed() -> None:
    plain, widened, factor = _coverage_a_day_ahead(_candidate(1e-4))
    assert 0.85 <= plain <= 0.95
    assert widened <= 0.97
    assert np.median(factor[:, -1]) < 1.25
    assert np.all(factor >= 1.0)
    # a horizon is widened at least as much as every shorter one
    assert np.all(np.diff(factor, axis=1) >= 0.0)


def test_horizons_past_the_window_take_the_widening_of_the_longest_checked() -> None:
    # a local level with no noise of its own, on readings that climb: too sure, and the
    # longest horizon checked (12 origins of 20 readings, MIN_ORIGINS 8) gives the rest
    readings = np.linspace(0.0, 10.0, 20)
    F, Q = np.eye(2), np.zeros((2, 2))
    states = np.zeros((1, 20, 2))
    states[0, :, 0] = readings
    covariances = np.zeros((1, 20, 2, 2))
    factor = widening(readings, np.ones(20), [(F, Q, 0.01, 1.0)], states, covariances, 30)
    assert factor.shape == (30,)
    assert factor[0] > 1.0
    assert np.all(factor[12:] == factor[11])
