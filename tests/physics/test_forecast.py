"""A property's forecast from its readings: the model that explains them is the one chosen,
doubtful readings count for less, several sensors' irregular readings share one grid, and
too few readings are refused."""

from __future__ import annotations

import numpy as np
import pytest

from twinsync.physics.forecast import MIN_READINGS, TooFewReadings, forecast_readings, regular_grid

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
