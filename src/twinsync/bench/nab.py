"""``twinsync bench nab``: the health monitor over labelled real-world series, as a sanity check.

Reads a Numenta Anomaly Benchmark-style folder (``data/<category>/<name>.csv`` with columns
``timestamp,value``, and ``combined_windows.json`` giving each file's labelled anomaly
windows) and runs the real ``HealthMonitor`` over each series as one sensor: no peers and no
model (so no drift), interval and resolution learned, ``tick`` at every reading's arrival
so a silence shows as stale or offline. It reports, per series and in total:

- windows with a non-ok health state in them (any non-ok episode overlapping the window);
- non-ok episodes (a run of non-ok states from leaving ok to coming back) that fall outside
  every window, per 1,000 readings;
- NAB's window recall and its standard-profile normalised score, with an episode's start
  as a detection (score 1 at that row, 0 elsewhere), detections in the probationary first
  15 % (at most 750 rows) ignored, as NAB scores them.

This is a check that the monitor says sensible things about data it was not built for, not
a target: the health checks answer "is this sensor failing?", not "is this value unusual?",
and their parameters are not tuned to these series.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..health import HealthMonitor

#: NAB's standard profile: reward of an early true positive, cost of a miss and of a false one.
A_TP, A_FN, A_FP = 1.0, 1.0, 0.11
#: NAB's probationary period: the first 15 % of a file, at most 750 rows, is not scored.
PROBATION_FRACTION, PROBATION_MAX = 0.15, 750


@dataclass(slots=True)
class SeriesResult:
    series: str
    readings: int
    windows: int
    windows_with_non_ok: int
    episodes: int
    false_episodes: int
    false_per_1000: float
    episodes_by_state: dict[str, int]
    nab_windows_detected: int
    nab_raw_score: float


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True,
                        help="folder with data/<category>/<name>.csv and combined_windows.json")


def run(args: argparse.Namespace) -> dict[str, Any]:
    folder: Path = args.data
    windows_of: dict[str, list[list[str]]] = json.loads(
        (folder / "combined_windows.json").read_text())
    results = []
    for name in sorted(windows_of):
        path = folder / "data" / name
        if not path.is_file():
            continue
        times, values = read_series(path)
        windows = [(parse_time(start), parse_time(end)) for start, end in windows_of[name]]
        results.append(score_series(name, times, values, windows))
    if not results:
        raise SystemExit(f"no series of combined_windows.json found under {folder / 'data'}")
    if not args.json:
        _print(results)
    return {"series": [asdict(r) for r in results], "total": _total(results)}


def read_series(path: Path) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Event times (epoch seconds, UTC) and values of one ``timestamp,value`` file."""
    times, values = [], []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            times.append(parse_time(row["timestamp"]))
            values.append(float(row["value"]))
    return np.array(times, dtype=np.float64), np.array(values, dtype=np.float64)


def parse_time(text: str) -> float:
    return datetime.fromisoformat(text.strip()).replace(tzinfo=UTC).timestamp()


def episodes_of(times: NDArray[np.float64],
                values: NDArray[np.float64]) -> list[tuple[float, float, str, int]]:
    """(start, end, first state, row of the reading at or after the start) of every non-ok
    episode the monitor goes through over one series; an episode still open at the end
    ends at the last reading."""
    monitor = HealthMonitor()
    row = np.zeros(1, dtype=np.int64)
    episodes: list[tuple[float, float, str, int]] = []
    start, first, at = math.nan, "", 0
    for index in range(times.size):
        # The timer, as the service runs it: a silence shows before the next reading.
        changes = [*monitor.tick(float(times[index])),
                   *monitor.update_many(row, values[index:index + 1], times[index:index + 1])]
        for change in changes:
            if change.old == "ok" and change.new != "ok":
                start, first, at = change.since, change.new, index
            elif change.new == "ok" and change.old != "ok" and not math.isnan(start):
                episodes.append((start, change.since, first, at))
                start = math.nan
    if not math.isnan(start):
        episodes.append((start, float(times[-1]), first, at))
    return episodes


