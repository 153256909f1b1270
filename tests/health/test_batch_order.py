"""The fold's order and repeat marks equal what sorting the batch by row gave."""

from __future__ import annotations

import numpy as np
import pytest

from twinsync.health.batch_order import has_later, in_time_order


@pytest.mark.parametrize("distinct_times", [5, 10_000])
@pytest.mark.parametrize("sensors", [3, 100_000])
def test_time_order_is_lexsort_by_time_then_row(distinct_times: int, sensors: int) -> None:
    rng = np.random.default_rng(sensors + distinct_times)
    rows = rng.integers(0, sensors, 2_000)
    times = rng.integers(0, distinct_times, 2_000).astype(np.float64)
    chosen = np.flatnonzero(rng.random(2_000) < 0.9)
    expected = chosen[np.lexsort((rows[chosen], times[chosen]))]
    assert in_time_order(chosen, rows, times).tolist() == expected.tolist()


def test_time_order_of_nothing_is_empty() -> None:
    empty = np.empty(0, dtype=np.int64)
    assert in_time_order(empty, empty, np.empty(0)).size == 0


@pytest.mark.parametrize("sensors", [1, 7, 100_000, 2**40])
def test_has_later_marks_every_reading_but_the_last_of_its_row(sensors: int) -> None:
    rows = np.random.default_rng(sensors).integers(0, sensors, 5_000)
    last = {row: k for k, row in enumerate(rows.tolist())}
    expected = [last[row] != k for k, row in enumerate(rows.tolist())]
    assert has_later(rows).tolist() == expected


def test_has_later_of_nothing_is_empty() -> None:
    assert has_later(np.empty(0, dtype=np.int64)).size == 0


def test_time_order_of_one_reading_is_that_reading() -> None:
    rows, times = np.array([4, 9]), np.array([2.0, 1.0])
    assert in_time_order(np.array([1]), rows, times).tolist() == [1]
