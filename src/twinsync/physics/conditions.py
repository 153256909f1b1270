"""Parameters that depend on conditions: a table of a parameter's values over bins of a
condition (the outdoor temperature, a load, an age), learned online and interpolated
between bins.

A zone loses heat faster when it is cold and windy outside, a slab's thermal properties
change as it cures: a model calibrated in one condition and run in another is wrong
without anything being broken. ``ConditionTable`` holds a parameter's values at the centres
of ``K`` bins of a condition, and the parameter at any condition is the linear
interpolation between the two nearest centres (flat beyond the ends): the weights of the
table's entries are "hat" functions of the condition, which sum to one.

``Conditional`` turns any ``StateModel`` with the parameter in its state into one whose
state holds the table instead of the one value: ``K`` entries in its place, each carried
unchanged by ``step`` (the filter's process noise says how fast they may drift), and the
parameter the inner model sees at each step is the entries weighed by the step's condition
(a column of the inputs). So the KF/EKF/UKF learn the table the way they learn any
parameter in the state, and only the entries a condition reaches learn from it: the Kalman
gain of an entry is its share of the parameter's sensitivity. The step's Jacobian follows
by the chain rule (the inner model's column for the parameter, times each entry's weight).

>>> table = ConditionTable([0.0, 10.0, 20.0])
>>> table.weights(np.array([5.0, 25.0])).tolist()
[[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]]
>>> table.value(np.array([[1.0, 3.0, 5.0]]), np.array([15.0])).tolist()
[4.0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .contract import Array, StateModel


class ConditionTable:
    """Bin centres of a condition, strictly increasing; a parameter's value per centre."""

    def __init__(self, centres: Sequence[float]) -> None:
        points = np.asarray(centres, dtype=np.float64)
        if points.ndim != 1 or points.size < 1 or not np.all(np.isfinite(points)):
            raise ValueError("a condition table needs one or more finite bin centres")
        if np.any(np.diff(points) <= 0):
            raise ValueError("a condition table's centres must be strictly increasing")
        self.centres = points

    @property
    def size(self) -> int:
        return int(self.centres.size)

    def weights(self, condition: Array) -> Array:
        """``(B, K)``: each entry's weight at each condition (two neighbours share it,
        the nearest end takes it all beyond the ends; a NaN condition weighs every entry
        equally, the table's mean)."""
        c = np.asarray(condition, dtype=np.float64)
        k = self.size
        out = np.zeros((c.size, k))
        if k == 1:
            out[:] = 1.0
            return out
        clipped = np.clip(c, self.centres[0], self.centres[-1])
        upper = np.clip(np.searchsorted(self.centres, clipped, side="right"), 1, k - 1)
        lower = upper - 1
        span = self.centres[upper] - self.centres[lower]
        share = (clipped - self.centres[lower]) / span
        rows = np.arange(c.size)
        out[rows, lower] = 1.0 - share
        out[rows, upper] += share
        unknown = ~np.isfinite(c)
        out[unknown] = 1.0 / k
        return out

    def value(self, table: Array, condition: Array) -> Array:
        """The parameter at each condition: ``table`` ``(B, K)`` weighed by it."""
        values: Array = np.einsum("bk,bk->b", np.asarray(table, dtype=np.float64),
                                  self.weights(condition))
        return values


