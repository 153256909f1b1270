"""The linear algebra the estimators share."""

from __future__ import annotations

import numpy as np
import pytest

from twinsync.physics.contract import NotPositiveDefinite, batch_matrix, cholesky, solve_spd


def test_a_matrix_given_once_serves_every_element() -> None:
    assert batch_matrix(np.eye(2), 3, 2, 2, "Q").shape == (3, 2, 2)
    assert batch_matrix(0.5, 2, 2, 2, "Q")[1].tolist() == [[0.5, 0.0], [0.0, 0.5]]
    with pytest.raises(ValueError, match=r"H must be \(1, 2\) or \(3, 1, 2\)"):
        batch_matrix(np.eye(2), 3, 1, 2, "H")


def test_cholesky_names_every_element_that_has_no_factor() -> None:
    bad = np.array([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(NotPositiveDefinite) as raised:
        cholesky(np.stack([np.eye(2), bad, np.eye(2), np.full((2, 2), np.nan)]))
    assert raised.value.elements == [1, 3]


def test_a_solve_by_cholesky_is_a_solve() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 3, 3))
    spd = a @ np.swapaxes(a, -1, -2) + np.eye(3)
    right = rng.normal(size=(4, 3, 2))
    np.testing.assert_allclose(spd @ solve_spd(spd, right), right, rtol=1e-10, atol=1e-12)
