"""Declared site events: within one, a sensor is not judged against its peers for drift."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twinsync.health import HealthMonitor
from twinsync.health.events import FEW, DeclaredEvents

from .conftest import DAY, STEP, Feed, grouped, peer_signals, quantise

POUR = round(3 * DAY / STEP)  # after the checks have learned the sensors
HEAT = round(1.5 * DAY / STEP)


def _one_sensor_heats_apart() -> tuple[np.ndarray, np.ndarray]:  # type: ignore[type-arg]
    """Three peers; after the pour one of them (nearer the heat) rises 0.8 degC above the
    others for a day and a half and comes back, as a slab's sensors at another depth do."""
    values, times = peer_signals(6, seed=5, noise=0.05)
    bump = 0.8 * np.sin(np.pi * np.arange(HEAT) / HEAT)
    values[0, POUR:POUR + HEAT] += bump
    return quantise(values, 0.01), times


def _drift_entries(changes: list) -> list[int]:  # type: ignore[type-arg]
    return [k for k, change in changes if change.new == "drift"]


def test_a_peer_heating_apart_without_a_declaration_is_called_drifting(feed: Feed) -> None:
    values, times = _one_sensor_heats_apart()
    assert _drift_entries(feed(grouped(), values, times))


def test_the_same_readings_within_a_declared_pour_raise_no_drift(feed: Feed) -> None:
    values, times = _one_sensor_heats_apart()
    monitor = grouped()
    start = times[0, POUR] - STEP
    monitor.set_events([0, 1, 2], [start] * 3, [start + 3 * DAY] * 3)
    changes = feed(monitor, values, times)
    assert _drift_entries(changes) == []
    assert [c for _, c in changes if c.new != "ok"] == []


def test_a_declaration_of_other_sensors_changes_nothing(feed: Feed) -> None:
    values, times = _one_sensor_heats_apart()
    monitor = grouped()
    start = times[0, POUR] - STEP
    monitor.set_events([7], [start], [start + 3 * DAY])
    assert _drift_entries(feed(monitor, values, times))


def test_a_sensor_that_freezes_during_a_pour_is_still_stuck(feed: Feed) -> None:
    values, times = peer_signals(6, seed=3, noise=0.05)
    values = quantise(values, 0.01)
    values[0, POUR:POUR + 60] = values[0, POUR - 1]
    monitor = grouped()
    monitor.set_events([0, 1, 2], [times[0, POUR] - STEP] * 3, [times[0, POUR] + DAY] * 3)
    assert [k for k, c in feed(monitor, values, times) if c.new == "stuck" and c.row == 0]


def test_spans_are_taken_in_time_order_per_row() -> None:
    events = DeclaredEvents()
    events.set([2, 2, 5], [500.0, 100.0, 50.0], [600.0, 200.0, 60.0])
    start, end = np.full(6, np.nan), np.full(6, np.nan)
    events.apply(np.array([2, 5]), np.array([150.0, 150.0]), start, end)
    assert (start[2], end[2]) == (100.0, 200.0)
    assert np.isnan(start[5]) and np.isnan(end[5])  # its only span is over
    events.apply(np.array([2]), np.array([250.0]), start, end)
    assert (start[2], end[2]) == (500.0, 600.0)


def test_a_device_an_hour_behind_in_the_batch_does_not_move_another_row_s_span() -> None:
    # Row 2's pour ended at 200 and a load step began at 500; the batch at 3,700 also
    # holds row 5, whose clock runs an hour behind (its reading says 100).
    events = DeclaredEvents()
    events.set([2, 2, 5], [0.0, 500.0, 0.0], [200.0, 9_000.0, 9_000.0])
    start, end = np.full(6, np.nan), np.full(6, np.nan)
    events.apply(np.array([5, 2]), np.array([100.0, 3_700.0]), start, end)
    assert (start[2], end[2]) == (500.0, 9_000.0)
    assert (start[5], end[5]) == (0.0, 9_000.0)


def test_a_reading_without_a_time_leaves_the_spans_alone() -> None:
    events = DeclaredEvents()
    events.set([1], [0.0], [100.0])
    start, end = np.full(2, np.nan), np.full(2, np.nan)
    events.apply(np.array([1]), np.array([np.nan]), start, end)
    assert np.isnan(start[1]) and np.isnan(end[1])


spans = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 50), st.integers(0, 30)),
                 max_size=8)
batches = st.lists(st.tuples(st.integers(0, 9), st.integers(0, 90)), min_size=1, max_size=8)


