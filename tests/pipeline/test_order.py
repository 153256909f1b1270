"""Per sensor: duplicates dropped and counted, gaps counted as lost, late readings kept
as history without moving the live value."""

from __future__ import annotations

from twinsync.model import Sensor, Twin
from twinsync.pipeline import Flag, IncomingBatch, Pipeline, RawReading

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