class Conditional:
    """``model`` with its state entry ``parameter`` replaced by a table over ``table``'s
    bins of the condition in input column ``condition_input``. The table's entries sit
    where the parameter sat, in order; the other state entries keep their order."""

    def __init__(self, model: StateModel, parameter: str, table: ConditionTable,
                 condition_input: int) -> None:
        if parameter not in model.parameter_names:
            raise ValueError(f"{parameter!r} is not a parameter in the model's state")
        if not 0 <= condition_input < len(model.input_names):
            raise ValueError("the condition must be one of the model's inputs")
        self.inner = model
        self.table = table
        self.condition_input = condition_input
        self.at = model.state_names.index(parameter)
        entries = tuple(f"{parameter}[{c:g}]" for c in table.centres)
        names = model.state_names
        self.state_names = (*names[: self.at], *entries, *names[self.at + 1:])
        self.parameter_names = tuple(
            name for p in model.parameter_names
            for name in (entries if p == parameter else (p,)))
        self.input_names = model.input_names
        self.measurement_names = model.measurement_names

    # -- the expanded state and the inner one ---------------------------------------------

    def expand(self, state: Array) -> Array:
        """The inner model's states with their parameter copied to every entry (a start
        that knows no difference between conditions)."""
        inner = np.asarray(state, dtype=np.float64)
        entries = np.repeat(inner[:, self.at: self.at + 1], self.table.size, axis=1)
        return np.concatenate([inner[:, : self.at], entries, inner[:, self.at + 1:]], axis=1)

    def entries(self, state: Array) -> Array:
        """``(B, K)``: the table's entries in each state."""
        return np.asarray(state)[:, self.at: self.at + self.table.size]

    def _inner(self, state: Array, inputs: Array) -> tuple[Array, Array]:
        k = self.table.size
        weights = self.table.weights(np.asarray(inputs, dtype=np.float64)[:, self.condition_input])
        value = np.einsum("bk,bk->b", state[:, self.at: self.at + k], weights)
        inner = np.concatenate(
            [state[:, : self.at], value[:, None], state[:, self.at + k:]], axis=1)
        return inner, weights

    def _outer(self, inner: Array, state: Array) -> Array:
        k = self.table.size
        return np.concatenate(
            [inner[:, : self.at], state[:, self.at: self.at + k], inner[:, self.at + 1:]], axis=1)

    # -- the StateModel contract ------------------------------------------------------------

    def step(self, state: Array, dt: float, inputs: Array) -> Array:
        inner, _ = self._inner(state, inputs)
        return self._outer(self.inner.step(inner, dt, inputs), state)

    def measure(self, state: Array) -> Array:
        # The measurement cannot depend on a condition of the step's inputs: it reads the
        # other states only (a model whose measurement reads the parameter is refused).
        inner = np.concatenate(
            [state[:, : self.at], state[:, self.at: self.at + 1],
             state[:, self.at + self.table.size:]], axis=1)
        return self.inner.measure(inner)

    def step_jacobian(self, state: Array, dt: float, inputs: Array) -> Array:
        inner, weights = self._inner(state, inputs)
        J = self.inner.step_jacobian(inner, dt, inputs)
        return self._spread(J, weights, carried=True)

    def measure_jacobian(self, state: Array) -> Array:
        inner = np.concatenate(
            [state[:, : self.at], state[:, self.at: self.at + 1],
             state[:, self.at + self.table.size:]], axis=1)
        H = self.inner.measure_jacobian(inner)
        if np.any(H[:, :, self.at] != 0):
            raise ValueError("a conditional parameter must not be read by the measurement")
        return self._spread(H, None, carried=False)

    def _spread(self, J: Array, weights: Array | None, *, carried: bool) -> Array:
        """The inner Jacobian's parameter column spread over the entries by weight (zero
        for the measurement); for the step, the entries carried unchanged."""
        k, at = self.table.size, self.at
        batch, rows, cols = J.shape
        out_cols = cols + k - 1
        out_rows = rows + k - 1 if carried else rows
        out = np.zeros((batch, out_rows, out_cols))
        for r in range(rows):
            if carried and r == at:
                continue  # the parameter's own row: the entries' identity below
            target = r + k - 1 if carried and r > at else r
            out[:, target, :at] = J[:, r, :at]
            out[:, target, at + k:] = J[:, r, at + 1:]
            if weights is not None:
                out[:, target, at: at + k] = J[:, r, at: at + 1] * weights
        if carried:
            for j in range(k):
                out[:, at + j, at + j] = 1.0
        return out
