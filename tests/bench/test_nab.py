"""``bench nab`` runs the health monitor over labelled series and counts what it says where."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from twinsync.bench.nab import A_FN, A_FP, nab_score

STEP = 900.0
START = datetime(2024, 1, 1, tzinfo=UTC).timestamp()


def stamp(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S")


def write_series(folder: Path, name: str, times: np.ndarray, values: np.ndarray) -> None:
    path = folder / "data" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = (f"{stamp(t)},{v:.3f}" for t, v in zip(times, values, strict=True))
    lines = ["timestamp,value", *rows]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def nab_folder(tmp_path: Path) -> Path:
    """Two sensors' worth of a noisy daily cycle, five days at 15 minutes: one with a spike
    inside its labelled window, one that falls silent for six hours and has no window."""
    rng = np.random.default_rng(11)
    steps = 480
    times = START + np.arange(steps) * STEP
    cycle = 20 + 2 * np.sin(2 * np.pi * np.arange(steps) / 96)
    spiky = cycle + rng.normal(0, 0.05, steps)
    spiky[400] += 3.0
    write_series(tmp_path, "withAnomaly/spike.csv", times, spiky)
    quiet = cycle + rng.normal(0, 0.05, steps)
    kept = np.r_[0:300, 324:steps]
    write_series(tmp_path, "noAnomaly/silence.csv", times[kept], quiet[kept])
    (tmp_path / "combined_windows.json").write_text(json.dumps({
        "withAnomaly/spike.csv": [[stamp(times[380]), stamp(times[420])]],
        "noAnomaly/silence.csv": [],
        "missing/not_there.csv": []}))
    return tmp_path


def run_bench(folder: Path) -> dict:  # type: ignore[type-arg]
    result = subprocess.run([sys.executable, "-m", "twinsync", "bench", "nab", "--data",
                             str(folder), "--json"], capture_output=True, text=True,
                            check=True, timeout=300)
    figures: dict = json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[type-arg]
    return figures


def test_a_spike_in_its_window_is_found_and_a_silence_outside_any_is_a_false_alarm(
        nab_folder: Path) -> None:
    figures = run_bench(nab_folder)
    assert figures["bench"] == "nab"
    by_name = {s["series"]: s for s in figures["series"]}
    assert set(by_name) == {"withAnomaly/spike.csv", "noAnomaly/silence.csv"}
    spike = by_name["withAnomaly/spike.csv"]
    assert (spike["windows"], spike["windows_with_non_ok"], spike["nab_windows_detected"]) \
        == (1, 1, 1)
    assert spike["episodes_by_state"].get("spike", 0) >= 1
    silence = by_name["noAnomaly/silence.csv"]
    assert silence["episodes_by_state"].get("stale", 0) + silence["episodes_by_state"].get(
        "offline", 0) >= 1
    assert silence["false_episodes"] == silence["episodes"] >= 1
    assert silence["false_per_1000"] == pytest.approx(
        1000 * silence["false_episodes"] / silence["readings"], abs=1e-3)
    total = figures["total"]
    assert total["readings"] == 480 + 456 and total["windows"] == 1
    assert total["window_recall"] == 1.0
    assert total["false_episodes"] == sum(s["false_episodes"] for s in figures["series"])


def test_nab_scores_the_earliest_detection_in_a_window_and_charges_misses_and_false_ones(
        ) -> None:
    times = np.arange(1000, dtype=np.float64)
    windows = [(500.0, 600.0)]
    assert nab_score(times, windows, []) == (0, -A_FN)
    found, score = nab_score(times, windows, [500, 550])
    assert found == 1 and score == pytest.approx(1.0)  # at the left edge: the full reward
    late_found, late = nab_score(times, windows, [599])
    assert late_found == 1 and 0 < late < 0.1
    # Before the first window: the full false-positive cost, and the miss.
    assert nab_score(times, windows, [300]) == (0, pytest.approx(-A_FP - A_FN))
    # In the probationary first 15 %: not scored at all.
    assert nab_score(times, windows, [100]) == (0, -A_FN)
