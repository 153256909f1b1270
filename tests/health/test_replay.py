"""The offline replay names the stuck and the silent sensor at the right simulated times,
judges exactly as the live service does with the same batches, counts bad rows without
stopping, and gives every accepted reading its quality."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from twinsync.cli.health_replay import params_from
from twinsync.errors import InvalidInput
from twinsync.health.replay import (
    Arrival,
    KeptReadings,
    Replay,
    SensorList,
    arrivals,
    kept,
    read_readings,
    read_sensors,
    replay,
)
from twinsync.pipeline import Batch
from twinsync.service import TwinService

from .replay_site import (
    EXTRA_AT,
    INTERVAL,
    PAUSE,
    SENSORS,
    SILENT_AFTER,
    STALE_LATE_AT,
    STEPS,
    STUCK_FROM,
    received_of,
    time_of,
    write_site,
)


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def test_a_stuck_sensor_and_a_silent_one_are_named_at_their_simulated_times(
        tmp_path: Path) -> None:
    sensors, readings = write_site(tmp_path)
    replay(sensors, readings, tmp_path / "states.csv")
    changes = rows_of(tmp_path / "states.csv")

    stuck = [c for c in changes if c["sensor_id"] == "t-c" and c["state"] == "stuck"]
    assert stuck, changes
    # Stuck needs six unchanged readings: said on the arrival of the sixth, not before.
    assert float(stuck[0]["time"]) == received_of(STUCK_FROM + 5)
    assert float(stuck[0]["quality"]) == 0.1

    silent = [(c["state"], float(c["time"])) for c in changes if c["sensor_id"] == "t-d"]
    # Silence counts from arrivals: the last of t-d's own, then the late reading of it that
    # comes at STALE_LATE_AT (old, but it arrived); 3 (stale) and 12 (offline) cadences of
    # arrivals, a high quantile of their gaps: the interval or a little more. The watch's
    # ticks fall on whole seconds from the first arrival.
    first_arrival = received_of(0)
    assert [state for state, _ in silent] == ["stale", "offline"]
    (_, stale_at), (_, offline_at) = silent
    assert (stale_at - first_arrival) % 1 == 0 and (offline_at - first_arrival) % 1 == 0
    assert 3 * INTERVAL < stale_at - received_of(SILENT_AFTER) <= 3 * 1.1 * INTERVAL + 1
    assert 12 * INTERVAL < offline_at - received_of(STALE_LATE_AT) <= 12 * 1.1 * INTERVAL + 1
    # t-b's readings come back within the hold after its gap: it stays named, once.
    paused = [(c["state"], float(c["quality"])) for c in changes if c["sensor_id"] == "t-b"]
    assert [state for state, _ in paused] == ["stale"]
    assert all(c["sensor_id"] in ("t-b", "t-c", "t-d") for c in changes)


async def test_the_replay_judges_as_the_live_service_does_with_the_same_batches(
        tmp_path: Path) -> None:
    sensors, readings = write_site(tmp_path)
    replay(sensors, readings, tmp_path / "states.csv", tmp_path / "qualities.csv")
    replayed = [(float(c["time"]), c["sensor_id"], c["state"], float(c["quality"]),
                 c["reason"]) for c in rows_of(tmp_path / "states.csv")]

    now = [0.0]
    twin = read_sensors(sensors).twin
    service = TwinService.open(f"sqlite:///{tmp_path / 'live.sqlite'}", clock=lambda: now[0])
    try:
        await service.import_project(list(twin.elements.values()), list(twin.sensors.values()),
                                     list(twin.bindings.values()))
        origin = math.nan
        done = 0
        for item in arrivals(read_readings(readings)):
            if not isinstance(item, Arrival):
                continue
            received_at = item.incoming.received_at
            if math.isnan(origin):
                origin = received_at
            # The watch's round every second of the simulated time, none skipped.
            while done < math.floor(received_at - origin):
                done += 1
                now[0] = origin + done * 1.0
                await service.watch.check()
            now[0] = received_at
            await service.ingest(item.incoming)
        events = service.store.events(kind="health_changed", limit=1000)
        live = [(e.time, e.data["sensor_id"], e.data["state"], e.data["quality"],
                 e.data["reason"]) for e in events]
        assert live == replayed
        assert {state for _, _, state, _, _ in live} == {"stuck", "stale", "offline"}

        qualities = rows_of(tmp_path / "qualities.csv")
        for sensor_id in SENSORS:
            row = service.pipeline.table.index[sensor_id]
            stored = service.store.history(row, 0.0, math.inf)
            # The store keeps a quality in 32 bits.
            mine = sorted((float(q["time"]), float(np.float32(q["quality"])))
                          for q in qualities if q["sensor_id"] == sensor_id)
            theirs = sorted(zip(stored.event_time.tolist(), stored.quality.tolist(),
                                strict=True))
            assert mine == theirs, sensor_id
    finally:
        await service.aclose()


def test_bad_rows_are_counted_by_reason_with_their_lines_and_the_rest_replayed(
        tmp_path: Path) -> None:
    late = received_of(STEPS - 1) + 1.0
    bad = (f"{late},gw-1,t-nobody,{late},20.0,1",
           f"{late},gw-1,t-a,{late},warm,",
           f"{late},gw-1,t-a,yesterday-ish,20.0,",
           f"soon,gw-1,t-a,{late},20.0,",
           f"{late},gw-1,t-a",
           f"{late},gw-1,t-b,,20.5,")  # no time of its own: fine, it takes its arrival
    sensors, readings = write_site(tmp_path, extra_rows=bad)
    first_bad_line = sum(1 for _ in readings.open()) - len(bad) + 1

    result = replay(sensors, readings, tmp_path / "states.csv").to_dict()

    assert result["rejected"] == {"bad_received_at": 1, "bad_row": 1, "bad_time": 1,
                                  "not_a_number": 1, "unknown_sensor": 1}
    lines = {example["reason"]: example["line"] for example in result["examples"]}
    assert lines == {"unknown_sensor": first_bad_line, "not_a_number": first_bad_line + 1,
                     "bad_time": first_bad_line + 2, "bad_received_at": first_bad_line + 3,
                     "bad_row": first_bad_line + 4}
    good = STEPS * len(SENSORS) - (STEPS - 1 - SILENT_AFTER) - len(PAUSE) + 3 + 1
    assert result["readings"] == good + len(bad) - 1
    assert result["accepted"] == good - 1  # the old reading sent again is a duplicate
    assert result["duplicates"] == 1


def test_the_qualities_file_has_one_row_per_accepted_reading(tmp_path: Path) -> None:
    sensors, readings = write_site(tmp_path)
    result = replay(sensors, readings, tmp_path / "states.csv", tmp_path / "qualities.csv")
    qualities = rows_of(tmp_path / "qualities.csv")
    assert len(qualities) == result.accepted
    values = np.array([float(q["quality"]) for q in qualities])
    assert ((values >= 0.0) & (values <= 1.0)).all()
    stuck = [float(q["quality"]) for q in qualities
             if q["sensor_id"] == "t-c" and float(q["time"]) > time_of(STUCK_FROM + 6, 2)]
    assert stuck and max(stuck) <= 0.1
    # The late reading (40 steps behind its sensor) is judged too, not dropped.
    assert any(q["sensor_id"] == "t-b" and float(q["time"]) == time_of(EXTRA_AT - 40, 1)
               for q in qualities)


def test_a_group_column_names_the_peers_in_place_of_the_bindings(tmp_path: Path) -> None:
    sensors, _ = write_site(tmp_path)
    lines = sensors.read_text().splitlines()
    # All four are bound to the same property; the column puts t-c in a group of its own.
    grouped = [lines[0] + ",group"] + [
        line + (",solo" if line.startswith("t-c,") else ",room") for line in lines[1:]]
    sensors.write_text("\n".join(grouped) + "\n")

    def groups_of(sensor_list: SensorList) -> dict[str, int]:
        judge = Replay(sensor_list, io.StringIO())
        table = judge.pipeline.table
        return {sensor_id: int(judge.health.table.group[table.index[sensor_id]])
                for sensor_id in SENSORS}

    by_column = groups_of(read_sensors(sensors))
    assert by_column["t-c"] == -1  # a group of one has no peers
    assert by_column["t-a"] == by_column["t-b"] == by_column["t-d"] >= 0
    write_site(tmp_path)  # the list again, without the column: peers by binding
    assert len(set(groups_of(read_sensors(sensors)).values())) == 1


def test_readings_arrive_in_batches_of_one_second_and_one_source_whatever_the_chunks(
        tmp_path: Path) -> None:
    readings = tmp_path / "readings.csv"
    rows = ["received_at,source,sensor_id,time,value,seq"]
    for second in range(5):
        for k in range(7):
            source = "gw-2" if k % 3 == 0 else "gw-1"
            rows.append(f"{100 + second + k / 10},{source},t-a,{100 + second},{k},")
    readings.write_text("\n".join(rows) + "\n")

    def batches(chunk_rows: int, max_batch: int, window: float = 1.0
                ) -> list[tuple[str, float, list[int]]]:
        return [(item.incoming.source, item.incoming.received_at, item.lines.tolist())
                for item in arrivals(read_readings(readings, chunk_rows), max_batch, window)
                if isinstance(item, Arrival)]

    whole = batches(1000, 1000)
    assert [source for source, _, _ in whole] == ["gw-1", "gw-2"] * 5
    # A batch is received when its last reading was, and handed over in that order.
    assert whole[0] == ("gw-1", 100.5, [3, 4, 6, 7])
    assert whole[1] == ("gw-2", 100.6, [2, 5, 8])
    assert batches(4, 1000) == whole  # a second split across chunks is joined again
    capped = batches(1000, 2)
    assert capped[:4] == [("gw-1", 100.2, [3, 4]), ("gw-2", 100.3, [2, 5]),
                          ("gw-1", 100.5, [6, 7]), ("gw-2", 100.6, [8])]
    # A wider window: the five seconds' readings of each source in one batch.
    assert [(source, len(lines)) for source, _, lines in batches(4, 1000, 5.0)] == [
        ("gw-1", 20), ("gw-2", 15)]


def test_kept_readings_answer_as_a_scan_of_all_of_them_would(monkeypatch: Any) -> None:
    monkeypatch.setattr(kept, "TAIL_SCAN", 50)  # sorted in several times along the way
    rng = np.random.default_rng(3)
    log = KeptReadings(capacity=8)
    rows, times = np.empty(0, np.int64), np.empty(0)
    for _ in range(40):
        size = int(rng.integers(1, 20))
        batch = Batch(rng.integers(0, 5, size), rng.normal(size=size), rng.normal(size=size),
                      rng.uniform(0, 1000, size).round(), np.zeros(size),
                      rng.integers(-1, 100, size))
        log.add(batch)
        rows, times = np.r_[rows, batch.rows], np.r_[times, batch.event_time]
        row, start = int(rng.integers(0, 5)), float(rng.uniform(0, 900))
        span = log.read(row, start, start + 100.0)
        expected = np.sort(times[(rows == row) & (times >= start) & (times < start + 100.0)])
        assert span.event_time.tolist() == expected.tolist()
    assert len(log) == rows.size


def test_a_device_clock_an_hour_ahead_is_named_clock_though_its_times_are_corrected(
        tmp_path: Path) -> None:
    # The pipeline learns the device's offset and places its readings right; health judges
    # the clock by the stamps the device gave, and names it.
    sensors = tmp_path / "sensors.csv"
    sensors.write_text("sensor_id,kind,unit,element_id,property,expected_interval_s,"
                       "resolution,source\n"
                       "t-fast,temperature,degC,room,air_temperature,60,0.01,gw\n"
                       "t-right,temperature,degC,room2,air_temperature,60,0.01,gw2\n")
    start, ahead_from, steps = 1_767_225_600.0, 120, 300
    lines = ["received_at,source,sensor_id,time,value,seq"]
    noise = np.random.default_rng(1).normal(0.0, 0.03, steps)
    for k in range(steps):
        at = start + 60.0 * k
        shift = 3600.0 if k >= ahead_from else 0.0
        value = 20.0 + 0.5 * math.sin(k / 40.0) + noise[k]
        lines.append(f"{at + 0.5},gw,t-fast,{at + shift},{value:.2f},{k}")
        lines.append(f"{at + 0.5},gw2,t-right,{at},{value:.2f},{k}")
    readings = tmp_path / "readings.csv"
    readings.write_text("\n".join(lines) + "\n")

    replay(sensors, readings, tmp_path / "states.csv")

    states = rows_of(tmp_path / "states.csv")
    clock = [s for s in states if s["state"] == "clock"]
    assert clock and {s["sensor_id"] for s in clock} == {"t-fast"}
    assert "60 min ahead: readings stamped 60 min after they arrive" in clock[0]["reason"]
    # Named within the hour after the jump, not before it.
    named_at = float(clock[0]["time"])
    assert start + 60.0 * ahead_from < named_at <= start + 60.0 * (ahead_from + 60) + 3600


def test_a_parameter_set_on_the_command_line_reaches_the_checks_and_a_wrong_one_is_refused(
        tmp_path: Path) -> None:
    params = params_from(["drift_tau=3600", "window=7"])
    assert params.drift_tau == 3600.0 and params.window == 7
    assert isinstance(params.window, int)
    # Stuck after 200 unchanged readings instead of 6: t-c's 120 are no longer enough.
    sensors, readings = write_site(tmp_path)
    replay(sensors, readings, tmp_path / "states.csv", params=params_from(["stuck_min_run=200"]))
    assert [c for c in rows_of(tmp_path / "states.csv") if c["state"] == "stuck"] == []
    for wrong in ("drift_tau", "no_such_knob=1", "window=seven"):
        with pytest.raises(InvalidInput):
            params_from([wrong])


def test_declared_events_reach_the_monitor_by_sensor_group_or_element(tmp_path: Path) -> None:
    sensors, _ = write_site(tmp_path)
    events = tmp_path / "events.csv"
    events.write_text("start,end,kind,sensor_id,element_id\n"
                      "100,200,calibration,t-a,\n"
                      "300,400,pour,,room-1\n")
    sensor_list = read_sensors(sensors)
    run = Replay(sensor_list, io.StringIO(), events=events)
    table = run.pipeline.table
    spans = run.health.events
    assert len(spans) == 1 + len(SENSORS)
    assert set(spans.rows().tolist()) == {table.index[name] for name in SENSORS}


@pytest.mark.parametrize(("text", "message"), [
    ("start,end,kind\n100,200,pour\n", "one of sensor_id"),
    ("start,end,kind,sensor_id\n100,200,pour,nobody\n", "line 2: names no sensor"),
    ("start,end,kind,sensor_id\n300,200,pour,t-a\n", "line 2: the end is before"),
    ("start,end,kind,sensor_id\nsoon,200,pour,t-a\n", "line 2: start and end"),
])
def test_an_events_file_that_cannot_be_used_stops_the_replay_with_its_line(
        tmp_path: Path, text: str, message: str) -> None:
    sensors, readings = write_site(tmp_path)
    events = tmp_path / "events.csv"
    events.write_text(text)
    with pytest.raises(InvalidInput, match=message):
        replay(sensors, readings, tmp_path / "states.csv", events=events)
