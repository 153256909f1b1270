"""Per-row state stored as records keeps values through growth and shares memory per row."""

from __future__ import annotations

import numpy as np

from twinsync.records import Records


def test_growing_keeps_written_rows_and_fills_new_ones() -> None:
    records = Records({"count": (np.int64, 0), "value": (np.float64, np.nan),
                       "ring": (np.float64, -1.0, (3,))}, capacity=2)
    records.columns["count"][1] = 7
    records.columns["ring"][1, 2] = 5.0
    assert records.grow(10)
    assert len(records) >= 10
    assert records.columns["count"][1] == 7 and records.columns["ring"][1, 2] == 5.0
    assert np.isnan(records.columns["value"][9])
    assert records.columns["ring"][9].tolist() == [-1.0] * 3
    assert not records.grow(5)


def test_a_rows_fields_are_adjacent_in_memory() -> None:
    records = Records({"a": (np.float64, 0.0), "b": (np.int64, 0)}, capacity=4)
    a, b = records.columns["a"], records.columns["b"]
    assert a.strides == (records.row_bytes,) == (64,)
    assert b.ctypes.data - a.ctypes.data == 8


def test_records_start_on_cache_lines_and_fill_whole_ones() -> None:
    records = Records({"a": (np.float64, 0.0), "b": (np.int8, 0, (70,))}, capacity=3)
    assert records.row_bytes % 64 == 0
    assert records.array.ctypes.data % 64 == 0
    records.grow(1000)
    assert records.array.ctypes.data % 64 == 0


def test_an_owner_sees_the_columns_as_attributes_after_growth_too() -> None:
    class Table:
        value: np.ndarray

    table = Table()
    records = Records({"value": (np.float64, 0.0)}, capacity=2, owner=table)
    table.value[1] = 4.0
    records.grow(100)
    assert table.value is records.columns["value"]
    assert len(table.value) >= 100 and table.value[1] == 4.0


def test_a_rollback_puts_saved_rows_back_even_given_twice_and_after_growth() -> None:
    records = Records({"count": (np.int64, 0), "ring": (np.float64, -1.0, (3,))},
                      capacity=4)
    records.columns["count"][:4] = [1, 2, 3, 4]
    before = {name: column[:4].copy() for name, column in records.columns.items()}
    point = records.savepoint(np.array([2, 0, 2, 6]))  # 6 is past the end: added later
    records.columns["count"][[0, 2]] = 99
    records.columns["ring"][2] = 7.0
    records.grow(8)
    records.columns["count"][6] = 5  # a row the failed transaction added
    records.rollback(point)
    for name, column in records.columns.items():
        assert np.array_equal(column[:4], before[name])
    assert records.columns["count"][6] == 0 and records.columns["ring"][6].tolist() == [-1.0] * 3
