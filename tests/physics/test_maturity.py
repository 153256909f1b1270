"""Concrete maturity (ASTM C1074) against figures worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from twinsync.physics.maturity import (
    GAS_CONSTANT,
    HyperbolicCurve,
    LogarithmicCurve,
    age_factor,
    equivalent_age,
    fit_logarithmic,
    long_gaps,
    t_quantile,
    temperature_time_factor,
)


def test_the_temperature_time_factor_sums_interval_means_above_the_datum() -> None:
    # intervals of 1 h at mean 21, 20, 1.5 and -15 °C over a datum of -10 °C:
    # 31 + 30 + 11.5 + 0 (colder than the datum adds nothing, never less)
    factor = temperature_time_factor([0, 1, 2, 3, 4], [20, 22, 18, -15, -15], datum_c=-10)
    assert factor.tolist() == [0.0, 31.0, 61.0, 72.5, 72.5]


def test_the_standards_worked_example_of_a_day_at_ten_degrees() -> None:
    """ASTM C1074-19, Eq. 1 (Nurse-Saul) and Eq. 2 (equivalent age), worked by hand for
    concrete held at 10 °C for 24 h, datum 0 °C, reference 20 °C, Q = E/R = 5000 K (a
    typical value for Type I cement without admixtures):

    M = (10 - 0) x 24 = 240 °C·h
    factor = exp(-5000 x (1/283.15 - 1/293.15)) = exp(-5000 x 0.00012048) = exp(-0.60239)
           = 0.5475, so t_e = 0.5475 x 24 = 13.14 h at 20 °C.
    """
    hours = np.arange(0.0, 24.5, 0.5)
    temps = np.full(hours.shape, 10.0)
    assert temperature_time_factor(hours, temps, datum_c=0.0)[-1] == pytest.approx(240.0)
    energy = 5000.0 * GAS_CONSTANT
    assert age_factor(10.0, activation_energy=energy) == pytest.approx(0.5475, abs=1e-4)
    age = equivalent_age(hours, temps, activation_energy=energy, reference_c=20.0)
    assert age[-1] == pytest.approx(13.14, abs=0.01)


def test_at_the_reference_temperature_the_equivalent_age_is_the_age() -> None:
    hours = np.array([0.0, 6.0, 30.0])
    assert equivalent_age(hours, [20.0, 20.0, 20.0]).tolist() == [0.0, 6.0, 30.0]
    # warmer concrete ages faster, colder slower
    assert equivalent_age(hours, [35.0] * 3)[-1] > 30.0 > equivalent_age(hours, [5.0] * 3)[-1]


def test_a_long_gap_adds_nothing_unless_bridged() -> None:
    hours, temps = [0.0, 1.0, 5.0, 6.0], [20.0, 20.0, 20.0, 20.0]
    assert long_gaps(hours, 2.0).tolist() == [False, True, False]
    lower = temperature_time_factor(hours, temps, datum_c=0.0, max_gap_hours=2.0)
    bridged = temperature_time_factor(hours, temps, datum_c=0.0)
    assert lower.tolist() == [0.0, 20.0, 20.0, 40.0]
    assert bridged.tolist() == [0.0, 20.0, 100.0, 120.0]
    age = equivalent_age(hours, temps, max_gap_hours=2.0)
    assert age.tolist() == [0.0, 1.0, 1.0, 2.0]


def test_the_logarithmic_curve_and_its_inverse() -> None:
    curve = LogarithmicCurve(a=-20.0, b=12.0)
    # -20 + 12 log10(1000) = 16; below 10**(20/12) = 46.4 °C·h the curve gives 0
    assert curve.strength([0.0, 10.0, 1000.0, 10_000.0]).tolist() == [0.0, 0.0, 16.0, 28.0]
    assert curve.maturity_for(16.0) == pytest.approx(1000.0)
    assert LogarithmicCurve(a=5.0, b=0.0).maturity_for(10.0) == math.inf


def test_the_hyperbolic_curve_and_its_inverse() -> None:
    curve = HyperbolicCurve(ultimate=40.0, rate=0.05, offset=5.0)
    # k (t - t0) = 0.05 x 20 = 1 → 40 x 1 / 2 = 20; before t0 nothing
    assert curve.strength([0.0, 5.0, 25.0]).tolist() == [0.0, 0.0, 20.0]
    assert curve.maturity_for(20.0) == pytest.approx(25.0)
    assert curve.maturity_for(40.0) == math.inf  # the ultimate is never reached


def test_a_logarithmic_fit_recovers_the_breaks_line() -> None:
    maturity = np.array([500.0, 1000.0, 3000.0, 7000.0])
    curve = fit_logarithmic(maturity, -20.0 + 12.0 * np.log10(maturity))
    assert (curve.a, curve.b) == (pytest.approx(-20.0), pytest.approx(12.0))
    with pytest.raises(ValueError, match="two breaks"):
        fit_logarithmic([500.0], [3.0])


def test_bad_columns_are_refused() -> None:
    with pytest.raises(ValueError, match="time order"):
        temperature_time_factor([0.0, 2.0, 1.0], [10.0, 10.0, 10.0])
    with pytest.raises(ValueError, match="same length"):
        equivalent_age([0.0, 1.0], [10.0])
    with pytest.raises(ValueError, match="finite"):
        temperature_time_factor([0.0, 1.0], [10.0, math.nan])


@pytest.mark.parametrize(("probability", "dof", "table"), [
    (0.95, 1, 6.314), (0.95, 2, 2.920), (0.95, 3, 2.353), (0.95, 5, 2.015),
    (0.95, 13, 1.771), (0.95, 30, 1.697), (0.975, 5, 2.571), (0.975, 10, 2.228)])
def test_students_t_quantile_matches_the_tables(probability: float, dof: int,
                                                table: float) -> None:
    assert t_quantile(probability, dof) == pytest.approx(table, abs=1e-3)


def test_a_curve_fitted_from_breaks_gives_the_strength_a_prediction_interval() -> None:
    """Breaks at log10 M = 2, 3, 4 of 4, 17 and 26 MPa, by hand: b = 22 / 2 = 11,
    a = 15.667 - 33 = -17.333; residuals -0.667, 1.333, -0.667, s = sqrt(2.667 / 1) =
    1.633 on 1 degree of freedom (t = 6.314); at M = 1000 (the breaks' mean) the half
    width is 6.314 x 1.633 x sqrt(1 + 1/3) = 11.906."""
    curve = fit_logarithmic([100.0, 1000.0, 10_000.0], [4.0, 17.0, 26.0])
    assert (curve.a, curve.b) == (pytest.approx(-17.3333, abs=1e-4), pytest.approx(11.0))
    interval = curve.interval([1000.0])
    assert interval is not None
    low, high = interval
    assert low[0] == pytest.approx(15.6667 - 11.906, abs=2e-3)
    assert high[0] == pytest.approx(15.6667 + 11.906, abs=2e-3)
    # further from the breaks, wider
    wide = curve.interval([100_000.0])
    assert wide is not None and wide[1][0] - wide[0][0] > high[0] - low[0]


def test_a_targets_maturity_range_is_where_the_intervals_edges_reach_it() -> None:
    curve = fit_logarithmic([24.0, 72.0, 168.0, 336.0, 672.0],
                            [8.0, 15.5, 19.0, 23.5, 26.0])
    span = curve.maturity_interval(20.0)
    assert span is not None
    earliest, latest = span
    assert earliest < curve.maturity_for(20.0) < latest
    at_earliest, at_latest = curve.interval([earliest]), curve.interval([latest])
    assert at_earliest is not None and at_latest is not None
    assert at_earliest[1][0] == pytest.approx(20.0, abs=1e-3)  # the high edge reaches it
    assert at_latest[0][0] == pytest.approx(20.0, abs=1e-3)  # the low edge reaches it


def test_a_curve_given_by_its_parameters_or_two_breaks_has_no_interval() -> None:
    assert LogarithmicCurve(-20.0, 12.0).interval([1000.0]) is None
    assert fit_logarithmic([100.0, 1000.0], [4.0, 17.0]).maturity_interval(10.0) is None
