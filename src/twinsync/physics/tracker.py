"""The local level/trend model of every sensor of a fleet, its divergence detector and its
recalibration, one record a sensor, stepped over a batch of readings in one compiled pass.

``level.LocalTrend`` and ``kalman.KalmanFilter`` run a model over a block of series on a
regular grid; a live fleet's readings come one sensor at a time, at each sensor's own
times. Here each sensor row keeps, in one record (``records.Records``, 768 bytes):

- the filter: level, trend (per hour) and their 2x2 covariance, the local linear trend of
  ``level.py`` stepped over each reading's own spacing;
- its noise: the sensor's variance ``r`` and a *smoothness ratio*: over the sensor's
  usual spacing ``dt`` the level wanders by ``ratio r / 2`` and the trend's wander moves it by
  as much again (``q_level = ratio r / (2 dt)`` per hour, ``q_trend = ratio r / (2 dt³)`` per
  hour³). ``ratio`` near 0 is a level read through white noise; ``ratio`` of 0.1-1 a curve the
  readings follow closely (a daily cycle at 15-minute readings);
- the gate of ``gate.py`` (``probability`` 0.999, re-opened after 5 readings), with the
  reading's health quality dividing its variance (``R / max(quality, 0.01)``);
- a two-sided CUSUM on the normalised residuals, as ``divergence.Cusum`` (``k``, ``h``,
  release at ``h / 2``, sums capped at ``2 h``, residuals clipped at 4), with the start of
  each sum's run (where a change point is looked for);
- a ring of the last ``WINDOW`` readings (values, spacing and quality; before the filter
  starts, trusted ones only).

**How the noise is learned.** When a sensor has given ``warmup`` trusted readings, ``r``
and ``ratio`` are fitted on the ring by maximum likelihood (``_fit_window``): the filter is run
over the window with each ratio of ``RATIOS`` (``r`` concentrated out: every innovation
variance scales with it, so its estimate is the mean squared standardised innovation; the
first two innovations set the diffuse start), and the ratio of highest likelihood is kept
with its ``r``; the filter starts from that run's end. From then on both follow the sensor
online, from each trusted reading the gate let in, by stochastic approximation on its
normalised residual ``z`` (an optimal filter's are white with unit variance):
``r ← r · exp(η (min(z², 9) - 1))`` and ``ratio ← ratio · exp(η_ratio · clip(zₜ zₜ₋₁, ±2))``
(residuals that keep their sign say the filter is too sluggish, alternating ones that it
is too nervous). With ``η = 0.01`` and ``η_ratio = 0.03`` they forget over some 100 and 30
readings. How level and trend share ``ratio`` is fixed at half each: a fit of the share too
(``MIXES``) was tried and raised false divergences on random walks (docs/PHYSICS.md).

A divergence starts when the statistic passes ``h`` (the CUSUM counts from ``2 warmup``
readings after the filter started). The row is **recalibrated** at once: ``_fit_window``
again over the ring, with an intervention at a change point (the level starts afresh
there, so the step is not taken for noise; the point is chosen by likelihood too, among
the readings since the CUSUM's sum last left zero and the four before), the filter
restarted from the fit's end and the CUSUM from zero; the divergence is said to have
started at that change point. It *ends* (the row is back in control) after ``settle``
readings in a row with the statistic at or below the release; a statistic past ``h`` again
before then recalibrates again (at most once per half ring).

Readings of quality below ``min_quality`` (or unknown) are taken by the filter with their
weight but teach the online learning nothing; they enter the ring with their quality,
which weighs them in a fit as in the filter (the first readings of a real step are often
ones health doubts, and a recalibration must see them).

``track_many`` returns per reading the normalised residual (NaN while warming up) and what
happened (``STARTED``, ``RECALIBRATED``, ``ENDED``) with its figures (``DETAIL``);
``learn_many`` (the detector contract, ``twinsync.detect``) returns the residuals only.

>>> tracker = LevelTrendTracker(warmup=12)
>>> rng = np.random.default_rng(0)
>>> update = tracker.track_many(np.zeros(40, dtype=np.int64), 60.0 * np.arange(40),
...                             5.0 + rng.normal(0.0, 0.1, 40), np.ones(40))
>>> int(np.isnan(update.normalised).sum()), bool(np.isfinite(update.normalised[12:]).all())
(12, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..detect import Readings, RecordDetector
from ..jit import LIGHT_PASS_AHEAD, compiled, compiled_inline, prefetch_row, record_rows
from ..records import Field, Records
from .divergence import REFERENCE, THRESHOLD
from .gate import DEFAULT_GATE, Gate

__all__ = ["DETAIL", "ENDED", "RATIOS", "RECALIBRATED", "STARTED", "LevelTrendTracker",
           "TrackUpdate"]

#: Trusted readings kept a sensor for fitting its noise.
WINDOW = 32
#: The smoothness ratios a window's fit chooses among, and the shares of the trend in it.
RATIOS = np.array([1e-4, 1e-3, 1e-2, 0.03, 0.1, 0.3, 1.0, 3.0])
MIXES = np.array([0.5])
#: What happened at a reading (``TrackUpdate.code``).
STARTED, RECALIBRATED, ENDED = 1, 2, 3
#: The columns of ``TrackUpdate.detail`` (filled where a divergence started or the row was
#: recalibrated): direction (+1 up, -1 down), its size in the reading's unit (the step
#: the recalibration's fit finds at the change point: its level at the newest reading less
#: the level before the change carried on with its trend) and in standard deviations of
#: the model's prediction, the change point's time, the statistic, then the noise
#: (``r``), smoothness ratio, level and trend before and after the recalibration, and how
#: many readings of the ring it used.
DETAIL = ("direction", "size_sd", "size", "since", "statistic",
          "noise_before", "ratio_before", "level_before", "trend_before",
          "noise_after", "ratio_after", "level_after", "trend_after", "window")
#: Bounds of the smoothness ratio learned online.
LOWEST_RATIO, HIGHEST_RATIO = 1e-6, 10.0
#: A diffuse start: a trend this many times as uncertain as a reading's difference.
DIFFUSE = 1e4


class Knobs(NamedTuple):
    warmup: int
    memory: int
    min_quality: float
    gate: float
    reopen_after: int
    quality_floor: float
    reference: float
    threshold: float
    release: float
    ceiling: float
    limit: float
    settle: int
    rate: float
    ratio_rate: float


@dataclass(frozen=True, slots=True)
class TrackUpdate:
    """Per reading of a batch (in its order): the normalised residual (NaN: not tracked),
    what happened (0, ``STARTED``, ``RECALIBRATED``, ``ENDED``) and, where something
    started or was recalibrated, its figures (``DETAIL``; unset elsewhere); ``residual``
    is the one-step prediction error in the reading's unit (NaN where ``normalised`` is)."""

    normalised: NDArray[np.float64]
    code: NDArray[np.int8]
    detail: NDArray[np.float64]
    residual: NDArray[np.float64]


