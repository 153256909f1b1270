"""``twinsync bench forecast``: a property's forecast (``physics/forecast.py``), its 90 %
interval's coverage and its cost.

Coverage: ``--series`` simulated slabs warming or cooling with a trend that wanders all the
time (so no candidate fits them exactly), read every 10 minutes with 0.1 °C of noise; each
forecast from two days of readings, and the share of the readings 1, 6 and 24 hours later
inside the 90 % interval. Then the same for series drawn from a local trend that is one of
the candidates (``coverage_90_*_model``): what is left short there is the fitted
variances' own uncertainty, not a wrong model. Beside each, the same readings forecast
with the variances they were drawn with, known (``coverage_90_*_known``): the share a
forecast that had nothing to fit would hold, which tells how far the fitted one's share
is off by the draw of the series alone. Cost: one forecast over two days at a
reading a minute (2,880 readings, the grid's 401 steps), the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ..physics.contract import Array
from ..physics.forecast import forecast_readings
from ..physics.level import LocalTrend

EVERY = 600.0
FITTED = 288  # two days of readings every 10 minutes
HOURS = (1, 6, 24)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--series", type=int, default=300, help="simulated series (300)")
    parser.add_argument("--repeat", type=int, default=10, help="runs of the timing (10)")
    parser.add_argument("--seed", type=int, default=0)


#: The variances the series are drawn with, as a local trend (``_wandering``'s to within
#: how its trend's step enters the level: over the step rather than integrated over it).
WANDERING = LocalTrend(0.02**2 * 6, 0.1**2, 0.005**2 * 6)
FROM_MODEL = LocalTrend(0.01 * 1e-2 * 6, 0.01, 0.01 * 1e-4 * 6**3)


def _wandering(count: int, rng: np.random.Generator) -> Array:
    trend = 0.3 * rng.normal() + np.cumsum(rng.normal(0.0, 0.005, count))  # °C/h
    level = 20.0 + np.cumsum(trend / 6) + np.cumsum(rng.normal(0.0, 0.02, count))
    readings: Array = level + rng.normal(0.0, 0.1, count)
    return readings


def _from_model(count: int, rng: np.random.Generator) -> Array:
    # the candidate of level ratio 1e-2 and trend ratio 1e-4 per step, sensor noise 0.01
    dt, model = EVERY / 3600, FROM_MODEL
    steps = rng.multivariate_normal(np.zeros(2), model.process_noise(dt), count)
    state, level = np.array([20.0, 0.3 * rng.normal()]), np.empty(count)
    for k in range(count):
        state = model.transition(dt) @ state + steps[k]
        level[k] = state[0]
    readings: Array = level + rng.normal(0.0, np.sqrt(model.noise), count)
    return readings


def _coverage(
    series: int,
    rng: np.random.Generator,
    simulate: Callable[[int, np.random.Generator], Array],
    known: LocalTrend,
) -> tuple[dict[int, float], dict[int, float]]:
    """The share of readings inside the forecast's 90 % interval at each of ``HOURS``, and
    the same with the ``known`` variances the series were drawn with."""
    ahead = 6 * max(HOURS)
    inside: dict[int, list[bool]] = {h: [] for h in HOURS}
    times = np.arange(FITTED, dtype=np.float64) * EVERY
    drawn = np.empty((series, FITTED + ahead))
    for k in range(series):
        readings = drawn[k] = simulate(FITTED + ahead, rng)
        answer = forecast_readings(
            times, readings[:FITTED], np.ones(FITTED), horizon=max(HOURS) * 3600.0, steps=24
        )
        low, high = answer.quantile(0.05), answer.quantile(0.95)
        for hours in HOURS:
            later = readings[FITTED - 1 + 6 * hours]
            inside[hours].append(low[hours - 1] <= later <= high[hours - 1])
    dt = EVERY / 3600
    track = known.track(drawn[:, :FITTED], dt, drawn[:, 0], 1e4, gate=None)
    ahead_known = known.forecast(track.state, track.covariance, dt, ahead)
    low_known, high_known = ahead_known.interval(0.9)
    fitted = {h: round(float(np.mean(v)), 3) for h, v in inside.items()}
    exact = {}
    for hours in HOURS:
        later = drawn[:, FITTED - 1 + 6 * hours]
        held = (low_known[:, 6 * hours - 1] <= later) & (later <= high_known[:, 6 * hours - 1])
        exact[hours] = round(float(np.mean(held)), 3)
    return fitted, exact


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed)
    figures: dict[str, Any] = {"series": args.series}
    kinds = ((_wandering, WANDERING, ""), (_from_model, FROM_MODEL, "_model"))
    for simulate, known, suffix in kinds:
        fitted, exact = _coverage(args.series, rng, simulate, known)
        for hours in HOURS:
            figures[f"coverage_90_{hours}h{suffix}"] = fitted[hours]
            figures[f"coverage_90_{hours}h{suffix}_known"] = exact[hours]
    times = np.arange(2880, dtype=np.float64) * 60.0
    values = 20.0 + 0.5 * times / 3600 + rng.normal(0.0, 0.1, times.size)
    best = float("inf")
    for _ in range(args.repeat):
        start = time.perf_counter()
        forecast_readings(
            times, values, np.ones(times.size), horizon=6 * 3600.0, threshold=60.0,
            window=2 * 86_400.0,
        )
        best = min(best, time.perf_counter() - start)
    figures["forecast_2880_readings_ms"] = round(best * 1000, 1)
    return figures
