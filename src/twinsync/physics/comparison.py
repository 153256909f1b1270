"""Two trackers' tracking error on the same readings, counted per sensor row in a few
running sums: what a person needs to decide whether a shadow twin's parameters should
become the live ones (``service/twin_shadow.py``).

A reading is *counted* when both trackers predicted it (each gave a finite normalised
residual: neither was still warming up) and health trusted it (quality at least
``COUNTED_QUALITY``): a doubted reading's error is the sensor's, not the model's, and both
are judged on exactly the same readings whatever their own ``min_quality``. For each
tracker a row keeps, over its counted readings, the sums of the one-step prediction error
(``residual``, the reading's unit), of its square and its absolute value, and of the
squared normalised residual clipped at ±``LIMIT`` (as the CUSUM clips it: one wild reading
counts 16, not a million), and, over every reading stepped, how many divergences each
started; and how many counted readings the shadow predicted closer. That is 128 bytes a
row, however long the comparison runs.

From those: ``rms``, ``mean_abs`` and ``bias`` (mean error) in the unit, ``calibration``
(mean clipped squared normalised residual: an honest model's is about 1, above it the
model claims more certainty than it has, below less) and ``divergences``. Across sensors of
different units only unitless figures add up: the fleet's ``calibration``, divergences,
how many sensors each tracker predicts with the lower RMS, and the geometric mean of the
per-sensor ratio shadow RMS / live RMS (below 1: the shadow predicts better), over rows
with at least ``MIN_COUNTED`` readings.

>>> comparison = Comparison()
>>> rows = np.zeros(3, dtype=np.int64)
>>> live = np.array([0.2, -0.2, 0.2]), np.array([1.0, -1.0, 1.0])
>>> shadow = np.array([0.1, -0.1, 0.1]), np.array([0.5, -0.5, 0.5])
>>> comparison.add_many(rows, np.ones(3), *live, np.zeros(3, np.int8),
...                     *shadow, np.zeros(3, np.int8))
>>> figures = comparison.of_row(0)
>>> figures["readings"], figures["live"]["rms"], figures["shadow"]["calibration"]
(3, 0.2, 0.25)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..detect import RecordState
from ..jit import compiled, record_rows
from ..records import Field, Records
from .tracker import STARTED

__all__ = ["COUNTED_QUALITY", "LIMIT", "MIN_COUNTED", "Comparison"]

#: Least health quality of a counted reading.
COUNTED_QUALITY = 0.5
#: Normalised residuals are clipped at this many standard deviations before squaring.
LIMIT = 4.0
#: Counted readings a row needs before it is ranked or enters the fleet's RMS ratio.
MIN_COUNTED = 10
_SIDES = ("live", "shadow")


class ComparisonKnobs(NamedTuple):
    counted_quality: float
    limit: float


@compiled
def _add_many(records: Any, rows: NDArray[np.int64], quality: NDArray[np.float64],
              live_residual: NDArray[np.float64], live_z: NDArray[np.float64],
              live_code: NDArray[np.int8], shadow_residual: NDArray[np.float64],
              shadow_z: NDArray[np.float64], shadow_code: NDArray[np.int8],
              counted_quality: float, limit: float) -> None:
    for i in range(rows.shape[0]):
        s = records[rows[i]]
        if live_code[i] == STARTED:
            s.live_div += 1
        if shadow_code[i] == STARTED:
            s.shadow_div += 1
        lr, sr = live_residual[i], shadow_residual[i]
        lz, sz = live_z[i], shadow_z[i]
        # NaN compares false: a reading either tracker did not predict is not counted
        if not (quality[i] >= counted_quality and math.isfinite(lr) and math.isfinite(sr)
                and math.isfinite(lz) and math.isfinite(sz)):
            continue
        s.count += 1
        s.live_sum += lr
        s.live_sq += lr * lr
        s.live_abs += abs(lr)
        lz = min(max(lz, -limit), limit)
        s.live_z2 += lz * lz
        s.shadow_sum += sr
        s.shadow_sq += sr * sr
        s.shadow_abs += abs(sr)
        sz = min(max(sz, -limit), limit)
        s.shadow_z2 += sz * sz
        if abs(sr) < abs(lr):
            s.shadow_closer += 1


class Comparison(RecordState):
    """The running sums of two trackers' errors, one record a sensor row (see the module).
    Saved and restored like a detector (``analytics/snapshot.py``): ``name``, ``knobs``,
    and ``RecordState``'s ``save`` and ``restore``."""

    name = "shadow_comparison"
    COLUMNS: ClassVar[dict[str, Field]] = {
        "count": (np.int64, 0),
        "shadow_closer": (np.int64, 0),
        "live_div": (np.int64, 0),
        "shadow_div": (np.int64, 0),
        "live_sum": (np.float64, 0.0),
        "live_sq": (np.float64, 0.0),
        "live_abs": (np.float64, 0.0),
        "live_z2": (np.float64, 0.0),
        "shadow_sum": (np.float64, 0.0),
        "shadow_sq": (np.float64, 0.0),
        "shadow_abs": (np.float64, 0.0),
        "shadow_z2": (np.float64, 0.0),
    }

    def __init__(self, capacity: int = 16) -> None:
        self._records = Records(self.COLUMNS, max(int(capacity), 1))
        self.knobs = ComparisonKnobs(COUNTED_QUALITY, LIMIT)

    def add_many(self, rows: NDArray[np.int64], quality: NDArray[np.float64],
                 live_residual: NDArray[np.float64], live_z: NDArray[np.float64],
                 live_code: NDArray[np.int8], shadow_residual: NDArray[np.float64],
                 shadow_z: NDArray[np.float64], shadow_code: NDArray[np.int8]) -> None:
        """Count one batch's readings: each tracker's residual, normalised residual and
        what happened (``tracker.TrackUpdate``), reading by reading."""
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        if rows.shape[0] == 0:
            return
        self.ensure(int(rows.max()))
        as_float = [np.ascontiguousarray(a, dtype=np.float64)
                    for a in (quality, live_residual, live_z, shadow_residual, shadow_z)]
        quality, live_residual, live_z, shadow_residual, shadow_z = as_float
        _add_many(record_rows(self._records.array), rows, quality, live_residual, live_z,
                  np.ascontiguousarray(live_code, dtype=np.int8), shadow_residual, shadow_z,
                  np.ascontiguousarray(shadow_code, dtype=np.int8), self.knobs.counted_quality,
                  self.knobs.limit)

    # -- figures -------------------------------------------------------------------------------

    def of_row(self, row: int) -> dict[str, Any]:
        """One row's figures: ``readings`` counted, each tracker's ``rms``, ``mean_abs``,
        ``bias``, ``calibration`` and ``divergences``, and ``shadow_closer`` (the share of
        counted readings the shadow predicted closer; None before any)."""
        columns = self._records.columns
        if row >= len(self._records):
            columns = Records(self.COLUMNS, 1).columns
            row = 0
        c = {name: column[row] for name, column in columns.items()}
        count = int(c["count"])
        return {"readings": count,
                "shadow_closer": _ratio(float(c["shadow_closer"]), count),
                **{side: _side(c, side, count) for side in _SIDES}}

    def fleet(self, rows: NDArray[np.int64]) -> dict[str, Any]:
        """The unitless figures over ``rows`` (the modelled sensors), see the module."""
        rows = np.asarray(rows, dtype=np.int64)
        rows = rows[rows < len(self._records)]
        c = {name: column[rows] for name, column in self._records.columns.items()}
        count = c["count"]
        total = int(count.sum())
        compared = count >= MIN_COUNTED
        live_rms = np.sqrt(c["live_sq"][compared] / count[compared])
        shadow_rms = np.sqrt(c["shadow_sq"][compared] / count[compared])
        both = (live_rms > 0) & (shadow_rms > 0)
        ratio = (float(np.exp(np.mean(np.log(shadow_rms[both] / live_rms[both]))))
                 if both.any() else None)
        return {
            "sensors": int(rows.size),
            "sensors_compared": int(compared.sum()),
            "readings": total,
            "rms_ratio": ratio,
            "shadow_lower_rms": int((shadow_rms < live_rms).sum()),
            "live_lower_rms": int((live_rms < shadow_rms).sum()),
            "shadow_closer": _ratio(float(c["shadow_closer"].sum()), total),
            **{side: {"calibration": _ratio(float(c[f"{side}_z2"].sum()), total),
                      "divergences": int(c[f"{side}_div"].sum())} for side in _SIDES},
        }

    def ranked(self, rows: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Of ``rows``, those with at least ``MIN_COUNTED`` readings, by the ratio shadow
        RMS / live RMS, lowest (the shadow's best) first, with their ratios."""
        rows = np.asarray(rows, dtype=np.int64)
        rows = rows[rows < len(self._records)]
        columns = self._records.columns
        count = columns["count"][rows]
        keep = (count >= MIN_COUNTED) & (columns["live_sq"][rows] > 0)
        rows, count = rows[keep], count[keep]
        ratio = np.sqrt(columns["shadow_sq"][rows] / columns["live_sq"][rows])
        order = np.argsort(ratio, kind="stable")
        ranked: NDArray[np.int64] = rows[order]
        ratios: NDArray[np.float64] = ratio[order]
        return ranked, ratios


def _ratio(total: float, count: int) -> float | None:
    return total / count if count else None


def _side(c: Mapping[str, Any], side: str, count: int) -> dict[str, Any]:
    square = _ratio(float(c[f"{side}_sq"]), count)
    return {"rms": None if square is None else math.sqrt(square),
            "mean_abs": _ratio(float(c[f"{side}_abs"]), count),
            "bias": _ratio(float(c[f"{side}_sum"]), count),
            "calibration": _ratio(float(c[f"{side}_z2"]), count),
            "divergences": int(c[f"{side}_div"])}
