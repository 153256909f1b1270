"""Each device's clock offset is learned, its readings are put on the server's clock, and a
time that cannot be believed is quarantined: kept, but never live and never learned from."""

from __future__ import annotations

import random
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twinsync.errors import InvalidInput
from twinsync.model import Sensor, Twin
from twinsync.pipeline import Accepted, ClockTable, Flag, IncomingBatch, Pipeline, RawReading
from twinsync.pipeline.clocks import SMALL_MEDIAN, median
from twinsync.store.sqlite import SQLiteStore

START = 1_790_000_000.0
HOUR = 3600.0
DAY = 86_400.0
YEAR_2500 = 16_725_225_600.0


def twin_with(*sensor_ids: str) -> Twin:
    twin = Twin()
    for sensor_id in sensor_ids:
        twin.add_sensor(Sensor(sensor_id, "temperature", "degC"))
    return twin


def commit(pipeline: Pipeline, readings: list[RawReading], source: str, at: float
           ) -> Accepted:
    """Accept a batch as the service does once its commit succeeded."""
    accepted = pipeline.accept(IncomingBatch(readings, source, at))
    pipeline.settle(accepted, at)
    pipeline.apply(accepted.batch)
    return accepted


def observe(clocks: ClockTable, source: str, times: list[float] | np.ndarray, at: float,
            row: int = 0) -> np.ndarray:
    """One device's batch through the clock table; its corrected times."""
    times = np.asarray(times, dtype=np.float64)
    return clocks.observe(source, np.full(len(times), row), times, at).event_time


# -- learning offsets ------------------------------------------------------------------------


def test_a_clock_90_s_ahead_drifting_1_s_per_hour_is_estimated_within_1_s() -> None:
    rng = random.Random(4)
    pipeline = Pipeline(twin_with("fast-t"))
    worst = 0.0
    for minute in range(12 * 60):  # twelve hours, a reading a minute
        true_time = START + minute * 60.0
        offset = 90.0 + minute / 60.0  # +1 s per hour
        received = true_time + rng.expovariate(1 / 0.4)  # network and broker latency
        accepted = pipeline.accept(IncomingBatch(
            [RawReading("fast-t", 20.0, true_time + offset)], "gw-fast", received))
        assert accepted.quarantined == 0
        if minute > 10:
            worst = max(worst, abs(pipeline.clocks.offset("gw-fast", received) - offset))
    assert worst < 1.0


def test_readings_of_a_fast_clock_are_ordered_correctly_among_others() -> None:
    rng = random.Random(5)
    pipeline = Pipeline(twin_with("fast-t", "good-t"))
    corrected: list[tuple[float, float]] = []  # (true time, corrected event time)
    for step in range(600):
        true_time = START + step * 5.0
        source, sensor, offset = (("gw-fast", "fast-t", 90.0 + step * 5.0 / 3600.0)
                                  if step % 2 else ("gw-good", "good-t", 0.0))
        received = true_time + rng.uniform(0.01, 1.5)
        accepted = pipeline.accept(IncomingBatch(
            [RawReading(sensor, 1.0, true_time + offset)], source, received))
        corrected.append((true_time, float(accepted.batch.event_time[0])))
    later = corrected[20:]  # after the first few samples the estimate has settled
    true_order = [t for t, _ in later]
    by_event_time = [t for t, _ in sorted(later, key=lambda pair: pair[1])]
    assert by_event_time == true_order


def test_a_source_with_a_correct_clock_is_left_alone() -> None:
    clocks = ClockTable()
    for k in range(50):
        observe(clocks, "gw", [START + k - 0.2], at=START + k)
    assert clocks.correction("gw") == 0.0
    assert clocks.correction("gw", row=0) == 0.0


def test_readings_back_filled_from_a_logger_do_not_look_like_a_slow_clock() -> None:
    clocks = ClockTable()
    observe(clocks, "logger", np.arange(START - DAY, START, 600.0), at=START)
    assert clocks.offset("logger") == 0.0


def test_a_back_filled_buffer_does_not_reset_a_known_fast_clock() -> None:
    clocks = ClockTable()
    for k in range(5):
        observe(clocks, "gw", [START + k * 60 + 90.0], at=START + k * 60 + 0.1)
    assert clocks.offset("gw", row=0) == pytest.approx(89.9)
    # An hour's buffer, its newest reading 20 minutes old: says nothing of the clock.
    observe(clocks, "gw", np.arange(START - HOUR, START - 1200, 60.0) + 90.0, at=START + 400)
    assert clocks.offset("gw", row=0) == pytest.approx(89.9)


