"""A labelled corpus of made-up spiky, heavy-tailed series with planted anomalies, in
the Numenta Anomaly Benchmark's layout, for checking a detector on data nobody tuned it on.

The development set (NAB's artificial series and seven real ones) is mostly smooth: daily
cycles with small Gaussian noise, a few temperatures. The rest of NAB (cloud metrics, ad
exchange, traffic, tweet counts) is spikier and heavier-tailed. These series are made
with assumptions of their own, chosen to differ from the development set, not to imitate
it:

- **Clock**: one reading every ``interval`` seconds, drawn per series from 60 s, 300 s and
  600 s; 3,000 to 6,000 readings.
- **Shape**: a daily cycle of random phase and amplitude (none in a third of the series),
  a weekly factor (weekends lower, in a third), or a slow random walk (in a fifth).
- **Noise**, one kind a series: Student's t with 2 to 4 degrees of freedom (heavy tails),
  log-normal multiplicative noise (a positive metric's bursts), Poisson counts of a
  cycling rate (tweets, requests), or Gaussian noise with sparse spikes of Pareto size
  (a cloud metric's blips, one reading in 50 to 300).
- **Anomalies**, none in a quarter of the series, else one to three, each of one kind:
  a level shift that lasts, a burst of larger noise for a few hours, a run of spikes
  several times the usual spike, the daily cycle gone flat (a stuck or idle process), a
  ramp away from the usual level. Each starts at a random reading past the first 20 %
  and is at least a window apart from the next.
- **Windows** as NAB draws them: 10 % of the file's readings divided by its number of
  anomalies, centred on the anomaly's start (NAB centres its windows on the labelled
  point).

The same ``seed`` makes the same corpus. Nothing here was fitted to a detector's score.

>>> series = make_series(np.random.default_rng(1), "one")
>>> series.values.shape == series.times.shape, all(a < b for a, b in series.windows)
(True, True)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = ["SyntheticSeries", "make_series", "write_corpus"]

DAY = 86_400.0
WEEK = 7 * DAY
#: The first reading's time, a Monday 00:00 UTC.
START = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
KINDS = ("shift", "burst", "spikes", "flat", "ramp")


@dataclass(frozen=True, slots=True)
class SyntheticSeries:
    """One made-up series: its name, times, values, and anomaly windows as (first row,
    last row), with what was planted at each."""

    name: str
    times: NDArray[np.float64]
    values: NDArray[np.float64]
    windows: list[tuple[int, int]]
    planted: list[str]


def _shape(rng: np.random.Generator, times: NDArray[np.float64]) -> NDArray[np.float64]:
    """The series without noise, around 0 with a spread of about 1."""
    n = times.size
    shape = np.zeros(n)
    if rng.random() < 2 / 3:
        phase = rng.uniform(0, 2 * np.pi)
        shape += rng.uniform(0.5, 2.0) * np.sin(2 * np.pi * times / DAY + phase)
    if rng.random() < 1 / 3:
        weekend = ((times - START) % WEEK) >= 5 * DAY
        shape -= rng.uniform(0.3, 1.0) * weekend
    if rng.random() < 0.2:
        shape += np.cumsum(rng.normal(0, 0.02, n))
    return shape


def _noisy(
    rng: np.random.Generator, shape: NDArray[np.float64], kind: str
) -> NDArray[np.float64]:
    n = shape.size
    if kind == "t":
        return 10 + shape + 0.3 * rng.standard_t(rng.uniform(2, 4), n)
    if kind == "lognormal":
        return np.exp(1 + 0.4 * shape + rng.normal(0, rng.uniform(0.1, 0.4), n))
    if kind == "counts":
        rate = np.exp(np.log(rng.uniform(2, 40)) + 0.5 * shape)
        counts: NDArray[np.float64] = rng.poisson(rate).astype(np.float64)
        return counts
    spikes = rng.random(n) < 1 / rng.uniform(50, 300)
    size = (rng.pareto(2.5, n) + 1) * rng.uniform(1, 3)
    return 20 + shape + rng.normal(0, 0.2, n) + spikes * size


def _plant(
    rng: np.random.Generator, values: NDArray[np.float64], start: int, kind: str
) -> None:
    """Change ``values`` from ``start`` on, by what a ``kind`` of anomaly does."""
    n = values.size
    spread = float(np.subtract(*np.percentile(values[:start], [90, 10]))) or 1.0
    length = int(rng.integers(30, 120))
    end = min(start + length, n)
    if kind == "shift":
        values[start:] += rng.choice([-1, 1]) * rng.uniform(1.0, 2.5) * spread
    elif kind == "burst":
        values[start:end] += rng.normal(0, rng.uniform(1.0, 2.0) * spread, end - start)
    elif kind == "spikes":
        hits = start + np.flatnonzero(rng.random(end - start) < 0.3)
        values[hits] += rng.uniform(2.0, 5.0) * spread
    elif kind == "flat":
        values[start:end] = np.median(values[max(0, start - 50) : start])
    else:  # ramp, to a level that then stays
        offset = rng.choice([-1, 1]) * 2.0 * spread
        values[start:end] += np.linspace(0, offset, end - start)
        values[end:] += offset


def make_series(rng: np.random.Generator, name: str) -> SyntheticSeries:
    """One series as the module describes, drawn from ``rng``."""
    n = int(rng.integers(3000, 6001))
    interval = float(rng.choice([60.0, 300.0, 600.0]))
    times = (START + np.arange(n) * interval).astype(np.float64)
    noise = str(rng.choice(["t", "lognormal", "counts", "spikes"]))
    values = _noisy(rng, _shape(rng, times), noise)
    count = 0 if rng.random() < 0.25 else int(rng.integers(1, 4))
    width = int(0.1 * n / max(count, 1))
    starts: list[int] = []
    for _ in range(count):
        for _attempt in range(50):
            start = int(rng.integers(int(0.2 * n), n - width))
            if all(abs(start - other) > 2 * width for other in starts):
                starts.append(start)
                break
    starts.sort()
    planted = [str(rng.choice(KINDS)) for _ in starts]
    for start, kind in zip(starts, planted, strict=True):
        _plant(rng, values, start, kind)
    if noise in ("lognormal", "counts"):
        np.maximum(values, 0.0, out=values)  # a count or a positive metric stays so
    windows = [(max(0, s - width // 2), min(n - 1, s + width // 2)) for s in starts]
    return SyntheticSeries(f"{name}_{noise}", times, values, windows, planted)


def _stamp(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S")


def write_corpus(folder: Path, series: int = 40, seed: int = 1) -> dict[str, list[str]]:
    """``series`` made-up series under ``folder/data/synthetic/`` and their windows in
    ``folder/combined_windows.json``; returns what was planted in each file."""
    rng = np.random.default_rng(seed)
    windows: dict[str, list[list[str]]] = {}
    planted: dict[str, list[str]] = {}
    for index in range(series):
        made = make_series(rng, f"synth_{index:02d}")
        path = f"synthetic/{made.name}.csv"
        target = folder / "data" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        lines = (f"{_stamp(t)},{v:.4f}" for t, v in zip(made.times, made.values, strict=True))
        target.write_text("\n".join(["timestamp,value", *lines]) + "\n")
        windows[path] = [
            [_stamp(made.times[left]) + ".000000", _stamp(made.times[right]) + ".000000"]
            for left, right in made.windows
        ]
        planted[path] = made.planted
    (folder / "combined_windows.json").write_text(json.dumps(windows, indent=1))
    return planted
