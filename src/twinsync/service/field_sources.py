"""Field measurements as a source of a fused property: how far an old one is still believed.

A measurement taken at ``t₀`` with standard uncertainty ``u`` says little about the value
now if the property has moved since. The property is taken to move as a random walk (the
local level model): its variance grows as ``u² + q · (t - t₀)``, so a fresh measurement
outweighs a noisy sensor and an old one fades out. The rate ``q`` (unit² per second) is
learned from the property's own sensors, from the readings health keeps in its ring (the
robust fit's inliers only, so a spike does not count as movement): for a random walk seen
through white noise of variance s², consecutive readings differ by
``Δx = w + eₖ - eₖ₋₁`` with ``Var(Δx) = q Δt + 2s²``, hence the moment estimate
``q̂ = (Σ Δx² - 2 m s²) / Σ Δt`` over m differences. It is floored at ``s² / span``
(span: the ring's time span): a movement below the noise over the window cannot be seen,
and a rate of 0 would keep a measurement forever. The property's rate is the median of its
sensors' (robust to one sensor gone wild). Where no sensor has enough readings (fewer than
``MIN_STEPS`` differences) the rate is unknown: the measurement is shown with its own
uncertainty, and ``rate`` says null, so a client can see the value does not age yet.

A declared rate was the other choice; it was not taken because nobody on site knows a
property's rate in unit² per second, while the sensors measure it all day.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from ..health.rules import INLIER
from ..model import Twin
from ..model.measurement import measurement_of
from .fusion import OtherSources

if TYPE_CHECKING:
    from ..health import HealthMonitor
    from .fusion import PropertyIndex

#: The names of the sources beside the sensors, in their column order.
OTHER_SOURCES = ("field", "prediction")
FIELD = 0
#: Fewer differences than this between a sensor's ring readings: its rate is unknown.
MIN_STEPS = 8


def sensor_rate(values: NDArray[np.float64], times: NDArray[np.float64],
                flags: NDArray[np.int8], noise_variance: float) -> float:
    """One sensor's random-walk rate from its ring (NaN when it cannot be told).

    >>> rng = np.random.default_rng(1)
    >>> t, flags = np.arange(64.0), np.ones(64, dtype=np.int8)
    >>> walk = np.cumsum(rng.normal(0.0, 1.0, 64)) + rng.normal(0.0, 0.5, 64)
    >>> 0.5 < sensor_rate(walk, t, flags, 0.25) < 2.0  # q = 1 per second
    True
    >>> sensor_rate(rng.normal(0.0, 0.5, 64), t, flags, 0.25) < 0.1  # noise is no movement
    True
    """
    keep = np.isfinite(times) & np.isfinite(values) & ((flags & INLIER) != 0)
    order = np.argsort(times[keep], kind="stable")
    t, x = times[keep][order], values[keep][order]
    steps = np.diff(t)
    moved = np.diff(x)[steps > 0]
    steps = steps[steps > 0]
    if moved.size < MIN_STEPS or not noise_variance >= 0.0:
        return float("nan")
    span = float(steps.sum())
    estimate = (float(np.sum(moved ** 2)) - 2.0 * moved.size * noise_variance) / span
    return float(max(estimate, noise_variance / span))


def property_rates(rows_by_property: Sequence[Sequence[int]],
                   health: HealthMonitor) -> NDArray[np.float64]:
    """The random-walk rate of each property from its sensor rows (NaN: unknown)."""
    rates = np.full(len(rows_by_property), np.nan)
    table = health.table
    for place, rows in enumerate(rows_by_property):
        seen = np.array([row for row in rows if row < health.rows_in_use], dtype=np.int64)
        if seen.size == 0:
            continue
        noise = health.noise_variance(seen)
        found = [sensor_rate(table.ring_value[row], table.ring_time[row],
                             table.ring_flags[row], float(noise[k]))
                 for k, row in enumerate(seen.tolist())]
        known = [rate for rate in found if np.isfinite(rate)]
        if known:
            rates[place] = float(np.median(known))
    return rates


def aged_variance(uncertainty: float, age: float, rate: float) -> float:
    """A measurement's variance ``age`` seconds after it was taken (its own where the rate
    is unknown; a time ahead of the clock, within tolerance, is taken as now).

    >>> round(aged_variance(0.3, 3600.0, 1e-5), 12)  # 0.09 + 0.036
    0.126
    """
    grown = rate * max(age, 0.0) if np.isfinite(rate) else 0.0
    return uncertainty * uncertainty + grown


def measured_keys(twin: Twin) -> set[tuple[str, str]]:
    """(element id, property) of every stored field measurement: read once at start-up,
    then added to by each one recorded (``service/measurements.py``). A key whose value
    has since been replaced stays: ``field_sources`` looks again at each one it is given."""
    return {(element.id, name) for element in twin.elements.values()
            for name, value in element.properties.items() if value.uncertainty is not None}


def field_sources(twin: Twin, keys: Sequence[tuple[str, str]], numbers: Sequence[int],
                  index: PropertyIndex, health: HealthMonitor, now: float,
                  measured: Collection[tuple[str, str]]
                  ) -> tuple[OtherSources | None, list[dict[str, object] | None]]:
    """The sources beside the sensors of the properties ``keys`` (numbered ``numbers`` in
    ``index``; None where none has one), and for each the field measurement as the view
    shows it (None: none); ``measured`` holds at least the keys that have one
    (``measured_keys``)."""
    shown: list[dict[str, object] | None] = [None] * len(keys)
    if not measured:
        return None, shown
    # On the live path this runs over every property a batch moved: one vectorised look,
    # and per property only for the few with a measurement.
    wanted = [index.numbers[key] for key in measured if key in index.numbers]
    elements = twin.elements
    places = [place for place in np.flatnonzero(np.isin(np.asarray(numbers, dtype=np.int64),
                                                        wanted)).tolist()
              if (element := elements.get(keys[place][0])) is not None
              and (value := measurement_of(element.properties, keys[place][1])) is not None
              # one in another unit predates a change of the binding
              and value.unit == index.units[numbers[place]]]
    rows = [index.members[index.starts[numbers[place]]:
                          index.starts[numbers[place] + 1]].tolist() for place in places]
    if not places:
        return None, shown
    others = OtherSources.empty(len(keys), OTHER_SOURCES)
    rates = property_rates(rows, health)
    for place, rate in zip(places, rates.tolist(), strict=True):
        element_id, name = keys[place]
        value = twin.elements[element_id].properties[name]
        assert value.uncertainty is not None
        age = now - value.time
        variance = aged_variance(value.uncertainty, age, rate)
        others.value[place, FIELD] = float(value.value)
        others.variance[place, FIELD] = variance
        others.time[place, FIELD] = value.time
        others.confidence[place, FIELD] = value.confidence
        shown[place] = {
            "value": float(value.value), "time": value.time, "age": age,
            "uncertainty": value.uncertainty, "aged_uncertainty": float(np.sqrt(variance)),
            "rate": rate if np.isfinite(rate) else None, "instrument": value.instrument,
        }
    return others, shown
