"""The condition-dependent calibration part of ``twinsync bench twin``: RC zones whose
resistance depends on the outdoor temperature (heat is lost faster when it is cold:
infiltration, wind), learned online as a table over three bins of it
(``physics/conditions.py``), beside the one-resistance zone calibrated on the same
readings.

Each zone's true ln R is interpolated between its values at -5, 5 and 15 °C outdoors (R
drawn in 5-9, 3.5-5.5 and 2-3.5 K/kW: it falls as it warms), C in 5-30 kWh/K; the weather
and heating of ``simulate.zone_weather`` (a daily swing of ±8 °C round a wandering 5 °C),
readings every 15 minutes with 0.05 K of noise. Both filters start at R 5 K/kW and C 15
kWh/K everywhere. Reported: the table's error (%) per bin at the end (median and 90th
percentile over zones), C's, each model's one-step prediction error (RMS, K) over the
last third of the readings, and its day-ahead error: from each day of the last third, the
model with its final parameters run a day ahead on the known inputs from that day's first
reading (RMS, K): what a model that cannot follow the condition gets wrong when it
predicts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..physics.conditions import Conditional, ConditionTable
from ..physics.contract import Array
from ..physics.kalman import ExtendedKalmanFilter
from ..physics.simulate import zone_weather
from ..physics.thermal import ThermalZone
from ..physics.ukf import UnscentedKalmanFilter

DT = 0.25
CENTRES = (-5.0, 5.0, 15.0)
NOISE = 0.05


def simulated(zones: int, days: int, seed: int) -> tuple[Array, Array, Array, Array]:
    """True tables ``(B, 3)`` of R, C, inputs ``(B, T, 2)`` and readings ``(B, T)``."""
    rng = np.random.default_rng(seed)
    model = Conditional(ThermalZone(), "log_resistance", ConditionTable(CENTRES), 0)
    resistance = np.column_stack([rng.uniform(5.0, 9.0, zones), rng.uniform(3.5, 5.5, zones),
                                  rng.uniform(2.0, 3.5, zones)])
    capacitance = rng.uniform(5.0, 30.0, zones)
    steps = int(days * 24 / DT)
    outdoor, heating = zone_weather(rng, zones, steps, DT)
    inputs = np.stack([outdoor, heating], axis=-1)
    state = np.column_stack([np.full(zones, 18.0), np.log(resistance), np.log(capacitance)])
    temperature = np.empty((zones, steps))
    for t in range(steps):
        temperature[:, t] = state[:, 0]
        state = model.step(state, DT, inputs[:, t])
    readings = temperature + rng.normal(0.0, NOISE, temperature.shape)
    return resistance, capacitance, inputs, readings


def conditional_calibration(zones: int, days: int, seed: int) -> dict[str, Any]:
    resistance, capacitance, inputs, readings = simulated(zones, days, seed)
    plain = ThermalZone()
    conditional = Conditional(plain, "log_resistance", ConditionTable(CENTRES), 0)
    start = plain.state(readings[:, 0], np.full(zones, 5.0), np.full(zones, 15.0))
    steps = readings.shape[1]
    judged = slice(2 * steps // 3, steps)
    out: dict[str, Any] = {"zones": zones, "days": days, "bins_c": list(CENTRES)}
    for name, kind in (("ukf", UnscentedKalmanFilter), ("ekf", ExtendedKalmanFilter)):
        for label, model, first in (("table", conditional, conditional.expand(start)),
                                    ("one_r", plain, start)):
            n = first.shape[1]
            spread = np.diag([NOISE**2] + [0.5**2] * (n - 1))
            estimator = kind(model, first, np.broadcast_to(spread, (zones, n, n)).copy())
            quiet = np.diag([1e-4] + [1e-8] * (n - 1))
            residual = np.empty((zones, steps - 1))
            for t in range(1, steps):
                estimator.predict(DT, inputs[:, t - 1], quiet)
                residual[:, t - 1] = estimator.update(readings[:, t: t + 1], NOISE**2
                                                      ).residual[:, 0]
            figures: dict[str, Any] = {"one_step_rms_k": round(float(
                np.sqrt(np.mean(residual[:, judged] ** 2))), 4)}
            if label == "table":
                error = 100 * np.abs(np.exp(conditional.entries(estimator.x)) / resistance - 1)
                figures["r_error_pct_median"] = np.round(np.median(error, axis=0), 3).tolist()
                figures["r_error_pct_p90"] = np.round(np.percentile(error, 90, axis=0),
                                                      3).tolist()
            ahead = _day_ahead(model, estimator.x, inputs, readings, judged.start)
            figures["day_ahead_rms_k"] = None if ahead is None else round(ahead, 4)
            error_c = 100 * np.abs(np.exp(estimator.x[:, -1]) / capacitance - 1)
            figures["c_error_pct_median"] = round(float(np.median(error_c)), 3)
            out[f"{name}_{label}"] = figures
    return out


def _day_ahead(model: ThermalZone | Conditional, final: Array, inputs: Array,
               readings: Array, first: int) -> float | None:
    """RMS error of day-long open-loop runs from ``first`` on, each from a day's first
    reading, with the parameters of ``final``; None when no whole day is left."""
    day = int(24 / DT)
    errors = []
    for start in range(first, readings.shape[1] - day, day):
        state = final.copy()
        state[:, 0] = readings[:, start]
        for t in range(start, start + day):
            state = model.step(state, DT, inputs[:, t])
            errors.append(state[:, 0] - readings[:, t + 1])
    return float(np.sqrt(np.mean(np.square(errors)))) if errors else None
