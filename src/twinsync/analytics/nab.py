"""The Numenta Anomaly Benchmark's score, written from its description.

A detector gives each row of a series an anomaly score in [0, 1]; rows at or above a
threshold are detections. Labelled windows are spans of rows around real anomalies.

- Rows of the probationary period (the first 15 % of a file, at most 750 rows) are not
  scored: a detection there counts for nothing, a window there is still a window.
- In a window only the earliest detection counts: ``A_TP * sigma(y) / sigma(-1)``, with
  ``sigma(y) = 2 / (1 + exp(5 y)) - 1`` and ``y = -(right - row + 1) / width`` (``width``:
  the window's rows), so ``y`` is -1 at the window's first row and nears 0 at its last.
- A detection outside every window costs ``A_FP * |sigma(d)|``, ``d`` its distance in rows
  past the previous window's last row in units of that window's width; the full ``A_FP``
  beyond 3 widths and before the first window.
- A window with no detection costs ``A_FN``.

The threshold is one for the whole corpus, chosen per profile to maximise the total, and
the total is normalised: ``100 (S - S_null) / (S_perfect - S_null)``, where the null
detector never fires (``-A_FN`` a window) and the perfect one fires at each window's first
row (``A_TP`` a window).

>>> series = Series("one", 20, [(10, 14)])
>>> result = score_corpus([series], [np.r_[np.zeros(10), 1.0, np.zeros(9)]], STANDARD)
>>> result.normalised
100.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "PROFILES",
    "REWARD_LOW_FN",
    "REWARD_LOW_FP",
    "STANDARD",
    "CorpusScore",
    "Profile",
    "Series",
    "probation",
    "row_values",
    "score_corpus",
    "sigma",
]

#: The probationary period: this share of a file's rows, at most ``PROBATION_MAX`` rows.
PROBATION_FRACTION, PROBATION_MAX = 0.15, 750
#: The threshold of a detector best left silent: above every score.
NEVER = 1.1
#: Past this many widths after a window a false detection costs the full ``A_FP``.
FAR_WIDTHS = 3.0


@dataclass(frozen=True, slots=True)
class Profile:
    """What an application cares for: the reward of an early true detection, the cost of
    a false one, the cost of a missed window."""

    name: str
    a_tp: float
    a_fp: float
    a_fn: float


STANDARD = Profile("standard", 1.0, 0.11, 1.0)
REWARD_LOW_FP = Profile("reward_low_FP", 1.0, 0.22, 1.0)
REWARD_LOW_FN = Profile("reward_low_FN", 1.0, 0.11, 2.0)
PROFILES = (STANDARD, REWARD_LOW_FP, REWARD_LOW_FN)


@dataclass(frozen=True, slots=True)
class Series:
    """One labelled series: its name, its number of rows and its windows as (first row,
    last row), both inclusive, in order and apart."""

    name: str
    rows: int
    windows: list[tuple[int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        last = -1
        for left, right in self.windows:
            if not last < left <= right < self.rows:
                raise ValueError(
                    f"{self.name}: window ({left}, {right}) is not within "
                    f"rows {last + 1}..{self.rows - 1} in order"
                )
            last = right


def sigma(y: float) -> float:
    """The scaled sigmoid: +1 far before a window's end, 0 at it, -1 far past it."""
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def _sigma(y: NDArray[np.float64]) -> NDArray[np.float64]:
    result: NDArray[np.float64] = 2.0 / (1.0 + np.exp(5.0 * y)) - 1.0
    return result


def probation(rows: int) -> int:
    """Rows at the start of a file that are not scored."""
    return min(math.floor(PROBATION_FRACTION * rows), PROBATION_MAX)