def test_one_wild_timestamp_does_not_move_the_estimate_but_a_real_jump_does() -> None:
    clocks = ClockTable()
    observe(clocks, "gw", [START - 0.1], at=START)
    wild = clocks.observe("gw", np.array([0]), np.array([START + 10 * DAY]), START + 1)
    assert wild.refused.tolist() == [True]
    assert clocks.offset("gw", row=0) == 0.0
    for k in range(3):  # the device really was set most of a day ahead
        placed = clocks.observe("gw", np.array([0]), np.array([START + 80_000 + 10 + k]),
                                START + 10.2 + k)
        # Quarantined until three batches agree; the third is believed.
        assert placed.quarantined.tolist() == [k < 2]
    assert clocks.offset("gw", row=0) == pytest.approx(80_000, abs=1)
    assert clocks.sources["gw"].jumps == 1


def test_the_four_timestamp_exchange_gives_a_clock_behind_and_the_round_trip() -> None:
    clocks = ClockTable()
    # The device is 30 s behind; 0.2 s each way; we took 0.01 s to answer.
    t0 = START - 30.0
    t1 = START + 0.2
    t2 = t1 + 0.01
    t3 = t2 + 0.2 - 30.0
    clock = clocks.sync("dev", t0, t1, t2, t3)
    assert clock.synced_offset == pytest.approx(-30.0)
    assert clock.round_trip == pytest.approx(0.4)
    assert clocks.correction("dev", now=t2) == pytest.approx(-30.0)
    # It speaks for every device of the source while it is recent.
    times = observe(clocks, "dev", [START - 30.0 + 5.0], at=START + 5.5, row=7)
    assert times[0] == pytest.approx(START + 5.0)


@pytest.mark.parametrize("t0, t1, t2, t3", [
    (START, START + 1, START + 0.5, START + 2),          # answered before it was received
    (START, START + 1, START + 1.1, START - 1),           # came back before it was sent
    (START - 500 * 365 * DAY, START, START, START - 500 * 365 * DAY),  # centuries
    (float("nan"), START, START, START),
])
def test_a_time_sync_that_cannot_have_happened_is_refused_and_changes_nothing(
        t0: float, t1: float, t2: float, t3: float) -> None:
    clocks = ClockTable()
    with pytest.raises(InvalidInput) as refused:
        clocks.sync("dev", t0, t1, t2, t3)
    assert refused.value.reason == "bad_time_sync"
    assert "dev" not in clocks.sources


# -- the findings: a wild timestamp moves nothing -------------------------------------------


def test_one_reading_an_hour_ahead_does_not_freeze_its_sensors_live_value() -> None:
    pipeline = Pipeline(twin_with("t"))
    row = pipeline.table.index["t"]
    commit(pipeline, [RawReading("t", 20.0, START - 0.2)], "gw", START)
    wild = commit(pipeline, [RawReading("t", 99.0, START + 1 + HOUR)], "gw", START + 1.2)
    assert wild.quarantined == 1 and pipeline.counts["quarantined"] == 1
    assert wild.batch.flags is not None and wild.batch.flags[0] & Flag.QUARANTINED
    assert not wild.batch.live()[0]
    assert wild.batch.event_time[0] == START + 1 + HOUR  # kept as the device said
    assert pipeline.table.last_value[row] == 20.0
    for k in range(1, 30):
        accepted = commit(pipeline, [RawReading("t", 20.0 + k, START + 60 * k)], "gw",
                          START + 60 * k + 0.3)
        assert accepted.late == 0 and accepted.quarantined == 0
        assert pipeline.table.last_value[row] == 20.0 + k


