"""The level/trend tracker's one-step predictions, reading by reading, for looking back.

The reading path keeps no prediction per reading: ``tracker.LevelTrendTracker.track_many``
folds each reading into its sensor's record and returns the normalised residual only, and
its cost is what ingest pays. To draw "predicted against measured" over a stored history,
``PredictingTracker`` runs the very same step (``tracker._step``, the same knobs) over the
readings and, before each one, writes down what the filter expected of it:

- ``predicted``: the level predicted for the reading's time from the state before it (the
  filter's one-step prediction, the residual's reference);
- ``sd``: the standard deviation of a trusted reading about it, the state's and the
  sensor's together (``sqrt(P₀₀ + r)``). A reading health doubted was judged with its
  variance divided by its quality (``normalised`` says how far off it was as judged); the
  band is where a good reading would fall, so it does not balloon at each doubted one.

Both are NaN where the filter had not started (a sensor's first ``warmup`` trusted
readings) or the value is not finite. The pass is a separate compiled loop over a
tracker of its own: the live kernel is not touched and its cost is unchanged.

>>> rng = np.random.default_rng(0)
>>> tracker = PredictingTracker(warmup=12)
>>> track = tracker.predict_many(np.zeros(40, dtype=np.int64), 60.0 * np.arange(40),
...                              5.0 + rng.normal(0.0, 0.1, 40), np.ones(40))
>>> int(np.isnan(track.predicted).sum()), bool(abs(track.predicted[-1] - 5.0) < 0.2)
(12, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..jit import compiled, record_rows
from .tracker import DETAIL, Knobs, LevelTrendTracker, TrackUpdate, _predict, _step

__all__ = ["OneStepTrack", "PredictingTracker", "z_of"]


@dataclass(frozen=True, slots=True)
class OneStepTrack:
    """Per reading (in the order given): the one-step prediction and a trusted reading's
    standard deviation about it (NaN: not predicted), and what the tracker's own step
    returned (``update``: normalised residual, code, detail)."""

    predicted: NDArray[np.float64]
    sd: NDArray[np.float64]
    update: TrackUpdate


@compiled
def _predict_many(records: Any, k: Knobs, rows: NDArray[np.int64],
                  times: NDArray[np.float64], values: NDArray[np.float64],
                  quality: NDArray[np.float64], predicted: NDArray[np.float64],
                  sd: NDArray[np.float64], normalised: NDArray[np.float64],
                  codes: NDArray[np.int8], detail: NDArray[np.float64],
                  residuals: NDArray[np.float64]) -> None:
    for i in range(rows.shape[0]):
        s = records[rows[i]]
        if s.count >= k.warmup and math.isfinite(values[i]):
            # what _step predicts before it takes the reading, from the same state
            dt = max((times[i] - s.last_seen) / 3600.0, 0.0)
            level, _, p00, _, _ = _predict(dt, s.q, s.qt, s.level, s.trend, s.p00, s.p01,
                                           s.p11)
            predicted[i] = level
            sd[i] = math.sqrt(max(p00 + s.r, 0.0))
        z, code = _step(s, k, times[i], values[i], quality[i], detail[i])
        normalised[i] = z
        codes[i] = code
        residuals[i] = s.last_residual if z == z else math.nan


class PredictingTracker(LevelTrendTracker):
    """A ``LevelTrendTracker`` that also says, per reading, what it predicted (see the
    module). For looking back over stored readings, never on the reading path."""

    @classmethod
    def with_knobs(cls, knobs: Knobs, capacity: int = 16) -> PredictingTracker:
        """A fresh tracker with another's knobs (``LevelTrendTracker.knobs``: warm-up,
        CUSUM, learning rates), so it steps as that one does."""
        fresh = cls(capacity=capacity)
        fresh.knobs = knobs
        return fresh

    def predict_many(self, rows: NDArray[np.int64], times: NDArray[np.float64],
                     values: NDArray[np.float64], quality: NDArray[np.float64]
                     ) -> OneStepTrack:
        """Step each reading's row (each row's readings in time order), as ``track_many``,
        with each reading's one-step prediction and its standard deviation."""
        rows, times, values, quality = self.readings(rows, times, values, quality)
        n = rows.shape[0]
        predicted = np.full(n, np.nan)
        sd = np.full(n, np.nan)
        normalised = np.full(n, np.nan)
        codes = np.zeros(n, dtype=np.int8)
        detail = np.empty((n, len(DETAIL)))
        residuals = np.full(n, np.nan)
        if n:
            if rows.min() < 0:
                raise ValueError(f"{self.name}: rows are 0 or more")
            self.ensure(int(rows.max()))
            _predict_many(record_rows(self._records.array), self.knobs, rows, times, values,
                          quality, predicted, sd, normalised, codes, detail, residuals)
        return OneStepTrack(predicted, sd, TrackUpdate(normalised, codes, detail, residuals))


def z_of(coverage: float) -> float:
    """The half-width of a central normal interval of ``coverage``, in standard deviations
    (1.645 for 90 %)."""
    if not 0.0 < coverage < 1.0:
        raise ValueError("coverage in (0, 1)")
    return NormalDist().inv_cdf((1.0 + coverage) / 2.0)
