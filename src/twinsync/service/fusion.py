"""Fused property values: what the twin shows for a property fed by one or more sensors.

A sensor's trust is the lower of its health quality and the quality judged for the live
value's own reading, so a suspected spike does not set the displayed value at full
confidence even while its sensor is healthy. The sensors that can be trusted (trust
``MIN_QUALITY`` or more) are fused by inverse variance: each sensor's variance is the
noise variance health has learned for it (``sensor_noise``; at least its quantisation's)
divided by its trust, so a doubtful reading has its variance inflated rather than being
averaged in as if good, and a fine sensor outweighs a coarse or noisy one. Each sensor's
share of the value (``share``) and the value's standard uncertainty (``uncertainty``:
√(1 / Σ 1/vᵢ), widened by the Birge ratio √(χ² / (n - 1)) when the sensors disagree by more
than their noise: a bias between them is not in their noise) are shown with it. Where a
sensor's noise is not known yet (health still learning it) the property's sensors are
weighed by trust alone, as equal noise, and the uncertainty is unknown (NaN). When no
sensor of a property can be trusted, the best one is shown alone with its own, low,
confidence, and no uncertainty. The confidence of a fused value is the highest trust
among the sensors used.

Other sources join the sensors where the caller has them (``OtherSources``): a field
measurement, whose variance is its stated uncertainty squared grown with its age
(``service/field_sources.py``), and a model's prediction with its variance (a thermal
zone's for its space's air temperature, ``service/model_sources.py``: its prior before the
readings fused, or, with no sensor trusted, its extrapolation from its last reading).
Fusing them by inverse variance is the Kalman update of the prediction (the prior) by the
measurements, in information form: Σ 1/vᵢ is the posterior
information and Σ xᵢ/vᵢ over it the posterior mean. They take part only where every sensor
used has a known noise (a weight against an unknown variance would be a guess), or where no
sensor can be trusted: then they alone carry the value, the untrusted best sensor set
aside. Each has its share in ``other_share``; the Birge widening counts them as sources.

Everything is computed for many properties at once over NumPy columns: the live path
asks for the properties a batch moved, once per batch, not once per sensor.

>>> from twinsync.model import Binding, Sensor, Twin, Element
>>> from twinsync.pipeline import Pipeline
>>> twin = Twin()
>>> _ = twin.add_element(Element("slab", "IfcSlab"))
>>> for name in ("a", "b"):
...     _ = twin.add_sensor(Sensor(name, "temperature", "degC"))
...     _ = twin.bind_sensor(Binding(name, "slab", "temperature"))
>>> pipeline = Pipeline(twin)
>>> index = PropertyIndex.build(twin, pipeline.table)
>>> table = pipeline.table
>>> table.count[:2], table.last_value[:2], table.last_event_time[:2] = 1, [20.0, 40.0], 5.0
>>> table.last_quality[:2] = [1.0, 0.2]  # b's last reading was judged a spike
>>> fused = index.fuse(np.array([0]), table, sensor_quality=lambda rows: np.ones(rows.size))
>>> float(fused.value[0]), float(fused.confidence[0])
(20.0, 1.0)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..model import Twin
from ..pipeline import SensorTable

#: Below this weight a sensor does not take part in a fused value if a better one exists.
MIN_QUALITY = 0.5


@dataclass(slots=True)
class Fused:
    """Fused values of the properties asked for, in the order asked; where ``has_value``
    is false the other columns mean nothing."""

    has_value: NDArray[np.bool_]
    value: NDArray[np.float64]
    confidence: NDArray[np.float64]
    time: NDArray[np.float64]
    rows: NDArray[np.int64]
    """Every sensor row of the properties asked for, grouped by property."""
    group: NDArray[np.int64]
    """Each of ``rows``: its property's place in the order asked."""
    used: NDArray[np.bool_]
    """Each of ``rows``: whether it took part in its property's value."""
    share: NDArray[np.float64] | None = None
    """Each of ``rows``: its share of its property's value (0 when not used)."""
    uncertainty: NDArray[np.float64] | None = None
    """Each property's standard uncertainty (NaN when a sensor's noise is not known)."""
    spread: NDArray[np.float64] | None = None
    """Each property's Birge ratio (at least 1): ``uncertainty`` is √(1 / Σ 1/vᵢ) times it."""
    other_used: NDArray[np.bool_] | None = None
    """(property, other source): whether it took part in the value."""
    other_share: NDArray[np.float64] | None = None
    """(property, other source): its share of the value (0 when not used)."""

    def rows_used_by_place(self) -> list[list[int]]:
        """The sensor rows that made the value of each property asked for, in the order
        asked (only a view asks: the live path needs the values alone)."""
        rows = self.rows[self.used].tolist()
        bounds = np.searchsorted(self.group[self.used], np.arange(self.has_value.size + 1))
        edges = bounds.tolist()
        return [rows[edges[k]:edges[k + 1]] for k in range(self.has_value.size)]

    def shares_by_place(self) -> list[list[tuple[int, float]]]:
        """(sensor row, its share of the value) of the rows used, per property asked."""
        shares = (self.share if self.share is not None
                  else np.where(self.used, np.nan, 0.0))[self.used].tolist()
        rows = self.rows[self.used].tolist()
        bounds = np.searchsorted(self.group[self.used], np.arange(self.has_value.size + 1))
        edges = bounds.tolist()
        return [list(zip(rows[edges[k]:edges[k + 1]], shares[edges[k]:edges[k + 1]],
                         strict=True)) for k in range(self.has_value.size)]


