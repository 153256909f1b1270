"""Anomalies of a live fleet become events and one alarm each, readings health does not
trust teach nothing, and an anomaly a person expects raises no alarm."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from twinsync.alerts import AlarmBook
from twinsync.analytics.monitor import AnomalyMonitor
from twinsync.analytics.novelty import NoveltyDetector
from twinsync.analytics.zscore import ZScoreDetector
from twinsync.bench.anomaly_room import room_readings
from twinsync.errors import InvalidInput

STEP = 900.0
DAY = 86_400.0
SENSORS = ["s0", "s1", "s2"]


def fleet(days: int = 12, jump_day: float = 9.0, seed: int = 4) -> tuple[np.ndarray, ...]:
    """Three sensors every 15 minutes, a daily cycle each; s1 runs 10 units high for a
    day from ``jump_day``. In arrival order."""
    rng = np.random.default_rng(seed)
    per = int(days * DAY / STEP)
    times = np.repeat(np.arange(per) * STEP, 3) + np.tile([0.0, 1.0, 2.0], per)
    rows = np.tile(np.arange(3), per)
    values = 20 + 3 * np.sin(2 * np.pi * times / DAY) + rng.normal(0, 0.05, times.size)
    high = (rows == 1) & (times >= jump_day * DAY) & (times < (jump_day + 1) * DAY)
    values[high] += 10.0
    return rows.astype(np.int64), 1.7e9 + times, values


def run(
    monitor: AnomalyMonitor,
    book: AlarmBook,
    rows: np.ndarray,
    times: np.ndarray,
    values: np.ndarray,
    quality: np.ndarray | None = None,
    batch: int = 60,
    rows_of: dict[str, int] | None = None,
) -> list:
    quality = np.ones(rows.size) if quality is None else quality
    events = []
    for start in range(0, rows.size, batch):
        part = slice(start, start + batch)
        update = monitor.update_many(
            rows[part], times[part], values[part], quality[part], sensor_ids=SENSORS, book=book,
            rows_of=rows_of,
        )
        events.extend(update.events)
    return events


def test_a_planted_anomaly_in_a_live_stream_raises_one_alarm_not_one_per_reading() -> None:
    rows, times, values = fleet(days=10, jump_day=9.0)
    book = AlarmBook()
    events = run(AnomalyMonitor(clear_after=2 * DAY), book, rows, times, values)
    raised = [e for e in events if e.kind == "alarm_raised"]
    assert [e.data["key"] for e in raised] == ["anomaly:s1"]
    assert raised[0].time == pytest.approx(1.7e9 + 9 * DAY + 1.0, abs=STEP)
    anomalies = [e for e in events if e.kind == "anomaly"]
    high_readings = int(((rows == 1) & (times - 1.7e9 >= 9 * DAY)).sum())
    assert 1 <= len(anomalies) <= 3 < high_readings
    assert {e.data["sensor"] for e in anomalies} == {"s1"}
    assert list(book.active) == ["anomaly:s1"]


@pytest.mark.parametrize("rows_of", [None, {s: row for row, s in enumerate(SENSORS)}])
def test_the_alarm_clears_itself_after_a_calm_spell(rows_of: dict[str, int] | None) -> None:
    rows, times, values = fleet(days=12, jump_day=9.0)
    book = AlarmBook()
    events = run(AnomalyMonitor(clear_after=DAY), book, rows, times, values, rows_of=rows_of)
    kinds = [e.kind for e in events if e.kind.startswith("alarm")]
    assert kinds == ["alarm_raised", "alarm_cleared"]
    assert book.active == {}


def test_readings_health_does_not_trust_are_scored_but_teach_nothing() -> None:
    rows, times, values = fleet(days=10, jump_day=8.0)
    quality = np.ones(rows.size)
    # s1's high day comes with a low quality: it must not become usual for s1.
    untrusted = (rows == 1) & (times - 1.7e9 >= 8 * DAY) & (times - 1.7e9 < 9 * DAY)
    quality[untrusted] = 0.2
    monitor = AnomalyMonitor()
    run(monitor, AlarmBook(), rows, times, values, quality)
    trusting = AnomalyMonitor()
    run(trusting, AlarmBook(), rows, times, values)
    # The same high value afterwards: new to the first, known to the second.
    probe = {"time": np.array([times[-1] + STEP]), "value": np.array([values[untrusted][5]])}
    one = np.array([1], dtype=np.int64)
    assert monitor.detector.score_one(1, {k: c[0] for k, c in probe.items()}) > 0.5
    assert trusting.detector.learn_many(one, probe)[0] < 0.33


def test_an_expected_anomaly_is_an_event_without_an_alarm_and_is_kept() -> None:
    rows, times, values = fleet(days=10, jump_day=9.0)
    monitor, book = AnomalyMonitor(), AlarmBook()
    marked = monitor.mark_expected(
        "s1",
        1.7e9 + 9 * DAY - 3600,
        1.7e9 + 10 * DAY,
        "load test",
        by="site",
        time=1.7e9,
        book=book,
    )
    assert [e.kind for e in marked] == ["anomaly_expected"]
    events = run(monitor, book, rows, times, values)
    assert not [e for e in events if e.kind == "alarm_raised"]
    anomalies = [e for e in events if e.kind == "anomaly"]
    assert anomalies and all(e.data["expected"] for e in anomalies)
    assert anomalies[0].data["reason"] == "load test"
    # Kept: a fresh monitor given the stored event expects the same span.
    fresh = AnomalyMonitor()
    fresh.replay(marked[0])
    assert fresh.expected == monitor.expected


def test_a_withdrawn_mark_expects_nothing_and_its_events_replay_in_order() -> None:
    rows, times, values = fleet(days=10, jump_day=9.0)
    monitor, book = AnomalyMonitor(), AlarmBook()
    start, end = 1.7e9 + 9 * DAY - 3600, 1.7e9 + 10 * DAY
    marked = [monitor.mark_expected(sensor, start, end, "load test", by="site", time=1.7e9,
                                    book=book, mark_id="m1")[0] for sensor in ("s1", "s2")]
    with pytest.raises(InvalidInput):
        monitor.withdraw_expected("m1", " ", by="site", time=1.7e9 + 1)
    with pytest.raises(KeyError):
        monitor.withdraw_expected("nope", "wrong", by="site", time=1.7e9 + 1)
    withdrawn = monitor.withdraw_expected("m1", "wrong slab", by="bo", time=1.7e9 + 1)
    assert [(e.kind, e.data["sensor"], e.data["id"], e.data["by"], e.data["reason"])
            for e in withdrawn] == [
        ("anomaly_expected_withdrawn", sensor, "m1", "bo", "wrong slab")
        for sensor in ("s1", "s2")]
    assert monitor.expected == {} and monitor.mark("m1") == []
    assert monitor.withdrawn["m1"].by == "bo" and len(monitor.withdrawn["m1"].spans) == 2
    with pytest.raises(KeyError):  # withdrawn already
        monitor.withdraw_expected("m1", "again", by="bo", time=1.7e9 + 2)
    events = run(monitor, book, rows, times, values)
    assert [e.data["key"] for e in events if e.kind == "alarm_raised"] == ["anomaly:s1"]
    # Kept: the stored events, replayed in order, leave nothing expected.
    fresh = AnomalyMonitor()
    for event in marked + withdrawn:
        fresh.replay(event)
    assert fresh.expected == {} and set(fresh.withdrawn) == {"m1"}


def test_the_spans_of_a_mark_stored_without_an_id_share_one_that_lasts() -> None:
    book = AlarmBook()
    old = [AnomalyMonitor().mark_expected(sensor, 0.0, 10.0, "pour", by="site", time=5.0,
                                          book=book)[0] for sensor in ("s1", "s2")]
    for event in old:
        del event.data["id"]  # as stored before marks had ids
    first, second = AnomalyMonitor(), AnomalyMonitor()
    for event in old:
        first.replay(event)
        second.replay(event)
    ids = {span.id for spans in first.expected.values() for span in spans}
    assert len(ids) == 1 and ids == {span.id for spans in second.expected.values()
                                     for span in spans}
    first.withdraw_expected(ids.pop(), "wrong", by="bo", time=6.0)
    assert first.expected == {}


def test_marking_an_active_alarm_s_anomaly_as_expected_clears_it() -> None:
    rows, times, values = fleet(days=10, jump_day=9.0)
    monitor, book = AnomalyMonitor(clear_after=2 * DAY), AlarmBook()
    run(monitor, book, rows, times, values)
    assert "anomaly:s1" in book.active
    events = monitor.mark_expected(
        "s1",
        1.7e9 + 9 * DAY - 60,
        1.7e9 + 9.5 * DAY,
        "a pour",
        by="site",
        time=1.7e9 + 10 * DAY,
        book=book,
    )
    assert [e.kind for e in events] == ["anomaly_expected", "alarm_cleared"]
    assert events[1].data["clear_message"] == "expected: a pour"
    assert book.active == {}


def test_bad_settings_and_spans_are_refused_and_change_nothing() -> None:
    with pytest.raises(InvalidInput):
        AnomalyMonitor(event_at=0.7, alarm_at=0.5)
    with pytest.raises(InvalidInput):
        AnomalyMonitor(severity="loud")
    monitor = AnomalyMonitor(NoveltyDetector(warmup=3))
    with pytest.raises(InvalidInput, match="later end"):
        monitor.mark_expected("s1", 10.0, 5.0, "x", by="a", time=0.0, book=AlarmBook())
    with pytest.raises(InvalidInput, match="reason"):
        monitor.mark_expected("s1", 1.0, 5.0, "  ", by="a", time=0.0, book=AlarmBook())
    with pytest.raises(InvalidInput, match="one quality a reading"):
        monitor.update_many(
            np.zeros(2, dtype=np.int64),
            np.zeros(2),
            np.zeros(2),
            np.ones(1),
            sensor_ids=["s"],
            book=AlarmBook(),
        )
    assert monitor.expected == {}


def test_a_fleet_s_first_day_is_no_anomaly_for_meeting_each_hour_for_the_first_time() -> None:
    """Every sensor of a new fleet meets each hour of the day for the first time at once,
    and all at the same moment; that is how a first day is, not news (it flooded ingest
    with an event a reading). Three sensors every 10 s, repeating one pattern of values
    for six hours: inside their warm-up, which lasts a day with the hour as context (the
    hour's patterns, and the scores, count a day after it)."""
    seconds = np.arange(int(6 * 3600 / 10)) * 10.0
    times = np.repeat(seconds, 3) + np.tile([0.0, 1.0, 2.0], seconds.size)
    rows = np.tile(np.arange(3), seconds.size).astype(np.int64)
    values = 20.0 + (np.arange(times.size) // 3) % 3
    update = AnomalyMonitor().update_many(rows, 1.7e9 + times, values, np.ones(rows.size),
                                          sensor_ids=SENSORS, book=AlarmBook())
    assert not np.isnan(update.scores[-3:]).any()  # scored by the end
    assert [e for e in update.events if e.kind == "anomaly"] == []


def test_a_sensor_tells_one_anomaly_event_a_quiet_time_and_counts_the_ones_it_keeps() -> None:
    """s1's jump comes with a low quality for its first eight readings (health calls them
    spikes): scored without teaching, they do not start the detector's damping, and each
    is an anomaly. Told, they would be an event a reading; with the quiet time they are
    one event an hour, the next saying how many went untold, and none is lost."""
    rows, times, values = fleet(days=10, jump_day=9.0)
    quality = np.ones(rows.size)
    spikes = np.flatnonzero((rows == 1) & (times - 1.7e9 >= 9 * DAY))[:8]
    quality[spikes] = 0.2
    every = run(AnomalyMonitor(clear_after=2 * DAY, event_quiet=0.0), AlarmBook(), rows, times,
                values, quality)
    monitor = AnomalyMonitor(clear_after=2 * DAY)
    quiet = run(monitor, AlarmBook(), rows, times, values, quality)
    all_anomalies = [e for e in every if e.kind == "anomaly"]
    told = [e for e in quiet if e.kind == "anomaly"]
    assert len(all_anomalies) >= 8
    assert 1 <= len(told) <= 3 < len(all_anomalies)
    assert told[0].time == all_anomalies[0].time  # the anomaly still gets its event, at once
    assert all(b.time - a.time >= 3600 for a, b in pairwise(told))
    # Each one kept is counted: by the next event, or still by its sensor's row.
    kept = sum(e.data["untold"] for e in told) + int(monitor.untold[1])
    assert kept > 0 and len(told) + kept == len(all_anomalies)
    assert told[0].data["untold"] == 0
    # The alarm is raised as without the quiet time: once, by the first anomaly.
    assert [e.data["key"] for e in quiet if e.kind == "alarm_raised"] == ["anomaly:s1"]
    assert [e.time for e in quiet if e.kind == "alarm_raised"] == [
        e.time for e in every if e.kind == "alarm_raised"]


def test_an_anomaly_that_would_raise_its_alarm_is_told_within_the_quiet_time() -> None:
    """A moving z-score over readings that alternate 1, 2 (untrusted probes teach it
    nothing, so each probe's score is set by its distance alone): a mild anomaly is told
    and raises no alarm, a second mild one within the hour is kept, a strong one that
    would raise the alarm is told at once, the next strong one (its alarm active) kept
    but keeping the alarm up; past the quiet time the next is told with the count of
    those kept."""
    detector = ZScoreDetector(warmup=20)
    learned = 200
    base = np.array([1.0, 2.0] * (learned // 2))
    detector.learn_many(np.zeros(learned, dtype=np.int64),
                        {"time": 60.0 * np.arange(learned), "value": base})
    # (Every reading of the alternation is a z-score's anomaly: learned without a monitor.)
    monitor, book = AnomalyMonitor(detector), AlarmBook()
    probes = [(60.0, 1.8), (120.0, 1.8), (180.0, 9.0), (240.0, 9.0), (3800.0, 1.8)]
    start = 60.0 * learned
    told: list[list[str]] = []
    untold: list[int] = []
    for offset, value in probes:
        update = monitor.update_many(np.zeros(1, dtype=np.int64), np.array([start + offset]),
                                     np.array([value]), np.array([0.2]), sensor_ids=["s0"],
                                     book=book)
        told.append([e.kind for e in update.events])
        untold += [e.data["untold"] for e in update.events if e.kind == "anomaly"]
        if offset == 240.0:  # kept, but its alarm's anomaly goes on: the alarm stays
            assert book.active["anomaly:s0"].updated_at == start + offset
    assert told == [["anomaly"], [], ["anomaly", "alarm_raised"], [], ["anomaly"]]
    assert untold == [0, 1, 1]
    assert monitor.untold[0] == 0 and monitor.told_at[0] == start + 3800.0


def test_a_batch_rolled_back_leaves_the_quiet_times_and_the_detector_as_they_were() -> None:
    rows, times, values = fleet(days=10, jump_day=9.0)
    monitor, book = AnomalyMonitor(clear_after=2 * DAY), AlarmBook()
    calm = times - 1.7e9 < 9 * DAY
    run(monitor, book, rows[calm], times[calm], values[calm])
    jump = slice(int(calm.sum()), int(calm.sum()) + 30)
    point = monitor.savepoint(rows[jump])
    detector_before = monitor.detector.save(np.arange(3))
    told_before = dict(monitor.columns(3))
    told_before = {name: column.copy() for name, column in told_before.items()}
    update = monitor.update_many(rows[jump], times[jump], values[jump],
                                 np.full(30, 0.2), sensor_ids=SENSORS, book=book)
    assert update.untold > 0 and monitor.told_at[1] > 0  # the jump told, then kept quiet
    monitor.rollback(point)
    for name, column in monitor.detector.save(np.arange(3)).items():
        assert np.array_equal(column, detector_before[name]), name
    for name, column in monitor.columns(3).items():
        assert np.array_equal(column, told_before[name]), name


def test_a_negative_quiet_time_is_refused() -> None:
    with pytest.raises(InvalidInput):
        AnomalyMonitor(event_quiet=-1.0)


def _learned_fleet(sensors: int, fleet_events: int) -> tuple[AnomalyMonitor, float]:
    """``sensors`` z-score sensors that learned readings alternating 1, 2 a minute; the
    monitor and the time of their last reading."""
    detector = ZScoreDetector(warmup=20)
    learned = 200
    rows = np.repeat(np.arange(sensors, dtype=np.int64), learned)
    times = np.tile(60.0 * np.arange(learned), sensors)
    detector.learn_many(rows, {"time": times, "value": np.tile([1.0, 2.0], rows.size // 2)})
    return AnomalyMonitor(detector, fleet_events=fleet_events), 60.0 * learned


def _all_at_once(monitor: AnomalyMonitor, book: AlarmBook, order: np.ndarray, time: float,
                 value: float):
    """Every sensor of ``order`` reads ``value`` at ``time`` (untrusted: teaching nothing)."""
    names = [f"s{k}" for k in range(order.size)]
    return monitor.update_many(order, np.full(order.size, time), np.full(order.size, value),
                               np.full(order.size, 0.2), sensor_ids=names, book=book)


def test_a_fleet_meeting_something_new_at_once_tells_its_budget_and_one_storm_event() -> None:
    """Fifty sensors leave their usual values in the same minute, twice an hour apart, with
    a budget of ten events an hour: ten anomaly events and one storm event each time; the
    forty kept are counted on their sensors, and told with their count when their sensor
    next tells one."""
    monitor, last = _learned_fleet(50, fleet_events=10)
    book = AlarmBook()
    first = _all_at_once(monitor, book, np.arange(50), last + 60.0, 1.8)
    kinds = [e.kind for e in first.events]
    assert kinds == ["anomaly"] * 10 + ["anomaly_storm"]
    assert (first.untold, first.stormed) == (40, 40)
    storm = first.events[-1]
    assert storm.element_id is None and storm.data["told"] == 10
    assert storm.data["until"] == storm.data["since"] + 3600.0
    assert monitor.untold[10:50].tolist() == [1] * 40 and monitor.untold[:10].sum() == 0
    # An hour on, the fleet's next window: the sensors kept last time come first here.
    again = _all_at_once(monitor, book, np.arange(50)[::-1], last + 3700.0, 1.8)
    told = [e for e in again.events if e.kind == "anomaly"]
    assert [e.data["sensor"] for e in told] == [f"s{k}" for k in range(49, 39, -1)]
    assert [e.data["untold"] for e in told] == [1] * 10
    assert [e.kind for e in again.events].count("anomaly_storm") == 1
    assert not book.active  # mild anomalies: no alarm either time


def test_an_anomaly_that_would_raise_its_alarm_is_told_past_the_fleets_budget() -> None:
    monitor, last = _learned_fleet(30, fleet_events=5)
    book = AlarmBook()
    update = _all_at_once(monitor, book, np.arange(30), last + 60.0, 9.0)
    kinds = [e.kind for e in update.events]
    assert kinds.count("anomaly") == 30 and kinds.count("alarm_raised") == 30
    assert "anomaly_storm" not in kinds and update.stormed == 0
    assert len(book.active) == 30


def test_a_batch_rolled_back_leaves_the_fleets_budget_as_it_was() -> None:
    monitor, last = _learned_fleet(20, fleet_events=8)
    book = AlarmBook()
    point = monitor.savepoint(np.arange(20, dtype=np.int64))
    first = _all_at_once(monitor, book, np.arange(20), last + 60.0, 1.8)
    monitor.rollback(point)
    again = _all_at_once(monitor, book, np.arange(20), last + 60.0, 1.8)
    assert [e.kind for e in again.events] == [e.kind for e in first.events]
    assert [e.kind for e in first.events].count("anomaly") == 8


def test_a_fleet_budget_below_one_is_refused() -> None:
    with pytest.raises(InvalidInput):
        AnomalyMonitor(fleet_events=0)


def test_an_alarms_anomaly_kept_by_the_fleets_budget_keeps_its_alarm_active() -> None:
    """A sensor whose alarm is active reads far off for four hours while the rest of the
    fleet spends each hour's budget first: its anomalies past its quiet time are kept by
    the budget, and they still say the anomaly goes on, as those its quiet time keeps do.
    Before, its alarm was cleared as calm two hours after its last told anomaly, mid-way
    through the anomaly."""
    sensors = 10
    detector = ZScoreDetector(warmup=20)
    rows = np.repeat(np.arange(sensors, dtype=np.int64), 200)
    detector.learn_many(rows, {"time": np.tile(60.0 * np.arange(200), sensors),
                               "value": np.tile([1.0, 2.0], rows.size // 2)})
    monitor = AnomalyMonitor(detector, fleet_events=3, clear_after=2 * 3600.0)
    book = AlarmBook()
    names = [f"s{k}" for k in range(sensors)]
    # s9 last in every batch: the others spend each window's budget before it.
    order = np.arange(sensors, dtype=np.int64)
    values = np.r_[np.full(sensors - 1, 1.8), 9.0]
    first = monitor.update_many(order, np.full(sensors, 12_600.0), values,
                                np.full(sensors, 0.2), sensor_ids=names, book=book)
    assert "anomaly:s9" in book.active and first.stormed > 0
    cleared = []
    for step in range(1, 4 * 6 + 1):  # every ten minutes for four hours
        update = monitor.update_many(order, np.full(sensors, 12_600.0 + 600.0 * step), values,
                                     np.full(sensors, 0.2), sensor_ids=names, book=book)
        cleared += [e for e in update.events if e.kind == "alarm_cleared"]
    assert cleared == [] and "anomaly:s9" in book.active


def test_a_storm_tells_its_running_count_once_a_minute_and_its_final_count_when_it_has_passed(
        ) -> None:
    """The budget's window runs on arrival: fifty sensors leave their values three times
    within two minutes of arrival (their stamps hours apart), with a budget of ten. The
    storm is told at the first batch with its count, not again within the minute, again
    with the count after it, and once ended, with the final count, by the first batch
    that arrives after the window, calm as it is."""
    monitor, last = _learned_fleet(50, fleet_events=10)
    book = AlarmBook()
    order, names = np.arange(50), [f"s{k}" for k in range(50)]

    def arrive(stamp: float, value: float, received: float):
        return monitor.update_many(order, np.full(50, stamp), np.full(50, value),
                                   np.full(50, 0.2), sensor_ids=names, book=book,
                                   received_at=received)

    arrived = 1_800_000_000.0
    first = arrive(last + 60.0, 1.8, arrived)
    (storm,) = [e for e in first.events if e.kind == "anomaly_storm"]
    assert storm.data == {**storm.data, "since": arrived, "until": arrived + 3600.0,
                          "told": 10, "untold": 40}
    # Two and three hours on by their stamps (past each sensor's quiet time), seconds on
    # by arrival: the same window, no event told, the count told once the minute is up.
    second = arrive(last + 2 * 3600.0, 1.8, arrived + 30.0)
    assert [e.kind for e in second.events] == [] and second.stormed == 50
    third = arrive(last + 3 * 3600.0, 1.8, arrived + 90.0)
    (storm,) = third.events
    assert storm.kind == "anomaly_storm" and storm.data["untold"] == 140
    assert storm.data["since"] == arrived and storm.time == arrived + 90.0
    calm = arrive(last + 4 * 3600.0, 1.5, arrived + 3600.0)
    (ended,) = calm.events
    assert ended.kind == "anomaly_storm_ended" and ended.element_id is None
    assert (ended.data["since"], ended.data["told"], ended.data["untold"]) == (arrived, 10, 140)
    assert int(monitor.untold[:50].sum()) == 140  # each counted on its sensor too
    assert arrive(last + 5 * 3600.0, 1.5, arrived + 7300.0).events == []


def test_a_room_read_every_two_seconds_tells_nothing_in_its_first_days_and_then_finds_a_jump(
) -> None:
    # The demo's case: a room read every 2 s learns its range from its first 300 readings,
    # ten minutes of a few tenths of a kelvin, unless the warm-up lasts a day. A daily
    # course of ±2.5 K, four calm days, then a 6 K jump for an hour at noon.
    times, values, jump_at = room_readings(2.0, days=4)
    monitor, book = AnomalyMonitor(), AlarmBook()
    events = []
    for start in range(0, times.size, 1800):  # a batch an hour
        part = slice(start, start + 1800)
        events.extend(monitor.update_many(
            np.zeros(times[part].size, dtype=np.int64), times[part], values[part],
            np.ones(times[part].size), sensor_ids=["room"], book=book).events)
    calm = [e for e in events if e.time < jump_at]
    assert calm == []
    raised = [e for e in events if e.kind == "alarm_raised"]
    assert [e.data["key"] for e in raised] == ["anomaly:room"]
    assert raised[0].time == pytest.approx(jump_at, abs=60.0)
