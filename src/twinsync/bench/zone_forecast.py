"""``twinsync bench twin``'s zone forecast: how often a thermal zone's 90 % forecast interval
(``physics/zone_forecast.py``, what ``GET /api/elements/{id}/forecast`` answers for a
zone's air temperature) holds the reading 1, 6 and 24 h later, over several seeds.

Each seed simulates ``zones`` rooms, each on a site of its own (so their misses are
independent): R 2-10 K/kW and C 5-30 kWh/K drawn, read every 15 minutes with the sensor
noise and the temperature's process noise the zone bank assumes (0.1 K; 4e-4 K² an hour),
an outdoor temperature that swings by day round a mean that wanders from day to day
(``site_weather``) and heating switched among 0, 2 and 4 kW for 2 to 8 h at a time. The
zones are learned by ``ZoneBank`` from the knobs' prior, as on the reading path; after
``burn_in`` days, every ``every`` hours each zone is forecast from its state then, and the
share of the readings 1, 6 and 24 h on inside the interval is counted. The cases:

- ``persisted``: the inputs' futures as the route takes them, persisted from their newest
  reading (the outdoor temperature along its daily course) with the spread their own
  readings of up to 14 days back show (``service.zone_forecasts.SPREAD_SECONDS``; fewer
  in the first two weeks);
- ``persisted_flat``: the same with the outdoor temperature held flat (no daily course),
  as the route first had it;
- ``persisted_kept``: held flat, with the spread of the three days the zone keeps
  (``zone_inputs.HISTORY_CAPACITY``);
- ``heating_known``: the heating's future given (a schedule the twin would know), the
  outdoor temperature as in ``persisted``; ``heating_known_flat``: held flat;
- ``inputs_known``: both given: what is left is the state's, the parameters' and the
  process noise's share, so a shortfall here is the filter's covariance, not the inputs';
- ``held``: the zone view's forecast before the inputs' spread was added: both held at
  their newest reading, taken as known;
- ``level_trend`` (only when asked: slow): what the route answered for a zone before,
  the local level/trend fitted to the room's last two days of readings, once a day.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..physics.contract import Array
from ..physics.forecast import forecast_readings
from ..physics.simulate import room_readings, zone_weather
from ..physics.zone_bank import ZoneBank, ZoneKnobs
from ..physics.zone_forecast import InputOutlook, persisted, zone_outlook
from ..physics.zone_inputs import HISTORY_CAPACITY
from ..service.zone_forecasts import SPREAD_SECONDS, Source, ZoneStart, answer
from ..service.zone_view import Z90
from .timing import best_of

STEP = 900.0
DT = STEP / 3600
HOURS = (1, 6, 24)
CASES = ("persisted", "persisted_flat", "persisted_kept", "heating_known",
         "heating_known_flat", "inputs_known", "held")
#: Readings the level/trend forecast is fitted on (the route's two days).
WINDOW = 192


def site_weather(rng: np.random.Generator, zones: int, steps: int) -> tuple[Array, Array]:
    """(outdoor °C, heating kW), ``(zones, steps)`` at 15 minutes: a daily swing of 3 to
    8 °C (drawn for each day's middle, linear between) round a mean that wanders about
    2 °C a day, with half a degree of hour-to-hour noise; heating as ``zone_weather``
    switches it."""
    _, heating = zone_weather(rng, zones, steps, DT)
    hours = np.arange(steps) * DT
    days = int(np.ceil(steps * DT / 24)) + 1
    # each day's swing drawn at its middle and changed smoothly between (not by a jump at
    # midnight, which no weather does)
    drawn = rng.uniform(3.0, 8.0, (zones, days + 1))
    middles = 24.0 * np.arange(days + 1) + 12.0
    swing = np.stack([np.interp(hours, middles, row) for row in drawn])
    mean = 5.0 + np.cumsum(rng.normal(0.0, 0.2, (zones, steps)), axis=1)
    wobble = np.zeros((zones, steps))
    shocks = rng.normal(0.0, 0.5 * np.sqrt(1 - 0.9**2), (zones, steps))
    for k in range(1, steps):
        wobble[:, k] = 0.9 * wobble[:, k - 1] + shocks[:, k]
    outdoor = mean + swing * np.sin(2 * np.pi * (hours - 9.0) / 24) + wobble
    return outdoor, heating


def _simulate(zones: int, steps: int, knobs: ZoneKnobs, rng: np.random.Generator
              ) -> tuple[Array, Array, Array]:
    """Outdoor, heating and room readings ``(zones, steps)``: the input read at a step
    acts over the next, as on the reading path."""
    outdoor, heating = site_weather(rng, zones, steps)
    resistance, capacitance = rng.uniform(2.0, 10.0, zones), rng.uniform(5.0, 30.0, zones)
    return outdoor, heating, room_readings(np.full(zones, 18.0), resistance, capacitance,
                                           outdoor, heating, DT, knobs.temperature_noise,
                                           knobs.noise_sd, rng)


def _outlooks(way: str, values: Array, k: int, substeps: int) -> InputOutlook:
    """An input over the ``substeps`` after reading ``k``, for every zone: its true values
    (``known``), or persisted from its last ``HISTORY_CAPACITY`` readings with the spread
    of the readings of up to ``SPREAD_SECONDS`` back (``persisted``, as the route does) or
    of the kept ones only (``kept``, as it did first)."""
    zones = values.shape[0]
    if way == "known":
        return InputOutlook.known(values[:, k:k + substeps].copy())
    first = max(0, k + 1 - HISTORY_CAPACITY)
    back = max(0, k + 1 - int(SPREAD_SECONDS / STEP))
    times = np.arange(back, k + 1, dtype=np.float64) * STEP
    starts = np.asarray((k + np.arange(substeps)) * STEP, dtype=np.float64)
    ends = np.asarray(starts + STEP, dtype=np.float64)
    means, covariances = np.empty((zones, substeps)), np.empty((zones, substeps, substeps))
    for z in range(zones):
        spread = None if way == "kept" else (times, values[z, back:k + 1])
        means[z], covariances[z] = persisted(times[first - back:], values[z, first:k + 1],
                                             starts, ends, spread, daily=way == "daily")
    return InputOutlook(means, covariances)


def _inputs(case: str, ways: dict[tuple[str, str], InputOutlook]
            ) -> tuple[InputOutlook, InputOutlook]:
    """The outdoor and heating outlooks of a case."""
    outdoor, heating = {
        "persisted": (("outdoor", "daily"), ("heating", "persisted")),
        "persisted_flat": (("outdoor", "persisted"), ("heating", "persisted")),
        "persisted_kept": (("outdoor", "kept"), ("heating", "kept")),
        "heating_known": (("outdoor", "daily"), ("heating", "known")),
        "heating_known_flat": (("outdoor", "persisted"), ("heating", "known")),
        "inputs_known": (("outdoor", "known"), ("heating", "known")),
        "held": (("outdoor", "persisted"), ("heating", "persisted")),
    }[case]
    if case == "held":
        # The zone view's forecast before: the newest readings held, no spread for them.
        return InputOutlook.known(ways[outdoor].mean), InputOutlook.known(ways[heating].mean)
    return ways[outdoor], ways[heating]


def _level_trend(rooms: Array, k: int, furthest: int, inside: Array, width: Array,
                 seen: list[int]) -> None:
    """What the route answered for a zone's air temperature before: the local level/trend
    fitted to each room's last two days of readings."""
    times = np.asarray(np.arange(WINDOW) * STEP, dtype=np.float64)
    for z in range(rooms.shape[0]):
        answer = forecast_readings(times, rooms[z, k + 1 - WINDOW:k + 1], np.ones(WINDOW),
                                   horizon=furthest * STEP, steps=furthest)
        low, high = answer.quantile(0.05), answer.quantile(0.95)
        for i, hours in enumerate(HOURS):
            at = int(hours / DT)
            inside[i] += low[at - 1] <= rooms[z, k + at] <= high[at - 1]
            width[i] += high[at - 1] - low[at - 1]
    seen[0] += rooms.shape[0]


def zone_forecast_coverage(zones: int, days: int, seeds: list[int], burn_in: int = 7,
                           every: int = 6, level_trend: bool = False) -> dict[str, Any]:
    """The share (%) of readings inside the 90 % interval at each of ``HOURS``, per seed
    and case, and over all the seeds, with the interval's mean width (K) and the share's
    standard error over the zones of every seed (``standard_error``);
    ``level_trend``: also of the local level/trend's interval fitted to each room's last
    two days, once a day (slow: 0.1-0.2 s a forecast)."""
    knobs = ZoneKnobs()
    furthest = int(max(HOURS) / DT)
    steps = int(days * 24 / DT)
    out: dict[str, Any] = {"zones": zones, "days": days, "burn_in_days": burn_in,
                           "every_hours": every, "interval": 0.9, "seeds": seeds}
    total = {case: np.zeros(len(HOURS)) for case in CASES}
    total_width = {case: np.zeros(len(HOURS)) for case in CASES}
    # each zone's readings inside, by case: a zone's forecasts 6 h apart share their misses
    # a day ahead, so the standard error is taken over zones, not forecasts
    by_zone: dict[str, list[Array]] = {case: [] for case in CASES}
    counted_all = 0
    for seed in seeds:
        rng = np.random.default_rng(seed + 40)
        outdoor, heating, rooms = _simulate(zones, steps + furthest, knobs, rng)
        bank = ZoneBank(knobs, watch=False)
        bank.grow(zones)
        everyone = np.arange(zones, dtype=np.int64)
        inside = {case: np.zeros(len(HOURS)) for case in (*CASES, "level_trend")}
        width = {case: np.zeros(len(HOURS)) for case in (*CASES, "level_trend")}
        zone_inside = {case: np.zeros((zones, len(HOURS))) for case in CASES}
        counted, seen = 0, [0]
        for k in range(steps):
            # the reading at k, the zone stepped with the inputs read at k - 1
            before = max(k - 1, 0)
            bank.update(everyone, np.full(zones, k * STEP), rooms[:, k], np.ones(zones),
                        outdoor[:, before], heating[:, before])
            if k < burn_in * 96 or k % int(every / DT):
                continue
            c = bank.columns
            ways = {(name, way): _outlooks(way, values, k, furthest)
                    for name, values in (("outdoor", outdoor), ("heating", heating))
                    for way in ("known", "persisted", "kept", "daily")
                    if way != "daily" or name == "outdoor"}
            for case in CASES:
                ahead = zone_outlook(c["x"], c["P"], np.full(furthest, DT),
                                     *_inputs(case, ways), knobs.process_noise(),
                                     knobs.noise_sd)
                for i, hours in enumerate(HOURS):
                    at = int(hours / DT)
                    miss = np.abs(rooms[:, k + at] - ahead.mean[:, at - 1])
                    held = miss <= Z90 * ahead.reading_sd[:, at - 1]
                    inside[case][i] += np.count_nonzero(held)
                    zone_inside[case][:, i] += held
                    width[case][i] += 2 * Z90 * float(ahead.reading_sd[:, at - 1].sum())
            if level_trend and k % int(24 / DT) == 0:
                _level_trend(rooms, k, furthest, inside["level_trend"], width["level_trend"],
                             seen)
            counted += zones
        out[str(seed)] = {case: _shares(inside[case], counted) for case in CASES}
        out[str(seed)]["width_k"] = {case: _widths(width[case], counted) for case in CASES}
        for case in CASES:
            total[case] += inside[case]
            total_width[case] += width[case]
            by_zone[case].append(zone_inside[case] / max(counted // zones, 1))
        counted_all += counted
        if level_trend:
            out[str(seed)]["level_trend"] = _shares(inside["level_trend"], seen[0])
            out[str(seed)]["level_trend_forecasts"] = seen[0]
            out[str(seed)]["width_k"]["level_trend"] = _widths(width["level_trend"], seen[0])
    out["forecasts_a_seed"] = counted
    out["all"] = {case: _shares(total[case], counted_all) for case in CASES}
    out["all"]["width_k"] = {case: _widths(total_width[case], counted_all) for case in CASES}
    out["all"]["standard_error"] = {case: _errors(np.concatenate(by_zone[case]))
                                    for case in CASES}
    return out


def _errors(shares: Array) -> dict[str, float]:
    """The standard error (points) of the share at each of ``HOURS`` over zones: the spread
    of each zone's own share over the square root of their number."""
    if shares.shape[0] < 2:
        return {f"{h}h": float("nan") for h in HOURS}
    error = 100 * shares.std(axis=0, ddof=1) / np.sqrt(shares.shape[0])
    return {f"{h}h": round(float(error[i]), 2) for i, h in enumerate(HOURS)}


def forecast_cost(repeat: int, seed: int = 0) -> dict[str, float]:
    """Milliseconds (best of ``repeat``) of one zone's forecast as the route works it out
    (``service.zone_forecasts.answer``, after the store is read) a day ahead at 12 times,
    7 days ahead at 12 and 30 days ahead at 500, from a zone learned over 14 days whose
    inputs have 14 days of readings."""
    knobs = ZoneKnobs()
    steps = 14 * 96
    outdoor, heating, rooms = _simulate(1, steps, knobs, np.random.default_rng(seed + 50))
    bank = ZoneBank(knobs, watch=False)
    bank.grow(1)
    for k in range(steps):
        bank.update(np.zeros(1, dtype=np.int64), np.full(1, k * STEP), rooms[:, k], np.ones(1),
                    outdoor[:, max(k - 1, 0)], heating[:, max(k - 1, 0)])
    times = np.arange(steps, dtype=np.float64) * STEP
    kept = slice(steps - HISTORY_CAPACITY, steps)

    def source(name: str, values: Array) -> Source:
        return Source("site", name, times[kept], values[0, kept], [], [],
                      (times, values[0]))

    start = ZoneStart(bank.columns["x"][0].copy(), bank.columns["P"][0].copy(),
                      float(times[-1]), steps, knobs, source("outdoor", outdoor),
                      source("heating", heating))
    out = {}
    for name, horizon, count in (("24h_12_steps", 86_400.0, 12),
                                 ("7d_12_steps", 7 * 86_400.0, 12),
                                 ("30d_500_steps", 30 * 86_400.0, 500)):
        def once(horizon: float = horizon, count: int = count) -> None:
            answer(start, horizon, count, (0.05, 0.5, 0.95), None, 0.9)

        out[name] = round(1000 * best_of(repeat, once), 1)
    return out


def _shares(inside: Array, counted: int) -> dict[str, float]:
    return {f"{h}h": round(float(100 * inside[i] / counted), 1) for i, h in enumerate(HOURS)}


def _widths(width: Array, counted: int) -> dict[str, float]:
    """The interval's mean width (K) at each of ``HOURS``."""
    return {f"{h}h": round(float(width[i] / max(counted, 1)), 2) for i, h in enumerate(HOURS)}
