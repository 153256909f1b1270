"""The scorer on hand-made states: known precision, recall, F1, delays and false alarms."""

from __future__ import annotations

import numpy as np

from twinsync.health.evaluation.faults import Label
from twinsync.health.evaluation.files import Qualities, SensorRow, StateRow
from twinsync.health.evaluation.score import GRACE, MIN_QUALITY, score
from twinsync.service import fusion

DAY = 86_400.0
HOUR = 3_600.0
SPAN = (0.0, 10 * DAY)


def _sensor(sensor_id: str, prop: str = "core_temperature") -> SensorRow:
    return SensorRow(sensor_id, "temperature", "degC", sensor_id[:-1], prop, 300.0, 0.1,
                     "lora-1", sensor_id[:-1])


SENSORS = [_sensor("a1"), _sensor("a2"), _sensor("a3"),
           _sensor("b1", "vibration_rms"), _sensor("b2", "vibration_rms"),
           _sensor("b3", "vibration_rms")]
LABELS = [
    Label("a1", "stuck", 3 * DAY, 3 * DAY + 6 * HOUR, 21.0, "hold"),
    Label("a1", "drift", 5 * DAY, 7 * DAY, 1.5, "linear"),
    Label("b1", "dropout", 4 * DAY, 4 * DAY + 4 * HOUR, 1.0, "all lost"),
    Label("b2", "clock", 6 * DAY, 6 * DAY + 10 * HOUR, -3600.0, "device clock -1 h"),
    Label("b2", "crosswire", 8 * DAY, 9 * DAY, 3.0, "reads the next bay's signal"),
]


def _alarm(when: float, sensor_id: str, state: str, reason: str = "") -> StateRow:
    return StateRow(when, sensor_id, state, 0.1, reason)


PERFECT = [
    _alarm(3 * DAY + HOUR, "a1", "stuck"), _alarm(3 * DAY + 7 * HOUR, "a1", "ok"),
    _alarm(5 * DAY + 12 * HOUR, "a1", "drift"), _alarm(7 * DAY, "a1", "ok"),
    _alarm(4 * DAY + 0.5 * HOUR, "b1", "stale"), _alarm(4 * DAY + 2 * HOUR, "b1", "offline"),
    _alarm(4 * DAY + 4 * HOUR, "b1", "ok"),
    # Dated by the device clock, an hour behind: before the window's start, still in it.
    _alarm(6 * DAY - 0.5 * HOUR, "b2", "stale", "device clock 1 h behind its gateway"),
    _alarm(6 * DAY + 11 * HOUR, "b2", "ok"),
    _alarm(8 * DAY + 3 * HOUR, "b2", "drift"), _alarm(9 * DAY, "b2", "ok"),
]


def test_a_perfect_detector_scores_one_with_its_delays_and_no_false_alarm() -> None:
    result = score(LABELS, PERFECT, SENSORS, span=SPAN)
    kinds = result["kinds"]
    for kind in ("stuck", "drift", "dropout", "clock", "crosswire"):
        assert (kinds[kind]["precision"], kinds[kind]["recall"], kinds[kind]["f1"]) == (
            1.0, 1.0, 1.0), kind
    assert kinds["stuck"]["median_delay_h"] == 1.0
    assert kinds["drift"]["median_delay_h"] == 12.0
    assert kinds["dropout"]["median_delay_h"] == 0.5
    assert kinds["clock"]["median_delay_h"] == 0.0     # dated before its start: no delay
    assert kinds["crosswire"]["median_delay_h"] == 3.0
    assert kinds["spike"]["faults"] == 0 and kinds["spike"]["f1"] is None
    false = result["false_alarms"]
    assert false["on_fault_free_sensors"] == 0 and false["per_100_fault_free_sensor_days"] == 0
    assert result["states"]["offline"] == {"alarms": 1, "detects": 0, "repeat": 1,
                                           "fault-free": 0, "outside": 0, "wrong kind": 0}
    assert result["run"]["fault_free_sensors"] == 3 and result["run"]["days"] == 10
    assert result["missed"] == []


def test_an_always_alarming_detector_has_many_false_alarms_per_fault_free_sensor_day() -> None:
    states = [_alarm(hour * HOUR, sensor.sensor_id, state)
              for hour in range(240) for sensor in SENSORS
              for state in (("noisy", "ok") if hour % 2 == 0 else ("stale", "ok"))]
    result = score(LABELS, states, SENSORS, span=SPAN)
    false = result["false_alarms"]
    # Three fault-free sensors, each alarming once an hour for ten days.
    assert false["on_fault_free_sensors"] == 3 * 240
    assert false["per_100_fault_free_sensor_days"] == 100 * 720 / 30
    assert false["fault_free_by_state"] == {"noisy": 360, "stale": 360}
    # The dropout is found at once (its first hour's stale alarm), the rest are false.
    dropout = result["kinds"]["dropout"]
    assert dropout["recall"] == 1.0 and dropout["median_delay_h"] == 1.0
    assert dropout["precision"] is not None and dropout["precision"] < 0.01
    assert result["kinds"]["stuck"]["recall"] == 0.0 and result["kinds"]["stuck"]["f1"] == 0.0
    assert [(m["sensor_id"], m["kind"], m["signal"]) for m in result["missed"]] == [
        ("a1", "stuck", "slab"), ("a1", "drift", "slab"), ("b2", "clock", "vibration"),
        ("b2", "crosswire", "vibration")]
    # Per signal type: the vibration sensors' share only.
    assert result["signals"]["vibration"]["false_alarms"]["on_fault_free_sensors"] == 240
    assert result["signals"]["slab"]["false_alarms"]["on_fault_free_sensors"] == 480


