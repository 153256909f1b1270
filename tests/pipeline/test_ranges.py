"""Readings outside the physical range of their sensor's kind are flagged, row by row."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from twinsync.pipeline import Batch, Flag
from twinsync.pipeline.ranges import KIND_RANGES, PhysicalRanges, bounds_in, kind_range

SENSORS = [("slab_temperature", "degC"), ("ambient_temperature", "degF"),
           ("relative_humidity", "percent"), ("co2", "ppm"), ("strain", "microstrain"),
           ("vibration", "mm/s"), ("temperature", ""), ("humidity", "g/m**3")]


def table() -> PhysicalRanges:
    ranges = PhysicalRanges(capacity=4)
    for row, (kind, unit) in enumerate(SENSORS):
        ranges.set_sensor(row, kind, unit)
    return ranges


def rows(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def test_a_temperature_below_absolute_zero_or_beyond_2000_celsius_is_outside() -> None:
    outside = table().outside(rows(0, 0, 0, 0, 0), np.array([-273.2, -273.15, 20.0, 2000.0,
                                                             2000.5]))
    assert outside.tolist() == [True, False, False, False, True]


def test_a_fahrenheit_sensor_is_judged_in_fahrenheit() -> None:
    ranges = table()
    low, high = ranges.low[1], ranges.high[1]
    assert math.isclose(low, -459.67, abs_tol=1e-6) and math.isclose(high, 3632.0, abs_tol=1e-5)
    # -300 °F is a cold but possible -184 °C; -460 °F is below absolute zero.
    outside = ranges.outside(rows(1, 1, 1, 1), np.array([-460.0, -459.67, -300.0, 3700.0]))
    assert outside.tolist() == [True, False, False, True]


def test_the_bound_itself_survives_the_conversion_to_kelvin() -> None:
    ranges = PhysicalRanges()
    ranges.set_sensor(0, "temperature", "kelvin")
    assert ranges.outside(rows(0, 0, 0), np.array([0.0, -0.001, 2273.15])).tolist() == [
        False, True, False]


def test_humidity_outside_0_to_100_percent_concentration_below_0_and_wild_strain_are_outside(
        ) -> None:
    outside = table().outside(rows(2, 2, 2, 3, 3, 4, 4),
                              np.array([-0.5, 100.0, 100.5, -1.0, 415.0, 60_000.0, -2_500.0]))
    assert outside.tolist() == [True, False, True, True, False, True, False]


def test_a_sensor_of_unknown_kind_or_without_a_unit_is_never_outside() -> None:
    ranges = table()
    extreme = np.array([-1e300, 1e300, -300.0, 5000.0])
    for row in (5, 6):  # vibration; a temperature whose unit is not known
        assert not ranges.outside(np.full(4, row, dtype=np.int64), extreme).any()
    assert (ranges.low[5], ranges.high[5]) == (-math.inf, math.inf)


def test_a_unit_that_does_not_convert_to_the_kinds_gives_no_range() -> None:
    # Absolute humidity in g/m³ is not a relative humidity in %.
    assert bounds_in("humidity", "g/m**3") is None
    assert not table().outside(rows(7), np.array([250.0])).any()


def test_a_kind_takes_the_range_of_its_longest_listed_tail() -> None:
    assert kind_range("Air Temperature") == KIND_RANGES["temperature"]
    assert kind_range("relative_humidity") == KIND_RANGES["relative_humidity"]
    assert kind_range("differential_pressure") is None  # may fall below a vacuum's -1 atm
    assert kind_range("gateway_battery") is None


def test_rows_never_set_and_rows_past_the_capacity_are_never_outside() -> None:
    ranges = PhysicalRanges(capacity=16)
    ranges.set_sensor(3, "temperature", "degC")
    outside = ranges.outside(rows(0, 3, 40), np.array([-1e6, -1e6, -1e6]))
    assert outside.tolist() == [False, True, False]
    assert len(ranges) == 4


def test_setting_a_sensor_again_replaces_its_range() -> None:
    ranges = PhysicalRanges()
    ranges.set_sensor(0, "temperature", "degC")
    ranges.set_sensor(0, "vibration", "mm/s")
    assert not ranges.outside(rows(0), np.array([-1000.0])).any()


def test_mark_sets_the_flag_on_the_raw_value_and_keeps_the_other_flags() -> None:
    ranges = table()
    n = 3
    # The calibrated value would be in range; the sensor's own reading is not.
    batch = Batch(rows(2, 2, 0), np.array([50.0, 99.0, 20.0]), np.array([50.0, 140.0, 20.0]),
                  np.zeros(n), np.zeros(n), np.full(n, -1, dtype=np.int64),
                  flags=np.array([Flag.LATE, 0, Flag.STALE], dtype=np.int64))
    mask = ranges.mark(batch)
    assert mask.tolist() == [False, True, False]
    assert batch.flags is not None
    assert batch.flags.tolist() == [Flag.LATE, Flag.OUT_OF_RANGE, Flag.STALE]
    clean = Batch(rows(0), np.array([20.0]), np.array([20.0]), np.zeros(1), np.zeros(1),
                  np.full(1, -1, dtype=np.int64))
    assert not ranges.mark(clean).any() and clean.flags is None


def test_out_of_range_is_a_bit_of_its_own() -> None:
    others = [value for name, value in vars(Flag).items()
              if name.isupper() and name != "OUT_OF_RANGE"]
    assert bin(Flag.OUT_OF_RANGE).count("1") == 1
    assert all(Flag.OUT_OF_RANGE & other == 0 for other in others)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(SENSORS) + 2),
                          st.floats(allow_nan=False, width=64, min_value=-1e5, max_value=1e5)),
                max_size=50))
def test_the_vectorised_mask_agrees_with_each_readings_own_bounds(
        readings: list[tuple[int, float]]) -> None:
    ranges = table()
    row_column = np.array([r for r, _ in readings], dtype=np.int64)
    value_column = np.array([v for _, v in readings], dtype=np.float64)
    expected = []
    for row, value in readings:
        bounds = bounds_in(*SENSORS[row]) if row < len(SENSORS) else None
        expected.append(bounds is not None and not bounds[0] <= value <= bounds[1])
    assert ranges.outside(row_column, value_column).tolist() == expected