@pytest.mark.parametrize("path", ["apply_few", "apply_many"])
@given(declared=spans, batch=batches)
def test_each_row_of_a_batch_gets_its_first_span_not_over_by_its_earliest_reading(
        path: str, declared: list[tuple[int, int, int]], batch: list[tuple[int, int]]) -> None:
    """Against the rule as written, for rows with spans, rows without, and rows past the
    last row that has one; the loop and the vectorised path alike."""
    events = DeclaredEvents()
    events.set([r for r, _, _ in declared], [float(s) for _, s, _ in declared],
               [float(s + d) for _, s, d in declared])
    start, end = np.full(10, -1.0), np.full(10, -1.0)
    rows = np.array([r for r, _ in batch], dtype=np.int64)
    getattr(events, path)(rows, np.array([float(t) for _, t in batch]), start, end)
    for row in range(10):
        times = [t for r, t in batch if r == row]
        # By start; spans starting together in the order declared.
        mine = sorted(((s, s + d) for r, s, d in declared if r == row), key=lambda x: x[0])
        if not times or not mine:
            assert start[row] == end[row] == -1.0  # untouched
            continue
        current = [span for span in mine if span[1] >= min(times)]
        expected = current[0] if current else (np.nan, np.nan)
        assert (start[row], end[row]) == pytest.approx(expected, nan_ok=True)


# Times on a coarse grid, so that readings and span ends often tie; NaN and infinities
# for readings without a usable time; spans that start together.
_moments = st.sampled_from([0.0, -0.0, 10.0, 10.5, 20.0, 35.0, 50.0, 80.0])
_times = st.one_of(_moments, st.floats(-10.0, 100.0),
                   st.sampled_from([math.nan, math.inf, -math.inf]))
_spans = st.lists(st.tuples(st.integers(0, 12), _moments, st.sampled_from([0.0, 5.0, 30.0,
                                                                           math.inf])),
                  min_size=1, max_size=12)
_batches = st.lists(st.tuples(st.integers(0, 15), _times), min_size=1, max_size=2 * FEW)


@settings(deadline=None)
@given(declared=_spans, batch=_batches)
def test_the_loop_over_a_few_readings_sets_exactly_what_the_vectorised_path_sets(
        declared: list[tuple[int, float, float]], batch: list[tuple[int, float]]) -> None:
    events = DeclaredEvents()
    events.set([r for r, _, _ in declared], [s for _, s, _ in declared],
               [s + d for _, s, d in declared])
    rows = np.array([r for r, _ in batch], dtype=np.int64)
    times = np.array([t for _, t in batch])
    before = np.arange(16.0) - 100.0  # what an untouched row must keep
    few_start, few_end, many_start, many_end = (before.copy() for _ in range(4))
    events.apply_few(rows, times, few_start, few_end)
    events.apply_many(rows, times, many_start, many_end)
    # Byte for byte: the same numbers, NaN where NaN, and the sign of a zero.
    assert few_start.tobytes() == many_start.tobytes()
    assert few_end.tobytes() == many_end.tobytes()


@pytest.mark.parametrize(("rows", "starts", "ends"), [
    ([1], [10.0], [5.0]),
    ([-1], [10.0], [20.0]),
    ([1], [np.nan], [20.0]),
    ([1, 2], [10.0], [20.0]),
])
def test_a_span_that_cannot_be_is_refused(rows: list[int], starts: list[float],
                                          ends: list[float]) -> None:
    with pytest.raises(ValueError, match=r"span|start"):
        HealthMonitor().set_events(rows, starts, ends)


def _coarse_sensor_lags_the_heat() -> tuple[np.ndarray, np.ndarray]:  # type: ignore[type-arg]
    """A slab's coarse sensor (0.5 degC steps) far from the heat holds its value for hours
    while its two peers warm by 3 degC in the first half day after the pour."""
    values, times = peer_signals(6, seed=4, noise=0.05)
    rise = np.clip(np.arange(values.shape[1] - POUR) / 48, 0.0, 1.0) * 3.0
    values[1:, POUR:] += rise
    values[0, POUR:POUR + 48] = values[0, POUR - 1]
    values[0] = np.round(values[0] / 0.5) * 0.5
    values[1:] = quantise(values[1:], 0.01)
    return values, times


def _coarse_monitor() -> HealthMonitor:
    monitor = HealthMonitor()
    monitor.configure(np.arange(3), group=np.zeros(3, np.int64),
                      resolution=np.array([0.5, 0.01, 0.01]))
    return monitor


def test_a_coarse_sensor_holding_its_value_while_its_peers_warm_is_stuck_undeclared(
        feed: Feed) -> None:
    values, times = _coarse_sensor_lags_the_heat()
    changes = feed(_coarse_monitor(), values, times)
    assert [k for k, c in changes if c.row == 0 and c.new == "stuck"]


def test_within_a_declared_pour_the_peers_warming_is_no_evidence_of_stuck(feed: Feed) -> None:
    values, times = _coarse_sensor_lags_the_heat()
    monitor = _coarse_monitor()
    start = times[0, POUR] - STEP
    monitor.set_events([0, 1, 2], [start] * 3, [start + 3 * DAY] * 3)
    changes = feed(monitor, values, times)
    assert [k for k, c in changes if c.row == 0 and c.new == "stuck"] == []


def test_an_offset_that_appears_after_a_declared_event_is_still_drift(feed: Feed) -> None:
    values, times = peer_signals(9, seed=8, noise=0.05)
    values[0, POUR + round(3 * DAY / STEP):] += 0.6
    values = quantise(values, 0.01)
    monitor = grouped()
    start = times[0, POUR] - STEP
    monitor.set_events([0, 1, 2], [start] * 3, [start + DAY] * 3)
    assert _drift_entries(feed(monitor, values, times)) != []
