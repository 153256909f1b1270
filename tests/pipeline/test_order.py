"""Per sensor: duplicates dropped and counted, gaps counted as lost, counters that start
again taken for new epochs, retries without numbers recognised, late readings kept as
history without moving the live value; the counters survive a restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twinsync.ingest.simulator import SiteSimulator
from twinsync.model import Binding, Element, Sensor, Twin
from twinsync.pipeline import Flag, IncomingBatch, Pipeline, RawReading, SequenceTable
from twinsync.pipeline.order import (
    COLUMNS,
    COUNTERS,
    RING,
    CountersUnreadable,
)
from twinsync.service import TwinService

NOW = 1_790_000_000.0


def make_pipeline() -> Pipeline:
    twin = Twin()
    twin.add_sensor(Sensor("s", "temperature", "degC"))
    twin.add_sensor(Sensor("p", "temperature", "degC"))
    return Pipeline(twin, allowed_lateness=60.0, freshness=600.0)


def push(pipeline: Pipeline, *readings: RawReading, at: float = NOW):  # type: ignore[no-untyped-def]
    accepted = pipeline.accept(IncomingBatch(list(readings), "gw", at))
    pipeline.settle(accepted, at)
    pipeline.apply(accepted.batch)
    return accepted


def test_a_redelivered_sequence_number_is_dropped_and_counted() -> None:
    pipeline = make_pipeline()
    push(pipeline, *[RawReading("s", float(n), NOW - 100 + n, None, n) for n in range(10)])
    again = push(pipeline, RawReading("s", 7.0, NOW - 93, None, 7),
                 RawReading("s", 10.0, NOW - 90, None, 10))
    assert again.duplicates == 1
    assert again.batch.seq.tolist() == [10]
    assert pipeline.sequences.duplicates[pipeline.table.index["s"]] == 1


def test_duplicates_within_one_batch_are_dropped() -> None:
    pipeline = make_pipeline()
    accepted = push(pipeline, RawReading("s", 1.0, NOW - 5, None, 1),
                    RawReading("s", 1.0, NOW - 5, None, 1), RawReading("p", 2.0, NOW - 5),
                    RawReading("p", 2.0, NOW - 5))
    assert accepted.duplicates == 2
    assert len(accepted.batch) == 2


def test_a_repeat_of_the_live_reading_without_sequence_number_is_a_duplicate() -> None:
    pipeline = make_pipeline()
    push(pipeline, RawReading("p", 2.0, NOW - 5))
    assert push(pipeline, RawReading("p", 2.0, NOW - 5)).duplicates == 1
    assert push(pipeline, RawReading("p", 2.5, NOW - 5)).duplicates == 0


def test_sequence_gaps_count_as_lost_until_the_missing_readings_arrive() -> None:
    pipeline = make_pipeline()
    row = pipeline.table.index["s"]
    push(pipeline, RawReading("s", 1.0, NOW - 50, None, 1))
    push(pipeline, RawReading("s", 5.0, NOW - 40, None, 5))
    assert pipeline.sequences.lost[row] == 3
    push(pipeline, RawReading("s", 3.0, NOW - 45, None, 3))
    assert pipeline.sequences.lost[row] == 2


def test_out_of_order_readings_are_applied_in_event_time_order() -> None:
    pipeline = make_pipeline()
    row = pipeline.table.index["s"]
    push(pipeline, RawReading("s", 3.0, NOW - 10, None, 3), RawReading("s", 1.0, NOW - 30, None, 1),
         RawReading("s", 2.0, NOW - 20, None, 2))
    assert pipeline.table.last_value[row] == 3.0
    assert pipeline.sequences.lost[row] == 0


def test_a_late_reading_is_stored_flagged_and_does_not_move_the_live_value() -> None:
    pipeline = make_pipeline()
    row = pipeline.table.index["s"]
    push(pipeline, RawReading("s", 5.0, NOW - 1))
    late = push(pipeline, RawReading("s", 4.0, NOW - 500))
    assert late.late == 1
    assert late.batch.flags[0] & Flag.LATE
    assert pipeline.table.last_value[row] == 5.0
    assert pipeline.table.count[row] == 2


def test_a_stale_reading_is_history_only() -> None:
    pipeline = make_pipeline()
    row = pipeline.table.index["p"]
    stale = push(pipeline, RawReading("p", 9.0, NOW - 3600))
    assert stale.stale == 1 and stale.batch.flags[0] & Flag.STALE
    assert pipeline.table.count[row] == 1
    assert pipeline.table.last_value[row] != 9.0  # no live value from an hour-old reading


def test_a_device_that_restarts_its_counter_is_not_taken_for_duplicates() -> None:
    pipeline = make_pipeline()
    push(pipeline, *[RawReading("s", 1.0, NOW - 3000 + n, None, 5000 + n) for n in range(3)])
    fresh = push(pipeline, RawReading("s", 2.0, NOW - 10, None, 0),
                 RawReading("s", 3.0, NOW - 9, None, 1))
    assert fresh.duplicates == 0 and len(fresh.batch) == 2
    assert push(pipeline, RawReading("s", 3.0, NOW - 9, None, 1)).duplicates == 1


def test_a_first_batch_out_of_order_counts_only_the_numbers_never_seen() -> None:
    pipeline = make_pipeline()
    row = pipeline.table.index["s"]
    push(pipeline, RawReading("s", 5.0, NOW - 10, None, 5), RawReading("s", 2.0, NOW - 40, None, 2))
    assert pipeline.sequences.lost[row] == 2  # 3 and 4
    push(pipeline, RawReading("s", 3.0, NOW - 30, None, 3))
    assert pipeline.sequences.lost[row] == 1


def test_two_copies_of_a_reading_far_behind_the_window_in_one_batch_keep_one() -> None:
    pipeline = make_pipeline()
    push(pipeline, *[RawReading("s", float(n), NOW - 500 + n, None, n) for n in range(200)])
    again = push(pipeline, RawReading("s", 3.0, NOW - 497, None, 3),
                 RawReading("s", 3.0, NOW - 497, None, 3))
    assert again.duplicates == 1
    assert again.behind_window is not None and again.behind_window.tolist() == [True]


def test_an_old_number_far_behind_the_window_never_makes_the_lost_count_negative() -> None:
    pipeline = make_pipeline()
    row = pipeline.table.index["s"]
    push(pipeline, *[RawReading("s", float(n), NOW - 500 + n, None, n) for n in range(200)])
    # 3 was seen, but the window no longer reaches it: taken for a filled gap, which
    # would take the count below zero; twice in one batch, and beside a real gap.
    push(pipeline, RawReading("s", 3.0, NOW - 497, None, 3), RawReading("p", 1.0, NOW - 9, None, 1),
         RawReading("s", 4.0, NOW - 496, None, 4), RawReading("p", 4.0, NOW - 8, None, 4))
    assert pipeline.sequences.lost[row] == 0
    assert pipeline.sequences.lost[pipeline.table.index["p"]] == 2
    assert pipeline.counts["lost"] == 2


# -- epochs: counters that start again --------------------------------------------------


def test_a_device_that_reboots_has_its_readings_accepted() -> None:
    pipeline = make_pipeline()
    row = pipeline.table.index["s"]
    push(pipeline, *[RawReading("s", 20.0, NOW - 100 + n, None, n) for n in range(30)])
    # Rebooted 20 s later, it numbers from 0 again: all of 0..9 are in the old window.
    rebooted = push(pipeline, *[RawReading("s", 21.0, NOW - 50 + n, None, n) for n in range(10)])
    assert rebooted.duplicates == 0 and len(rebooted.batch) == 10
    assert pipeline.sequences.epochs[row] == 1
    assert pipeline.sequences.lost[row] == 0
    assert pipeline.table.last_value[row] == 21.0
    # In the new epoch, numbers mean the new readings: a repeat of one is a duplicate.
    assert push(pipeline, RawReading("s", 21.0, NOW - 47, None, 3)).duplicates == 1
    assert pipeline.sequences.epochs[row] == 1


def test_a_redelivery_carries_its_original_time_and_stays_a_duplicate() -> None:
    pipeline = make_pipeline()
    row = pipeline.table.index["s"]
    readings = [RawReading("s", 20.0, NOW - 100 + n, None, n) for n in range(30)]
    push(pipeline, *readings)
    again = push(pipeline, *readings[20:])
    assert again.duplicates == 10 and len(again.batch) == 0
    assert pipeline.sequences.epochs[row] == 0


def test_a_reboot_within_one_second_of_the_last_reading_is_not_told_from_a_redelivery() -> None:
    pipeline = make_pipeline()
    row = pipeline.table.index["s"]
    push(pipeline, *[RawReading("s", 20.0, NOW - 100 + n, None, n) for n in range(30)])
    # The tolerance keeps a source's small clock corrections from looking like reboots.
    close = push(pipeline, RawReading("s", 21.0, NOW - 71 + 0.5, None, 0))
    assert close.duplicates == 1 and pipeline.sequences.epochs[row] == 0
    assert pipeline.sequences.duplicates[row] == 1  # refused, and counted


def test_a_reading_from_before_the_reboot_is_left_to_the_stored_history() -> None:
    pipeline = make_pipeline()
    row = pipeline.table.index["s"]
    push(pipeline, *[RawReading("s", 20.0, NOW - 100 + n, None, n) for n in range(30)])
    push(pipeline, *[RawReading("s", 21.0, NOW - 50 + n, None, n) for n in range(10)])
    # Number 29 of the old count, arriving late: not a gap of the new count, and not a
    # duplicate of anything the window has seen.
    straggler = push(pipeline, RawReading("s", 20.0, NOW - 71, None, 29))
    assert straggler.duplicates == 0
    assert straggler.behind_window is not None and straggler.behind_window.tolist() == [True]
    assert pipeline.sequences.max_seq[row] == 9 and pipeline.sequences.lost[row] == 0


def test_a_reading_stamped_days_ahead_is_refused_and_starts_no_epoch() -> None:
    pipeline = make_pipeline()
    row = pipeline.table.index["s"]
    push(pipeline, *[RawReading("s", 20.0, NOW - 100 + n, None, n) for n in range(30)])
    ahead = push(pipeline, RawReading("s", 20.0, NOW + 3 * 86_400, None, 5))
    assert [letter.reason for _, letter in ahead.rejected] == ["time_in_future"]
    assert pipeline.sequences.epochs[row] == 0 and pipeline.sequences.max_seq[row] == 29
    assert push(pipeline, RawReading("s", 20.0, NOW - 75, None, 25)).duplicates == 1


def test_readings_without_a_time_start_an_epoch_only_far_below_the_highest() -> None:
    pipeline = make_pipeline()
    row = pipeline.table.index["s"]
    push(pipeline, *[RawReading("s", 1.0, None, None, 2000 + n) for n in range(10)], at=NOW - 60)
    # Their time is their arrival: a redelivery looks just as new as a reboot.
    near = push(pipeline, RawReading("s", 1.0, None, None, 2005))
    assert near.duplicates == 1 and pipeline.sequences.epochs[row] == 0
    far = push(pipeline, RawReading("s", 1.0, None, None, 0))
    assert far.duplicates == 0 and pipeline.sequences.epochs[row] == 1


# -- readings without sequence numbers ----------------------------------------------------


def test_a_batch_without_seq_retried_is_dropped_from_memory() -> None:
    pipeline = make_pipeline()
    batch = [RawReading("p", 20.0 + n, NOW - 10 + n) for n in range(3)]
    push(pipeline, *batch)
    retry = push(pipeline, *batch)
    assert retry.duplicates == 3 and len(retry.batch) == 0
    assert pipeline.sequences.duplicates[pipeline.table.index["p"]] == 3


def test_a_retry_older_than_the_memory_reaches_is_left_to_the_stored_history() -> None:
    pipeline = make_pipeline()
    batch = [RawReading("p", 20.0 + n, NOW - 100 + n) for n in range(RING + 4)]
    push(pipeline, *batch)
    retry = push(pipeline, *batch)
    assert retry.duplicates == RING  # the newest ones, remembered
    assert retry.behind_window is not None and retry.behind_window.all()
    assert retry.batch.event_time.tolist() == [r.time for r in batch[:4]]


def test_a_new_reading_without_seq_is_never_sent_to_the_store() -> None:
    pipeline = make_pipeline()
    push(pipeline, *[RawReading("p", 20.0, NOW - 100 + n) for n in range(20)])
    fresh = push(pipeline, RawReading("p", 20.0, NOW - 50), RawReading("p", 20.0, NOW - 49))
    assert fresh.duplicates == 0
    assert fresh.behind_window is not None and not fresh.behind_window.any()


def test_the_same_value_at_another_time_is_a_new_reading() -> None:
    pipeline = make_pipeline()
    push(pipeline, RawReading("p", 20.0, NOW - 10))
    assert push(pipeline, RawReading("p", 20.0, NOW - 9)).duplicates == 0
    assert push(pipeline, RawReading("p", 20.5, NOW - 9)).duplicates == 0


# -- counters survive a restart -----------------------------------------------------------


# Numbers from a small range (-1: none) and times on a coarse grid around the slack, so
# that numbers repeat, times tie and some lie exactly ``repeat_slack`` apart.
_stored_reading = st.tuples(st.integers(-1, 5), st.sampled_from([0.0, 100.0, 300.0, 300.5,
                                                                 600.0, 900.0]),
                            st.sampled_from([0.0, -0.0, 1.5, 2.0]))


# No deadline: the first example loads the compiled search.
@settings(deadline=None)
@given(readings=st.lists(_stored_reading, min_size=1, max_size=10),
       stored=st.lists(_stored_reading, max_size=30))
def test_a_reading_is_stored_already_exactly_when_a_stored_one_matches_it_by_the_rule(
        readings: list[tuple[int, float, float]], stored: list[tuple[int, float, float]]
        ) -> None:
    """The rule as written: a numbered reading when a stored one has its number within
    ``repeat_slack`` of its time; one without a number when a stored one without a number
    has its time and value."""
    table = SequenceTable()
    found = table.stored_repeats(
        np.array([s for s, _, _ in readings], dtype=np.int64),
        np.array([t for _, t, _ in readings]), np.array([v for _, _, v in readings]),
        np.array([s for s, _, _ in stored], dtype=np.int64),
        np.array([t for _, t, _ in stored]), np.array([v for _, _, v in stored]))
    expected = [
        any(seq == kept_seq and abs(time - kept_time) <= table.repeat_slack
            for kept_seq, kept_time, _ in stored) if seq >= 0 else
        any(kept_seq < 0 and time == kept_time and value == kept_value
            for kept_seq, kept_time, kept_value in stored)
        for seq, time, value in readings]
    assert found.tolist() == expected


def test_counters_survive_a_dump_and_load_keyed_by_sensor_id() -> None:
    pipeline = make_pipeline()
    push(pipeline, *[RawReading("s", 1.0, NOW - 100 + n, None, 2 * n) for n in range(10)])
    push(pipeline, RawReading("s", 1.0, NOW - 98, None, 2))  # a duplicate
    push(pipeline, *[RawReading("s", 1.0, NOW - 50 + n, None, n) for n in range(3)])  # a reboot
    push(pipeline, RawReading("p", 1.0, NOW - 5))
    push(pipeline, RawReading("p", 1.0, NOW - 300))  # late
    sequences = pipeline.sequences
    ids = pipeline.table.ids
    body = sequences.dump(ids)
    # The restarted twin lists its sensors in another order, and one more.
    reordered = SequenceTable()
    assert reordered.load(body, ["new", *reversed(ids)]) == 2
    for name in COUNTERS:
        before = getattr(sequences, name)
        after = getattr(reordered, name)
        assert after[0] == 0
        assert [after[2], after[1]] == [before[0], before[1]], name
    assert [int(getattr(sequences, name)[:2].sum()) for name in COUNTERS] == [9, 1, 1, 1]


@pytest.mark.parametrize("damage", [
    lambda body: body[: len(body) // 2],
    lambda body: b"not a dump",
    lambda body: body.replace(b'"format": 1', b'"format": 9'),
])
def test_a_damaged_counter_dump_raises_a_clear_error_and_changes_nothing(
        damage: Callable[[bytes], bytes]) -> None:
    pipeline = make_pipeline()
    push(pipeline, RawReading("s", 1.0, NOW - 50, None, 0), RawReading("s", 1.0, NOW - 40, None, 5))
    body = damage(pipeline.sequences.dump(pipeline.table.ids))
    fresh = SequenceTable()
    with pytest.raises(CountersUnreadable, match="sequence counters"):
        fresh.load(body, pipeline.table.ids)
    assert not fresh.lost.any()


# -- a batch taken back ------------------------------------------------------------------

reading = st.builds(
    RawReading, st.sampled_from(["s", "p"]), st.sampled_from([1.0, 2.0]),
    st.one_of(st.none(), st.integers(-1200, 0).map(lambda t: NOW + t / 2)), st.none(),
    st.one_of(st.none(), st.integers(0, 300), st.integers(2000, 2100)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=st.lists(st.lists(reading, max_size=40), max_size=4),
       batch=st.lists(reading, min_size=1, max_size=60), stored=st.booleans())
def test_a_batch_accepted_then_rolled_back_leaves_every_column_as_it_was(
        history: list[list[RawReading]], batch: list[RawReading], stored: bool) -> None:
    pipeline = make_pipeline()
    for readings in history:
        push(pipeline, *readings)
    sequences = pipeline.sequences
    before = {name: getattr(sequences, name).copy() for name in COLUMNS}
    accepted = pipeline.accept(IncomingBatch(batch, "gw", NOW))
    if stored and accepted.behind_window is not None:
        # As the service does when the store holds some of them.
        pipeline.drop_repeats(accepted, accepted.behind_window.copy())
    pipeline.rollback(accepted)
    for name in COLUMNS:
        assert np.array_equal(getattr(sequences, name), before[name]), name


# -- through the service and its store: restarts, crashes, retries -----------------------

DEVICES = [Sensor(f"dev-{n}", "temperature", "degC") for n in range(3)]


async def open_twin(path: Path) -> TwinService:
    service = TwinService.open(f"sqlite:///{path / 'twin.sqlite'}")
    if not service.twin.sensors:
        bindings = [Binding(d.id, "slab", f"t{n}") for n, d in enumerate(DEVICES)]
        await service.import_project([Element("slab", "IfcSlab")], DEVICES, bindings)
    return service


def stored(service: TwinService, sensor_id: str) -> list[tuple[int, float]]:
    history = service.store.history(service.sensor_row(sensor_id), 0.0, 4e9)
    return list(zip(history.seq.tolist(), history.event_time.tolist(), strict=True))


def numbered(sensor_id: str, numbers: range, first_time: float) -> list[RawReading]:
    return [RawReading(sensor_id, 20.0 + n / 100, first_time + k, None, n)
            for k, n in enumerate(numbers)]


async def test_a_restart_of_the_service_then_a_simulator_restarting_at_zero_is_accepted_at_once(
        tmp_path: Path) -> None:
    service = await open_twin(tmp_path)
    await service.start_connector(SiteSimulator(DEVICES, interval=0.02, tick=0.01))
    # Until every device has numbered past 20 (a second when the machine is idle; the
    # first batch may wait for the kernels to compile).
    first_rows = [service.sensor_row(d.id) for d in DEVICES]
    for _ in range(600):
        if (service.pipeline.sequences.max_seq[first_rows] > 20).all():
            break
        await asyncio.sleep(0.05)
    await service.stop_connector("simulator")
    await service.aclose()

    restarted = await open_twin(tmp_path)
    try:
        # Its windows come back from the store, holding the numbers of the first run.
        rows = [restarted.sensor_row(d.id) for d in DEVICES]
        assert (restarted.pipeline.sequences.max_seq[rows] > 20).all()
        first_run = restarted.store.counts()["readings"]
        simulator = SiteSimulator(DEVICES, interval=0.02, tick=0.01)
        await simulator.start()
        deliveries = simulator.deliveries()
        delivery = await anext(deliveries)
        result = await restarted.ingest(delivery.batch)
        assert result.accepted == len(delivery.batch.readings) and result.duplicates == 0
        assert {r.seq for r in delivery.batch.readings} == {1}  # the counter started again
        for _ in range(20):
            result = await restarted.ingest((await anext(deliveries)).batch)
            assert result.duplicates == 0
        await simulator.aclose()
        assert (restarted.pipeline.sequences.epochs[rows] == 1).all()
        # The count goes on from the first run's, which the store committed with it.
        accepted = restarted.pipeline.counts["accepted"]
        assert restarted.store.counts()["readings"] == accepted > first_run
    finally:
        await restarted.aclose()


async def test_a_batch_redelivered_after_a_crash_is_dropped_exactly_once(tmp_path: Path) -> None:
    now = time.time()
    service = await open_twin(tmp_path)
    sent = numbered("dev-0", range(200), now - 500)
    await service.ingest(IncomingBatch(sent, "gw", now))
    await service.aclose()

    restarted = await open_twin(tmp_path)
    try:
        # The broker sends again what it never saw acknowledged, and what it never sent.
        unsent = numbered("dev-0", range(200, 220), now - 300)
        again = await restarted.ingest(IncomingBatch(sent[100:] + unsent, "gw", now))
        assert (again.accepted, again.duplicates) == (20, 100)
        twice = await restarted.ingest(IncomingBatch(sent[100:] + unsent, "gw", now))
        assert (twice.accepted, twice.duplicates) == (0, 120)
        numbers = [n for n, _ in stored(restarted, "dev-0")]
        assert sorted(numbers) == list(range(220))
        assert restarted.sensor_health("dev-0")["duplicates"] == 220
        assert restarted.pipeline.sequences.epochs[restarted.sensor_row("dev-0")] == 0
    finally:
        await restarted.aclose()


async def test_a_device_that_rebooted_before_a_crash_has_its_repeats_dropped_and_news_kept(
        tmp_path: Path) -> None:
    now = time.time()
    service = await open_twin(tmp_path)
    before_reboot = numbered("dev-1", range(100), now - 500)
    after_reboot = numbered("dev-1", range(50), now - 350)
    await service.ingest(IncomingBatch(before_reboot, "gw", now))
    await service.ingest(IncomingBatch(after_reboot, "gw", now))
    assert service.pipeline.sequences.epochs[service.sensor_row("dev-1")] == 1
    await service.aclose()

    restarted = await open_twin(tmp_path)
    try:
        # The restored window holds 99 of the first count; 30..49 of the second are
        # behind it, and stored twice over by number: only their times tell them apart.
        again = await restarted.ingest(IncomingBatch(after_reboot[30:], "gw", now))
        assert (again.accepted, again.duplicates) == (0, 20)
        news = await restarted.ingest(IncomingBatch(numbered("dev-1", range(50, 60), now - 300),
                                                    "gw", now))
        assert (news.accepted, news.duplicates) == (10, 0)
        assert len(stored(restarted, "dev-1")) == 160
    finally:
        await restarted.aclose()


async def test_a_batch_without_seq_retried_is_stored_once(tmp_path: Path) -> None:
    now = time.time()
    service = await open_twin(tmp_path)
    batch = [RawReading("dev-2", 20.0 + (n % 3), now - 100 + n) for n in range(30)]
    try:
        assert (await service.ingest(IncomingBatch(batch, "http", now))).accepted == 30
        # An HTTP client that saw no answer sends it all again: the newest from memory,
        # the rest found in the store.
        retry = await service.ingest(IncomingBatch(batch, "http", now + 5))
        assert (retry.accepted, retry.duplicates) == (0, 30)
    finally:
        await service.aclose()
    restarted = await open_twin(tmp_path)
    try:
        retry = await restarted.ingest(IncomingBatch(batch[10:], "http", now + 60))
        assert (retry.accepted, retry.duplicates) == (0, 20)
        fresh = [RawReading("dev-2", 20.0, now - 50.5), RawReading("dev-2", 20.0, now - 40)]
        assert (await restarted.ingest(IncomingBatch(fresh, "http", now + 61))).accepted == 2
        assert len(stored(restarted, "dev-2")) == 32
    finally:
        await restarted.aclose()


def test_a_logger_that_only_uploads_its_buffer_judges_lateness_by_what_it_sent() -> None:
    """Every reading stale on arrival, so the sensor never has a live time: a reading well
    behind the newest it sent is late all the same, while a buffer sent newest first in one
    batch is not late to itself."""
    pipeline = make_pipeline()
    row = pipeline.table.index["p"]
    day = push(pipeline, *[RawReading("p", 20.0 + k, NOW - 86_400 + k * 600) for k in range(5)])
    assert day.stale == 5 and day.late == 0
    assert pipeline.table.last_event_time[row] == -np.inf  # no live time
    resent = push(pipeline, RawReading("p", 30.0, NOW - 86_400 + 1200 - 300))
    assert resent.late == 1 and resent.batch.flags[0] & Flag.LATE
    backwards = push(pipeline, *[RawReading("p", 40.0 + k, NOW - 40_000 - k * 600)
                                 for k in range(5)])
    assert backwards.late == 0 and backwards.stale == 5
