"""The plain baseline: how many standard deviations a reading lies from the sensor's
recent mean, as the share of a normal distribution nearer the mean than it.

The mean and variance are exponentially weighted (``rate`` a reading: a memory of about
``1 / rate`` readings, the window of a moving z-score without keeping the window). It is
what a detector must beat: it knows no pattern, no time of day, and fires at every reading
of a long excursion.

>>> detector = ZScoreDetector(warmup=5)
>>> scores = [detector.learn_one(0, {"time": 0.0, "value": v}) for v in [1, 2, 1, 2, 1, 2, 9]]
>>> scores[-1] > 0.99
True
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..jit import compiled, compiled_inline
from ..records import Field
from .streaming import StreamingDetector

__all__ = ["ZScoreDetector"]


class Knobs(NamedTuple):
    warmup: int
    rate: float


@compiled_inline
def _step(s: Any, k: Knobs, value: float) -> float:
    if not math.isfinite(value):
        return 0.0
    n = s.count
    s.count = n + 1
    if n == 0:
        s.centre = value
        return 0.0
    deviation = value - s.centre
    spread = math.sqrt(s.variance) + 1e-9 * max(abs(s.centre), 1.0)
    score = math.erf(abs(deviation) / spread / math.sqrt(2.0)) if n >= k.warmup else 0.0
    # Welford's update with a forgetting rate (the first readings weigh as in a plain mean).
    rate = max(k.rate, 1.0 / (n + 1))
    s.centre += rate * deviation
    s.variance = (1.0 - rate) * (s.variance + rate * deviation * deviation)
    return score


@compiled
def _learn_many(
    records: NDArray[np.void],
    raw: NDArray[np.uint8],
    scratch: NDArray[np.void],
    scratch_raw: NDArray[np.uint8],
    k: Knobs,
    rows: NDArray[np.int64],
    values: NDArray[np.float64],
    teach: NDArray[np.bool_],
    scores: NDArray[np.float64],
) -> None:
    for i in range(rows.shape[0]):
        if teach[i]:
            scores[i] = _step(records[rows[i]], k, values[i])
        else:  # scored on a copy of the record: the state stays as it was
            scratch_raw[0, :] = raw[rows[i], :]
            scores[i] = _step(scratch[0], k, values[i])


class ZScoreDetector(StreamingDetector):
    """A moving z-score of each sensor's readings, a score in [0, 1] (see the module)."""

    # (Not "mean" and "var": as plain Python a record's NumPy methods of those names would
    # hide the fields.)
    name = "zscore"
    COLUMNS: ClassVar[dict[str, Field]] = {
        "count": (np.int64, 0),
        "centre": (np.float64, 0.0),
        "variance": (np.float64, 0.0),
    }

    def __init__(self, warmup: int = 100, rate: float = 0.01, capacity: int = 16) -> None:
        if warmup < 1 or not 0.0 < rate <= 1.0:
            raise ValueError("zscore: warmup >= 1 and rate in (0, 1]")
        super().__init__(capacity)
        self.knobs = Knobs(int(warmup), float(rate))

    def _learn(
        self,
        rows: NDArray[np.int64],
        times: NDArray[np.float64],
        values: NDArray[np.float64],
        teach: NDArray[np.bool_],
        scores: NDArray[np.float64],
    ) -> None:
        records, raw, scratch, scratch_raw = self._kernel_tables()
        _learn_many(records, raw, scratch, scratch_raw, self.knobs, rows, values, teach, scores)
