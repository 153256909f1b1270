"""Physical ranges per sensor kind: a reading no such sensor can give is flagged, not refused.

A temperature below absolute zero, a relative humidity over 100 % or a negative
concentration is not a fact about the site but about the sensor (a broken wire, a wrong
scale, a decoder that read the wrong bytes). Such a reading is kept, as evidence, and
flagged ``Flag.OUT_OF_RANGE`` so it is not believed. Refusing it would hide the fault.

Each range is written once per kind in its own unit (``KIND_RANGES``) and converted, when
a sensor is registered, to the sensor's unit: a °F logger's range is -459.67…3632 °F. The
table holds one low and one high bound per sensor row, so a batch is judged with two
gathers and two comparisons, whatever the number of kinds or sensors. Bounds are
inclusive; a sensor whose kind has no range, or whose unit does not convert to its kind's
(or which has none), gets -∞…+∞ and is never flagged. The values judged are in the
sensor's unit before calibration: ``Batch.raw_value``.

>>> ranges = PhysicalRanges()
>>> ranges.set_sensor(0, "slab_temperature", "degF")
>>> ranges.set_sensor(1, "relative_humidity", "percent")
>>> ranges.set_sensor(2, "vibration", "mm/s")
>>> ranges.outside(np.array([0, 0, 1, 2]), np.array([-500.0, 70.0, 104.0, -1e9])).tolist()
[True, False, True, False]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..errors import UnitError
from ..units import converter
from .batch import Batch, Flag

# A billionth of the magnitudes a converted bound is computed from: rounding is some 1e-16
# of them, and no reading is judged to a billionth.
_RELATIVE_SLACK = 1e-9


@dataclass(frozen=True, slots=True)
class PhysicalRange:
    """What a kind of sensor can physically read, inclusive, in ``unit``.

    ``unit`` None: the bounds hold in any unit, which is true only of 0 and ±∞ on a scale
    whose zero means none (a concentration is never negative, in ppm, mg/m³ or %).
    """

    low: float
    high: float
    unit: str | None


#: Ranges by kind (lower case, words joined by ``_``). A kind not listed takes the range
#: of its longest listed tail: ``slab_temperature`` and ``air_temperature`` are
#: temperatures. None: a kind known to have no range, which its tail must not give it.
KIND_RANGES: dict[str, PhysicalRange | None] = {
    # Absolute zero; 2000 °C is beyond any fire or kiln a site logger survives.
    "temperature": PhysicalRange(-273.15, 2000.0, "degC"),
    "temperature_difference": None,
    "relative_humidity": PhysicalRange(0.0, 100.0, "percent"),
    # Humidity in % is relative; in g/m³ (absolute) its unit does not convert, so no range.
    "humidity": PhysicalRange(0.0, 100.0, "percent"),
    # Moisture content on a dry basis passes 100 % (green timber), but is never negative.
    "moisture": PhysicalRange(0.0, math.inf, "percent"),
    "co2": PhysicalRange(0.0, 1e6, "ppm"),
    "concentration": PhysicalRange(0.0, math.inf, None),
    # ±5 % strain: steel yields near 0.2 %, concrete crushes near 0.35 %; gauges read a
    # few thousand microstrain.
    "strain": PhysicalRange(-0.05, 0.05, "strain"),
    # Direct sunlight is about 120,000 lx.
    "illuminance": PhysicalRange(0.0, 200_000.0, "lux"),
    # Absolute or gauge: nothing is below a perfect vacuum, 1 atm under the ambient.
    "pressure": PhysicalRange(-101_325.0, math.inf, "Pa"),
    "differential_pressure": None,
    # Beyond the strongest gust ever measured (113 m/s).
    "wind_speed": PhysicalRange(0.0, 150.0, "m/s"),
}


def kind_range(kind: str) -> PhysicalRange | None:
    """The range of a kind: its own entry, else its longest tail's, else None.

    >>> kind_range("Slab-Temperature")
    PhysicalRange(low=-273.15, high=2000.0, unit='degC')
    >>> kind_range("differential_pressure") is None
    True
    """
    words = kind.strip().lower().replace("-", "_").replace(" ", "_").split("_")
    for start in range(len(words)):
        tail = "_".join(words[start:])
        if tail in KIND_RANGES:
            return KIND_RANGES[tail]
    return None


def bounds_in(kind: str, unit: str) -> tuple[float, float] | None:
    """The low and high bound of ``kind`` in ``unit`` (a sensor's unit), or None when the
    kind has no range or its range cannot be given in that unit.

    >>> low, high = bounds_in("temperature", "degF")
    >>> round(low, 2), round(high, 2)
    (-459.67, 3632.0)
    >>> bounds_in("temperature", "") is None   # no unit: the numbers could mean anything
    True
    """
    found = kind_range(kind)
    if found is None:
        return None
    if found.unit is None or unit == found.unit:
        return found.low, found.high
    if not unit:
        return None
    try:
        convert = converter(found.unit, unit)
    except UnitError:
        return None
    low, high = (_converted(found.low, convert.scale, convert.shift, -1.0),
                 _converted(found.high, convert.scale, convert.shift, 1.0))
    return min(low, high), max(low, high)


def _converted(bound: float, scale: float, shift: float, outwards: float) -> float:
    """``bound * scale + shift``, moved outwards by far more than the conversion's rounding:
    the bound itself must not be flagged (-273.15 °C is 0 K, which the float arithmetic
    can make a hair above 0)."""
    if not math.isfinite(bound):
        return bound * math.copysign(1.0, scale)
    slack = _RELATIVE_SLACK * (abs(bound * scale) + abs(shift))
    return bound * scale + shift + math.copysign(slack, outwards * scale)


class PhysicalRanges:
    """One low and one high bound per sensor row, in the sensor's unit.

    Rows are the pipeline's dense sensor rows; a row never set has -∞…+∞. ``set_sensor``
    is called as a sensor is registered, ``mark`` (or ``outside``) on each batch.
    """

    def __init__(self, capacity: int = 1024) -> None:
        capacity = max(int(capacity), 16)
        self._low: NDArray[np.float64] = np.full(capacity, -np.inf)
        self._high: NDArray[np.float64] = np.full(capacity, np.inf)
        self._rows = 0

    def __len__(self) -> int:
        """Rows that have been set (and every row below them)."""
        return self._rows

    @property
    def low(self) -> NDArray[np.float64]:
        return self._low[: self._rows]

    @property
    def high(self) -> NDArray[np.float64]:
        return self._high[: self._rows]

    def set_sensor(self, row: int, kind: str, unit: str) -> None:
        """Fill ``row`` from a sensor's kind and unit (again if either changes)."""
        if row < 0:
            raise ValueError(f"a sensor row is not negative: {row}")
        self._reserve(row + 1)
        bounds = bounds_in(kind, unit) or (-math.inf, math.inf)
        self._low[row], self._high[row] = bounds
        self._rows = max(self._rows, row + 1)

    def outside(self, rows: NDArray[np.int64], values: NDArray[np.float64]
                ) -> NDArray[np.bool_]:
        """Per reading: is its value outside its sensor's range? NaN never is (it is
        refused earlier, as not a number)."""
        if len(rows) and int(rows.max()) >= len(self._low):
            self._reserve(int(rows.max()) + 1)
        mask: NDArray[np.bool_] = (values < self._low[rows]) | (values > self._high[rows])
        return mask

    def mark(self, batch: Batch) -> NDArray[np.bool_]:
        """Set ``Flag.OUT_OF_RANGE`` on the batch's readings outside their sensor's range
        (judging ``raw_value``, in the sensor's unit) and return which they were."""
        mask = self.outside(batch.rows, batch.raw_value)
        if np.count_nonzero(mask):
            if batch.flags is None:
                batch.flags = np.zeros(len(batch), dtype=np.int64)
            batch.flags[mask] |= Flag.OUT_OF_RANGE
        return mask

    def _reserve(self, rows: int) -> None:
        if rows <= len(self._low):
            return
        capacity = max(rows, 2 * len(self._low))
        self._low = np.concatenate([self._low, np.full(capacity - len(self._low), -np.inf)])
        self._high = np.concatenate([self._high, np.full(capacity - len(self._high), np.inf)])