def score_series(name: str, times: NDArray[np.float64], values: NDArray[np.float64],
                 windows: list[tuple[float, float]]) -> SeriesResult:
    episodes = episodes_of(times, values)
    inside = [any(start <= end_w and end > start_w for start_w, end_w in windows)
              for start, end, _, _ in episodes]
    hit = sum(any(start <= end_w and end > start_w for start, end, _, _ in episodes)
              for start_w, end_w in windows)
    false = sum(1 for i in inside if not i)
    by_state: dict[str, int] = {}
    for _, _, state, _ in episodes:
        by_state[state] = by_state.get(state, 0) + 1
    detected, raw = nab_score(times, windows, [at for _, _, _, at in episodes])
    return SeriesResult(name, int(times.size), len(windows), hit, len(episodes), false,
                        round(1000.0 * false / max(times.size, 1), 3), by_state, detected,
                        round(raw, 4))


def _sigma(y: float) -> float:
    """NAB's scaled sigmoid: +1 far left of a window's end, 0 at it, -1 far past it."""
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def nab_score(times: NDArray[np.float64], windows: list[tuple[float, float]],
              detections: list[int]) -> tuple[int, float]:
    """(windows detected, raw standard-profile score) of detections at the given rows."""
    probation = min(math.floor(PROBATION_FRACTION * times.size), PROBATION_MAX)
    spans = [(int(np.searchsorted(times, start, "left")),
              int(np.searchsorted(times, end, "right")) - 1) for start, end in windows]
    credited: set[int] = set()
    score = 0.0
    for row in sorted(d for d in detections if d >= probation):
        window = next((w for w, (left, right) in enumerate(spans) if left <= row <= right), None)
        if window is not None:
            if window not in credited:  # only the earliest detection in a window counts
                left, right = spans[window]
                y = (row - right) / max(right - left, 1)  # -1 at the left edge, 0 at the right
                score += A_TP * _sigma(y) / _sigma(-1.0)
                credited.add(window)
            continue
        before = [(left, right) for left, right in spans if right < row]
        if not before:
            score -= A_FP
            continue
        left, right = before[-1]
        distance = (row - right) / max(right - left, 1)
        score -= A_FP * (abs(_sigma(distance)) if distance <= 3.0 else 1.0)
    score -= A_FN * (len(spans) - len(credited))
    return len(credited), score


def _total(results: list[SeriesResult]) -> dict[str, Any]:
    readings = sum(r.readings for r in results)
    windows = sum(r.windows for r in results)
    false = sum(r.false_episodes for r in results)
    raw = sum(r.nab_raw_score for r in results)
    # Never firing scores -A_FN per window; firing at every window's start scores +A_TP.
    null, perfect = -A_FN * windows, A_TP * windows
    return {
        "series": len(results), "readings": readings, "windows": windows,
        "windows_with_non_ok": sum(r.windows_with_non_ok for r in results),
        "window_recall": round(sum(r.windows_with_non_ok for r in results) / windows, 4)
        if windows else None,
        "episodes": sum(r.episodes for r in results), "false_episodes": false,
        "false_per_1000": round(1000.0 * false / max(readings, 1), 3),
        "nab_window_recall": round(sum(r.nab_windows_detected for r in results) / windows, 4)
        if windows else None,
        "nab_standard_score": round(100.0 * (raw - null) / (perfect - null), 2)
        if windows else None,
    }


def _print(results: list[SeriesResult]) -> None:
    print(f"{'series':60} {'rows':>6} {'win':>4} {'hit':>4} {'nab':>4} {'episodes':>8} "
          f"{'false':>6} {'/1000':>7}  first states")
    for r in results:
        states = ", ".join(f"{k} {v}" for k, v in sorted(r.episodes_by_state.items()))
        print(f"{r.series:60} {r.readings:6d} {r.windows:4d} {r.windows_with_non_ok:4d} "
              f"{r.nab_windows_detected:4d} {r.episodes:8d} {r.false_episodes:6d} "
              f"{r.false_per_1000:7.2f}  {states}")
