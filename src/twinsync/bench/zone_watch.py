"""The thermal zones' divergence watch, measured (a part of ``twinsync bench twin``).

On simulated zones that are exactly what the zone model says (R 2-10 K/kW, C 5-30 kWh/K,
the weather and heating of ``physics/simulate.py``, the filter's own sensor noise and
process noise), read every 15 minutes and fed to ``ZoneBank.update`` a round a reading, each
zone starting from the bank's prior as a new zone on site does:

- false alarms: the readings watched (from each zone's ``WATCH_AFTER``-th) per divergence
  started, over ``zones`` zones and ``days`` days; and how many of them fall in the first
  week (while R and C are still being learned);
- detection: the same zones' R halved on day ``change_day`` (a window left open): readings
  from the change to the episode's start (zones that started one before the change are left
  out), and R after the recalibration and a day later against the new R;
- cost: microseconds per zone reading of ``ZoneBank.update`` with the watch and without,
  a round of every zone per call, at each size (the zones' counts set past the watch's
  warm-up, so that every reading is watched).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..physics.contract import Array
from ..physics.simulate import zone_weather
from ..physics.thermal import ThermalZone
from ..physics.zone_bank import ZoneBank
from ..physics.zone_watch import STARTED, WATCH_AFTER
from .timing import best_of

DT = 0.25
STEP = DT * 3600.0


def _run(zones: int, days: int, seed: int, change_day: float | None
         ) -> tuple[list[tuple[int, int, float, float]], Array, ZoneBank]:
    """Zones simulated and filtered; each divergence start as (reading, zone, R before,
    R after its recalibration), the true R at the end, the bank."""
    rng = np.random.default_rng(seed)
    bank = ZoneBank()
    bank.grow(zones)
    knobs = bank.knobs
    resistance = rng.uniform(2.0, 10.0, zones)
    capacitance = rng.uniform(5.0, 30.0, zones)
    steps = int(days * 24 / DT)
    outdoor, heating = zone_weather(rng, zones, steps, DT)
    model = ThermalZone()
    state = model.state(np.full(zones, 18.0), resistance, capacitance)
    everyone = np.arange(zones, dtype=np.int64)
    change = None if change_day is None else int(change_day * 24 / DT)
    started: list[tuple[int, int, float, float]] = []
    for t in range(steps):
        if t == change:
            state[:, 1] -= np.log(2.0)
        reading = state[:, 0] + rng.normal(0.0, knobs.noise_sd, zones)
        # The inputs held over the step to this reading: those read before it.
        held = max(t - 1, 0)
        told = bank.update(everyone, np.full(zones, t * STEP), reading, np.ones(zones),
                           outdoor[:, held], heating[:, held])
        for i in np.flatnonzero(told.code == STARTED).tolist():
            started.append((t, int(told.zones[i]), float(np.exp(told.before[i, 1])),
                            float(np.exp(told.after[i, 1]))))
        state = model.step(state, DT, np.column_stack([outdoor[:, t], heating[:, t]]))
        state[:, 0] += rng.normal(0.0, np.sqrt(knobs.temperature_noise * DT), zones)
    return started, np.exp(state[:, 1]), bank


def false_alarms(zones: int, days: int, seed: int) -> dict[str, Any]:
    started, _, _ = _run(zones, days, seed, None)
    watched = zones * max(int(days * 24 / DT) - WATCH_AFTER, 0)
    first_week = sum(1 for t, *_ in started if t < 7 * 24 / DT)
    count = len(started)
    # A start within a day of the zone's last: its recalibration's doing, more likely than
    # the noise's (a false start's window is consistent with the old R, and a short one
    # leaves R loose).
    last: dict[int, int] = {}
    soon = 0
    for t, zone, *_ in started:
        soon += int(zone in last and t - last[zone] <= 24 / DT)
        last[zone] = t
    return {"zones": zones, "days": days, "readings_watched": watched, "starts": count,
            "zones_started": len(last), "starts_within_a_day_of_the_zones_last": soon,
            "starts_in_first_week": first_week,
            "readings_per_false_start": round(watched / count) if count else None,
            "readings_per_false_start_after_first_week": (
                round(zones * (days - 7) * 24 / DT / (count - first_week))
                if count > first_week and days > 7 else None)}


def detection(zones: int, days: int, change_day: float, seed: int) -> dict[str, Any]:
    started, truth, bank = _run(zones, days, seed, change_day)
    change = int(change_day * 24 / DT)
    before = {zone for t, zone, *_ in started if t < change}
    delays: dict[int, int] = {}
    recalibrated: dict[int, tuple[float, float]] = {}
    for t, zone, resistance_before, resistance_after in started:
        if t >= change and zone not in before and zone not in delays:
            delays[zone] = t - change + 1
            recalibrated[zone] = (resistance_before, resistance_after)
    told = np.array(sorted(delays.values()), dtype=np.float64)
    r_before = np.array([v[0] for v in recalibrated.values()])
    r_after = np.array([v[1] for v in recalibrated.values()])
    truths = truth[list(recalibrated)]
    end_error = np.abs(np.exp(bank.columns["x"][:, 1]) / truth - 1.0)
    return {
        "zones": zones, "change_day": change_day, "days": days,
        "left_out_started_before": len(before),
        "told": int(told.size), "of": zones - len(before),
        "delay_readings_mean": round(float(told.mean()), 1) if told.size else None,
        "delay_readings_median": float(np.median(told)) if told.size else None,
        "delay_readings_p90": float(np.percentile(told, 90)) if told.size else None,
        "r_error_pct_at_alarm_median": _pct(np.abs(r_before / truths - 1.0)),
        "r_error_pct_after_recalibration_median": _pct(np.abs(r_after / truths - 1.0)),
        "r_error_pct_after_recalibration_p90": _pct(np.abs(r_after / truths - 1.0), 90),
        "r_error_pct_at_end_median": _pct(end_error),
        "r_error_pct_at_end_max": round(float(100 * end_error.max()), 2),
    }


def _pct(errors: Array, q: float = 50) -> float | None:
    return round(float(100 * np.percentile(errors, q)), 2) if errors.size else None


def cost(sizes: list[int], repeat: int, seed: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for size in sizes:
        # Some 20,000 zone readings a timing: a round's fixed cost is not lost in the noise.
        rounds = max(10, 20_000 // size)
        figures: dict[str, float] = {
            name: _cost(size, watch, rounds, repeat, seed)
            for name, watch in (("with_watch", True), ("without_watch", False))}
        figures["watch"] = round(figures["with_watch"] - figures["without_watch"], 2)
        out[str(size)] = figures
    return out


def _cost(size: int, watch: bool, rounds: int, repeat: int, seed: int) -> float:
    """Microseconds per zone reading of ``rounds`` rounds of every zone (best of
    ``repeat``)."""
    rng = np.random.default_rng(seed)
    bank = ZoneBank(watch=watch)
    bank.grow(size)
    everyone = np.arange(size, dtype=np.int64)
    outdoor, heating = np.full(size, 5.0), np.full(size, 2.0)
    bank.update(everyone, np.zeros(size), 18.0 + rng.normal(0, 0.1, size), np.ones(size),
                outdoor, heating)
    bank.columns["count"][:] = WATCH_AFTER
    clock = [0]

    def some_rounds() -> None:
        for _ in range(rounds):
            clock[0] += 1
            bank.update(everyone, np.full(size, clock[0] * STEP),
                        18.0 + rng.normal(0, 0.1, size), np.ones(size), outdoor, heating)

    return round(1e6 * best_of(repeat, some_rounds) / (rounds * size), 2)


def zone_divergence(zones: int, days: int, sizes: list[int], repeat: int, seed: int
                    ) -> dict[str, Any]:
    began = time.perf_counter()
    figures: dict[str, Any] = {"false_alarms": false_alarms(zones, days, seed + 40),
               "r_halved": detection(zones, min(days, 14), 10.0 if days >= 14 else days / 2,
                                     seed + 41),
               "cost_us_a_zone_reading": cost(sizes, repeat, seed + 42)}
    figures["seconds"] = round(time.perf_counter() - began, 1)
    return figures
