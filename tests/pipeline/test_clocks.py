"""Each source's clock offset is learned, and its readings are put on the server's clock."""

from __future__ import annotations

import random

import numpy as np
import pytest

from twinsync.model import Sensor, Twin
from twinsync.pipeline import ClockTable, IncomingBatch, Pipeline, RawReading

START = 1_790_000_000.0


def twin_with(*sensor_ids: str) -> Twin:
    twin = Twin()
    for sensor_id in sensor_ids:
        twin.add_sensor(Sensor(sensor_id, "temperature", "degC"))
    return twin


def test_a_clock_90_s_ahead_drifting_1_s_per_hour_is_estimated_within_1_s() -> None:
    rng = random.Random(4)
    pipeline = Pipeline(twin_with("fast-t"))
    worst = 0.0
    for minute in range(12 * 60):  # twelve hours, a reading a minute
        true_time = START + minute * 60.0
        offset = 90.0 + minute / 60.0  # +1 s per hour
        received = true_time + rng.expovariate(1 / 0.4)  # network and broker latency
        pipeline.accept(IncomingBatch([RawReading("fast-t", 20.0, true_time + offset)],
                                      "gw-fast", received))
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
        clocks.observe("gw", [START + k - 0.2], received_at=START + k)
    assert clocks.correction("gw") == 0.0


def test_readings_back_filled_from_a_logger_do_not_look_like_a_slow_clock() -> None:
    clocks = ClockTable()
    clocks.observe("logger", np.arange(START - 86_400, START, 600.0), received_at=START)
    assert clocks.offset("logger") == 0.0


def test_one_wild_timestamp_does_not_move_the_estimate_but_a_real_jump_does() -> None:
    clocks = ClockTable()
    clocks.observe("gw", [START - 0.1], received_at=START)
    clocks.observe("gw", [START + 10 * 86_400], received_at=START + 1)
    assert clocks.offset("gw") == 0.0
    for k in range(3):  # the device really was set a day ahead
        clocks.observe("gw", [START + 86_400 + 10 + k], received_at=START + 10.2 + k)
    assert clocks.offset("gw") == pytest.approx(86_400, abs=1)


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
