"""The sensor table folds batches into per-sensor state touching only the rows in them."""

from __future__ import annotations

import numpy as np

from twinsync.pipeline import Batch, SensorTable


def batch(rows: list[int], values: list[float], times: list[float]) -> Batch:
    n = len(rows)
    return Batch(np.array(rows, dtype=np.int64), np.array(values), np.array(values),
                 np.array(times), np.array(times) + 0.1, np.full(n, -1, dtype=np.int64))


def test_running_statistics_match_numpy_over_many_batches() -> None:
    table = SensorTable()
    for name in ("a", "b"):
        table.row(name)
    rng = np.random.default_rng(3)
    seen: dict[int, list[float]] = {0: [], 1: []}
    for step in range(20):
        rows = rng.integers(0, 2, 50).tolist()
        values = rng.normal(10, 3, 50).tolist()
        table.update(batch(rows, values, [step * 100 + i for i in range(50)]))
        for row, value in zip(rows, values, strict=True):
            seen[row].append(value)
    for row, values in seen.items():
        assert table.count[row] == len(values)
        assert np.isclose(table.mean[row], np.mean(values))
        assert np.isclose(table.std(row), np.std(values, ddof=1))
        assert table.min[row] == min(values) and table.max[row] == max(values)


def test_the_live_value_is_the_newest_by_event_time_not_by_arrival() -> None:
    table = SensorTable()
    table.row("a")
    latest = table.update(batch([0, 0, 0], [1.0, 3.0, 2.0], [10.0, 30.0, 20.0]))
    assert table.last_value[0] == 3.0 and table.last_event_time[0] == 30.0
    assert latest.advanced.tolist() == [True]


def test_a_late_reading_does_not_move_the_live_value_backwards() -> None:
    table = SensorTable()
    table.row("a")
    table.update(batch([0], [5.0], [100.0]))
    latest = table.update(batch([0], [4.0], [50.0]))
    assert table.last_value[0] == 5.0
    assert latest.advanced.tolist() == [False]
    assert table.count[0] == 2  # still part of the statistics and history


def test_the_live_value_keeps_its_own_readings_anomaly_score_and_nan_when_unscored() -> None:
    table = SensorTable()
    for name in ("a", "b"):
        table.row(name)
    scored = batch([0, 0, 1], [1.0, 9.0, 2.0], [10.0, 20.0, 10.0])
    scored.anomaly = np.array([0.0, 0.8, np.nan])  # b's reading was not scored
    table.update(scored)
    assert table.last_anomaly[0] == 0.8  # the score of the reading that is the live value
    assert np.isnan(table.last_anomaly[1])
    table.update(batch([0], [1.5], [30.0]))  # detection off: no scores at all
    assert np.isnan(table.last_anomaly[0])
    late = batch([1], [3.0], [5.0])
    late.anomaly = np.array([0.9])
    table.update(late)  # behind the live value: neither it nor its score is live
    assert np.isnan(table.last_anomaly[1])


def test_the_table_grows_past_its_capacity() -> None:
    table = SensorTable(capacity=16)
    rows = [table.row(f"s{i}") for i in range(1000)]
    assert rows == list(range(1000))
    table.update(batch([999], [1.0], [1.0]))
    assert table.last_value[999] == 1.0 and np.isnan(table.last_value[998])


def test_transform_maps_each_reading_with_its_own_rows_scale_and_shift() -> None:
    table = SensorTable()
    for row, name in enumerate(("a", "b", "c")):
        table.row(name)
        table.set_transform(row, "degC", 1.0 + row, 10.0 * row)
    rows = np.array([2, 0, 1, 2, 2, 0] * 5, dtype=np.int64)
    raw = np.arange(len(rows), dtype=np.float64)
    expected = raw * np.array([1.0, 2.0, 3.0])[rows] + np.array([0.0, 10.0, 20.0])[rows]
    assert table.transform(rows, raw).tolist() == expected.tolist()
