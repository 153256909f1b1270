"""A thermal zone's air temperature as the forecast route answers it: from the zone's own
model (``physics/zone_forecast.py``), not from a level/trend fitted to its readings.

On the writer (``zone_start``) the zone's filter state and covariance at its last reading,
and its outdoor (and heating) input's recent history, are copied; the forecast is worked
out from the copy in a worker thread (``answer``), so the reading path is untouched and
nothing is kept. The zone's inputs over the horizon are persisted from their newest
reading (the outdoor temperature along its mean daily course, when two days of it are
stored) with the spread their own stored readings of the last ``SPREAD_SECONDS`` show
(read from the store in the worker thread, ``stored``; no weather forecast and no heating
plan come into the twin); the answer says so, and how much of its spread is the inputs'.

The neighbours' mean temperature (a zone with neighbours read) is persisted as the heating
is: held at its newest value (the mean of each neighbour as last read), with the spread of
the mean's kept history (``zone_inputs``: three days), not of the store's 14 days; its
error is taken as independent of the outdoor's (a neighbour follows the outdoors in part:
not modelled). A zone with no neighbour read takes the outdoor temperature for it.

A zone with fewer than ``MIN_READINGS`` readings stepped, whose outdoor (or heating)
input has fewer than two readings kept, or whose model the room does not fit (``MISFIT``),
is not answered here (None): the route falls back to the level/trend.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..physics.contract import Array
from ..physics.forecast import MIN_READINGS, first_crossing, gaussian_quantile
from ..physics.zone_bank import ZoneKnobs
from ..physics.zone_forecast import InputOutlook, daily_course, persisted, zone_outlook
from ..pipeline.batch import NOT_BELIEVED
from ..store.base import History
from .views import finite_or_none

if TYPE_CHECKING:
    from .twin_service import TwinService

MODEL = "thermal_zone"
#: The longest substep (seconds): the inputs' readings are a quarter hour apart on most
#: sites, and the input's error is held over a substep.
SUBSTEP = 900.0
#: Substeps at most: the inputs' error covariance is a square of them.
MAX_SUBSTEPS = 480
HOUR = 3600.0
#: The interval every forecast answers (the route's and the zone view's), besides the
#: quantiles asked for.
COVERAGE = 0.9
#: How far back an input's stored readings teach how far its future strays from its newest
#: reading: 14 days. The zone keeps three days of 15-minute readings (``zone_inputs``),
#: which hold about two independent changes over a day: the spread learned from them
#: is itself so unsure that zones under a wandering outdoor temperature held 85.5 % of
#: readings a day ahead in their 90 % interval (``tests/physics/test_zone_forecast.py``).
SPREAD_SECONDS = 14 * 86_400.0
#: At most this many stored readings of one input sensor (a reading every 7 s for 14 days).
SPREAD_READINGS = 172_800
#: A zone whose prior has missed its trusted readings (its mean squared error over about
#: the last day, ``ZoneBank`` ``prior_error``) by more than this many times the variance
#: it claims (the prior's and the readings' noise) does not answer: the one-node model
#: does not fit the room, and the readings' own level/trend does. Chosen on what was
#: measured before the zones had a heat gain: rooms the model fits read 0.2-0.3
#: (``test_zone_models``' site); rooms heated by spells no sensor reads 2.7, 3.0 and 11.8
#: (``test_zone_forecasts``); the demo's rooms, heated and modelled without a meter,
#: 30-108. Over its ~96 readings a fitting room's ratio strays some 15 %. With the gain,
#: heated rooms without a meter fit (about 1); the demo's rooms in its own timing (a day
#: in 144 s of event time) and rooms whose τ ran off still read 16-51 (docs/PHYSICS.md).
MISFIT = 2.0


class Source(NamedTuple):
    """An input of the zone: where it is read, its kept readings (sorted), the sensor rows
    that feed it with the factor each is scaled by (W to kW), and its stored readings of
    the last ``SPREAD_SECONDS`` (``stored``)."""

    element_id: str
    property: str
    times: Array
    values: Array
    rows: list[int]
    factors: list[float]
    spread: tuple[Array, Array] | None = None


class ZoneStart(NamedTuple):
    """A zone's filter at its last reading, and its inputs (``heating`` None: no meter,
    taken as 0; ``neighbour`` None: no neighbour read, the outdoor taken)."""

    x: Array
    P: Array
    time: float
    readings: int
    knobs: ZoneKnobs
    outdoor: Source
    heating: Source | None
    neighbour: Source | None = None


def zone_start(service: TwinService, element_id: str, name: str) -> ZoneStart | None:
    """On the writer: a copy of the zone modelling the element's ``name``, or None when no
    zone does (or one too young, one the room does not fit, ``MISFIT``, or one without an
    outdoor reading, to answer)."""
    desk = service.zones
    if not desk.enabled:
        return None
    k = desk.zone_of(element_id, name)
    if k is None:
        return None
    columns = desk.bank.columns
    count = int(columns["count"][k])
    if count < MIN_READINGS:
        return None
    if float(desk.bank.misfit(np.array([k]))[0]) > MISFIT:  # NaN (none judged yet) passes
        return None
    zone = desk.zones[k]

    def source(slot: int) -> Source | None:
        if slot < 0:
            return None
        times = desk.history.columns["time"][slot]
        values = desk.history.columns["value"][slot]
        kept = np.isfinite(times) & np.isfinite(values)
        if np.count_nonzero(kept) < 2:
            return None  # no change seen: nothing to learn its future's spread from
        element, prop = desk.slots[slot]
        rows = desk.input_rows(slot)
        return Source(element, prop, times[kept].copy(), values[kept].copy(),
                      [row for row, _ in rows], [factor for _, factor in rows])

    outdoor = source(zone.outdoor)
    heating = source(zone.heating)
    if outdoor is None or (zone.heating >= 0 and heating is None):
        return None
    return ZoneStart(columns["x"][k].copy(), columns["P"][k].copy(),
                     float(columns["time"][k]), count, desk.bank.knobs, outdoor, heating,
                     neighbours_source(desk, zone.neighbours))


def neighbours_source(desk: Any, slots: tuple[int, ...]) -> Source | None:
    """The neighbours' mean temperature as a kept history: at each time one of them was
    read, the mean of each as last read then (of those read by then); None with fewer
    than two such times."""
    if not slots:
        return None
    history = desk.history.columns
    kept = [(history["time"][slot], history["value"][slot]) for slot in slots]
    kept = [(t[np.isfinite(t) & np.isfinite(v)], v[np.isfinite(t) & np.isfinite(v)])
            for t, v in kept]
    times = np.unique(np.concatenate([t for t, _ in kept]))
    if times.size < 2:
        return None
    total, heard = np.zeros(times.size), np.zeros(times.size)
    for t, v in kept:
        at = np.searchsorted(t, times, side="right") - 1
        read = at >= 0
        total[read] += v[at[read]]
        heard[read] += 1.0
    values = total / np.maximum(heard, 1.0)
    known = heard > 0
    names = ",".join(desk.slots[slot][0] for slot in slots)
    return Source(names, "air_temperature", times[known], values[known], [], [])


def stored(start: ZoneStart, read: Callable[[int, float, float, int], History]
           ) -> ZoneStart:
    """In a worker thread: the zone with each input's stored readings of the
    ``SPREAD_SECONDS`` before the zone's last reading (``read``: the store's ``history``),
    in its unit as the zone takes it (W as kW). An input with fewer stored readings than
    kept keeps its kept ones."""

    def longer(source: Source | None) -> Source | None:
        if source is None or not source.rows:
            return source
        histories = [read(row, start.time - SPREAD_SECONDS, start.time + 1.0,
                          SPREAD_READINGS) for row in source.rows]
        # a reading out of range or at a time not believed is not an input's spread or day
        # (an outdoor probe's -999 uploaded late made a 6 h forecast's sd 20 K, not 0.5)
        believed = [(h.flags & NOT_BELIEVED) == 0 for h in histories]
        times = np.concatenate([h.event_time[b] for h, b in zip(histories, believed,
                                                                  strict=True)])
        # in the zone's unit, as the reading path takes them (a meter's W as kW)
        values = np.concatenate([h.value[b] * factor for h, b, factor in
                                 zip(histories, believed, source.factors, strict=True)])
        if times.size <= source.times.size:
            return source
        order = np.argsort(times, kind="stable")
        return source._replace(spread=(times[order], values[order]))

    outdoor = longer(start.outdoor)
    assert outdoor is not None
    return start._replace(outdoor=outdoor, heating=longer(start.heating))


def answer(start: ZoneStart, horizon: float, steps: int, quantiles: tuple[float, ...],
           threshold: float | None, coverage: float) -> dict[str, Any]:
    """The zone's temperature ``steps`` times up to ``horizon`` seconds after its last
    reading (the route's columns, ``model`` ``thermal_zone``)."""
    interval = horizon / steps
    per_step = max(1, math.ceil(interval / SUBSTEP))
    per_step = min(per_step, max(1, MAX_SUBSTEPS // steps))
    substep = interval / per_step
    count = steps * per_step
    starts = np.asarray(start.time + substep * np.arange(count), dtype=np.float64)
    ends = np.asarray(starts + substep, dtype=np.float64)

    def outlook(source: Source | None, course: Array | None = None) -> InputOutlook:
        if source is None:
            return InputOutlook.known(np.zeros((1, count)))
        mean, covariance = persisted(source.times, source.values, starts, ends, source.spread,
                                     course=course)
        return InputOutlook(mean[None], covariance[None])

    # The outdoor temperature's departure from its daily course persists, not its value
    # (the day's swing is what a held value misses most); a heating's day is the
    # controller's, not learned here.
    course = daily_course(*(start.outdoor.spread or (start.outdoor.times,
                                                     start.outdoor.values)))
    outdoor, heating = outlook(start.outdoor, course), outlook(start.heating)
    neighbour = None if start.neighbour is None else outlook(start.neighbour)
    along = course is not None
    knobs = start.knobs
    heated = start.heating is not None
    ahead = zone_outlook(start.x[None], start.P[None], np.full(count, substep / HOUR),
                         outdoor, heating, knobs.process_noise(metered=heated),
                         knobs.noise_sd, neighbour)
    shown = np.arange(per_step - 1, count, per_step)
    mean, deviation = ahead.mean[0, shown], ahead.reading_sd[0, shown]
    x = start.x
    resistance, capacitance = math.exp(float(x[1])), math.exp(float(x[2]))
    tau = resistance * capacitance
    gain = float(x[3])
    share = 1.0 / (1.0 + math.exp(-float(x[4])))
    beside = outdoor.mean[0, 0] if neighbour is None else neighbour.mean[0, 0]
    # where the zone heads now: towards the equilibrium of the inputs over the first
    # substep and the gain they do not explain
    equilibrium = float(outdoor.mean[0, 0] + share * (beside - outdoor.mean[0, 0])
                        + resistance * heating.mean[0, 0]) + gain

    def quantile(probability: float) -> list[float]:
        return gaussian_quantile(mean, deviation, probability)

    crossing = None
    if threshold is not None:
        path = np.r_[x[0], ahead.mean[0]] - threshold
        crossing = first_crossing(path, start.time, substep)

    def described(source: Source | None, assumed: str) -> dict[str, Any] | None:
        if source is None:
            return None
        return {"element_id": source.element_id, "property": source.property,
                "value": float(source.values[-1]), "time": float(source.times[-1]),
                "assumed": assumed}

    return {
        "model": MODEL,
        "parameters": {
            "resistance": resistance if heated else None,
            "capacitance": capacitance if heated else None,
            "time_constant_hours": tau,
            "gain": gain,
            "gain_sd": math.sqrt(max(float(start.P[3, 3]), 0.0)),
            "neighbour_share": share if neighbour is not None else None,
            "gain_noise": float(knobs.process_noise(metered=heated)[3, 3]),
            "temperature_noise": knobs.temperature_noise,
            "noise": knobs.noise_sd**2,
        },
        "readings": start.readings,
        "steps_fitted": start.readings,
        "step": substep,
        "window": None,
        "fitted_from": None,
        "origin": start.time,
        "level": float(x[0]),
        "trend": (equilibrium - float(x[0])) / tau,
        "time": (start.time + interval * np.arange(1, steps + 1)).tolist(),
        "mean": mean.tolist(),
        "deviation": deviation.tolist(),
        "coverage": coverage,
        "low": quantile((1 - coverage) / 2),
        "high": quantile((1 + coverage) / 2),
        "quantiles": {str(p): quantile(p) for p in quantiles},  # as forecasts.py keys them
        "crossing": finite_or_none(crossing) if crossing is not None else None,
        "zone": {
            "state_deviation": ahead.state_sd[0, shown].tolist(),
            "input_deviation": ahead.input_sd[0, shown].tolist(),
            "outdoor": described(start.outdoor,
                                 "persisted_along_daily_course" if along else "persisted"),
            "heating": described(start.heating, "persisted"),
            "neighbours": described(start.neighbour, "persisted"),
        },
    }

