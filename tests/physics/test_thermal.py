"""The RC thermal zone: its exact step, its Jacobian, and R and C recovered online."""

from __future__ import annotations

import numpy as np
import pytest

from twinsync.physics.contract import StateModel
from twinsync.physics.kalman import ExtendedKalmanFilter
from twinsync.physics.level import LocalTrend
from twinsync.physics.simulate import zone_weather
from twinsync.physics.thermal import HeatGainZone, ThermalZone
from twinsync.physics.ukf import UnscentedKalmanFilter
from twinsync.physics.zone_bank import ZoneKnobs

from .derivative import assert_jacobian_is_the_derivative


def test_the_models_that_ship_follow_the_contract() -> None:
    assert isinstance(ThermalZone(), StateModel)
    assert isinstance(HeatGainZone(), StateModel)
    assert isinstance(LocalTrend(1.0, 1.0), StateModel)


def test_a_zone_settles_at_outdoor_plus_r_times_heating() -> None:
    zone = ThermalZone()
    state = zone.state(np.array([0.0]), np.array([5.0]), np.array([10.0]))
    settled = zone.step(state, 5000.0, np.array([[2.0, 3.0]]))
    assert settled[0, 0] == pytest.approx(2.0 + 5.0 * 3.0)
    # two half steps are one whole step: the solution is exact, not an Euler step
    half = zone.step(zone.step(state, 10.0, np.array([[2.0, 3.0]])), 10.0, np.array([[2.0, 3.0]]))
    assert half[0, 0] == pytest.approx(zone.step(state, 20.0, np.array([[2.0, 3.0]]))[0, 0])


def test_the_jacobian_is_the_derivative_of_the_step() -> None:
    zone = ThermalZone()
    state = zone.state(np.array([18.0, 5.0]), np.array([4.0, 2.0]), np.array([12.0, 30.0]))
    inputs = np.array([[-3.0, 2.5], [10.0, -1.0]])
    assert_jacobian_is_the_derivative(zone, state, 0.7, inputs)


def test_a_zone_with_a_heat_gain_settles_that_much_above_outdoor_plus_r_times_heating() -> None:
    zone = HeatGainZone()
    state = zone.state(np.array([0.0]), np.array([5.0]), np.array([10.0]), np.array([4.0]))
    settled = zone.step(state, 5000.0, np.array([[2.0, 3.0]]))
    assert settled[0, 0] == pytest.approx(2.0 + 5.0 * 3.0 + 4.0)
    assert settled[0, 3] == 4.0  # the step leaves the gain as it is


def test_the_jacobian_of_the_zone_with_a_heat_gain_is_the_derivative_of_its_step() -> None:
    zone = HeatGainZone()
    state = zone.state(np.array([18.0, 5.0]), np.array([4.0, 2.0]), np.array([12.0, 30.0]),
                       np.array([3.0, -1.5]))
    inputs = np.array([[-3.0, 2.5], [10.0, -1.0]])
    assert_jacobian_is_the_derivative(zone, state, 0.7, inputs)


def simulated_zones(seed: int) -> tuple[np.ndarray, ...]:
    """Four zones, 30 days at 15 min (2880 steps): outdoor a daily swing of ±8 °C round a
    slowly wandering mean, heating switched between 0, 2 and 4 kW for 2 to 8 h at a time,
    the sensor's noise: standard deviation 0.05 K."""
    rng = np.random.default_rng(seed)
    zone = ThermalZone()
    resistance = np.array([5.0, 3.0, 8.0, 4.0])
    capacitance = np.array([10.0, 20.0, 6.0, 15.0])
    steps, dt = 2880, 0.25
    outdoor, heating = zone_weather(rng, 4, steps, dt)
    state = zone.state(np.full(4, 18.0), resistance, capacitance)
    temperature = np.empty((4, steps))
    for t in range(steps):
        temperature[:, t] = state[:, 0]
        state = zone.step(state, dt, np.column_stack([outdoor[:, t], heating[:, t]]))
    readings = temperature + rng.normal(0, 0.05, temperature.shape)
    return resistance, capacitance, outdoor, heating, readings


@pytest.mark.parametrize("filter_class", [UnscentedKalmanFilter, ExtendedKalmanFilter])
def test_r_and_c_are_recovered_within_two_percent_from_a_month_of_readings(
    filter_class: type[UnscentedKalmanFilter] | type[ExtendedKalmanFilter],
) -> None:
    zone = ThermalZone()
    resistance, capacitance, outdoor, heating, readings = simulated_zones(7)
    # started 50 % high on R and 40 % low on C
    start = zone.state(readings[:, 0], 1.5 * resistance, 0.6 * capacitance)
    covariance = np.broadcast_to(np.diag([0.05**2, 0.5**2, 0.5**2]), (4, 3, 3)).copy()
    estimator = filter_class(zone, start, covariance)
    for t in range(1, readings.shape[1]):
        estimator.predict(
            0.25,
            np.column_stack([outdoor[:, t - 1], heating[:, t - 1]]),
            np.diag([1e-4, 1e-8, 1e-8]),
        )
        estimator.update(readings[:, t : t + 1], 0.05**2)
    found_r, found_c = zone.parameters(estimator.x)
    np.testing.assert_allclose(found_r, resistance, rtol=0.02)
    np.testing.assert_allclose(found_c, capacitance, rtol=0.02)


@pytest.mark.parametrize("filter_class", [UnscentedKalmanFilter, ExtendedKalmanFilter])
def test_r_and_c_are_recovered_within_two_percent_with_the_heat_gain_estimated_beside_them(
    filter_class: type[UnscentedKalmanFilter] | type[ExtendedKalmanFilter],
) -> None:
    # The zone the reading path runs: its gain from 0 with the knobs' prior and walk (the
    # truth has none), R and C still told apart by the metered heating.
    zone = HeatGainZone()
    knobs = ZoneKnobs()
    resistance, capacitance, outdoor, heating, readings = simulated_zones(7)
    start = zone.state(readings[:, 0], 1.5 * resistance, 0.6 * capacitance)
    covariance = np.broadcast_to(np.diag([0.05**2, 0.5**2, 0.5**2, knobs.gain_sd**2]),
                                 (4, 4, 4)).copy()
    estimator = filter_class(zone, start, covariance)
    for t in range(1, readings.shape[1]):
        estimator.predict(
            0.25,
            np.column_stack([outdoor[:, t - 1], heating[:, t - 1]]),
            np.diag([1e-4, 1e-8, 1e-8, knobs.gain_noise]),
        )
        estimator.update(readings[:, t : t + 1], 0.05**2)
    found_r, found_c = zone.parameters(estimator.x)
    np.testing.assert_allclose(found_r, resistance, rtol=0.02)
    np.testing.assert_allclose(found_c, capacitance, rtol=0.02)
    assert np.all(np.abs(estimator.x[:, 3]) < 0.3)


def test_inputs_of_the_wrong_shape_are_refused() -> None:
    zone = ThermalZone()
    state = zone.state(np.array([18.0]), np.array([4.0]), np.array([12.0]))
    with pytest.raises(ValueError, match="inputs must be"):
        zone.step(state, 1.0, np.array([1.0, 2.0]))
