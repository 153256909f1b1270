"""NAB series become one replay folder each: a stuck window becomes a stuck label, a series
with no window a fault-free sensor, and the values and times come through unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from twinsync.errors import InvalidInput
from twinsync.health.evaluation.files import StateRow, read_labels, read_sensors
from twinsync.health.evaluation.nab import SERIES, convert
from twinsync.health.evaluation.score import score

START = datetime(2014, 4, 1, tzinfo=UTC).timestamp()
STEP = 300.0


def _stamp(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S")


@pytest.fixture
def nab_folder(tmp_path: Path) -> Path:
    times = START + np.arange(2 * 288) * STEP
    values = np.where((times - START) % 86_400 < 43_200, 20.0, 80.0)
    values[300:360] = 40.0
    for name, series in (("art_daily_flatmiddle", values), ("art_noisy", values + 0.5)):
        path = tmp_path / "data" / SERIES[name].path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("timestamp,value\n" + "".join(
            f"{_stamp(t)},{v}\n" for t, v in zip(times, series, strict=True)))
    (tmp_path / "combined_windows.json").write_text(json.dumps({
        SERIES["art_daily_flatmiddle"].path: [[_stamp(times[290]), _stamp(times[370])]],
        SERIES["art_noisy"].path: []}))
    return tmp_path


def test_a_series_becomes_a_sensor_its_readings_and_its_labelled_window(
        nab_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert convert(nab_folder, out, ["art_daily_flatmiddle", "art_noisy"]) == {
        "art_daily_flatmiddle": 576, "art_noisy": 576}
    sensors = read_sensors(out / "art_daily_flatmiddle" / "SENSORS.csv")
    assert [(s.sensor_id, s.kind, s.unit, s.expected_interval_s) for s in sensors] == [
        ("art_daily_flatmiddle", "temperature", "degC", STEP)]
    labels = read_labels(out / "art_daily_flatmiddle" / "LABELS.csv")
    assert [(label.kind, label.start, label.end) for label in labels] == [
        ("stuck", START + 290 * STEP, START + 370 * STEP)]
    assert read_labels(out / "art_noisy" / "LABELS.csv") == []
    lines = (out / "art_daily_flatmiddle" / "READINGS.csv").read_text().splitlines()
    assert lines[0] == "received_at,source,sensor_id,time,value,seq"
    assert lines[301] == f"{START + 300 * STEP:.3f},nab,art_daily_flatmiddle," \
                         f"{START + 300 * STEP:.3f},40.0,"
    site = json.loads((out / "art_noisy" / "SITE.json").read_text())
    assert site["days"] == 2.0 and site["fault_free_sensors"] == 1
    # The files score: a stuck alarm an hour into the flat stretch detects the window.
    found = score(labels, [StateRow(START + 312 * STEP, "art_daily_flatmiddle", "stuck", 0.1,
                                    "")], sensors, span=(site["start"], site["end"]))
    assert found["kinds"]["stuck"]["f1"] == 1.0


def test_a_series_without_a_conversion_is_refused(nab_folder: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="nyc_taxi"):
        convert(nab_folder, tmp_path / "out", ["nyc_taxi"])
