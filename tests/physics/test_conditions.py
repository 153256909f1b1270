"""Parameters that depend on conditions: a table over bins of a condition, interpolated
between them, wrapped round any model with the parameter in its state, and learned online
by the filters: zones whose heat loss depends on the outdoor temperature are recovered
within 2 % per bin, and predict a day ahead far better than one resistance can."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from twinsync.bench.conditional import conditional_calibration
from twinsync.physics.conditions import Conditional, ConditionTable
from twinsync.physics.contract import StateModel
from twinsync.physics.thermal import ThermalZone

from .derivative import assert_jacobian_is_the_derivative

CENTRES = [-5.0, 5.0, 15.0]


@given(st.lists(st.floats(-40.0, 40.0), min_size=1, max_size=20))
def test_the_weights_are_hats_that_sum_to_one(conditions: list[float]) -> None:
    weights = ConditionTable(CENTRES).weights(np.array(conditions))
    assert np.all(weights >= 0.0)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    assert np.all(np.count_nonzero(weights, axis=1) <= 2)  # two neighbours at most


def test_the_table_is_exact_at_its_centres_linear_between_and_flat_beyond() -> None:
    table = ConditionTable(CENTRES)
    values = np.array([[3.0, 2.0, 1.0]] * 5)
    at = table.value(values, np.array([-5.0, 5.0, 10.0, -20.0, 30.0]))
    assert at.tolist() == [3.0, 2.0, 1.5, 3.0, 1.0]
    assert table.value(values[:1], np.array([np.nan])).tolist() == [2.0]  # unknown: mean


@pytest.mark.parametrize("centres", [[], [1.0, 1.0], [2.0, 1.0], [0.0, np.inf]])
def test_a_table_that_cannot_be_is_refused(centres: list[float]) -> None:
    with pytest.raises(ValueError, match="centres"):
        ConditionTable(centres)


def test_a_conditional_zone_follows_the_contract_and_names_its_bins() -> None:
    zone = Conditional(ThermalZone(), "log_resistance", ConditionTable(CENTRES), 0)
    assert isinstance(zone, StateModel)
    assert zone.state_names == ("temperature", "log_resistance[-5]", "log_resistance[5]",
                                "log_resistance[15]", "log_capacitance")
    assert zone.parameter_names == zone.state_names[1:]
    with pytest.raises(ValueError, match="parameter"):
        Conditional(ThermalZone(), "temperature", ConditionTable(CENTRES), 0)


def test_its_step_uses_the_resistance_of_the_steps_outdoor_temperature() -> None:
    zone = ThermalZone()
    conditional = Conditional(zone, "log_resistance", ConditionTable(CENTRES), 0)
    state = np.array([[18.0, np.log(6.0), np.log(4.0), np.log(2.0), np.log(12.0)]] * 2)
    inputs = np.array([[0.0, 2.0], [15.0, 2.0]])  # halfway between -5 and 5; the warm end
    moved = conditional.step(state, 0.5, inputs)
    r_at_zero = np.exp((np.log(6.0) + np.log(4.0)) / 2)
    plain = zone.step(zone.state(np.full(2, 18.0), np.array([r_at_zero, 2.0]),
                                 np.full(2, 12.0)), 0.5, inputs)
    np.testing.assert_allclose(moved[:, 0], plain[:, 0])
    np.testing.assert_array_equal(moved[:, 1:], state[:, 1:])  # the table is carried


def test_its_jacobian_is_the_derivative_of_its_step() -> None:
    conditional = Conditional(ThermalZone(), "log_resistance", ConditionTable(CENTRES), 0)
    state = np.array([[18.0, 1.8, 1.4, 0.7, 2.5], [5.0, 2.0, 1.0, 0.9, 3.2]])
    inputs = np.array([[-1.0, 2.5], [12.0, -1.0]])
    assert_jacobian_is_the_derivative(conditional, state, 0.7, inputs)
    H = conditional.measure_jacobian(state)
    assert H.shape == (2, 1, 5) and H[:, 0, 0].tolist() == [1.0, 1.0]


def test_resistance_by_outdoor_temperature_is_learned_within_two_percent_and_predicts() -> None:
    """Twenty zones, a month at 15 minutes, both filters from R 5 and C 15 everywhere."""
    figures = conditional_calibration(20, 30, seed=3)
    for name in ("ukf", "ekf"):
        table, one = figures[f"{name}_table"], figures[f"{name}_one_r"]
        assert max(table["r_error_pct_median"]) < 2.0
        assert table["c_error_pct_median"] < 2.0
        # one resistance for every condition: it cannot predict the day ahead as well
        assert table["day_ahead_rms_k"] < 0.5 * one["day_ahead_rms_k"]
