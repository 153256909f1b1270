"""The batch id index answers exactly what a dict would, for any text."""

from __future__ import annotations

import random

import pytest

from twinsync.pipeline.ids import IdIndex


def rows_of(index: IdIndex, ids: list[str]) -> list[int]:
    rows = index.rows_of(ids)
    assert rows is not None
    return list(rows.tolist())


def test_rows_of_finds_every_registered_id_and_marks_unknown_ones() -> None:
    index = IdIndex(capacity=4)  # small, so that it grows and rehashes many times
    ids = [f"site/a/sensor-{i}" for i in range(20_000)]
    for row, sensor_id in enumerate(ids):
        index.add(sensor_id, row)
    asked = [*random.Random(1).choices(ids, k=5_000), "site/a/sensor-20000", "", "x"]
    expected = {sensor_id: row for row, sensor_id in enumerate(ids)}
    assert rows_of(index, asked) == [expected.get(i, -1) for i in asked]


@pytest.mark.parametrize("odd_id", ["", "ü-温度", "tab\there"])
def test_unusual_ids_are_found_and_do_not_shift_their_neighbours(odd_id: str) -> None:
    index = IdIndex()
    for row, sensor_id in enumerate(["a", odd_id, "b"]):
        index.add(sensor_id, row)
    assert rows_of(index, ["b", odd_id, "a", "c"]) == [2, 1, 0, -1]


@pytest.mark.parametrize("odd_id", ["with\x00nul", "\x00"])
def test_a_batch_naming_an_id_with_the_separator_is_left_to_the_caller(odd_id: str) -> None:
    index = IdIndex()
    index.add("a", 0)
    index.add(odd_id, 1)
    assert index.rows_of(["a", odd_id]) is None
    assert rows_of(index, ["a"]) == [0]


def test_an_id_that_differs_only_after_a_shared_prefix_is_not_confused() -> None:
    index = IdIndex()
    index.add("temperature-1", 0)
    assert rows_of(index, ["temperature-10", "temperature-", "temperature-1"]) \
        == [-1, -1, 0]


def test_ids_that_are_not_text_are_refused_with_type_error() -> None:
    index = IdIndex()
    index.add("a", 0)
    with pytest.raises(TypeError):
        index.rows_of(["a", 7])  # type: ignore[list-item]


def test_long_ids_that_differ_only_past_the_inline_bytes_are_told_apart() -> None:
    index = IdIndex()
    prefix = "building-7/level-03/zone-north/room-0314/"  # longer than a slot holds
    ids = [f"{prefix}{kind}-{n}" for kind in ("temperature", "humidity") for n in range(300)]
    for row, sensor_id in enumerate(ids):
        index.add(sensor_id, row)
    assert rows_of(index, [*reversed(ids), f"{prefix}temperature-300"]) \
        == [*reversed(range(len(ids))), -1]
