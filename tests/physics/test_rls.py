"""Recursive least squares: against filterpy's Kalman filter (which RLS is a case of),
recovering known parameters, forgetting after a change and not winding up."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from twinsync.physics.rls import RecursiveLeastSquares

from .oracle import linear


def test_classic_forgetting_is_filterpys_fading_memory_kalman_filter() -> None:
    # RLS with forgetting λ is the Kalman filter with F = I, Q = 0, R = 1 whose prior
    # covariance is divided by λ each step: filterpy's fading memory alpha² = 1/λ
    rng = np.random.default_rng(11)
    forgetting, batch = 0.95, 3
    rls = RecursiveLeastSquares(np.zeros((batch, 2)), forgetting, 100.0, max_variance=1e12)
    oracles = [
        linear(
            np.zeros(2), 100.0 * np.eye(2), np.eye(2), np.zeros((2, 2)), np.zeros((1, 2)), np.eye(1)
        )
        for _ in range(batch)
    ]
    for kf in oracles:
        kf.alpha = 1.0 / np.sqrt(forgetting)
    for _ in range(80):
        phi = rng.normal(size=(batch, 2))
        y = phi @ np.array([1.5, -0.5]) + rng.normal(0, 0.1, batch)
        rls.update(phi, y)
        for b, kf in enumerate(oracles):
            kf.predict()
            kf.update(y[b], H=phi[b : b + 1])
            np.testing.assert_allclose(rls.theta[b], kf.x, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(rls.P[b], kf.P, rtol=1e-8, atol=1e-12)


def test_without_forgetting_it_is_ordinary_least_squares() -> None:
    rng = np.random.default_rng(12)
    phi = rng.normal(size=(200, 3))
    y = phi @ np.array([2.0, -1.0, 0.5]) + rng.normal(0, 0.2, 200)
    rls = RecursiveLeastSquares(np.zeros((1, 3)), forgetting=1.0, initial_covariance=1e8)
    for k in range(200):
        rls.update(phi[k : k + 1], y[k : k + 1])
    expected = np.linalg.lstsq(phi, y, rcond=None)[0]
    np.testing.assert_allclose(rls.theta[0], expected, rtol=1e-6)


def test_it_recovers_known_parameters_for_every_element_of_a_batch() -> None:
    rng = np.random.default_rng(13)
    truth = rng.uniform(-3, 3, (50, 2))
    rls = RecursiveLeastSquares(np.zeros((50, 2)), forgetting=0.99)
    for _ in range(300):
        phi = np.column_stack([np.ones(50), rng.normal(size=50)])
        rls.update(phi, np.einsum("bi,bi->b", phi, truth) + rng.normal(0, 0.05, 50))
    np.testing.assert_allclose(rls.theta, truth, atol=0.02)


def test_it_forgets_and_follows_a_parameter_that_changed() -> None:
    rng = np.random.default_rng(14)
    forgetting = RecursiveLeastSquares(np.zeros((1, 2)), forgetting=0.95)
    remembering = RecursiveLeastSquares(np.zeros((1, 2)), forgetting=1.0)
    for k in range(600):
        truth = np.array([1.0, 2.0]) if k < 300 else np.array([1.0, 4.0])
        phi = np.array([[1.0, rng.normal()]])
        y = phi @ truth + rng.normal(0, 0.05, 1)
        forgetting.update(phi, y)
        remembering.update(phi, y)
    assert forgetting.theta[0, 1] == pytest.approx(4.0, abs=0.05)
    assert remembering.theta[0, 1] == pytest.approx(3.0, abs=0.2)  # the average of both


def quiet_then_kick(max_variance: float) -> tuple[RecursiveLeastSquares, float]:
    rng = np.random.default_rng(15)
    rls = RecursiveLeastSquares(np.zeros((1, 2)), 0.95, 10.0, max_variance)
    for _ in range(100):  # both regressors vary: a good estimate of [1, 2]
        phi = np.array([[1.0, rng.normal()]])
        rls.update(phi, phi @ np.array([1.0, 2.0]) + rng.normal(0, 0.05, 1))
    for _ in range(300):  # the second regressor goes quiet (a heater left off)
        rls.update(np.array([[1.0, 0.0]]), np.array([1.0]) + rng.normal(0, 0.05, 1))
    largest = float(np.linalg.eigvalsh(rls.P[0]).max())
    # the first reading after the quiet spell, with some noise on it
    rls.update(np.array([[1.0, 1.0]]), np.array([3.1]))
    return rls, largest


def test_classic_forgetting_winds_up_without_excitation() -> None:
    # the failure the guards are there for, shown on the unguarded update
    _, largest = quiet_then_kick(max_variance=np.inf)
    assert largest > 1e5  # 0.95⁻³⁰⁰ ≈ 5·10⁶ times what was left after the good spell


def test_it_does_not_wind_up_without_excitation() -> None:
    for max_variance in (10.0, 1.0):
        rls, largest = quiet_then_kick(max_variance)
        assert largest <= max_variance * (1 + 1e-9)
        assert rls.theta[0] == pytest.approx([1.0, 2.0], abs=0.2)


def test_bad_readings_are_refused_and_the_estimate_is_kept() -> None:
    rls = RecursiveLeastSquares(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="finite"):
        rls.update(np.array([[1.0, np.nan], [1.0, 0.0]]), np.zeros(2))
    with pytest.raises(ValueError, match="regressors must be"):
        rls.update(np.ones((3, 2)), np.zeros(3))
    assert rls.theta.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    with pytest.raises(ValueError, match="forgetting"):
        RecursiveLeastSquares(np.zeros((1, 1)), forgetting=0.0)


@settings(max_examples=60, deadline=None)
@given(
    regressors=arrays(np.float64, (30, 3), elements=st.floats(-100, 100)),
    outputs=arrays(np.float64, (30,), elements=st.floats(-1e3, 1e3)),
    forgetting=st.floats(0.8, 1.0),
)
def test_its_covariance_stays_symmetric_positive_definite_and_bounded(
    regressors: np.ndarray, outputs: np.ndarray, forgetting: float
) -> None:
    rls = RecursiveLeastSquares(np.zeros((1, 3)), forgetting, 10.0)
    for k in range(30):
        rls.update(regressors[k : k + 1], outputs[k : k + 1])
        assert np.array_equal(rls.P, np.swapaxes(rls.P, -1, -2))
        assert np.all(np.linalg.eigvalsh(rls.P) > 0)
        assert np.linalg.eigvalsh(rls.P[0]).max() <= 10.0 * (1 + 1e-9)
