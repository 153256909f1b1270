"""The local level / local linear trend model: every property's one-step prediction and
residual, worked by hand and against filterpy."""

from __future__ import annotations

import numpy as np
import pytest

from twinsync.physics.kalman import KalmanFilter
from twinsync.physics.level import LocalTrend

from .oracle import linear


def test_the_local_levels_predictions_and_residuals_worked_by_hand() -> None:
    # q = 1, r = 1, prior N(10, 3). Reading 12: gain 3/4, level 11.5, variance 3/4.
    # Next prediction 11.5 with state variance 3/4 + 1 = 7/4, so the reading's deviation is
    # sqrt(7/4 + 1); reading 9: gain 7/11, level 11.5 - 2.5·7/11.
    model = LocalTrend(level_noise=1.0, noise=1.0)
    track = model.track(
        np.array([[12.0, 9.0, np.nan, 10.0]]),
        dt=1.0,
        initial_level=np.array([10.0]),
        initial_variance=3.0,
    )
    level_after_two = 11.5 - 2.5 * 7 / 11
    assert track.prediction[0].tolist() == pytest.approx(
        [10.0, 11.5, level_after_two, level_after_two]
    )
    assert track.deviation[0, :2].tolist() == pytest.approx([2.0, np.sqrt(7 / 4 + 1)])
    # the gap is predicted, not folded in: the state's variance grows by q twice
    variance_after_two = 7 / 4 * 1 / (7 / 4 + 1)
    assert track.deviation[0, 3] == pytest.approx(np.sqrt(variance_after_two + 2 + 1))
    assert track.residual[0, :2].tolist() == pytest.approx([2.0, 9.0 - 11.5])
    assert np.isnan(track.residual[0, 2])
    assert track.normalised[0, 0] == pytest.approx(1.0)


def test_the_local_trend_matches_filterpy_for_each_of_a_batch_of_properties() -> None:
    rng = np.random.default_rng(21)
    model = LocalTrend(level_noise=0.01, noise=0.25, trend_noise=0.001)
    hours = np.arange(100) * 0.5
    readings = np.stack([3.0 + 0.2 * hours, 20.0 - 0.1 * hours, np.sin(hours / 5)])
    readings = readings + rng.normal(0, 0.5, readings.shape)
    track = model.track(readings, dt=0.5, initial_level=readings[:, 0], initial_variance=100.0)
    F, Q = model.transition(0.5), model.process_noise(0.5)
    H, R = np.array([[1.0, 0.0]]), np.array([[0.25]])
    for b in range(3):
        kf = linear(np.array([readings[b, 0], 0.0]), 100.0 * np.eye(2), F, Q, H, R)
        for t in range(100):
            if t > 0:
                kf.predict()
            assert track.prediction[b, t] == pytest.approx(kf.x[0], rel=1e-9, abs=1e-9)
            assert track.deviation[b, t] == pytest.approx(np.sqrt(kf.P[0, 0] + 0.25), rel=1e-9)
            kf.update(readings[b, t])
    # a trend is learned: late residuals are noise, about N(0, 1) once normalised
    late = track.normalised[:, 40:]
    assert abs(late.mean()) < 0.3 and 0.7 < late.std() < 1.3


def test_a_gap_in_one_element_does_not_touch_the_others() -> None:
    model = LocalTrend(level_noise=1.0, noise=1.0)
    both = model.track(
        np.array([[1.0, 2.0, 3.0], [5.0, np.nan, 7.0]]), dt=1.0, initial_level=np.array([0.0, 0.0])
    )
    alone = model.track(np.array([[1.0, 2.0, 3.0]]), dt=1.0, initial_level=np.array([0.0]))
    np.testing.assert_allclose(both.prediction[0], alone.prediction[0], rtol=1e-12)


def test_negative_noise_is_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        LocalTrend(level_noise=-1.0, noise=1.0)


@pytest.mark.parametrize("trend_noise", [None, 1e-4])
def test_the_ninety_percent_forecast_interval_holds_ninety_percent_of_readings(
    trend_noise: float | None,
) -> None:
    # 400 series simulated from the model itself, filtered, and forecast 1, 5 and 20 steps
    # ahead from every reading after a burn-in of 40: the interval must hold 88-92 %
    rng = np.random.default_rng(13)
    model = LocalTrend(level_noise=0.05, noise=0.2, trend_noise=trend_noise)
    series, steps, horizons = 400, 160, (1, 5, 20)
    state = np.zeros((series, model.size))
    truth = np.empty((series, steps))
    Q = model.process_noise(1.0)
    for t in range(steps):
        state = model.step(state, 1.0, np.zeros((series, 0)))
        state = state + rng.multivariate_normal(np.zeros(model.size), Q, series)
        truth[:, t] = state[:, 0]
    readings = truth + rng.normal(0, np.sqrt(0.2), truth.shape)
    prior = np.broadcast_to(100.0 * np.eye(model.size), (series, model.size, model.size))
    kf = KalmanFilter(np.zeros((series, model.size)), prior, gate=None)
    F, H = model.transition(1.0), np.eye(1, model.size)
    inside: dict[int, list[np.ndarray]] = {h: [] for h in horizons}
    for t in range(steps - max(horizons)):
        if t > 0:
            kf.predict(F, Q)
        kf.update(readings[:, t : t + 1], H, model.noise)
        if t < 40:
            continue
        low, high = model.forecast(kf.x, kf.P, 1.0, max(horizons)).interval(0.9)
        for h in horizons:
            later = readings[:, t + h]
            inside[h].append((low[:, h - 1] <= later) & (later <= high[:, h - 1]))
    for h in horizons:
        assert 0.88 <= np.mean(inside[h]) <= 0.92, (h, np.mean(inside[h]))


def test_a_low_quality_reading_moves_the_level_less() -> None:
    model = LocalTrend(level_noise=1.0, noise=1.0)
    readings = np.array([[0.0, 3.0, 3.0], [0.0, 3.0, 3.0]])
    quality = np.array([[1.0, 1.0, 1.0], [1.0, 0.1, 1.0]])
    track = model.track(readings, dt=1.0, initial_level=np.zeros(2), quality=quality)
    # the second reading counts as variance 10, not 1: the next prediction moves less
    assert 0.0 < track.prediction[1, 2] < track.prediction[0, 2]