def test_an_alarm_of_the_wrong_state_in_a_window_is_false_and_a_late_one_is_outside() -> None:
    states = [_alarm(3 * DAY + HOUR, "a1", "noisy"),                 # in the stuck window
              _alarm(3 * DAY + 6 * HOUR + GRACE + 60, "a1", "stuck"),  # past the grace
              _alarm(5 * DAY + HOUR, "a1", "drift"), _alarm(5 * DAY + 2 * HOUR, "a1", "drift")]
    result = score(LABELS, states, SENSORS, span=SPAN)
    assert result["false_alarms"]["in_a_window_of_a_state_it_does_not_accept"] == 1
    assert result["false_alarms"]["on_faulty_sensors_outside_windows"] == 1
    stuck = result["kinds"]["stuck"]
    assert (stuck["detected"], stuck["false_alarms"], stuck["precision"]) == (0, 1, 0.0)
    assert result["kinds"]["noise"]["false_alarms"] == 1
    drift = result["kinds"]["drift"]    # the second drift alarm is a repeat, not false
    assert (drift["detected"], drift["false_alarms"], drift["f1"]) == (1, 0, 1.0)


def test_a_stale_sensor_does_not_detect_a_clock_fault_unless_its_reason_names_the_clock(
        ) -> None:
    states = [_alarm(6 * DAY + HOUR, "b2", "stale", "no reading for 1.0 h")]
    result = score(LABELS, states, SENSORS, span=SPAN)
    assert result["kinds"]["clock"]["recall"] == 0.0
    assert result["false_alarms"]["in_a_window_of_a_state_it_does_not_accept"] == 1
    # Kinds that share a state share its false alarms: one stray drift counts against all
    # three kinds a drift state would detect.
    stray = score(LABELS, [_alarm(DAY, "a2", "drift")], SENSORS, span=SPAN)["kinds"]
    assert [stray[k]["false_alarms"] for k in ("drift", "offset", "crosswire", "clock")] == [
        1, 1, 1, 0]


def test_a_clock_state_detects_a_clock_fault_whatever_its_reason() -> None:
    states = [_alarm(6 * DAY + HOUR, "b2", "clock", "stamps an hour late")]
    clock = score(LABELS, states, SENSORS, span=SPAN)["kinds"]["clock"]
    assert (clock["detected"], clock["false_alarms"], clock["recall"]) == (1, 0, 1.0)


def test_qualities_give_the_share_of_faulty_readings_below_the_fusion_threshold() -> None:
    assert MIN_QUALITY == fusion.MIN_QUALITY
    # a1 every 15 min over the stuck window: quality 1 until the alarm at +1 h, 0.1 after.
    times = 3 * DAY + np.arange(0, 6 * HOUR + 1, 900.0)
    quality = np.where(times >= 3 * DAY + HOUR, 0.1, 1.0)
    clean_times = np.arange(0, 10 * DAY, 3600.0)
    clean_quality = np.where(np.arange(len(clean_times)) % 10 == 0, 0.2, 1.0)
    qualities = Qualities(["a1", "a2"], np.array([0] * len(times) + [1] * len(clean_times)),
                          np.concatenate([times, clean_times]),
                          np.concatenate([quality, clean_quality]))
    result = score(LABELS, PERFECT, SENSORS, qualities, span=SPAN)["quality"]
    stuck = result["kinds"]["stuck"]
    assert stuck["readings_in_windows"] == 25 and stuck["low_share_in_windows"] == 0.84
    assert stuck["readings_after_named"] == 21 and stuck["low_share_after_named"] == 1.0
    assert result["fault_free_readings"] == 240 and result["fault_free_low_share"] == 0.1
    assert result["kinds"]["dropout"]["low_share_in_windows"] is None  # no reading in it


def test_alarms_after_the_sets_end_are_counted_and_not_scored() -> None:
    """The set's sensors stop together at its end while a gateway's buffer still arrives
    minutes later: the silence the replay's clock then sees is the data set's end."""
    end = SPAN[1]
    states = [*PERFECT, *[_alarm(end + 180.0, sensor.sensor_id, "stale")
                          for sensor in SENSORS]]
    result = score(LABELS, states, SENSORS, span=SPAN)
    assert result["run"]["alarms_after_end"] == len(SENSORS)
    assert result["false_alarms"]["on_fault_free_sensors"] == 0
    assert result["kinds"]["dropout"]["precision"] == 1.0
    # Without the set's period the states' own span is scored, all of it.
    assert score(LABELS, states, SENSORS)["run"]["alarms_after_end"] == 0
