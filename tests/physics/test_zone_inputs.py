"""An input's history keeps its newest readings by event time, late ones in their place,
and no more than its bound: a time before the oldest kept has no known input. Which of a
zone's readings may step: those with inputs known, those that waited their bound, those
past the bound of waiting readings, always each zone's first."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from twinsync.physics.zone_inputs import InputHistory, ready_to_step


def test_an_input_is_taken_as_last_read_before_the_time_asked_late_readings_in_their_place(
        ) -> None:
    history = InputHistory(capacity=8)
    history.grow(2)
    history.insert(np.array([0, 0, 1]), np.array([0.0, 1800.0, 0.0]),
                   np.array([5.0, 7.0, 2.0]))
    # The reading of 900 s arrives after that of 1800 s: it still holds from 900 s.
    history.insert(np.array([0]), np.array([900.0]), np.array([6.0]))
    asked = np.array([0.0, 900.0, 901.0, 1800.0, 1801.0, 99999.0])
    assert np.array_equal(history.as_of(np.zeros(6, dtype=np.int64), asked),
                          [np.nan, 5.0, 6.0, 6.0, 7.0, 7.0], equal_nan=True)
    assert history.latest(np.array([0, 1])).tolist() == [1800.0, 0.0]


def test_a_full_history_drops_its_oldest_and_knows_no_input_before_what_it_kept() -> None:
    history = InputHistory(capacity=4)
    history.grow(1)
    times = np.arange(6) * 900.0
    history.insert(np.zeros(6, dtype=np.int64), times, times / 100)
    assert history.columns["time"][0].tolist() == times[2:].tolist()
    # Before the oldest kept (1800 s) the reading that held was dropped: not known, not
    # taken from after.
    assert np.isnan(history.as_of(np.array([0]), np.array([1800.0]))[0])
    assert history.as_of(np.array([0]), np.array([1801.0]))[0] == 18.0
    # A late reading older than everything kept does not push a newer one out.
    history.insert(np.array([0]), np.array([100.0]), np.array([1.0]))
    assert history.columns["time"][0].tolist() == times[2:].tolist()


def test_a_history_put_into_a_narrower_one_keeps_its_newest_readings() -> None:
    wide, narrow = InputHistory(capacity=6), InputHistory(capacity=3)
    wide.grow(1)
    narrow.grow(1)
    wide.insert(np.zeros(5, dtype=np.int64), np.arange(5.0), np.arange(5.0))
    narrow.put(np.array([0]), wide.take(np.array([0])))
    assert narrow.columns["value"][0].tolist() == [2.0, 3.0, 4.0]


def test_a_zone_steps_its_first_readings_only_those_known_waited_or_past_the_bound() -> None:
    zones = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 2])
    known = np.array([True, False, False, False, False, False, False, False, False, False])
    overdue = np.array([False, False, False, False, True, False, False, False, False, False])
    ready = ready_to_step(zones, known, overdue, capacity=3)
    # Zone 0: inputs known for its first; zone 1: its second waited its bound, so its first
    # goes too; zone 2: four wait where three may, the oldest goes.
    assert ready.tolist() == [True, False, False, True, True, False,
                              True, False, False, False]


def test_a_full_row_is_cut_by_its_slack_and_always_keeps_its_newest_readings_in_order(
        ) -> None:
    history = InputHistory(capacity=16)
    history.grow(2)
    rng = np.random.default_rng(4)
    sent: list[float] = []
    for batch in range(30):
        times = batch * 3600.0 + np.sort(rng.uniform(0, 3600, 3))
        if batch % 7 == 6:
            times[0] -= 5 * 3600.0  # a late reading among the kept
        sent += times.tolist()
        history.insert(np.zeros(3, dtype=np.int64), times, times)
        kept = history.columns["time"][0][np.isfinite(history.columns["time"][0])]
        assert kept.size == history.count[0] <= 16
        assert kept.size >= min(len(sent), 16 - history.slack)
        assert kept.tolist() == sorted(sent)[-kept.size:]
        assert history.columns["value"][0][:kept.size].tolist() == kept.tolist()
    assert history.count[1] == 0


@settings(max_examples=200, deadline=None)
@given(readings=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 40)), max_size=60),
       asked=st.lists(st.tuples(st.integers(0, 2), st.integers(-2, 42)), min_size=1,
                      max_size=30),
       capacity=st.integers(1, 12))
def test_an_input_as_of_a_time_is_the_newest_kept_reading_before_it(
        readings: list[tuple[int, int]], asked: list[tuple[int, int]], capacity: int) -> None:
    """By definition, against every kept reading: the value of the latest kept reading
    strictly before the time, NaN where none is kept before it (ties between readings of
    one time keep their order of arrival)."""
    history = InputHistory(capacity=capacity)
    history.grow(3)
    for k, (slot, time) in enumerate(readings):  # one by one, as batches may come
        history.insert(np.array([slot]), np.array([float(time)]), np.array([float(k)]))
    slots = np.array([slot for slot, _ in asked], dtype=np.int64)
    times = np.array([float(time) for _, time in asked])
    expected = []
    for slot, time in zip(slots, times, strict=True):
        kept = history.columns["time"][slot][: history.count[slot]]
        before = np.flatnonzero(kept < time)
        expected.append(history.columns["value"][slot][before[-1]] if before.size else np.nan)
    assert np.array_equal(history.as_of(slots, times), np.array(expected), equal_nan=True)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**31), st.integers(0, 40), st.integers(1, 60))
def test_a_rollback_puts_back_every_row_an_insert_changed_and_copies_only_those_it_may_rewrite(
        seed: int, kept: int, new: int) -> None:
    """Rows only appended to are put back by their count; rows an insert merges into (a
    late reading, or no room left) whole; readings placed later than their savepoint's
    time (a clock behind, moved on) are undone too."""
    rng = np.random.default_rng(seed)
    history = InputHistory(capacity=48)
    history.grow(5)
    for slot in range(5):
        times = np.sort(rng.uniform(0.0, 1000.0, kept))
        history.insert(np.full(kept, slot), times, rng.normal(size=kept))
    before = {name: column.copy() for name, column in history.columns.items()}
    counts = history.count.copy()
    slots = rng.integers(0, 5, new)
    # late readings now and then, else after what is kept
    times = np.where(rng.random(new) < 0.2, rng.uniform(0.0, 1000.0, new),
                     rng.uniform(1000.0, 2000.0, new))
    point = history.savepoint(slots, times)
    history.insert(slots, times + rng.choice([0.0, 30.0], new), rng.normal(size=new))
    history.rollback(point)
    for name, column in before.items():
        assert np.array_equal(history.columns[name], column, equal_nan=True), name
    assert np.array_equal(history.count, counts)
    # Only rows a late reading or a full row touches were copied whole.
    assert set(point.slots.tolist()) <= set(slots[(times < 1000.0)].tolist()) | {
        int(s) for s in np.unique(slots) if counts[s] + np.sum(slots == s) > 48}
