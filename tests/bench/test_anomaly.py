"""``bench anomaly`` runs a detector over a labelled corpus, writes NAB's results files and
prints the three profiles' scores."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from twinsync.analytics.novelty import NoveltyDetector

STEP = 300.0
START = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
ROWS = 2000


def stamp(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S")


def write_series(folder: Path, name: str, values: np.ndarray) -> None:
    path = folder / "data" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    times = START + np.arange(values.size) * STEP
    rows = (f"{stamp(t)},{v:.3f}" for t, v in zip(times, values, strict=True))
    path.write_text("\n".join(["timestamp,value", *rows]) + "\n")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A daily cycle with a level shift inside its window, and a plain cycle."""
    rng = np.random.default_rng(3)
    cycle = 20 + 5 * np.sin(2 * np.pi * np.arange(ROWS) * STEP / 86_400)
    shifted = cycle + rng.normal(0, 0.2, ROWS)
    shifted[1500:] += 30.0
    write_series(tmp_path, "withAnomaly/shift.csv", shifted)
    write_series(tmp_path, "noAnomaly/plain.csv", cycle + rng.normal(0, 0.2, ROWS))
    times = START + np.arange(ROWS) * STEP
    labels = {
        "withAnomaly/shift.csv": [[stamp(times[1400]) + ".000000", stamp(times[1599]) + ".000000"]],
        "noAnomaly/plain.csv": [],
    }
    (tmp_path / "combined_windows.json").write_text(json.dumps(labels))
    return tmp_path


def run_bench(folder: Path, out: Path, *more: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "twinsync",
            "bench",
            "anomaly",
            "--corpus",
            str(folder / "data"),
            "--labels",
            str(folder / "combined_windows.json"),
            "--out",
            str(out),
            *more,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_bench_writes_nab_results_and_prints_each_profile_s_score(
    corpus: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = run_bench(corpus, out, "--json")
    assert result.returncode == 0, result.stderr
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["bench"] == "anomaly" and figures["detector"] == "novelty"
    assert (figures["files"], figures["readings"], figures["windows"]) == (2, 2 * ROWS, 1)
    # The shift is found at its start, 100 rows into a 200-row window, and nothing else
    # fires: sigma(-0.5) / sigma(-1) of the perfect score, under every profile.
    for profile in ("standard", "reward_low_FP", "reward_low_FN"):
        assert figures[profile] == figures["profiles"][profile]["score"]
        assert figures["profiles"][profile]["windows_found"] == 1
    assert figures["profiles"]["standard"]["false_detections"] == 0

    written = out / "results" / "novelty" / "withAnomaly" / "novelty_shift.csv"
    with written.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["timestamp", "value", "anomaly_score", "label"]
    assert len(rows) == ROWS
    assert [int(r["label"]) for r in rows] == [0] * 1400 + [1] * 200 + [0] * 400
    source = (corpus / "data" / "withAnomaly" / "shift.csv").read_text().splitlines()[1:]
    assert [f"{r['timestamp']},{r['value']}" for r in rows] == source
    assert (out / "results" / "novelty" / "noAnomaly" / "novelty_plain.csv").is_file()


def test_the_written_scores_are_the_detector_s_one_pass_over_the_file(
    corpus: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert run_bench(corpus, out).returncode == 0
    with (out / "results/novelty/withAnomaly/novelty_shift.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    values = np.array([float(r["value"]) for r in rows])
    times = START + np.arange(ROWS) * STEP
    expected = NoveltyDetector().learn_many(
        np.zeros(ROWS, dtype=np.int64), {"time": times, "value": values}
    )
    written = np.array([float(r["anomaly_score"]) for r in rows])
    assert np.allclose(written, expected, atol=1e-6)
    assert written[1500] > 0.5 and written[1500:].max() == written[1500]


def test_a_labelled_file_missing_from_the_corpus_is_a_clear_error(
    corpus: Path, tmp_path: Path
) -> None:
    (corpus / "data" / "noAnomaly" / "plain.csv").unlink()
    result = run_bench(corpus, tmp_path / "out")
    assert result.returncode != 0
    assert "noAnomaly/plain.csv: labelled but not found" in result.stderr
    assert not (tmp_path / "out").exists()


def test_the_speed_bench_times_the_readings_it_was_asked_for() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "twinsync",
            "bench",
            "anomaly-speed",
            "--sensors",
            "50",
            "--per-sensor",
            "10",
            "--batch",
            "100",
            "--readings",
            "5000",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["bench"] == "anomaly-speed" and figures["detector"] == "novelty"
    assert (figures["sensors"], figures["batch"], figures["readings"]) == (50, 100, 5000)
    assert figures["state_bytes_per_sensor"] == NoveltyDetector().row_bytes > 512
    assert figures["microseconds_per_reading"] > 0
    assert figures["scored_above_zero"] > 0  # past the day-long warm-up: scored
