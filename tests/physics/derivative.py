"""The check that a model's step Jacobian is the derivative of its step, shared by the
models' tests: central differences in each state coordinate."""

from __future__ import annotations

import numpy as np

from twinsync.physics.contract import StateModel


def assert_jacobian_is_the_derivative(model: StateModel, state: np.ndarray, dt: float,
                                      inputs: np.ndarray) -> None:
    jacobian = model.step_jacobian(state, dt, inputs)
    size = state.shape[1]
    for j in range(size):
        bump = np.zeros(size)
        bump[j] = 1e-6
        numeric = (model.step(state + bump, dt, inputs)
                   - model.step(state - bump, dt, inputs)) / 2e-6
        np.testing.assert_allclose(jacobian[:, :, j], numeric, rtol=1e-6, atol=1e-9)
