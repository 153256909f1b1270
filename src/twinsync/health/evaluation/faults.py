"""Faults of many shapes, planned per peer group and injected into one sensor's readings.

Planning keeps a group's faults apart in time (one faulty sensor at a time per group, so
its peers still say what the truth was) and starts them after ``first_fault_day``, when
the checks have learned each sensor. Injection works on a ``Track`` (one sensor's readings
as they are made) and returns the ``Label`` of what it did, measured on the readings it
touched: the first and last touched reading's true time and the size actually injected.

Shapes (``detail`` in the label says which):

- stuck: the value held (``hold``), held with the last bit flickering by one resolution
  (``flicker``), or pinned at a rail value of the sensor's range (``rail``);
- drift: an offset growing linearly or exponentially to ``magnitude``, some starting during
  a transient of the group (a pour, a load step, a door opening, a front); gone at the end
  (the sensor is recalibrated or replaced);
- offset: a calibration step of ``magnitude`` held for the window;
- crosswire: the sensor reads the next bay's signal (the next group of its signal type);
- spike: 1, or 3-5 consecutive readings off (welding heat on temperatures: up, then cooling);
- noise: extra noise in work hours only, ``magnitude`` times the sensor's noise sd;
- dropout: readings lost, intermittently (in clumps) or all, ``magnitude`` the share lost;
- clock: the device clock jumps by ``magnitude`` seconds (``time`` moves, ``received_at``
  does not) and is set right at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from .params import DAY, HOUR, SiteParams
from .signals import Group, work_hours

Array = NDArray[np.float64]

FAULT_KINDS = ("stuck", "drift", "spike", "noise", "dropout", "offset", "crosswire", "clock")

#: Values a failed sensor of each kind pins at: the ends of a logger's range, a zero.
RAILS: dict[str, tuple[float, ...]] = {
    "temperature": (-40.0, 85.0, 0.0),
    "humidity": (100.0, 0.0),
    "strain": (-3000.0, 3000.0),
    "vibration": (0.0,),
}


@dataclass(frozen=True, slots=True)
class Label:
    """One injected fault, as LABELS.csv holds it (times are epoch seconds, true time)."""

    sensor_id: str
    kind: str
    start: float
    end: float
    magnitude: float
    detail: str


@dataclass(slots=True)
class Track:
    """One sensor's readings while they are made (times in seconds since day 0)."""

    sensor_id: str
    kind: str              # the model's sensor kind (temperature, humidity, ...)
    signal: str            # the site signal type (slab, room_temperature, ...)
    resolution: float
    noise_sd: float        # in the sensor's unit
    times: Array           # true sampling times
    truth: Array           # the property as this sensor sees it, before its own errors
    value: Array
    keep: NDArray[np.bool_]
    clock: Array           # the device clock's error, seconds
    factor: float          # its share of the group's transient
    stuck: list[tuple[int, int, float, bool]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Planned:
    sensor: int            # index into the site's sensors
    kind: str
    start: float           # seconds since day 0
    duration: float        # seconds (spike: number of readings)
    transient: str         # the transient a drift starts in, or ""


def plan(rng: np.random.Generator, p: SiteParams, groups: list[Group],
         members: list[list[int]], days: float, can_crosswire: list[bool]) -> list[Planned]:
    """Faults for the site: some groups get one or two faulty sensors, whose faults follow
    one another with gaps, never overlapping within the group."""
    kinds = list(p.kind_weights)
    weights = np.array([p.kind_weights[k] for k in kinds])
    planned: list[Planned] = []
    end_of_site = days * DAY - 0.5 * DAY
    for number, group in enumerate(groups):
        if rng.random() >= p.faulty_group_share:
            continue
        count = 2 if rng.random() < p.two_faulty_share else 1
        faulty = [int(s) for s in rng.choice(members[number], size=count, replace=False)]
        when = (p.first_fault_day + rng.uniform(0.0, 1.0)) * DAY
        while True:
            allowed = weights * np.array([can_crosswire[number] or k != "crosswire"
                                          for k in kinds])
            kind = kinds[int(rng.choice(len(kinds), p=allowed / allowed.sum()))]
            start, transient = when, ""
            if kind == "drift" and rng.random() < p.drift_at_transient_share:
                soon = [(t, name) for t, name in group.events if when <= t <= when + 2 * DAY]
                if soon:
                    start, transient = soon[0][0] + rng.uniform(0.0, HOUR), soon[0][1]
            duration = _duration(rng, p, kind)
            length = 3600.0 if kind == "spike" else duration
            if start + length > end_of_site:
                break
            planned.append(Planned(faulty[int(rng.integers(count))], kind, start, duration,
                                   transient))
            when = start + length + rng.uniform(*p.gap_days) * DAY
    return planned


def _duration(rng: np.random.Generator, p: SiteParams, kind: str) -> float:
    if kind == "spike":
        return 1.0 if rng.random() >= p.spike_burst_share else float(rng.integers(3, 6))
    hours = {"stuck": p.stuck_hours, "dropout": p.dropout_hours, "clock": p.clock_hours}
    days = {"drift": p.drift_days, "offset": p.offset_days, "crosswire": p.crosswire_days,
            "noise": p.noise_days}
    if kind in hours:
        return float(rng.uniform(*hours[kind])) * HOUR
    return float(rng.uniform(*days[kind])) * DAY


def inject(rng: np.random.Generator, p: SiteParams, track: Track, fault: Planned,
           start_epoch: float, next_bay: Callable[[Array], Array] | None) -> Label | None:
    """Put ``fault`` into ``track``; its label, or None when no reading falls in it."""
    first = int(np.searchsorted(track.times, fault.start))
    if fault.kind == "spike":
        last = first + int(fault.duration)
    else:
        last = int(np.searchsorted(track.times, fault.start + fault.duration))
    last = min(last, len(track.times))
    if last <= first or first == 0:
        return None
    span = slice(first, last)
    magnitude, detail = _INJECT[fault.kind](rng, p, track, span, fault, next_bay)
    return Label(track.sensor_id, fault.kind, start_epoch + float(track.times[first]),
                 start_epoch + float(track.times[last - 1]), round(magnitude, 6), detail)


Injector = Callable[[np.random.Generator, SiteParams, Track, slice, Planned,
                     Callable[[Array], Array] | None], tuple[float, str]]


def _stuck(rng: np.random.Generator, p: SiteParams, track: Track, span: slice, fault: Planned,
           next_bay: Callable[[Array], Array] | None) -> tuple[float, str]:
    variants = list(p.stuck_variant_weights)
    weights = np.array(list(p.stuck_variant_weights.values()))
    variant = variants[int(rng.choice(len(variants), p=weights / weights.sum()))]
    if variant == "rail":
        held = float(rng.choice(np.array(RAILS.get(track.kind, (0.0,)))))
    else:
        held = float(np.round(track.value[span.start - 1] / track.resolution)
                     * track.resolution)
    # Held values are written after quantisation (``apply_stuck``) so they stay constant.
    track.stuck.append((int(span.start), int(span.stop), held, variant == "flicker"))
    return held, variant


def _drift(rng: np.random.Generator, p: SiteParams, track: Track, span: slice, fault: Planned,
           next_bay: Callable[[Array], Array] | None) -> tuple[float, str]:
    total = rng.uniform(*p.drift_total_sd) * _scale(track) * rng.choice(np.array([-1.0, 1.0]))
    elapsed = (track.times[span] - track.times[span.start]) / fault.duration
    exponential = rng.random() < p.drift_exponential_share
    if exponential:
        growth = 3.0  # reaches 5 % of its size by 40 % of the window, all of it at the end
        shape = np.expm1(growth * elapsed) / np.expm1(growth)
    else:
        shape = elapsed
    track.value[span] += total * shape
    detail = "exponential" if exponential else "linear"
    if fault.transient:
        detail += f", starting during a {fault.transient}"
    return float(total * shape[-1]), detail


def _offset(rng: np.random.Generator, p: SiteParams, track: Track, span: slice,
            fault: Planned, next_bay: Callable[[Array], Array] | None) -> tuple[float, str]:
    step = rng.uniform(*p.offset_sd) * _scale(track) * rng.choice(np.array([-1.0, 1.0]))
    track.value[span] += step
    return float(step), "calibration step"


def _crosswire(rng: np.random.Generator, p: SiteParams, track: Track, span: slice,
               fault: Planned, next_bay: Callable[[Array], Array] | None) -> tuple[float, str]:
    assert next_bay is not None  # planned only where the signal type has another group
    other = next_bay(track.times[span])
    track.value[span] += other - track.truth[span]
    return float(np.median(np.abs(other - track.truth[span]))), "reads the next bay's signal"


def _spike(rng: np.random.Generator, p: SiteParams, track: Track, span: slice, fault: Planned,
           next_bay: Callable[[Array], Array] | None) -> tuple[float, str]:
    count = span.stop - span.start
    size = rng.uniform(*p.spike_sd) * max(_scale(track), track.resolution)
    if track.kind == "temperature":
        # Welding heat on the housing: up at once, then cooling over the next readings.
        profile = np.array([1.0, 0.8, 0.6, 0.45, 0.35])[:count]
        detail = "welding heat"
    elif track.kind == "vibration":
        profile = np.array([1.0, 0.7, 0.9, 0.6, 0.8])[:count]
        detail = "knock"
    else:
        size *= rng.choice(np.array([-1.0, 1.0]))
        profile = np.array([1.0, 0.9, 1.0, 0.85, 0.95])[:count]
        detail = "interference"
    track.value[span] += size * profile
    return float(size), f"{count} reading{'s' if count > 1 else ''}, {detail}"


def _noise(rng: np.random.Generator, p: SiteParams, track: Track, span: slice, fault: Planned,
           next_bay: Callable[[Array], Array] | None) -> tuple[float, str]:
    factor = rng.uniform(*p.noise_factor)
    working = work_hours(track.times[span])
    extra = rng.normal(0.0, _scale(track) * np.sqrt(factor**2 - 1.0), working.sum())
    track.value[span][working] += extra
    return float(factor), "work hours only"


def _dropout(rng: np.random.Generator, p: SiteParams, track: Track, span: slice,
             fault: Planned, next_bay: Callable[[Array], Array] | None) -> tuple[float, str]:
    loss = rng.uniform(*p.dropout_loss)
    count = span.stop - span.start
    if loss >= 0.95:
        lost = np.ones(count, dtype=bool)
    else:
        # Radio losses come in clumps: runs of 1-6 readings, each lost with chance ``loss``.
        runs = rng.integers(1, 7, count)
        clump = np.repeat(np.arange(count), runs)[:count]
        lost = (rng.random(count) < loss)[clump]
    track.keep[span] &= ~lost
    share = float(lost.mean())
    return share, "all lost" if share == 1.0 else "intermittent"


def _clock(rng: np.random.Generator, p: SiteParams, track: Track, span: slice, fault: Planned,
           next_bay: Callable[[Array], Array] | None) -> tuple[float, str]:
    shift = float(rng.choice(np.array(p.clock_shifts_s)))
    track.clock[span] += shift
    return shift, f"device clock {shift / HOUR:+g} h, received_at unchanged"


_INJECT: dict[str, Injector] = {
    "stuck": _stuck, "drift": _drift, "offset": _offset, "crosswire": _crosswire,
    "spike": _spike, "noise": _noise, "dropout": _dropout, "clock": _clock,
}


def _scale(track: Track) -> float:
    """The sensor's noise sd in its unit (the size faults are measured in)."""
    return max(track.noise_sd, 1e-6)


def apply_stuck(rng: np.random.Generator, track: Track) -> None:
    """Write the held values of stuck faults (after quantisation, so they are constant)."""
    for first, last, held, flicker in track.stuck:
        track.value[first:last] = held
        if flicker:
            # The last bit flickers: one resolution up on about a fifth of the readings.
            flips = rng.random(last - first) < 0.2
            track.value[first:last][flips] += track.resolution
