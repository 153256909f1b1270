"""The model contract every physical model of the twin follows, and the linear algebra the
estimators share.

A model is shared by every element of one type and runs vectorised over all of them: a
state is an array of shape ``(elements, n)``, never one object per element. The contract is
small on purpose (as an HTTPX transport is two methods): ``step`` moves every state forward
by ``dt`` under the inputs, ``measure`` says what a sensor would read in each state, and the
two Jacobians linearise both for the EKF. The UKF needs no more: it draws its sigma points
from the state and covariance and pushes them through ``step`` and ``measure``.

Parameters that are estimated online sit at the end of the state (joint estimation), named
in ``parameter_names``; ``step`` leaves them as they are (a random walk whose size is the
process noise the caller gives them).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
#: Per-element yes/no (a reading gated, a divergence started) and per-element counts.
Flags = NDArray[np.bool_]
Counts = NDArray[np.int64]


class NotPositiveDefinite(ValueError):
    """A covariance that should be symmetric positive definite is not; ``elements`` are the
    batch positions at fault."""

    def __init__(self, what: str, elements: list[int]) -> None:
        super().__init__(
            f"{what} is not positive definite for element(s) {elements[:10]}"
            + (" …" if len(elements) > 10 else "")
        )
        self.elements = elements


@runtime_checkable
class StateModel(Protocol):
    """One model for all elements of a type; every array has a leading batch axis."""

    #: Names of the state's components, parameters included (they come last).
    state_names: tuple[str, ...]
    #: The trailing components of the state that are parameters estimated online.
    parameter_names: tuple[str, ...]
    #: Names of the columns of ``inputs``.
    input_names: tuple[str, ...]
    #: Names of the components ``measure`` returns.
    measurement_names: tuple[str, ...]

    def step(self, state: Array, dt: float, inputs: Array) -> Array:
        """States ``(B, n)`` after ``dt`` under inputs ``(B, m)``, held over the step."""
        ...

    def measure(self, state: Array) -> Array:
        """What the sensors read in each state: ``(B, p)``."""
        ...

    def step_jacobian(self, state: Array, dt: float, inputs: Array) -> Array:
        """∂step/∂state at each state: ``(B, n, n)``."""
        ...

    def measure_jacobian(self, state: Array) -> Array:
        """∂measure/∂state at each state: ``(B, p, n)``."""
        ...


def batch_matrix(value: Array | float, batch: int, rows: int, cols: int, what: str) -> Array:
    """A matrix given once for all elements, or one per element, as ``(B, rows, cols)``."""
    matrix = np.asarray(value, dtype=np.float64)
    if matrix.ndim == 0 and rows == cols:
        matrix = matrix * np.eye(rows)
    if matrix.shape == (rows, cols):
        return np.broadcast_to(matrix, (batch, rows, cols))
    if matrix.shape == (batch, rows, cols):
        return matrix
    raise ValueError(
        f"{what} must be ({rows}, {cols}) or ({batch}, {rows}, {cols}), got {matrix.shape}"
    )


def symmetrise(covariance: Array) -> Array:
    """The symmetric part: rounding makes a computed covariance drift off symmetry, and an
    asymmetric one slowly loses positive definiteness."""
    return (covariance + np.swapaxes(covariance, -1, -2)) / 2.0


def floor_eigenvalues(covariance: Array, share: float = 1e-12) -> Array:
    """``covariance`` with each element's eigenvalues raised to at least ``share`` of its
    largest (the elements already above it untouched, to the bit): the repair of a
    covariance that a subtraction pushed off positive definiteness."""
    finite = np.isfinite(covariance).all(axis=(-1, -2))
    if not finite.all():
        raise NotPositiveDefinite("covariance", np.flatnonzero(~finite).tolist())
    values = np.linalg.eigvalsh(covariance)
    floor = share * np.maximum(np.abs(values).max(axis=-1), np.finfo(np.float64).tiny)
    bad = values.min(axis=-1) <= floor
    if not bad.any():
        return covariance
    repaired = covariance.copy()
    w, v = np.linalg.eigh(covariance[bad])
    w = np.maximum(w, floor[bad][:, None])
    repaired[bad] = symmetrise(v @ (w[..., None] * np.swapaxes(v, -1, -2)))
    return repaired


def cholesky(covariance: Array, what: str = "covariance") -> Array:
    """Lower Cholesky factors of a batch ``(B, n, n)``; names the elements that have none."""
    try:
        lower = np.asarray(np.linalg.cholesky(covariance), dtype=np.float64)
    except np.linalg.LinAlgError as exc:
        bad = [
            index
            for index, matrix in enumerate(covariance.reshape(-1, *covariance.shape[-2:]))
            if not _has_cholesky(matrix)
        ]
        raise NotPositiveDefinite(what, bad) from exc
    return lower


def _has_cholesky(matrix: Array) -> bool:
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return False
    return bool(np.all(np.isfinite(matrix)))


def solve_spd(matrix: Array, right: Array, what: str = "innovation covariance") -> Array:
    """``matrix⁻¹ right`` for symmetric positive definite ``matrix`` ``(B, p, p)`` by its
    Cholesky factor (never an explicit inverse); ``right`` is ``(B, p, k)``."""
    lower = cholesky(matrix, what)
    half = np.linalg.solve(lower, right)
    solved: Array = np.linalg.solve(np.swapaxes(lower, -1, -2), half)
    return solved
