"""The linear Kalman filter and the EKF against filterpy, element by element and in batch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from twinsync.physics.contract import NotPositiveDefinite
from twinsync.physics.kalman import ExtendedKalmanFilter, KalmanFilter
from twinsync.physics.thermal import HeatGainZone, ThermalZone

from .oracle import ModelEKF, linear


def constant_velocity(dt: float) -> tuple[np.ndarray, ...]:
    F = np.array([[1.0, dt], [0.0, 1.0]])
    Q = 0.01 * np.array([[dt**3 / 3, dt**2 / 2], [dt**2 / 2, dt]])
    H = np.array([[1.0, 0.0]])
    R = np.array([[0.25]])
    return F, Q, H, R


def test_the_linear_filter_matches_filterpy_on_every_element_of_a_batch() -> None:
    rng = np.random.default_rng(1)
    F, Q, H, R = constant_velocity(0.5)
    batch = 5
    x0 = rng.normal(size=(batch, 2))
    P0 = np.stack([np.diag(rng.uniform(0.5, 3.0, 2)) for _ in range(batch)])
    ours = KalmanFilter(x0, P0, gate=None)
    oracles = [linear(x0[b], P0[b], F, Q, H, R) for b in range(batch)]
    truth = np.cumsum(rng.normal(size=(60, batch)), axis=0)
    for t in range(60):
        z = truth[t][:, None] + rng.normal(0, 0.5, (batch, 1))
        ours.predict(F, Q)
        innovation = ours.update(z, H, R)
        for b, kf in enumerate(oracles):
            kf.predict()
            kf.update(z[b])
            np.testing.assert_allclose(ours.x[b], kf.x, rtol=1e-10, atol=1e-10)
            np.testing.assert_allclose(ours.P[b], kf.P, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(innovation.residual[b], kf.y, rtol=1e-10, atol=1e-10)
            np.testing.assert_allclose(innovation.covariance[b], kf.S, rtol=1e-10)


def test_a_batch_gives_the_same_numbers_as_its_elements_filtered_one_by_one() -> None:
    rng = np.random.default_rng(2)
    F, Q, H, R = constant_velocity(1.0)
    x0 = rng.normal(size=(4, 2))
    P0 = np.broadcast_to(np.eye(2), (4, 2, 2))
    together = KalmanFilter(x0, P0)
    alone = [KalmanFilter(x0[b : b + 1], P0[b : b + 1]) for b in range(4)]
    for _ in range(30):
        z = rng.normal(size=(4, 1))
        together.predict(F, Q)
        together.update(z, H, R)
        for b, kf in enumerate(alone):
            kf.predict(F, Q)
            kf.update(z[b : b + 1], H, R)
    np.testing.assert_allclose(together.x, np.concatenate([kf.x for kf in alone]), rtol=1e-12)
    np.testing.assert_allclose(together.P, np.concatenate([kf.P for kf in alone]), rtol=1e-12)


def test_matrices_may_differ_per_element() -> None:
    F = np.stack([np.eye(1), 2.0 * np.eye(1)])
    kf = KalmanFilter(np.ones((2, 1)), np.ones((2, 1, 1)))
    kf.predict(F, Q=np.zeros((2, 1, 1)))
    assert kf.x.tolist() == [[1.0], [2.0]]
    assert kf.P[:, 0, 0].tolist() == [1.0, 4.0]


def zone_problem(seed: int, batch: int, gain: bool = False) -> tuple[np.ndarray, ...]:
    """Zones' start and covariance, inputs and readings; ``gain``: the zone with its heat
    gain in the state (``HeatGainZone``, the one on the reading path)."""
    rng = np.random.default_rng(seed)
    zone = ThermalZone()
    x0 = zone.state(rng.uniform(15, 20, batch), rng.uniform(3, 6, batch), rng.uniform(8, 15, batch))
    P0 = np.broadcast_to(np.diag([0.01, 0.09, 0.09]), (batch, 3, 3)).copy()
    if gain:
        x0 = HeatGainZone.state(x0[:, 0], np.exp(x0[:, 1]), np.exp(x0[:, 2]),
                                rng.uniform(-2, 5, batch))
        P0 = np.broadcast_to(np.diag([0.01, 0.09, 0.09, 1.0]), (batch, 4, 4)).copy()
    outdoor = rng.uniform(-5, 10, (40, batch))
    heating = rng.choice([0.0, 3.0], (40, batch))
    readings = rng.uniform(15, 22, (40, batch, 1))
    return x0, P0, outdoor, heating, readings


@pytest.mark.parametrize("gain", [False, True])
def test_the_ekf_matches_filterpy_on_a_batch_of_thermal_zones(gain: bool) -> None:
    zone = HeatGainZone() if gain else ThermalZone()
    x0, P0, outdoor, heating, readings = zone_problem(3, 4, gain)
    Q = np.diag([1e-3, 1e-6, 1e-6, 1e-2][:x0.shape[1]])
    R = np.array([[0.01]])
    ours = ExtendedKalmanFilter(zone, x0, P0, gate=None)
    oracles = [ModelEKF(zone, x0[b], P0[b]) for b in range(4)]
    for t in range(40):
        inputs = np.column_stack([outdoor[t], heating[t]])
        ours.predict(0.5, inputs, Q)
        ours.update(readings[t], R)
        for b, ekf in enumerate(oracles):
            ekf.step(0.5, inputs[b], Q)
            ekf.correct(readings[t, b], R)
            np.testing.assert_allclose(ours.x[b], ekf.x, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(ours.P[b], ekf.P, rtol=1e-8, atol=1e-14)


def test_a_covariance_that_is_not_positive_definite_is_refused_naming_the_element() -> None:
    P = np.stack([np.eye(2), np.array([[1.0, 2.0], [2.0, 1.0]])])
    with pytest.raises(NotPositiveDefinite, match=r"element\(s\) \[1\]") as raised:
        KalmanFilter(np.zeros((2, 2)), P)
    assert raised.value.elements == [1]


def test_a_measurement_of_the_wrong_shape_is_refused_and_the_state_is_kept() -> None:
    kf = KalmanFilter(np.zeros((2, 1)), np.ones((2, 1, 1)))
    with pytest.raises(ValueError, match="z must be"):
        kf.update(np.zeros((3, 1)), np.eye(1), 1.0)
    with pytest.raises(ValueError, match="finite"):
        kf.update(np.array([[1.0], [np.nan]]), np.eye(1), 1.0)
    assert kf.x.tolist() == [[0.0], [0.0]] and kf.P.tolist() == [[[1.0]], [[1.0]]]


def spd(n: int) -> st.SearchStrategy[np.ndarray]:
    return arrays(np.float64, (n, n), elements=st.floats(-3, 3)).map(
        lambda a: a @ a.T + 1e-3 * np.eye(n)
    )


@settings(max_examples=60, deadline=None)
@given(
    P=spd(3),
    Q=spd(3),
    R=spd(2),
    F=arrays(np.float64, (3, 3), elements=st.floats(-2, 2)),
    H=arrays(np.float64, (2, 3), elements=st.floats(-2, 2)),
    z=arrays(np.float64, (2,), elements=st.floats(-1e3, 1e3)),
)
def test_covariances_stay_symmetric_positive_definite(
    P: np.ndarray, Q: np.ndarray, R: np.ndarray, F: np.ndarray, H: np.ndarray, z: np.ndarray
) -> None:
    kf = KalmanFilter(np.zeros((1, 3)), P[None])
    for _ in range(5):
        kf.predict(F, Q)
        kf.update(z[None], H, R)
        assert np.array_equal(kf.P, np.swapaxes(kf.P, -1, -2))
        assert np.all(np.linalg.eigvalsh(kf.P) > 0)


def test_normalised_residuals_are_residuals_in_standard_deviations() -> None:
    kf = KalmanFilter(np.zeros((2, 1)), np.full((2, 1, 1), 3.0))
    innovation = kf.update(np.array([[2.0], [-6.0]]), np.eye(1), 1.0)
    # the reading's variance is the state's 3 plus the sensor's 1
    assert innovation.normalised[:, 0].tolist() == pytest.approx([1.0, -3.0])
