"""The tracker's one-step predictions (``physics/one_step.py``): the predicting pass steps
exactly as the live tracker does (same residuals, events and state), its prediction and
spread are the ones the live residual is measured by, it predicts nothing while warming
up, and its 90 % band holds about 90 % of trusted readings of streams the model fits."""

from __future__ import annotations

import numpy as np
import pytest

from twinsync.physics.one_step import PredictingTracker, z_of
from twinsync.physics.tracker import RECALIBRATED, STARTED, LevelTrendTracker

HOUR = 3600.0


def interleaved(rng: np.random.Generator, sensors: int, readings: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows, times, values and qualities of ``sensors`` streams read together every 15
    minutes: a daily cycle with noise, a shift of 0.5 at reading 300, some doubted readings."""
    hours = 0.25 * np.arange(readings)
    phase = rng.uniform(0, 2 * np.pi, (sensors, 1))
    values = 3 * np.sin(2 * np.pi * hours / 24 + phase) + rng.normal(20, 0.05,
                                                                      (sensors, readings))
    values[:, 300:] += 0.5
    quality = rng.choice([1.0, 1.0, 1.0, 0.3, 0.05], (sensors, readings))
    rows = np.tile(np.arange(sensors, dtype=np.int64), readings)
    times = np.repeat(900.0 * np.arange(readings), sensors)
    return rows, times, values.T.ravel(), quality.T.ravel()


def test_the_predicting_pass_steps_exactly_as_the_live_tracker() -> None:
    rows, times, values, quality = interleaved(np.random.default_rng(0), 4, 500)
    live, predicting = LevelTrendTracker(), PredictingTracker()
    for part in np.array_split(np.arange(rows.size), 7):  # in batches, as live
        expected = live.track_many(rows[part], times[part], values[part], quality[part])
        got = predicting.predict_many(rows[part], times[part], values[part], quality[part])
        np.testing.assert_array_equal(got.update.normalised, expected.normalised)
        np.testing.assert_array_equal(got.update.code, expected.code)
        fired = np.isin(expected.code, (STARTED, RECALIBRATED))  # the rows' detail is set
        np.testing.assert_array_equal(got.update.detail[fired], expected.detail[fired])
    for name, column in live.columns.items():
        np.testing.assert_array_equal(predicting.columns[name], column, err_msg=name)
    assert live.columns["recal_count"].sum() >= 3  # shifts were told: the test saw events


def test_the_prediction_and_spread_are_what_the_live_residual_is_measured_by() -> None:
    rows, times, values, quality = interleaved(np.random.default_rng(1), 3, 400)
    track = PredictingTracker().predict_many(rows, times, values, quality)
    live = LevelTrendTracker().track_many(rows, times, values, quality).normalised
    r = np.full(rows.size, np.nan)
    # The sensor's variance before each reading, to rebuild a doubted reading's spread.
    tracker = PredictingTracker()
    tracker.ensure(int(rows.max()))
    for i in range(rows.size):
        r[i] = tracker.columns["r"][rows[i]]
        tracker.predict_many(rows[i:i + 1], times[i:i + 1], values[i:i + 1], quality[i:i + 1])
    predicted = np.isfinite(track.predicted)
    assert predicted.sum() == np.isfinite(live).sum()
    trusted = predicted & (quality == 1.0)
    np.testing.assert_allclose((values - track.predicted)[trusted] / track.sd[trusted],
                               live[trusted], rtol=1e-12)
    doubted = predicted & (quality < 1.0)
    spread = np.sqrt(track.sd**2 - r + r / np.maximum(quality, 0.01))
    np.testing.assert_allclose((values - track.predicted)[doubted] / spread[doubted],
                               live[doubted], rtol=1e-9)


def test_nothing_is_predicted_while_the_model_warms_up() -> None:
    rng = np.random.default_rng(2)
    for warmup in (12, 32):
        tracker = PredictingTracker.with_knobs(LevelTrendTracker(warmup=warmup).knobs)
        values = 5 + rng.normal(0, 0.1, 80)
        track = tracker.predict_many(np.zeros(80, dtype=np.int64), 60.0 * np.arange(80),
                                     values, np.ones(80))
        assert np.isnan(track.predicted[:warmup]).all() and np.isnan(track.sd[:warmup]).all()
        assert np.isfinite(track.predicted[warmup:]).all() and (track.sd[warmup:] > 0).all()


@pytest.mark.parametrize("walk", [0.0, 0.02])
def test_the_90_percent_band_holds_about_90_percent_of_trusted_readings(walk: float) -> None:
    """White noise on a level, and a random walk (0.02 a reading) under it: the band of
    the learned model, after its first 200 readings, holds 87-93 % of the readings."""
    rng = np.random.default_rng(3)
    sensors, readings = 100, 1000
    level = np.cumsum(rng.normal(0, walk, (sensors, readings)), axis=1) if walk else 0.0
    values = (20 + level + rng.normal(0, 0.05, (sensors, readings))).T.ravel()
    rows = np.tile(np.arange(sensors, dtype=np.int64), readings)
    times = np.repeat(900.0 * np.arange(readings), sensors)
    track = PredictingTracker().predict_many(rows, times, values, np.ones(rows.size))
    late = times >= 200 * 900.0
    z = z_of(0.9)
    inside = np.abs(values - track.predicted)[late] <= z * track.sd[late]
    assert 0.87 <= inside.mean() <= 0.93, inside.mean()


def test_z_of_a_coverage_is_the_normal_quantile() -> None:
    assert z_of(0.9) == pytest.approx(1.6448536, abs=1e-6)
    assert z_of(0.95) == pytest.approx(1.959964, abs=1e-6)
    with pytest.raises(ValueError):
        z_of(1.0)