def row_values(series: Series, profile: Profile) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """What a detection at each row would be worth: the row's window (-1 outside every
    window, -2 in the probationary period, where it is worth nothing) and its value (the
    reward inside a window, the negative cost outside)."""
    window = np.full(series.rows, -1, dtype=np.int64)
    value = np.full(series.rows, -profile.a_fp)
    rows = np.arange(series.rows)
    for index, (left, right) in enumerate(series.windows):
        width = right - left + 1
        window[left : right + 1] = index
        position = -(right - rows[left : right + 1] + 1) / width
        value[left : right + 1] = profile.a_tp * _sigma(position) / sigma(-1.0)
        stop = series.windows[index + 1][0] if index + 1 < len(series.windows) else series.rows
        distance = (rows[right + 1 : stop] - right) / width
        value[right + 1 : stop] = -profile.a_fp * np.where(
            distance <= FAR_WIDTHS, np.abs(_sigma(distance)), 1.0
        )
    start = probation(series.rows)
    window[:start] = -2
    value[:start] = 0.0
    return window, value


@dataclass(frozen=True, slots=True)
class CorpusScore:
    """A profile's score over a corpus at its best threshold."""

    profile: str
    threshold: float
    raw: float
    null: float
    perfect: float
    normalised: float
    true_windows: int
    false_detections: int
    missed_windows: int


def score_corpus(
    corpus: list[Series], scores: list[NDArray[np.float64]], profile: Profile
) -> CorpusScore:
    """The best total of ``profile`` over one threshold for the whole corpus (``scores``:
    each series' anomaly scores, one a row), normalised against the null and perfect
    detectors. Of thresholds with the same total the highest is taken."""
    if len(corpus) != len(scores):
        raise ValueError(f"{len(corpus)} series, {len(scores)} score columns")
    windows_total = sum(len(series.windows) for series in corpus)
    if windows_total == 0:
        raise ValueError("the corpus has no labelled window: nothing to normalise against")
    all_scores, all_windows, all_values = [], [], []
    offset = 0
    for series, column in zip(corpus, scores, strict=True):
        column = np.asarray(column, dtype=np.float64)
        if column.shape != (series.rows,):
            raise ValueError(f"{series.name}: {column.shape[0]} scores for {series.rows} rows")
        if not np.all((column >= 0.0) & (column <= 1.0)):
            raise ValueError(f"{series.name}: anomaly scores are in [0, 1]")
        window, value = row_values(series, profile)
        kept = window != -2
        all_scores.append(column[kept])
        all_windows.append(np.where(window[kept] >= 0, window[kept] + offset, -1))
        all_values.append(value[kept])
        offset += len(series.windows)
    score = np.concatenate(all_scores)
    window = np.concatenate(all_windows)
    value = np.concatenate(all_values)
    order = np.argsort(-score, kind="stable")
    score, window, value = score[order], window[order], value[order]

    # Lower the threshold one distinct score at a time: each row reached is a detection.
    # A window is worth its best (earliest) detection so far; false ones add up.
    null = -profile.a_fn * windows_total
    best = (null, NEVER, 0, 0, windows_total)  # never firing: the null detector
    reward = np.full(windows_total, -math.inf)
    found, false, false_cost, rewards = 0, 0, 0.0, 0.0
    i, n = 0, score.shape[0]
    while i < n:
        threshold = score[i]
        while i < n and score[i] == threshold:
            w = window[i]
            if w < 0:
                false += 1
                false_cost += value[i]
            elif value[i] > reward[w]:
                if reward[w] == -math.inf:
                    found += 1
                    rewards += value[i]
                else:
                    rewards += value[i] - reward[w]
                reward[w] = value[i]
            i += 1
        total = rewards + false_cost - profile.a_fn * (windows_total - found)
        if total > best[0]:
            best = (total, float(threshold), found, false, windows_total - found)
    raw, threshold_best, found_best, false_best, missed = best
    perfect = profile.a_tp * windows_total
    return CorpusScore(
        profile.name,
        float(threshold_best),
        float(raw),
        null,
        perfect,
        float(100.0 * (raw - null) / (perfect - null)),
        found_best,
        false_best,
        missed,
    )
