"""A property's forecast from its readings: the model that explains them is the one chosen,
doubtful readings count for less, several sensors' irregular readings share one grid, and
too few readings are refused."""

from __future__ import annotations

import numpy as np
import pytest

from twinsync.physics.forecast import (
    MIN_READINGS,
    Fit,
    TooFewReadings,
    fit,
    forecast_readings,
    mixture,
    regular_grid,
)
from twinsync.physics.level import LocalTrend

HOUR = 3600.0


def test_a_wandering_series_takes_the_local_level_and_a_climbing_one_the_trend() -> None:
    rng = np.random.default_rng(3)
    times = np.arange(200) * 600.0
    wandering = 20.0 + np.cumsum(rng.normal(0.0, 0.3, times.size))
    climbing = 20.0 + 0.5 * times / HOUR + rng.normal(0.0, 0.1, times.size)
    quality = np.ones(times.size)
    level = forecast_readings(times, wandering, quality, horizon=HOUR)
    trend = forecast_readings(times, climbing, quality, horizon=HOUR)
    assert level.model == "local_level" and level.trend is None
    assert trend.model == "local_trend" and trend.trend == pytest.approx(0.5, rel=0.05)
    # the local level forecasts no change: its mean is where it was left
    assert level.mean == pytest.approx([level.level] * 12)


def test_the_mixture_of_two_forecasts_has_their_mean_and_the_spread_between_them() -> None:
    # Two local levels at 10 and 14 with variances 1 and 4 that do not move (the sensor's
    # noise 1 on top of each), an even mixture: mean 12, variance (2 + 5) / 2 + 2² = 7.5.
    still = LocalTrend(level_noise=0.0, noise=1.0)
    fits = [Fit("local_level", still, np.array([10.0]), np.array([[1.0]]), 0.0, 0.5),
            Fit("local_level", still, np.array([14.0]), np.array([[4.0]]), 0.0, 0.5)]
    mean, deviation = mixture(fits, 1.0, 3)
    assert mean == pytest.approx([12.0] * 3)
    assert deviation == pytest.approx([np.sqrt(7.5)] * 3)


def test_a_day_ahead_the_interval_carries_the_candidates_that_fit_about_as_well() -> None:
    """Two days of a slab whose warming rate wanders: more than one candidate explains
    them, and a day ahead the forecast is wider than the best candidate's alone (which held
    79 % of readings in its 90 % interval on such series)."""
    rng = np.random.default_rng(11)
    count = 288
    rate = 0.3 + np.cumsum(rng.normal(0.0, 0.005, count))
    values = 20.0 + np.cumsum(rate / 6) + np.cumsum(rng.normal(0.0, 0.02, count))
    values += rng.normal(0.0, 0.1, count)
    times = np.arange(count) * 600.0
    _, grid_values, grid_quality, step = regular_grid(times, values, np.ones(count),
                                                      float(times[-1]))
    fits = fit(grid_values, grid_quality, step / HOUR)
    assert len(fits) > 1 and sum(f.weight for f in fits) == pytest.approx(1.0)
    assert fits[0].weight == max(f.weight for f in fits)
    best = fits[0].model.forecast(fits[0].state[None], fits[0].covariance[None], 1.0, 24)
    answer = forecast_readings(times, values, np.ones(count), horizon=24 * HOUR, steps=24)
    assert answer.deviation[-1] > 1.05 * float(best.deviation[0, -1])


def test_a_slab_warming_in_spells_is_forecast_less_surely_than_its_candidates_say() -> None:
    """Two days of a slab that warms 0.5 °C/h for 8 hours, then holds for 8, and again: the
    candidates fitted see a wandering trend, but their forecasts from earlier in the two
    days missed the readings that followed by more than their intervals allowed, so the
    forecast a day ahead is wider than their mixture, and nowhere narrower."""
    rng = np.random.default_rng(7)
    count = 288
    times = np.arange(count) * 600.0
    rate = np.where((times / HOUR // 8) % 2 == 0, 0.5, 0.0)
    values = 20.0 + np.cumsum(rate / 6) + rng.normal(0.0, 0.1, count)
    _, grid_values, grid_quality, step = regular_grid(times, values, np.ones(count),
                                                      float(times[-1]))
    _, alone = mixture(fit(grid_values, grid_quality, step / HOUR), 1.0, 24)
    answer = forecast_readings(times, values, np.ones(count), horizon=24 * HOUR, steps=24)
    assert np.all(np.array(answer.deviation) >= alone)
    assert answer.deviation[-1] > 1.3 * alone[-1]


def test_a_doubtful_reading_moves_the_forecast_less_than_a_trusted_one() -> None:
    rng = np.random.default_rng(5)
    times = np.arange(60) * 600.0
    values = 10.0 + rng.normal(0.0, 0.05, times.size)
    values[-1] += 1.0  # the newest reading jumps
    trusted, doubtful = np.ones(times.size), np.ones(times.size)
    doubtful[-1] = 0.05
    moved = forecast_readings(times, values, trusted, horizon=HOUR, steps=1).mean[0] - 10.0
    held = forecast_readings(times, values, doubtful, horizon=HOUR, steps=1).mean[0] - 10.0
    assert abs(held) < moved / 2


def test_readings_of_several_sensors_share_a_grid_weighed_by_their_quality() -> None:
    # two sensors a minute apart each ten minutes: one step each, the better one counts more
    times = np.array([0.0, 60.0, 600.0, 660.0, 1200.0, 1260.0])
    values = np.array([1.0, 3.0, 1.0, 3.0, 1.0, 3.0])
    quality = np.array([1.0, 0.25, 1.0, 0.25, 1.0, 0.25])
    source = np.array([0, 1, 0, 1, 0, 1])
    grid, mean, best, step = regular_grid(times, values, quality, 1260.0, source)
    assert step == 600.0
    filled = np.isfinite(mean)
    assert mean[filled].tolist() == pytest.approx([1.4] * filled.sum())
    assert best[filled].tolist() == [1.0] * filled.sum()
    assert grid[-1] == 1260.0


def test_a_flat_series_never_crosses_a_threshold_above_it() -> None:
    times = np.arange(50) * 600.0
    values = 5.0 + np.random.default_rng(1).normal(0.0, 0.1, times.size)
    answer = forecast_readings(times, values, np.ones(50), horizon=24 * HOUR, threshold=8.0)
    assert answer.crossing is None


def test_too_few_readings_are_refused() -> None:
    times = np.arange(MIN_READINGS - 1) * 600.0
    with pytest.raises(TooFewReadings):
        forecast_readings(times, times, np.ones(times.size), horizon=HOUR)
