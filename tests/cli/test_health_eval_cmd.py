"""``health generate`` and ``health score`` as command functions: a generated site scored
with states made from its own labels (a perfect detector) and from an alarming one."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import pytest

from twinsync.cli import health_eval_cmd
from twinsync.errors import InvalidInput
from twinsync.health.evaluation.files import STATE_COLUMNS, read_labels, read_sensors
from twinsync.health.evaluation.score import ACCEPTED_STATES


def _parse(add: object, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add(parser)  # type: ignore[operator]
    return parser.parse_args(argv)


def _write_states(path: Path, rows: list[tuple[float, str, str, str]]) -> None:
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(STATE_COLUMNS)
        writer.writerows((when, sensor, state, 0.1, reason) for when, sensor, state, reason
                         in rows)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    args = _parse(health_eval_cmd.add_generate_arguments,
                  ["--part", "tune", "--seed", "4", "--days", "7", "--sensors", "60",
                   "--out", str(folder)])
    assert health_eval_cmd.run_generate(args) == 0
    return folder


def _score(site: Path, states: Path, capsys: pytest.CaptureFixture[str],
           qualities: Path | None = None) -> dict[str, object]:
    more = ["--qualities", str(qualities)] if qualities else []
    args = _parse(health_eval_cmd.add_score_arguments,
                  ["--labels", str(site / "LABELS.csv"), "--sensors", str(site / "SENSORS.csv"),
                   "--states", str(states), "--json", *more])
    capsys.readouterr()
    assert health_eval_cmd.run_score(args) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    result: dict[str, object] = json.loads(last)
    return result


def test_states_made_from_the_labels_score_f1_one_on_every_kind(
        site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labels = read_labels(site / "LABELS.csv")
    assert labels
    rows = []
    for label in labels:
        state = (ACCEPTED_STATES[label.kind] or ("stale",))[0]
        rows.append((label.start + 60.0, label.sensor_id, state, "device clock jumped"))
        rows.append((label.end + 60.0, label.sensor_id, "ok", ""))
    _write_states(tmp_path / "STATES.csv", rows)
    # Every reading at quality 0.3: all below the fusion threshold, in windows and out.
    with (site / "READINGS.csv").open(newline="") as source, \
            (tmp_path / "QUALITIES.csv").open("w") as out:
        out.write("sensor_id,time,quality\n")
        out.writelines(f"{row['sensor_id']},{row['time']},0.3\n"
                       for row in csv.DictReader(source))
    result = _score(site, tmp_path / "STATES.csv", capsys, tmp_path / "QUALITIES.csv")
    quality = result["quality"]
    assert isinstance(quality, dict) and quality["fault_free_low_share"] == 1.0
    assert quality["kinds"]["stuck"]["low_share_in_windows"] == 1.0
    kinds = result["kinds"]
    assert isinstance(kinds, dict)
    for kind in {label.kind for label in labels}:
        assert kinds[kind]["f1"] == 1.0, kind
        assert kinds[kind]["median_delay_h"] == round(60 / 3600, 2)
    assert result["run"]["days"] == 7  # type: ignore[index]


def test_an_alarm_every_hour_on_every_sensor_is_many_false_alarms(
        site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sensors = read_sensors(site / "SENSORS.csv")
    start = json.loads((site / "SITE.json").read_text())["start"]
    rows = [(start + hour * 3600.0, sensor.sensor_id, state, "noise 3.0x its usual level")
            for hour in range(7 * 24) for sensor in sensors for state in ("noisy", "ok")]
    _write_states(tmp_path / "STATES.csv", rows)
    result = _score(site, tmp_path / "STATES.csv", capsys)
    false = result["false_alarms"]
    assert isinstance(false, dict)
    # One alarm an hour is 2,400 per 100 sensor-days.
    assert false["per_100_fault_free_sensor_days"] == 2400.0
    assert false["fault_free_by_cause"] == [["noise #x its usual level",
                                             false["on_fault_free_sensors"]]]


def test_a_missing_file_is_an_error_with_its_name(site: Path, tmp_path: Path) -> None:
    args = _parse(health_eval_cmd.add_score_arguments,
                  ["--labels", str(site / "LABELS.csv"), "--sensors", str(site / "SENSORS.csv"),
                   "--states", str(tmp_path / "nope.csv")])
    with pytest.raises(InvalidInput, match=r"nope\.csv"):
        health_eval_cmd.run_score(args)
