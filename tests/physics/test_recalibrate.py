"""Recalibration over a recent window: a zone whose R changes mid-way is named by the CUSUM
on its filter's residuals, and the fit over the window after it recovers the new R."""

from __future__ import annotations

import numpy as np
import pytest

from twinsync.physics.divergence import Cusum
from twinsync.physics.level import LocalTrend
from twinsync.physics.recalibrate import recalibrate
from twinsync.physics.simulate import zone_weather
from twinsync.physics.thermal import ThermalZone
from twinsync.physics.ukf import UnscentedKalmanFilter

DT = 0.25  # hours between readings
CHANGE = 480  # the reading at which zone 0's R drops from 5 to 3.5 K/kW (day 5)


def zones_whose_first_r_drops(seed: int) -> tuple[np.ndarray, ...]:
    """Three zones (R 5, 3, 8 K/kW; C 10, 20, 6 kWh/K) over 10 days at 15 min: outdoor a
    daily swing of ±8 °C, heating 0, 2 or 4 kW for 2 to 8 h at a time, sensor noise 0.05 K;
    zone 0 loses 30 % of its resistance at day 5 (a window left open)."""
    rng = np.random.default_rng(seed)
    zone = ThermalZone()
    steps = 960
    outdoor, heating = zone_weather(rng, 3, steps, DT)
    state = zone.state(np.full(3, 18.0), np.array([5.0, 3.0, 8.0]), np.array([10.0, 20.0, 6.0]))
    temperature = np.empty((3, steps))
    for t in range(steps):
        if t == CHANGE:
            state[0, 1] = np.log(3.5)
        temperature[:, t] = state[:, 0]
        state = zone.step(state, DT, np.column_stack([outdoor[:, t], heating[:, t]]))
    inputs = np.stack([outdoor, heating], axis=-1)
    return inputs, temperature + rng.normal(0, 0.05, temperature.shape)


def test_the_cusum_names_the_zone_whose_r_changed_and_the_window_after_recovers_the_new_r() -> (
    None
):
    zone = ThermalZone()
    inputs, readings = zones_whose_first_r_drops(3)
    start = zone.state(readings[:, 0], np.array([5.0, 3.0, 8.0]), np.array([10.0, 20.0, 6.0]))
    covariance = np.broadcast_to(np.diag([0.05**2, 0.01**2, 0.01**2]), (3, 3, 3)).copy()
    ukf = UnscentedKalmanFilter(zone, start, covariance)
    cusum = Cusum()
    states = [ukf.x.copy()]
    started_at = np.full(3, -1)
    for t in range(1, 700):
        ukf.predict(DT, inputs[:, t - 1], np.diag([1e-4, 1e-8, 1e-8]))
        innovation = ukf.update(readings[:, t : t + 1], 0.05**2)
        states.append(ukf.x.copy())
        started = cusum.update(innovation.normalised[:, 0]).started
        started_at = np.where(started & (started_at < 0), t, started_at)
    # only zone 0, and within 4 hours of its change
    assert started_at[1:].tolist() == [-1, -1]
    assert CHANGE < started_at[0] <= CHANGE + 16
    # two days from the alarm on, from the filter's state at the alarm
    at, window = int(started_at[0]), 192
    fit = recalibrate(
        zone,
        states[at],
        inputs[:, at : at + window],
        readings[:, at : at + window, None],
        DT,
        elements=cusum.diverging | (started_at >= 0),
    )
    assert fit.elements.tolist() == [0] and fit.converged.all()
    resistance_before, _ = zone.parameters(fit.before)
    resistance, capacitance = zone.parameters(fit.after)
    assert resistance_before[0] == pytest.approx(5.0, rel=0.05)  # the filter had not followed
    assert resistance[0] == pytest.approx(3.5, rel=0.02)
    assert capacitance[0] == pytest.approx(10.0, rel=0.05)
    # tracking error over the window: kelvins before, the sensor's noise (0.05 K) after
    assert fit.error_before[0] > 0.5
    assert fit.error_after[0] < 0.06
    # the state at the window's end is where the zone's temperature then was
    assert fit.end[0, 0] == pytest.approx(readings[0, at + window - 1], abs=0.2)


def test_the_local_level_is_reinitialised_to_its_window() -> None:
    rng = np.random.default_rng(9)
    window = 12.0 + 0.5 * np.arange(50)[None, :] + rng.normal(0, 0.1, (2, 50))
    readings = window[..., None]
    readings[1, 10:20] = np.nan  # a gap is left out of the fit
    model = LocalTrend(level_noise=0.01, noise=0.01, trend_noise=0.001)
    fit = recalibrate(model, np.zeros((2, 2)), np.zeros((2, 50, 0)), readings, 1.0)
    # a straight line through the window: level 12 at its start, trend 0.5 an hour
    # (to about two standard errors of 40-50 readings with noise 0.1)
    np.testing.assert_allclose(fit.after[:, 0], 12.0, atol=0.1)
    np.testing.assert_allclose(fit.after[:, 1], 0.5, atol=0.01)
    np.testing.assert_allclose(fit.end[:, 0], 12.0 + 0.5 * 49, atol=0.1)
    assert np.all(fit.error_after < 0.15) and np.all(fit.error_before > 10)


def test_a_window_of_mismatched_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="same elements and window"):
        recalibrate(ThermalZone(), np.zeros((2, 3)), np.zeros((2, 5, 2)), np.zeros((2, 4, 1)), 1.0)