@compiled_inline
def _noises(s: Any) -> None:
    """The level and trend noise (per hour, per hour³) of ``r``, ``ratio`` and the spacing."""
    step = max(s.mean_dt, 1e-9)
    s.q = s.ratio * (1.0 - s.mix) * s.r / step
    s.qt = s.ratio * s.mix * s.r / (step * step * step)


@compiled_inline
def _predict(dt: float, q: float, qt: float, level: float, trend: float, p00: float,
             p01: float, p11: float) -> tuple[float, float, float, float, float]:
    """The local linear trend ``dt`` hours ahead (level noise ``q``, trend noise ``qt``)."""
    return (level + trend * dt,
            trend,
            p00 + 2.0 * dt * p01 + dt * dt * p11 + q * dt + qt * dt * dt * dt / 3.0,
            p01 + dt * p11 + qt * dt * dt / 2.0,
            p11 + qt * dt)


@compiled_inline
def _update(residual: float, noise: float, level: float, trend: float, p00: float,
            p01: float, p11: float) -> tuple[float, float, float, float, float]:
    """Fold a residual in (measurement variance ``noise``), Joseph form for H = [1, 0]."""
    variance = p00 + noise
    k0 = p00 / variance
    k1 = p01 / variance
    a00 = (1.0 - k0) * p00
    a01 = (1.0 - k0) * p01
    a10 = p01 - k1 * p00
    a11 = p11 - k1 * p01
    return (level + k0 * residual,
            trend + k1 * residual,
            a00 * (1.0 - k0) + noise * k0 * k0,
            -a00 * k1 + a01 + noise * k0 * k1,
            max(-a10 * k1 + a11 + noise * k1 * k1, 0.0))


