"""The innovation gate: far readings are kept out and counted, doubtful readings weigh less,
and a real step re-opens the gate within a bounded number of readings."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2

from twinsync.physics.gate import Gate, chi_square_quantile
from twinsync.physics.kalman import ExtendedKalmanFilter, KalmanFilter
from twinsync.physics.level import LocalTrend
from twinsync.physics.thermal import ThermalZone
from twinsync.physics.ukf import UnscentedKalmanFilter


@pytest.mark.parametrize("dof", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("probability", [0.9, 0.99, 0.999])
def test_the_gate_threshold_is_the_chi_square_quantile(dof: int, probability: float) -> None:
    assert chi_square_quantile(probability, dof) == pytest.approx(
        chi2.ppf(probability, dof), rel=1e-9
    )


def level_filter(batch: int, gate: Gate | None) -> KalmanFilter:
    return KalmanFilter(np.zeros((batch, 1)), np.ones((batch, 1, 1)), gate)


def test_a_far_reading_is_gated_and_its_element_stays_as_predicted() -> None:
    gated = level_filter(3, Gate())
    plain = level_filter(3, None)
    for kf in (gated, plain):
        kf.predict(np.eye(1), 0.5)
    predicted_x, predicted_P = gated.x.copy(), gated.P.copy()
    # S = 1.5 + 1: a reading of 10 is NIS 40, past the 99.9 % gate of 10.83; 1 and -2 pass
    readings = np.array([[1.0], [10.0], [-2.0]])
    innovation = gated.update(readings, np.eye(1), 1.0)
    plain.update(readings, np.eye(1), 1.0)
    assert innovation.gated.tolist() == [False, True, False]
    assert gated.x[1].tolist() == predicted_x[1].tolist()
    assert gated.P[1].tolist() == predicted_P[1].tolist()
    np.testing.assert_allclose(gated.x[[0, 2]], plain.x[[0, 2]], rtol=1e-15)
    assert gated.gated_run.tolist() == [0, 1, 0]


def test_a_readings_quality_divides_its_variance() -> None:
    weighed = level_filter(2, Gate(quality_floor=0.05))
    by_hand = level_filter(2, None)
    readings = np.array([[2.0], [2.0]])
    weighed.update(readings, np.eye(1), 1.0, quality=np.array([0.25, 0.0]))
    # quality 0.25 is four times the variance; quality 0 counts as the floor, 1/0.05
    by_hand.update(readings, np.eye(1), np.array([[[4.0]], [[20.0]]]))
    np.testing.assert_allclose(weighed.x, by_hand.x, rtol=1e-15)
    np.testing.assert_allclose(weighed.P, by_hand.P, rtol=1e-15)


def test_a_low_quality_reading_is_let_through_where_a_good_one_would_be_gated() -> None:
    kf = level_filter(2, Gate())
    innovation = kf.update(np.array([[6.0], [6.0]]), np.eye(1), 1.0, np.array([1.0, 0.1]))
    # 36 / 2 = 18 is past the gate; 36 / 11 is not, and the reading moves the level a little
    assert innovation.gated.tolist() == [True, False]
    assert 0.0 < kf.x[1, 0] < 1.0


def step_of_twenty_deviations(reopen_after: int) -> tuple[np.ndarray, np.ndarray]:
    """A level of 0 read with unit noise for 100 readings, then a real step to 20."""
    rng = np.random.default_rng(5)
    readings = rng.normal(0.0, 1.0, (1, 140))
    readings[:, 100:] += 20.0
    model = LocalTrend(level_noise=0.001, noise=1.0)
    track = model.track(
        readings, dt=1.0, initial_level=np.zeros(1), gate=Gate(reopen_after=reopen_after)
    )
    return track.prediction[0], track.gated[0]


def test_a_real_step_reopens_the_gate_and_is_followed_within_a_bounded_number_of_readings() -> (
    None
):
    prediction, gated = step_of_twenty_deviations(reopen_after=5)
    # the first five readings after the step are gated, the sixth re-opens, and from the
    # seventh the prediction is on the new level: within three of the sensor's deviations
    # at once (one reading's worth), within one once a few more are averaged
    assert gated[100:105].all() and not gated[105:].any()
    assert np.all(np.abs(prediction[106:] - 20.0) < 3.0)
    assert np.all(np.abs(prediction[110:] - 20.0) < 1.0)


def test_a_gate_that_never_reopens_locks_a_real_step_out() -> None:
    prediction, gated = step_of_twenty_deviations(reopen_after=10_000)
    assert gated[100:].all()
    assert np.all(np.abs(prediction[100:]) < 1.0)


def test_gate_settings_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError, match="probability"):
        Gate(probability=1.0)
    with pytest.raises(ValueError, match="reopen_after"):
        Gate(reopen_after=0)
    with pytest.raises(ValueError, match="quality floor"):
        Gate(quality_floor=0.0)


@pytest.mark.parametrize("filter_class", [UnscentedKalmanFilter, ExtendedKalmanFilter])
def test_a_zone_whose_temperature_really_jumps_reopens_the_gate_and_is_followed(
    filter_class: type[UnscentedKalmanFilter] | type[ExtendedKalmanFilter],
) -> None:
    # two zones (R 5 K/kW, C 10 kWh/K, 0 °C outdoors, 2 kW); at hour 20 the first one's air
    # is 3 K warmer at once (a door to a warm hall), which the inputs do not explain
    zone = ThermalZone()
    truth = zone.state(np.array([10.0, 10.0]), np.array([5.0, 5.0]), np.array([10.0, 10.0]))
    inputs = np.array([[0.0, 2.0], [0.0, 2.0]])
    covariance = np.repeat(np.diag([0.01, 1e-4, 1e-4])[None], 2, axis=0)
    estimator = filter_class(zone, truth.copy(), covariance)
    rng = np.random.default_rng(2)
    flags = []
    for t in range(40):
        estimator.predict(1.0, inputs, np.diag([1e-4, 1e-8, 1e-8]))
        truth = zone.step(truth, 1.0, inputs)
        if t == 20:
            truth[0, 0] += 3.0
        readings = truth[:, :1] + rng.normal(0, 0.05, (2, 1))
        innovation = estimator.update(readings, 0.05**2)
        flags.append((innovation.gated.copy(), innovation.reopened.copy()))
    gated = np.array([g for g, _ in flags])
    reopened = np.array([r for _, r in flags])
    # readings 20-24 are gated, 25 re-opens, and the second zone is never touched
    assert gated[:, 0].nonzero()[0].tolist() == [20, 21, 22, 23, 24]
    assert reopened[:, 0].nonzero()[0].tolist() == [25]
    assert not gated[:, 1].any() and not reopened[:, 1].any()
    np.testing.assert_allclose(estimator.x[:, 0], truth[:, 0], atol=0.15)


@pytest.mark.parametrize("filter_class", [UnscentedKalmanFilter, ExtendedKalmanFilter])
def test_quality_weighs_the_readings_of_the_nonlinear_filters_too(
    filter_class: type[UnscentedKalmanFilter] | type[ExtendedKalmanFilter],
) -> None:
    zone = ThermalZone()
    x0 = zone.state(np.array([18.0, 12.0]), np.array([4.0, 6.0]), np.array([12.0, 8.0]))
    P = np.repeat(np.diag([0.04, 0.01, 0.01])[None], 2, axis=0)
    weighed = filter_class(zone, x0, P)
    by_hand = filter_class(zone, x0, P, gate=None)
    for estimator in (weighed, by_hand):
        estimator.predict(1.0, np.array([[5.0, 2.0], [0.0, 1.0]]), np.diag([1e-3, 1e-6, 1e-6]))
    readings = np.array([[18.3], [11.0]])
    weighed.update(readings, 0.01, quality=np.array([0.5, 0.2]))
    by_hand.update(readings, np.array([[[0.02]], [[0.05]]]))
    np.testing.assert_allclose(weighed.x, by_hand.x, rtol=1e-12)
    np.testing.assert_allclose(weighed.P, by_hand.P, rtol=1e-10)
