"""The generated site: the replay's columns, sensors the model accepts, labels that say what
was injected, and a holdout part drawn from other parameters."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from tests.health.evaluation.readings import Readings

from twinsync.health.evaluation import HOLDOUT, TUNE, generate
from twinsync.health.evaluation.files import (
    LABEL_COLUMNS,
    READING_COLUMNS,
    SENSOR_COLUMNS,
    read_labels,
    read_sensors,
)
from twinsync.health.evaluation.params import SIGNAL_TYPES, differing_fields, parameter_table
from twinsync.model import Sensor
from twinsync.pipeline.ranges import bounds_in

CLOCK_ERROR = 2.0  # a device's own clock is off by up to 2 s


def _header(path: Path) -> tuple[str, ...]:
    with path.open(newline="") as source:
        return tuple(next(csv.reader(source)))


def test_the_files_have_exactly_the_replay_columns(tune_site: Path) -> None:
    assert _header(tune_site / "SENSORS.csv") == SENSOR_COLUMNS
    assert _header(tune_site / "READINGS.csv") == READING_COLUMNS
    assert _header(tune_site / "LABELS.csv") == LABEL_COLUMNS
    assert SENSOR_COLUMNS == ("sensor_id", "kind", "unit", "element_id", "property",
                              "expected_interval_s", "resolution", "source", "group")
    assert READING_COLUMNS == ("received_at", "source", "sensor_id", "time", "value", "seq")
    site = json.loads((tune_site / "SITE.json").read_text())
    assert site["end"] - site["start"] == 10 * 86_400


def test_every_sensor_is_one_the_model_accepts_and_every_signal_type_is_there(
        tune_site: Path, tune_readings: Readings) -> None:
    sensors = read_sensors(tune_site / "SENSORS.csv")
    for row in sensors:
        Sensor(row.sensor_id, row.kind, row.unit, row.expected_interval_s,
               row.resolution).check()
        assert 60 <= row.expected_interval_s <= 900
    assert {row.property for row in sensors} == {
        "core_temperature", "air_temperature", "relative_humidity", "axial_strain",
        "outdoor_temperature", "vibration_rms"}
    assert len(SIGNAL_TYPES) == 6
    sizes = [sum(r.group == g for r in sensors) for g in {r.group for r in sensors}]
    assert min(sizes) >= 3 and max(sizes) <= 5
    # No reading lies outside what its kind can physically read (it would not be scored).
    for row in sensors:
        bounds = bounds_in(row.kind, row.unit)
        values = tune_readings.value[tune_readings.of(row.sensor_id)]
        assert len(values) > 0
        if bounds is not None:
            assert bounds[0] <= values.min() and values.max() <= bounds[1]


def test_readings_come_in_arrival_order_and_values_are_quantised(
        tune_site: Path, tune_readings: Readings) -> None:
    assert np.all(np.diff(tune_readings.received) >= 0)
    for row in read_sensors(tune_site / "SENSORS.csv"):
        values = tune_readings.value[tune_readings.of(row.sensor_id)]
        steps = values / row.resolution
        assert np.allclose(steps, np.round(steps), atol=1e-6), row.sensor_id


def test_many_sensors_are_fault_free_and_faults_come_in_every_kind(tune_site: Path) -> None:
    labels = read_labels(tune_site / "LABELS.csv")
    sensors = read_sensors(tune_site / "SENSORS.csv")
    assert len({label.sensor_id for label in labels}) < len(sensors) / 2
    assert {label.kind for label in labels} == {
        "stuck", "drift", "spike", "noise", "dropout", "offset", "crosswire", "clock"}
    assert all(label.start >= json.loads((tune_site / "SITE.json").read_text())["start"]
               + TUNE.first_fault_day * 86_400 for label in labels)


def test_a_stuck_fault_is_constant_in_its_window_or_flickers_by_one_resolution(
        tune_site: Path, tune_readings: Readings) -> None:
    resolution = {r.sensor_id: r.resolution for r in read_sensors(tune_site / "SENSORS.csv")}
    stuck = [label for label in read_labels(tune_site / "LABELS.csv") if label.kind == "stuck"]
    assert stuck
    for label in stuck:
        mine = tune_readings.of(label.sensor_id)
        inside = (mine & (tune_readings.time >= label.start - CLOCK_ERROR)
                  & (tune_readings.time <= label.end + CLOCK_ERROR))
        values = tune_readings.value[inside]
        assert len(values) >= 2
        if label.detail == "flicker":
            assert set(np.round(values - label.magnitude, 6)) <= {0.0, round(
                resolution[label.sensor_id], 6)}
        else:
            assert np.all(values == label.magnitude), label
        after = tune_readings.value[mine & (tune_readings.time > label.end + CLOCK_ERROR)]
        assert len(set(after[:20].tolist())) > 1  # it moves again afterwards


def test_a_clock_fault_shifts_time_and_leaves_received_at_alone(
        tune_site: Path, tune_readings: Readings) -> None:
    clock = [label for label in read_labels(tune_site / "LABELS.csv") if label.kind == "clock"]
    assert {label.magnitude for label in clock} <= set(TUNE.clock_shifts_s)
    for label in clock:
        mine = tune_readings.of(label.sensor_id)
        lag = tune_readings.time[mine] - tune_readings.received[mine]
        shifted = np.abs(lag - label.magnitude) < 700  # delivery takes up to 10 min
        true_time = np.where(shifted, tune_readings.time[mine] - label.magnitude,
                             tune_readings.time[mine])
        # received_at follows the true time, shifted stamps or not ...
        assert np.all(np.abs(tune_readings.received[mine] - true_time) < 700)
        # ... and the stamps are off by the shift exactly inside the labelled window.
        inside = (true_time >= label.start - CLOCK_ERROR) & (true_time <= label.end + CLOCK_ERROR)
        assert np.array_equal(shifted, inside), label
        assert inside.sum() >= 1


def test_a_dropout_loses_readings_and_the_sequence_numbers_show_the_gap(
        tune_site: Path, tune_readings: Readings) -> None:
    dropouts = [label for label in read_labels(tune_site / "LABELS.csv")
                if label.kind == "dropout"]
    interval = {r.sensor_id: r.expected_interval_s
                for r in read_sensors(tune_site / "SENSORS.csv")}
    assert dropouts
    for label in dropouts:
        mine = tune_readings.of(label.sensor_id)
        inside = mine & (tune_readings.time >= label.start - CLOCK_ERROR) & (
            tune_readings.time <= label.end + CLOCK_ERROR)
        made = (label.end - label.start) / interval[label.sensor_id] + 1
        assert inside.sum() == round(made * (1 - label.magnitude))
        seq = [tune_readings.seq[i] for i in np.flatnonzero(mine)]
        if seq[0] != "":
            numbers = np.array([int(s) for s in seq])
            assert np.sort(numbers)[-1] + 1 - len(numbers) >= round(made * label.magnitude)


def test_the_same_seed_writes_the_same_files_and_another_seed_does_not(tmp_path: Path) -> None:
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        generate("holdout", seed, 4.0, tmp_path / name, sensors=30)
    first = (tmp_path / "a" / "READINGS.csv").read_bytes()
    assert first == (tmp_path / "b" / "READINGS.csv").read_bytes()
    assert first != (tmp_path / "c" / "READINGS.csv").read_bytes()


def test_holdout_is_drawn_from_other_parameters_than_tune(holdout_site: Path) -> None:
    differ = set(differing_fields(TUNE, HOLDOUT))
    for name in ("start", "stream", "noise", "resolution", "intervals_s", "group_size_weights",
                 "slab_peak_hours", "door_tau_min", "strain_step", "front_hours",
                 "vibration_burst", "drift_total_sd", "drift_days", "spike_sd", "noise_factor",
                 "stuck_hours", "dropout_hours", "clock_shifts_s", "offset_sd"):
        assert name in differ, name
    table = parameter_table()
    assert table.count("\n") == len(TUNE.__slots__)  # a header, a rule, all but the name
    # The generated holdout sensors follow the holdout parameters.
    for row in read_sensors(holdout_site / "SENSORS.csv"):
        assert row.expected_interval_s in HOLDOUT.intervals_s
        assert row.resolution in HOLDOUT.resolution[_signal(row.property)]


def _signal(prop: str) -> str:
    return {"core_temperature": "slab", "air_temperature": "room_temperature",
            "relative_humidity": "room_humidity", "axial_strain": "strain",
            "outdoor_temperature": "outdoor", "vibration_rms": "vibration"}[prop]


def test_the_coarse_tune_part_is_the_tune_site_read_by_coarser_sensors(tmp_path: Path) -> None:
    for part in ("tune", "tune-coarse"):
        generate(part, 5, 2.0, tmp_path / part, sensors=30)
    fine = {row.sensor_id: row for row in read_sensors(tmp_path / "tune" / "SENSORS.csv")}
    coarse = {row.sensor_id: row for row in read_sensors(tmp_path / "tune-coarse" / "SENSORS.csv")}
    assert fine.keys() == coarse.keys()
    assert all(coarse[s].resolution >= 2 * fine[s].resolution for s in fine)
    faults = {part: [(label.sensor_id, label.kind)
                     for label in read_labels(tmp_path / part / "LABELS.csv")]
              for part in ("tune", "tune-coarse")}
    assert faults["tune"] == faults["tune-coarse"]
    # The same readings at the same times, each within the coarse resolution of the fine one.
    fine_readings = Readings(tmp_path / "tune" / "READINGS.csv")
    coarse_readings = Readings(tmp_path / "tune-coarse" / "READINGS.csv")
    assert np.array_equal(fine_readings.time, coarse_readings.time)
    steps = np.array([coarse[s].resolution for s in coarse_readings.sensor])
    assert np.all(np.abs(coarse_readings.value - fine_readings.value) <= steps)