@compiled_inline
def _fit_window(s: Any, post: int, detail: Any, quality_floor: float) -> None:
    """Fit ``r`` and the ratio on the ring by likelihood (see the module) and restart the
    filter from the best run's end. With ``post`` > 0 (a divergence) the level starts
    afresh at a change point, chosen by likelihood too among the last ``post`` + 4
    readings, and its time is written to ``detail[3]``. Too short a ring keeps the noise
    and restarts the level at the newest reading."""
    size = s.ring_len
    values = np.empty(size)
    hours = np.empty(size)
    noise = np.empty(size)  # each reading's variance in units of r, by its quality
    at = 0.0
    for j in range(size - 1, -1, -1):
        slot = (s.ring_pos - size + j) % WINDOW
        values[j] = s.ring_value[slot]
        hours[j] = -at
        at += s.ring_dt[slot]
        noise[j] = 1.0 / max(s.ring_quality[slot] / 255.0, quality_floor)
    step = max(s.mean_dt, 1e-9)
    first = max(2, size - post - 4) if post > 0 else size
    best = -math.inf
    best_r = s.r
    best_ratio = s.ratio
    best_mix = s.mix
    best_fresh = -1
    step_size = math.nan
    state = (values[size - 1], s.trend, s.r, 0.0, s.p11 + 2.0 * s.r / (step * step))
    for fresh in range(first, size + 1):
        if post > 0 and fresh == size:
            break  # a divergence has a change point in the window
        for c in range(RATIOS.shape[0] * MIXES.shape[0]):
            ratio = RATIOS[c // MIXES.shape[0]]
            mix = MIXES[c % MIXES.shape[0]]
            q = ratio * (1.0 - mix) / step
            qt = ratio * mix / (step * step * step)
            # in units of r: every variance below is a multiple of the sensor's
            level, trend, p00, p01, p11 = values[0], 0.0, 1.0, 0.0, DIFFUSE / (step * step)
            squares = 0.0
            logs = 0.0
            counted = 0
            old_level, old_trend, old_hour = math.nan, 0.0, 0.0
            for j in range(1, size):
                level, trend, p00, p01, p11 = _predict(hours[j] - hours[j - 1], q, qt,
                                                       level, trend, p00, p01, p11)
                if j == fresh:
                    p00 += DIFFUSE  # the change point: the level starts afresh
                    old_level, old_trend, old_hour = level, trend, hours[j]
                residual = values[j] - level
                variance = p00 + noise[j]
                if j >= 2:  # the first two set the diffuse start
                    squares += residual * residual / variance
                    logs += math.log(variance)
                    counted += 1
                level, trend, p00, p01, p11 = _update(residual, noise[j], level, trend, p00,
                                                      p01, p11)
            if counted < 8 or not squares > 0.0:
                continue
            r = squares / counted
            likelihood = -0.5 * (counted * math.log(r) + logs)
            if likelihood > best:
                best = likelihood
                best_r = r
                best_ratio = ratio
                best_mix = mix
                best_fresh = fresh
                state = (level, trend, p00 * r, p01 * r, p11 * r)
                # the step: the new level less the old one carried on to the window's end
                step_size = level - (old_level + old_trend * (0.0 - old_hour))
    if best > -math.inf:
        s.r = best_r
        s.ratio = best_ratio
        s.mix = best_mix
        if post > 0:
            detail[3] = s.last_time + hours[best_fresh] * 3600.0
            detail[2] = step_size
    s.level, s.trend, s.p00, s.p01, s.p11 = state
    _noises(s)
    detail[13] = size


@compiled_inline
def _cusum_side(total: float, z: float, k: Knobs, time: float, count: int,
                since: float) -> tuple[float, int, float]:
    """One side's sum after residual ``z``, with its run: readings and start."""
    if total <= 0.0:
        count, since = 0, time
    total = min(max(total + z - k.reference, 0.0), k.ceiling)
    if total > 0.0:
        return total, count + 1, since
    return 0.0, 0, time


@compiled_inline
def _step(s: Any, k: Knobs, time: float, value: float, quality: float,
          detail: Any) -> tuple[float, int]:
    """One reading of the row ``s``: its normalised residual (NaN while warming up) and
    what happened."""
    trusted = quality >= k.min_quality and math.isfinite(value)  # NaN quality is not
    normalised = math.nan
    code = 0
    gated = False
    fire = False
    if s.count >= k.warmup and math.isfinite(value):
        dt = max((time - s.last_seen) / 3600.0, 0.0)
        level, trend, p00, p01, p11 = _predict(dt, s.q, s.qt, s.level, s.trend, s.p00,
                                               s.p01, s.p11)
        weight = quality if quality == quality else 0.0
        noise = s.r / min(max(weight, k.quality_floor), 1.0)
        residual = value - level
        normalised = residual / math.sqrt(p00 + noise)
        if not residual * residual <= k.gate * (p00 + noise):
            if s.gated_run >= k.reopen_after:
                # re-opened: a step in the world is taken, the covariance widened first
                p00 += residual * residual + s.r
                p11 += 2.0 * s.r / max(s.mean_dt * s.mean_dt, 1e-18)
            else:
                gated = True
        if gated:
            s.gated_run += 1
        else:
            s.gated_run = 0
            level, trend, p00, p01, p11 = _update(residual, noise, level, trend, p00, p01,
                                                  p11)
        s.level, s.trend, s.p00, s.p01, s.p11 = level, trend, p00, p01, p11
        s.last_seen = time
        s.last_z = normalised
        s.last_residual = residual
        s.tracked += 1
        s.since_recal += 1
        if trusted and not gated:
            # learned online: unit variance and white residuals (see the module)
            s.r *= math.exp(k.rate * (min(normalised * normalised, 9.0) - 1.0))
            if s.has_z:
                pair = min(max(normalised * s.prev_z, -2.0), 2.0)
                s.ratio = min(max(s.ratio * math.exp(k.ratio_rate * pair), LOWEST_RATIO),
                              HIGHEST_RATIO)
            s.prev_z = normalised
            s.has_z = 1
            _noises(s)
        else:
            s.has_z = 0
        # the CUSUM, as divergence.Cusum, with each side's run
        z = min(max(normalised, -k.limit), k.limit)
        s.upper, s.up_n, s.up_since = _cusum_side(s.upper, z, k, time, s.up_n, s.up_since)
        s.lower, s.lo_n, s.lo_since = _cusum_side(s.lower, -z, k, time, s.lo_n, s.lo_since)
        statistic = max(s.upper, s.lower)
        if s.tracked <= 2 * k.warmup:
            # the filter's first readings: it settles, the CUSUM does not count yet
            s.upper = 0.0
            s.lower = 0.0
            s.up_n = 0
            s.lo_n = 0
        elif s.diverging:
            if statistic > k.threshold:
                s.settled = 0
                fire = s.since_recal >= WINDOW // 2
            elif statistic > k.release:
                s.settled = 0
            else:
                s.settled += 1
                if s.settled >= k.settle:
                    s.diverging = 0
                    code = ENDED
        elif statistic > k.threshold:
            fire = True
        if fire:
            up = s.upper >= s.lower
            n = s.up_n if up else s.lo_n
            detail[0] = 1.0 if up else -1.0
            # the prediction's spread, for the size in standard deviations
            detail[1] = math.sqrt(s.p00 + s.r)
            detail[2] = math.nan
            detail[3] = s.up_since if up else s.lo_since
            detail[4] = statistic
    if math.isfinite(value) and (trusted or s.count >= k.warmup):
        # into the ring with its quality: the first readings of a step are often the
        # ones health doubts, and a recalibration must see them
        if s.ring_len > 0:
            s.ring_dt[s.ring_pos] = max((time - s.last_time) / 3600.0, 0.0)
        else:
            s.ring_dt[s.ring_pos] = 0.0
        s.ring_value[s.ring_pos] = value
        weight = quality if quality == quality else 0.0
        s.ring_quality[s.ring_pos] = round(255.0 * min(max(weight, 0.0), 1.0))
        s.ring_pos = (s.ring_pos + 1) % WINDOW
        s.ring_len = min(s.ring_len + 1, WINDOW)
        s.last_time = time
    if math.isfinite(value):
        # the sensor's usual spacing, from all its readings in order
        if s.last_any == s.last_any:
            gap = (time - s.last_any) / 3600.0
            if gap > 0.0:
                s.spacings += 1
                s.mean_dt += (gap - s.mean_dt) / min(s.spacings, k.memory)
        s.last_any = time
    if trusted:
        s.count += 1
        if s.count == k.warmup:
            # the filter starts here, from a fit of the ring
            s.r = 1.0
            s.ratio = 1.0
            s.trend = 0.0
            s.p11 = 0.0
            _fit_window(s, 0, detail, k.quality_floor)
            s.last_seen = time
    if fire:
        detail[5], detail[6], detail[7], detail[8] = s.r, s.ratio, s.level, s.trend
        n = s.up_n if detail[0] > 0 else s.lo_n
        _fit_window(s, min(max(n, 1), s.ring_len), detail, k.quality_floor)
        detail[9], detail[10], detail[11], detail[12] = s.r, s.ratio, s.level, s.trend
        if not math.isfinite(detail[2]):
            detail[2] = detail[11] - detail[7]
        detail[1] = detail[2] / detail[1]
        s.upper = 0.0
        s.lower = 0.0
        s.up_n = 0
        s.lo_n = 0
        s.gated_run = 0
        s.since_recal = 0
        s.has_z = 0
        s.recal_time = time
        s.recal_count += 1
        s.r_before, s.ratio_before = detail[5], detail[6]
        s.r_after, s.ratio_after = detail[9], detail[10]
        if s.diverging:
            code = RECALIBRATED
        else:
            s.diverging = 1
            s.diverging_since = detail[3]
            code = STARTED
        s.settled = 0
    return normalised, code


@compiled
def _track_many(records: Any, first_line: Any, k: Knobs, rows: NDArray[np.int64],
                times: NDArray[np.float64], values: NDArray[np.float64],
                quality: NDArray[np.float64], normalised: NDArray[np.float64],
                codes: NDArray[np.int8], detail: NDArray[np.float64],
                residuals: NDArray[np.float64]) -> None:
    n = rows.shape[0]
    for i in range(n):
        # A large fleet's records are rarely in cache: ask for one a few readings ahead.
        if i + LIGHT_PASS_AHEAD < n:
            prefetch_row(first_line, rows[i + LIGHT_PASS_AHEAD])
        s = records[rows[i]]
        z, code = _step(s, k, times[i], values[i], quality[i], detail[i])
        normalised[i] = z
        codes[i] = code
        # the step leaves its residual in the record (read while the line is in cache)
        residuals[i] = s.last_residual if z == z else math.nan


class LevelTrendTracker(RecordDetector):
    """A local level/trend filter, a CUSUM and a recalibration a sensor row (see the
    module). Rows grow as the fleet does; the state is one record a row."""

    name = "level_trend"
    evidence: tuple[str, ...] = ("time", "value", "quality")
    COLUMNS: ClassVar[dict[str, Field]] = {
        # first cache line: what every reading reads
        "count": (np.int64, 0),
        "last_seen": (np.float64, 0.0),
        "level": (np.float64, np.nan),
        "trend": (np.float64, 0.0),
        "p00": (np.float64, 0.0),
        "p01": (np.float64, 0.0),
        "p11": (np.float64, 0.0),
        "r": (np.float64, 0.0),
        # second line
        "q": (np.float64, 0.0),
        "qt": (np.float64, 0.0),
        "ratio": (np.float64, 0.0),
        "mix": (np.float64, 0.0),
        "mean_dt": (np.float64, 0.0),
        "spacings": (np.int64, 0),
        "last_any": (np.float64, np.nan),
        "gated_run": (np.int64, 0),
        "prev_z": (np.float64, 0.0),
        "has_z": (np.int64, 0),
        # the CUSUM and the divergence
        "upper": (np.float64, 0.0),
        "lower": (np.float64, 0.0),
        "up_n": (np.int64, 0),
        "up_since": (np.float64, np.nan),
        "lo_n": (np.int64, 0),
        "lo_since": (np.float64, np.nan),
        "diverging": (np.int64, 0),
        "diverging_since": (np.float64, np.nan),
        "settled": (np.int64, 0),
        "since_recal": (np.int64, 0),
        "tracked": (np.int64, 0),
        "last_z": (np.float64, np.nan),
        "last_residual": (np.float64, np.nan),
        "last_time": (np.float64, np.nan),
        # the last recalibration
        "recal_time": (np.float64, np.nan),
        "recal_count": (np.int64, 0),
        "r_before": (np.float64, np.nan),
        "ratio_before": (np.float64, np.nan),
        "r_after": (np.float64, np.nan),
        "ratio_after": (np.float64, np.nan),
        # the ring of recent trusted readings
        "ring_pos": (np.int64, 0),
        "ring_len": (np.int64, 0),
        "ring_value": (np.float64, 0.0, (WINDOW,)),
        "ring_dt": (np.float32, 0.0, (WINDOW,)),
        "ring_quality": (np.uint8, 0, (WINDOW,)),
    }

    def __init__(self, *, warmup: int = 32, memory: int = 500, min_quality: float = 0.5,
                 reference: float = REFERENCE, threshold: float = THRESHOLD,
                 settle: int = 27, rate: float = 0.01, ratio_rate: float = 0.03,
                 gate: Gate = DEFAULT_GATE, capacity: int = 16) -> None:
        if not warmup >= 12 or memory < warmup or settle < 1:
            raise ValueError("level_trend: warmup >= 12, memory >= warmup, settle >= 1")
        if not (0.0 <= rate < 1.0 and 0.0 <= ratio_rate < 1.0):
            raise ValueError("level_trend: learning rates in [0, 1)")
        if not (0.0 <= reference < threshold):
            raise ValueError("level_trend: 0 <= reference < threshold")
        self._records = Records(self.COLUMNS, max(int(capacity), 1))
        self.knobs = Knobs(int(warmup), int(memory), float(min_quality), gate.threshold(1),
                           int(gate.reopen_after), float(gate.quality_floor),
                           float(reference), float(threshold), threshold / 2.0,
                           2.0 * threshold, 4.0, int(settle), float(rate),
                           float(ratio_rate))

    def readings(self, rows: NDArray[np.int64], times: NDArray[np.float64],
                 values: NDArray[np.float64], quality: NDArray[np.float64]
                 ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64],
                            NDArray[np.float64]]:
        """A batch's columns as the compiled pass takes them (contiguous, typed), one
        time, value and quality a row."""
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        columns = [np.ascontiguousarray(c, dtype=np.float64) for c in (times, values, quality)]
        if any(c.shape != rows.shape for c in columns):
            raise ValueError(f"{self.name}: one time, value and quality a reading")
        return rows, columns[0], columns[1], columns[2]

    def track_many(self, rows: NDArray[np.int64], times: NDArray[np.float64],
                   values: NDArray[np.float64], quality: NDArray[np.float64]) -> TrackUpdate:
        """Step each reading's row (each row's readings in time order)."""
        rows, times, values, quality = self.readings(rows, times, values, quality)
        n = rows.shape[0]
        normalised = np.full(n, np.nan)
        codes = np.zeros(n, dtype=np.int8)
        detail = np.empty((n, len(DETAIL)))
        residuals = np.full(n, np.nan)
        if n == 0:
            return TrackUpdate(normalised, codes, detail, residuals)
        if rows.min() < 0:
            raise ValueError(f"{self.name}: rows are 0 or more")
        self.ensure(int(rows.max()))
        _track_many(record_rows(self._records.array), self._records.columns["count"],
                    self.knobs, rows, times, values, quality, normalised, codes, detail,
                    residuals)
        return TrackUpdate(normalised, codes, detail, residuals)

    def learn_many(self, rows: NDArray[np.int64], readings: Readings) -> NDArray[np.float64]:
        return self.track_many(rows, readings["time"], readings["value"],
                               readings["quality"]).normalised