def test_a_device_an_hour_ahead_behind_a_gateway_leaves_its_neighbours_alone() -> None:
    pipeline = Pipeline(twin_with("good", "fast"))
    good, fast = pipeline.table.index["good"], pipeline.table.index["fast"]
    for k in range(40):
        true_time = START + 60 * k
        accepted = commit(pipeline, [RawReading("good", float(k), true_time),
                                     RawReading("fast", float(k), true_time + HOUR)],
                          "gw", true_time + 0.4)
        assert accepted.late == 0 and accepted.stale == 0
        times = dict(zip(accepted.batch.rows.tolist(), accepted.batch.event_time.tolist(),
                         strict=True))
        assert times[good] == true_time
        assert pipeline.table.last_value[good] == float(k)
        # The fast device is quarantined until its own batches agree, then corrected.
        assert accepted.quarantined == (1 if k < 2 else 0)
    assert abs(times[fast] - true_time) < 1.0
    assert pipeline.table.last_value[fast] == 39.0
    assert pipeline.clocks.offset("gw", row=good) == 0.0
    assert pipeline.clocks.offset("gw", row=fast) == pytest.approx(HOUR - 0.4)


def test_three_batches_stamped_year_2500_do_not_move_the_source_clock() -> None:
    pipeline = Pipeline(twin_with("t"))
    for k in range(3):
        wild = commit(pipeline, [RawReading("t", 1.0, YEAR_2500 + k)], "gw", START + k)
        assert [letter.reason for _, letter in wild.rejected] == ["time_in_future"]
    accepted = commit(pipeline, [RawReading("t", 2.0, START + 10)], "gw", START + 10.3)
    assert accepted.batch.event_time.tolist() == [START + 10]
    assert pipeline.clocks.offset("gw") == 0.0
    assert pipeline.table.last_value[pipeline.table.index["t"]] == 2.0


def test_a_reading_from_before_2000_is_quarantined_and_teaches_nothing() -> None:
    pipeline = Pipeline(twin_with("t"))
    for k in range(5):  # a device that rebooted into 1970
        accepted = commit(pipeline, [RawReading("t", 1.0, 100.0 + k)], "gw", START + k)
        assert accepted.quarantined == 1
    assert pipeline.clocks.offset("gw", row=0) == 0.0
    assert pipeline.table.last_event_time[0] == -np.inf


def test_a_quarantined_reading_is_not_the_watermark_a_restart_restores(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    pipeline = Pipeline(twin_with("t"))
    store = SQLiteStore(url)
    for readings, at in (([RawReading("t", 20.0, START)], START + 0.3),
                         ([RawReading("t", 99.0, START + 1 + HOUR)], START + 1.3)):
        accepted = pipeline.accept(IncomingBatch(readings, "gw", at))
        store.commit(accepted.batch, [], [])
        pipeline.settle(accepted, at)
        pipeline.apply(accepted.batch)
    store.close()
    reopened = SQLiteStore(url)
    try:
        stored = reopened.aggregates()
        assert reopened.counts()["readings"] == 2  # the quarantined reading is kept
    finally:
        reopened.close()
    assert stored.last_event_time.tolist() == [START]
    assert stored.last_value.tolist() == [20.0]


# -- transactions ----------------------------------------------------------------------------


def clock_state(pipeline: Pipeline) -> dict[str, object]:
    """Every array and field of the pipeline's clock table."""
    clocks = pipeline.clocks
    state: dict[str, object] = {name: column.copy()
                                for name, column in clocks._records.columns.items()}
    state["records"] = len(clocks._records)
    state["sources"] = {name: asdict(clock) for name, clock in clocks.sources.items()}
    return state


def assert_same_state(before: dict[str, object], after: dict[str, object]) -> None:
    assert before.keys() == after.keys()
    for name, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(after[name], value, err_msg=name)  # NaN == NaN
        else:
            assert after[name] == value, name


@pytest.mark.parametrize("batch", [
    [RawReading("good", 1.0, START + 300), RawReading("fast", 1.0, START + 300 + HOUR)],
    [RawReading("fast", 2.0, START + 300 + HOUR)],  # completes the fast device's jump
    [RawReading("new", 3.0, START + 290)],          # a device not seen before
    [RawReading("good", 4.0, START - HOUR)],         # a back-filled buffer
], ids=["mixed", "jump", "new-device", "backfill"])
def test_accept_then_rollback_leaves_every_clock_array_as_it_was(
        batch: list[RawReading]) -> None:
    pipeline = Pipeline(twin_with("good", "fast", "new"))
    for k in range(2):
        commit(pipeline, [RawReading("good", 0.0, START + 60 * k),
                          RawReading("fast", 0.0, START + 60 * k + HOUR)], "gw",
               START + 60 * k + 0.2)
    before = clock_state(pipeline)
    accepted = pipeline.accept(IncomingBatch(batch, "gw", START + 300.5))
    changed = clock_state(pipeline)
    assert any(not np.array_equal(np.asarray(changed[name]), value, equal_nan=True)
               if isinstance(value, np.ndarray) else changed[name] != value
               for name, value in before.items())
    pipeline.rollback(accepted)
    assert_same_state(before, clock_state(pipeline))
    # And the batch, sent again, is judged exactly as the first time.
    again = pipeline.accept(IncomingBatch(batch, "gw", START + 300.5))
    np.testing.assert_array_equal(again.batch.event_time, accepted.batch.event_time)
    assert again.quarantined == accepted.quarantined


def test_a_rolled_back_sync_restores_the_source_clock() -> None:
    clocks = ClockTable()
    observe(clocks, "dev", [START + 50.0], at=START + 0.1)
    point = clocks.savepoint("dev")
    before = asdict(clocks.sources["dev"])
    clocks.sync("dev", START - 30.0, START + 0.2, START + 0.21, START - 29.59)
    clocks.rollback(point)
    assert asdict(clocks.sources["dev"]) == before


# -- properties ------------------------------------------------------------------------------

wild_times = st.one_of(
    st.floats(min_value=0.0, max_value=1e11),                         # anything at all
    st.floats(min_value=-2 * DAY, max_value=2 * DAY).map(lambda d: START + d),
    st.sampled_from([START + HOUR, START + 23 * HOUR, YEAR_2500, 0.0, START - 40 * 365 * DAY]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.lists(wild_times, min_size=1, max_size=4),
                          st.floats(min_value=0.0, max_value=600.0)),
                min_size=1, max_size=12))
