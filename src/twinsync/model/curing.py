"""How far an element's concrete has cured, from the temperatures of the sensors bound to
it: its maturity and estimated strength as a site engineer would trust them. Pure: the
readings come in as columns, nothing is read or written here.

- **From the pour.** Maturity counts from the pour: declared (the element's property
  ``poured_at``), else when a source first saw the element started, else the earliest
  actual start of its activities. Without one there is no estimate.
- **Only readings to trust.** A reading of health quality below the mix's
  ``min_quality``, out of its sensor's physical range, or of a time not believed
  (quarantined) does not count.
- **Gaps stated, not bridged.** Between good readings further apart than the mix's
  ``max_gap_hours`` (and from the pour to the first good reading) the concrete is taken
  to gain nothing: the maturity is a lower bound, and the one with every gap bridged by a
  straight line is shown beside it with the gaps. Nothing is extrapolated past a sensor's
  last good reading.
- **The coldest governs.** Of the sensors still reporting (a good reading within
  ``max_gap_hours`` of the element's latest), the one with the least maturity sets the
  element's; a sensor that stopped is listed with when it stopped, and one whose
  readings never counted is listed as excluded.
- **Confidence** = the mix's confidence x the mean quality of the governing sensor's
  readings x the share of its time since the pour covered without a long gap.
- **Strength with an interval.** A mix whose curve was fitted from three breaks or more
  gives the strength a 90 % prediction interval from how the breaks scatter about it
  (``physics.maturity.BreakScatter``), and each target the maturities at which the
  interval's high and low edges reach it.
- **When a target is reached**, at the governing sensor's pace: how much maturity it
  gained an hour over its last day of readings (``PACE_HOURS``), and the slowest and
  fastest of that day's quarters. Expected at the mean pace from the maturity the curve
  needs; earliest at the fastest quarter's pace from the interval's first maturity,
  latest at the slowest's from its last. A pace, not a forecast of the weather: concrete
  cooling after its heat of hydration gains more slowly each day, so the latest time is
  the one to plan a striking by, and the view says which day it is taken from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..physics.maturity import (
    COVERAGE,
    KELVIN,
    LogarithmicCurve,
    equivalent_age,
    temperature_time_factor,
)
from .mix import Mix

#: Readings with these flags never count (``pipeline.batch.Flag``: QUARANTINED,
#: OUT_OF_RANGE): their time or their value cannot be believed.
NOT_BELIEVED = 4 | 8
#: At most this many gaps are listed per sensor (all are counted).
LISTED_GAPS = 20
#: The pace a target's time is projected at is that of the governing sensor's last this
#: many hours of readings, in ``PACE_BLOCKS`` parts for its slowest and fastest.
PACE_HOURS = 24.0
PACE_BLOCKS = 4


@dataclass(frozen=True, slots=True)
class Pace:
    """Maturity gained an hour (the index's unit) over ``hours`` up to a sensor's last good
    reading: on average, and in the slowest and the fastest of its parts."""

    per_hour: float
    slowest: float
    fastest: float
    hours: float

    def to_dict(self) -> dict[str, float]:
        return {"per_hour": round(self.per_hour, 4), "slowest": round(self.slowest, 4),
                "fastest": round(self.fastest, 4), "hours": round(self.hours, 3)}


def pace_of(hours: NDArray[np.float64], index: NDArray[np.float64]) -> Pace | None:
    """The pace over the last ``PACE_HOURS`` of a running index (``hours`` since the pour,
    oldest first); None when the readings span less than a part of it."""
    end = float(hours[-1])
    start = max(end - PACE_HOURS, float(hours[0]))
    span = end - start
    if span < PACE_HOURS / PACE_BLOCKS:
        return None
    edges = np.linspace(start, end, PACE_BLOCKS + 1)
    parts = np.diff(np.interp(edges, hours, index)) / np.diff(edges)
    gained = float(np.interp(end, hours, index) - np.interp(start, hours, index))
    return Pace(gained / span, float(parts.min()), float(parts.max()), span)


@dataclass(frozen=True, slots=True)
class TemperatureSeries:
    """One sensor's readings of the concrete's temperature, oldest first, in °C."""

    sensor_id: str
    event_time: NDArray[np.float64]
    temperature_c: NDArray[np.float64]
    quality: NDArray[np.float64]
    flags: NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class SensorMaturity:
    sensor_id: str
    counted: int
    low_quality: int
    not_believed: int
    until: float | None  # the last good reading's time
    maturity: float  # long gaps count nothing: a lower bound
    bridged: float  # long gaps bridged by a straight line
    gap_hours: float
    gaps: list[tuple[float, float]]
    mean_quality: float
    covered: float  # share of the time from the pour to ``until`` without a long gap
    reached_at: float | None  # when its lower-bound strength reached the requirement
    role: str = "excluded"  # governing, reporting, stopped, excluded
    pace: Pace | None = None  # over its last day of readings (gaps bridged)

    def to_dict(self, mix: Mix) -> dict[str, Any]:
        return {
            "sensor_id": self.sensor_id,
            "role": self.role,
            "counted": self.counted,
            "low_quality": self.low_quality,
            "not_believed": self.not_believed,
            "until": self.until,
            "maturity": round(self.maturity, 3),
            "maturity_bridged": round(self.bridged, 3),
            "strength": _strength(mix, self.maturity),
            "gap_hours": round(self.gap_hours, 3),
            "gaps": [{"start": s, "end": e} for s, e in self.gaps],
            "mean_quality": round(self.mean_quality, 3),
            "covered": round(self.covered, 3),
            "reached_at": self.reached_at,
        }


@dataclass(frozen=True, slots=True)
class Curing:
    """An element's maturity as of a time, from all its temperature sensors."""

    element_id: str
    mix: Mix
    poured_at: float
    pour_source: str
    as_of: float
    sensors: list[SensorMaturity]
    governing: SensorMaturity | None

    @property
    def maturity(self) -> float:
        return self.governing.maturity if self.governing else 0.0

    @property
    def strength(self) -> float:
        return _strength(self.mix, self.maturity)

    @property
    def reporting(self) -> list[SensorMaturity]:
        return [s for s in self.sensors if s.role in ("governing", "reporting")]

    @property
    def reached_at(self) -> float | None:
        """When every reporting sensor had reached the requirement (None: not yet)."""
        times = [s.reached_at for s in self.reporting]
        if not times or any(t is None for t in times):
            return None
        return max(t for t in times if t is not None)

    @property
    def confidence(self) -> float:
        g = self.governing
        if g is None:
            return 0.0
        return round(self.mix.confidence * g.mean_quality * g.covered, 3)

    @property
    def until(self) -> float | None:
        return self.governing.until if self.governing else None

    def to_dict(self) -> dict[str, Any]:
        mix, g = self.mix, self.governing
        unit = "°C·h" if mix.index == "temperature_time_factor" else "h"
        stale = None if self.until is None else max(0.0, self.as_of - self.until) / 3600.0
        targets = {
            name: self._target(value) for name, value in
            {**mix.targets, "required": mix.required_strength}.items()
        }
        interval = mix.curve.interval([self.maturity]) if isinstance(
            mix.curve, LogarithmicCurve) else None
        return {
            "element_id": self.element_id,
            "mix": mix.name,
            "index": mix.index,
            "unit": unit,
            "as_of": self.as_of,
            "poured_at": self.poured_at,
            "pour_source": self.pour_source,
            "maturity": round(self.maturity, 3),
            "maturity_bridged": round(g.bridged, 3) if g else 0.0,
            "strength": self.strength,
            "strength_interval": None if interval is None else {
                "coverage": COVERAGE, "low": round(float(interval[0][0]), 3),
                "high": round(float(interval[1][0]), 3)},
            "strength_bridged": _strength(mix, g.bridged) if g else 0.0,
            "required_strength": mix.required_strength,
            "required_maturity": _finite(mix.curve.maturity_for(mix.required_strength)),
            "reached": self.reached_at is not None,
            "reached_at": self.reached_at,
            "targets": targets,
            "confidence": self.confidence,
            "governing_sensor": g.sensor_id if g else None,
            "until": self.until,
            "hours_since_last_reading": None if stale is None else round(stale, 3),
            "extrapolated": False,
            "pace": None if g is None or g.pace is None else g.pace.to_dict(),
            "sensors": [s.to_dict(mix) for s in self.sensors],
        }

    def _target(self, strength: float) -> dict[str, Any]:
        """A target's maturity (with the interval's range) and when it is expected."""
        mix, g = self.mix, self.governing
        needed = mix.curve.maturity_for(strength)
        span = mix.curve.maturity_interval(strength) if isinstance(
            mix.curve, LogarithmicCurve) else None
        first, last = (needed, needed) if span is None else span
        reached = self.strength >= strength
        expected = None
        if not reached and g is not None and g.until is not None and g.pace is not None:
            expected = {
                "time": _when(g.until, needed - g.maturity, g.pace.per_hour),
                "earliest": _when(g.until, first - g.maturity, g.pace.fastest),
                "latest": _when(g.until, last - g.maturity, g.pace.slowest),
            }
        return {
            "strength": strength,
            "maturity": _finite(needed),
            "maturity_range": None if span is None else {
                "earliest": _finite(first), "latest": _finite(last)},
            "reached": reached,
            "expected_at": expected,
        }


def _when(since: float, still: float, per_hour: float) -> float | None:
    """When ``still`` more maturity is gained at ``per_hour`` from ``since`` (epoch s);
    ``since`` when nothing more is needed, None when it never is at that pace."""
    if still <= 0:
        return since
    if not math.isfinite(still) or per_hour <= 0:
        return None
    return round(since + still / per_hour * 3600.0, 3)


def _finite(value: float) -> float | None:
    return round(value, 3) if math.isfinite(value) else None


def _strength(mix: Mix, maturity: float) -> float:
    return round(float(mix.curve.strength(np.array([maturity]))[0]), 3)


def index_of(
    mix: Mix, hours: NDArray[np.float64], temps: NDArray[np.float64], *, max_gap_hours: float
) -> NDArray[np.float64]:
    """The mix's maturity index at each reading (``hours`` since the pour)."""
    if mix.index == "equivalent_age":
        return equivalent_age(
            hours,
            temps,
            activation_energy=mix.activation_energy,
            reference_c=mix.reference_c,
            max_gap_hours=max_gap_hours,
        )
    return temperature_time_factor(hours, temps, datum_c=mix.datum_c, max_gap_hours=max_gap_hours)


def sensor_maturity(
    mix: Mix, series: TemperatureSeries, poured_at: float, as_of: float
) -> SensorMaturity:
    """One sensor's maturity from the pour to its last good reading at or before
    ``as_of``."""
    window = (series.event_time >= poured_at) & (series.event_time <= as_of)
    # A temperature at or below absolute zero (a logger's rail value, -999) is a fault of
    # the sensor, whatever its kind's range says: not believed, never the coldest.
    believed = ((series.flags & NOT_BELIEVED) == 0) & (series.temperature_c > -KELVIN)
    good = series.quality >= mix.min_quality
    kept = window & believed & good
    low_quality = int(np.count_nonzero(window & believed & ~good))
    not_believed = int(np.count_nonzero(window & ~believed))
    if not np.any(kept):
        return SensorMaturity(
            series.sensor_id, 0, low_quality, not_believed, None, 0.0, 0.0, 0.0, [], 0.0, 0.0, None
        )
    times = series.event_time[kept]
    # The pour is the first point, at the first good reading's temperature: the time
    # before that reading is a gap like any other (bridged only when short).
    hours = np.concatenate(([0.0], (times - poured_at) / 3600.0))
    temps = np.concatenate((series.temperature_c[kept][:1], series.temperature_c[kept]))
    lower = index_of(mix, hours, temps, max_gap_hours=mix.max_gap_hours)
    bridged = index_of(mix, hours, temps, max_gap_hours=math.inf)
    step = np.diff(hours)
    long = step > mix.max_gap_hours
    gap_hours = float(step[long].sum())
    starts = np.flatnonzero(long)
    gaps = [
        (poured_at + hours[i] * 3600.0, poured_at + hours[i + 1] * 3600.0)
        for i in starts[:LISTED_GAPS]
    ]
    span = float(hours[-1])
    needed = mix.curve.maturity_for(mix.required_strength)
    at = int(np.searchsorted(lower, needed, side="left")) if math.isfinite(needed) else len(lower)
    reached_at = poured_at + float(hours[at]) * 3600.0 if at < len(lower) else None
    return SensorMaturity(
        series.sensor_id,
        int(times.shape[0]),
        low_quality,
        not_believed,
        float(times[-1]),
        float(lower[-1]),
        float(bridged[-1]),
        gap_hours,
        gaps,
        float(series.quality[kept].mean()),
        1.0 - gap_hours / span if span > 0 else 0.0,
        reached_at,
        pace=pace_of(hours, bridged),
    )


def assess(
    element_id: str,
    mix: Mix,
    series: list[TemperatureSeries],
    poured_at: float,
    pour_source: str,
    as_of: float,
) -> Curing:
    """The element's curing as of ``as_of``: each sensor's maturity, and the coldest of
    those still reporting governing."""
    results = [sensor_maturity(mix, s, poured_at, as_of) for s in series]
    latest = max((r.until for r in results if r.until is not None), default=None)
    sensors: list[SensorMaturity] = []
    for result in results:
        if result.until is None:
            role = "excluded"
        elif latest is not None and latest - result.until > mix.max_gap_hours * 3600.0:
            role = "stopped"
        else:
            role = "reporting"
        sensors.append(_with_role(result, role))
    reporting = [s for s in sensors if s.role == "reporting"]
    governing = min(reporting, key=lambda s: (s.maturity, s.sensor_id), default=None)
    if governing is not None:
        sensors = [_with_role(s, "governing") if s is governing else s for s in sensors]
        governing = next(s for s in sensors if s.role == "governing")
    return Curing(element_id, mix, poured_at, pour_source, as_of, sensors, governing)


def _with_role(result: SensorMaturity, role: str) -> SensorMaturity:
    from dataclasses import replace

    return replace(result, role=role)