@dataclass(slots=True)
class OtherSources:
    """Sources beside the sensors, one column each (``names``), one row per property asked:
    a value, its variance (NaN or not above 0: no such source for that property), its time
    and the confidence it is shown with."""

    names: tuple[str, ...]
    value: NDArray[np.float64]
    variance: NDArray[np.float64]
    time: NDArray[np.float64]
    confidence: NDArray[np.float64]

    @classmethod
    def empty(cls, count: int, names: tuple[str, ...]) -> OtherSources:
        shape = (count, len(names))
        return cls(names, np.full(shape, np.nan), np.full(shape, np.nan),
                   np.full(shape, -np.inf), np.zeros(shape))


@dataclass(slots=True)
class PropertyIndex:
    """Which sensors feed which property: properties numbered densely, their sensors in
    one array grouped by property (``members[starts[p]:starts[p + 1]]``)."""

    numbers: dict[tuple[str, str], int]
    """Each property's number, by (element id, property name)."""
    keys: list[tuple[str, str]]
    """(element id, property name) of each property number."""
    units: list[str]
    property_of_row: NDArray[np.int64]
    """Each sensor row's property number, -1 when unbound."""
    starts: NDArray[np.int64]
    members: NDArray[np.int64]

    @classmethod
    def build(cls, twin: Twin, table: SensorTable) -> PropertyIndex:
        number: dict[tuple[str, str], int] = {}
        rows_of: list[list[int]] = []
        units: list[str] = []
        property_of_row = np.full(len(table), -1, dtype=np.int64)
        for sensor_id, binding in twin.bindings.items():
            row = table.index.get(sensor_id)
            # A sensor on an archived element feeds nothing: its readings stay its own.
            if row is None or twin.live_binding(sensor_id) is None:
                continue
            key = (binding.element_id, binding.property)
            if key not in number:
                number[key] = len(rows_of)
                rows_of.append([])
                units.append(binding.transform.unit or table.units[row])
            rows_of[number[key]].append(row)
            property_of_row[row] = number[key]
        sizes = np.array([len(r) for r in rows_of], dtype=np.int64)
        starts = np.zeros(len(rows_of) + 1, dtype=np.int64)
        np.cumsum(sizes, out=starts[1:])
        members = np.array([row for rows in rows_of for row in rows], dtype=np.int64)
        return cls(number, list(number), units, property_of_row, starts, members)

    def number(self, element_id: str, name: str) -> int | None:
        return self.numbers.get((element_id, name))

    def member_rows(self, properties: NDArray[np.int64]
                    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """The sensor rows feeding each of ``properties``, flat, and for each the place in
        ``properties`` of the property it feeds (in order)."""
        sizes = self.starts[properties + 1] - self.starts[properties]
        group = np.repeat(np.arange(properties.size), sizes)
        firsts = np.repeat(self.starts[properties], sizes)
        within = np.arange(group.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        rows: NDArray[np.int64] = self.members[firsts + within]
        return group, rows

    def fuse(self, properties: NDArray[np.int64], table: SensorTable, *,
             sensor_quality: Callable[[NDArray[np.int64]], NDArray[np.float64]],
             sensor_noise: Callable[[NDArray[np.int64]], NDArray[np.float64]] | None = None,
             others: OtherSources | None = None) -> Fused:
        """Fused values of ``properties``; ``sensor_quality(rows)`` gives the health
        quality of sensor rows, ``sensor_noise(rows)`` their noise variance (NaN where not
        known; without it every sensor's noise is unknown); ``others`` the sources beside
        the sensors, a row per property asked."""
        count = properties.size
        group, rows = self.member_rows(properties)
        has = table.count[rows] > 0
        weight = sensor_trust(rows, table, sensor_quality)
        trusted = weight >= MIN_QUALITY
        any_trusted = np.zeros(count, dtype=np.bool_)
        any_trusted[group[trusted]] = True
        # Where none is trusted, the best sensor with a value stands alone.
        order = np.lexsort((-weight, group))  # by property, the best weight first
        first_of_group = np.r_[True, group[order][1:] != group[order][:-1]]
        best = np.zeros(group.size, dtype=np.bool_)
        best[order[first_of_group]] = True
        used = np.where(any_trusted[group], trusted, best & has)
        values = table.last_value[rows]
        noise = (np.full(rows.size, np.nan) if sensor_noise is None
                 else np.asarray(sensor_noise(rows), dtype=np.float64))
        # A property whose used sensors all have a known noise is fused by inverse
        # variance; any other by trust alone (equal noise), its uncertainty unknown.
        unknown = np.zeros(count, dtype=np.bool_)
        unknown[group[used & ~(noise > 0)]] = True
        other_ok = np.zeros((count, 0), dtype=np.bool_)
        if others is not None:
            with np.errstate(invalid="ignore"):
                other_ok = (np.isfinite(others.value) & np.isfinite(others.variance)
                            & (others.variance > 0.0))
            # Against sensors of unknown noise there is no weight to give; with no sensor
            # trusted the other sources carry the value alone.
            other_ok &= (~unknown | ~any_trusted)[:, None]
            carried = ~any_trusted & other_ok.any(axis=1)
            used &= ~carried[group]
            unknown &= ~carried
        variance = np.where(unknown[group] | ~(noise > 0), 1.0, noise)
        w = np.where(used, np.maximum(weight, 1e-12) / variance, 0.0)
        total = np.bincount(group, weights=w, minlength=count)
        weighted = np.bincount(group, weights=np.where(used, values * w, 0.0), minlength=count)
        has_value = np.zeros(count, dtype=np.bool_)
        has_value[group[used]] = True
        alone = has_value & ~any_trusted  # the best sensor alone: its value, not a mean
        confidence = np.full(count, -np.inf)
        np.maximum.at(confidence, group[used], weight[used])
        time = np.full(count, -np.inf)
        np.maximum.at(time, group[used], table.last_event_time[rows[used]])
        other_w = np.zeros(other_ok.shape)
        if others is not None:
            other_w = np.divide(1.0, others.variance, out=other_w, where=other_ok)
            total = total + other_w.sum(axis=1)
            weighted = weighted + np.where(other_ok, others.value * other_w, 0.0).sum(axis=1)
            has_value |= other_ok.any(axis=1)
            confidence = np.maximum(confidence, np.where(other_ok, others.confidence,
                                                         -np.inf).max(axis=1, initial=-np.inf))
            time = np.maximum(time, np.where(other_ok, others.time,
                                             -np.inf).max(axis=1, initial=-np.inf))
        value = np.divide(weighted, total, out=np.zeros(count), where=total > 0.0)
        if alone.any():  # one row used in each such property: its value stands
            lone = used & alone[group]
            value[group[lone]] = values[lone]
        share = np.divide(w, total[group], out=np.zeros(rows.size), where=total[group] > 0)
        other_share = np.divide(other_w, total[:, None], out=np.zeros(other_w.shape),
                                where=other_ok & (total[:, None] > 0))
        spread = _spread(group, used, values, w, value, count, other_ok,
                         others.value if others is not None else np.zeros(other_ok.shape),
                         other_w)
        with np.errstate(divide="ignore"):
            uncertainty = np.sqrt(1.0 / np.asarray(total, dtype=np.float64)) * spread
        # The best sensor alone, none trusted: its confidence says how little it is
        # trusted; an uncertainty of its noise over that trust would be a number of no use.
        uncertainty[unknown | ~has_value | alone] = np.nan
        return Fused(has_value, value, np.maximum(confidence, 0.0), time, rows, group, used,
                     share, uncertainty, spread, other_ok, other_share)


def sensor_trust(rows: NDArray[np.int64], table: SensorTable,
                 sensor_quality: Callable[[NDArray[np.int64]], NDArray[np.float64]]
                 ) -> NDArray[np.float64]:
    """Each sensor row's trust: the lower of its health quality and its live reading's
    quality; -1 where it has no reading. Trusted: ``MIN_QUALITY`` or more."""
    reading = table.last_quality[rows]
    weight = np.minimum(sensor_quality(rows), np.where(np.isnan(reading), 1.0, reading))
    trust: NDArray[np.float64] = np.where(table.count[rows] > 0, weight, -1.0)
    return trust


def _spread(group: NDArray[np.int64], used: NDArray[np.bool_], values: NDArray[np.float64],
            inverse: NDArray[np.float64], value: NDArray[np.float64], count: int,
            other_used: NDArray[np.bool_], other_values: NDArray[np.float64],
            other_inverse: NDArray[np.float64]) -> NDArray[np.float64]:
    """The Birge ratio √(χ² / (n - 1)) of each property, at least 1, over its n sources
    (sensors and others; χ² = Σ (xᵢ - x̄)² / vᵢ): above 1 where they disagree by more than
    their noise says, a bias between them that is not in their noise."""
    with np.errstate(invalid="ignore"):
        spread = np.where(used, (values - value[group]) ** 2 * inverse, 0.0)
        chi2 = np.bincount(group, weights=spread, minlength=count)
        chi2 = chi2 + np.where(other_used, (other_values - value[:, None]) ** 2
                               * other_inverse, 0.0).sum(axis=1)
    n = (np.bincount(group, weights=used.astype(np.float64), minlength=count)
         + other_used.sum(axis=1))
    birge = np.where(n > 1, np.sqrt(chi2 / np.maximum(n - 1, 1)), 1.0)
    out: NDArray[np.float64] = np.maximum(birge, 1.0)
    return out