def test_no_sequence_of_timestamps_moves_an_offset_past_the_bound(
        batches: list[tuple[list[float], float]]) -> None:
    clocks = ClockTable(max_offset=DAY)
    at = START
    for times, wait in batches:
        at += wait
        clocks.observe("gw", np.arange(len(times)) % 2, np.array(times), at)
        assert abs(clocks.offset("gw")) <= DAY
        assert np.all(np.abs(clocks.device_offsets(np.array([0, 1]))) <= DAY)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.lists(wild_times, max_size=3),
                          st.floats(min_value=0.0, max_value=2.0)),
                min_size=1, max_size=12),
       st.floats(min_value=-30.0, max_value=100.0))
def test_a_devices_wild_clock_does_not_change_another_devices_event_times(
        batches: list[tuple[list[float], float]], good_offset: float) -> None:
    """The good device sends a reading every minute; the wild one sends anything between,
    behind the same gateway. The good device's times are what they would be alone."""
    with_wild = Pipeline(twin_with("good", "wild"))
    alone = Pipeline(twin_with("good", "wild"))
    for k, (times, latency) in enumerate(batches):
        true_time = START + 60 * k
        good = RawReading("good", float(k), true_time + good_offset)
        at = true_time + latency
        mixed = commit(with_wild, [RawReading("wild", 0.0, t) for t in times] + [good],
                       "gw", at)
        single = commit(alone, [good], "gw", at)
        row = with_wild.table.index["good"]
        assert mixed.batch.event_time[mixed.batch.rows == row].tolist() == \
            single.batch.event_time.tolist()
        assert mixed.batch.flags is not None and single.batch.flags is not None
        assert mixed.batch.flags[mixed.batch.rows == row].tolist() == \
            single.batch.flags.tolist()


@pytest.mark.parametrize("size", [1, 2, 3, 4, 7, 8, SMALL_MEDIAN, SMALL_MEDIAN + 1, 100])
def test_a_source_offset_is_numpys_median_to_the_last_bit(size: int) -> None:
    rng = np.random.default_rng(size)
    for values in (rng.normal(0.3, 2.0, size), rng.integers(-3, 3, size) * 0.1,
                   np.full(size, 1e300), START + rng.random(size)):
        assert median(values) == float(np.median(values))


def test_the_median_of_values_with_a_nan_is_nan() -> None:
    assert np.isnan(median(np.array([1.0, np.nan, 0.5])))
    assert np.isnan(median(np.array([np.nan, 2.0])))
