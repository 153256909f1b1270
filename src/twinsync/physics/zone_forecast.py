"""A thermal zone's air temperature looked ahead from its filter's state, with the future of
its inputs as uncertain as their own past says.

The zone's UKF state ``[T, ln R, ln C, G, logit s]`` and covariance at its last reading are stepped
on through the horizon in substeps (``UnscentedKalmanFilter.predict``): the temperature's,
the parameters' and the heat gain's covariance are carried through the model by its sigma
points, and the process noise is added a substep at a time: the temperature's, and the
heat gain's, a random walk whose variance grows with the horizon (a gain no input
explains is carried ahead at its estimate, not known to stay there). Over each substep each input is
held (the zone's own step rule, ``zone_bank``) at its mean there:

- while the input's history reaches (a station that read after the room's last reading),
  the value it was read at: known, no error;
- past its newest reading, that reading held (**persistence**): no weather forecast comes
  into the twin, and the heating's plan is not known to it. For the outdoor temperature
  (``daily``) it is the newest reading's departure from the day's mean course that
  persists, carried along the course (``daily_course``: hourly means of its last days),
  since the daily swing is most of what a held outdoor value misses. Its error is what the input's
  own history says a held value misses by: the mean squared change of the input over each
  lag (``increment_variance``), so an outdoor temperature that swings by day, or a heating
  that switches every few hours, widens the forecast by as much as it did in the past.
  The errors at two times after the newest reading, ``s`` and ``s'`` hours on, covary as
  the increments of a process with stationary increments do: ``(V(s) + V(s') -
  V(|s - s'|)) / 2``.

The temperature answers the inputs linearly for given R and C: an input error ``e`` held
over substep ``k`` moves the temperature at the end of substep ``n ≥ k`` by ``(1 - d_k)
d_{k+1} ... d_n e`` (``d = exp(-δ / RC)``; times R for the heating), taken at the mean R
and C. So the inputs add ``aᵀ Σ a`` to the temperature's variance (``a`` those weights,
``Σ`` the errors' covariance), outdoor and heating independent of each other; it is
carried from substep to substep with ``Σ a``, so a forecast of ``n`` substeps costs
``n²``, not the ``n³`` of the weights as a matrix. A reading's
variance adds the sensor's.

The neighbours' temperature (``neighbour``) is an input as the others: held at the
neighbours' mean as last read (persistence, with its own history's spread), its error
weighed by the share ``s`` (and the outdoor's by ``1 - s``); a zone with no neighbour read
takes the outdoor temperature for it, which the share then does not move.

>>> x = np.array([[20.0, np.log(5.0), np.log(10.0), 0.0, 0.0]])
>>> P = np.diag([0.01, 1e-4, 1e-4, 1e-4, 1e-4])[None]
>>> known = InputOutlook.known(np.zeros((1, 4)))
>>> noise = np.diag([4e-4, 4e-8, 4e-8, 1e-4, 4e-8])
>>> ahead = zone_outlook(x, P, np.full(4, 12.5), known, known, noise, 0.1)
>>> np.round(ahead.mean[0], 2).tolist()  # a quarter of τ = 50 h at a time, towards 0 °C
[15.58, 12.13, 9.45, 7.36]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .contract import Array
from .ukf import UnscentedKalmanFilter
from .zone_bank import TimedZone

#: Grid steps an input's history is put on at most (14 days: about 5 minutes a step).
MAX_GRID = 4096
DAY = 86_400.0
#: An input's daily course is learned as hourly means.
DAY_BINS = 24


@dataclass(frozen=True)
class InputOutlook:
    """An input over a forecast's substeps, for a batch of zones: the value held over each
    substep ``(B, n)`` and the covariance of its error ``(B, n, n)``."""

    mean: Array
    covariance: Array

    @classmethod
    def known(cls, mean: Array) -> InputOutlook:
        """An input whose values over the forecast are known (a zone without heating: 0)."""
        batch, substeps = mean.shape
        return cls(mean, np.zeros((batch, substeps, substeps)))


def increment_variance(times: Array, values: Array, lags: Array) -> Array:
    """The mean squared change of an input held between its readings (``times`` seconds,
    sorted; ``values``) over each of ``lags`` (hours, ≥ 0). The held input is put on a
    grid of its readings' median spacing (at most ``MAX_GRID`` steps); a lag between two
    of the grid's is interpolated linearly, and one past the readings' span grows in
    proportion from the longest measured (as a random walk's would: no reason to think it
    stops growing). Fewer than two readings: unknown (NaN)."""
    lags = np.asarray(lags, dtype=np.float64)
    finite = np.isfinite(times) & np.isfinite(values)
    times, values = times[finite], values[finite]
    if times.size < 2 or times[-1] <= times[0]:
        return np.full(lags.shape, np.nan)
    spacing = np.diff(times)
    span = float(times[-1] - times[0])
    # a reading a second for two weeks is not put on a grid of a million steps
    step = max(float(np.median(spacing[spacing > 0])), span / MAX_GRID)
    grid = times[0] + step * np.arange(int(span // step) + 1)
    held = values[np.searchsorted(times, grid, side="right") - 1]
    longest = held.size - 1
    # Σ (g[i+k] - g[i])² over i < N - k for every k at once: the squares' sums from the
    # running sum, the cross term from the autocorrelation.
    held = held - held.mean()
    square = np.r_[0.0, np.cumsum(held**2)]
    lag = np.arange(longest + 1)
    size = 1 << int(2 * held.size - 1).bit_length()
    spectrum = np.fft.rfft(held, size)
    cross = np.fft.irfft(spectrum * np.conj(spectrum), size)[:held.size]
    pairs = held.size - lag
    total = (square[-1] - square[lag]) + square[pairs] - 2.0 * cross
    measured = np.maximum(total, 0.0) / pairs
    at = lags * 3600.0 / step
    inside = np.interp(np.minimum(at, longest), np.arange(longest + 1), measured)
    grown: Array = np.where(at > longest, measured[-1] * at / max(longest, 1), inside)
    return grown


def daily_course(times: Array, values: Array) -> Array | None:
    """The input's mean course over the day (``DAY_BINS`` hourly means, UTC, less their
    own mean) from its readings held on a grid, or None with fewer than two days of them
    (a course of one day would be that day's weather)."""
    finite = np.isfinite(times) & np.isfinite(values)
    times, values = times[finite], values[finite]
    if times.size < 2 or times[-1] - times[0] < 2 * DAY:
        return None
    step = max(float(np.median(np.diff(times)[np.diff(times) > 0])),
               float(times[-1] - times[0]) / MAX_GRID)
    grid = times[0] + step * np.arange(int((times[-1] - times[0]) // step) + 1)
    held = values[np.searchsorted(times, grid, side="right") - 1]
    # a held value stands for its grid step: binned by the step's middle
    hour = (((grid + step / 2) % DAY) // 3600.0).astype(np.int64)
    total = np.bincount(hour, weights=held, minlength=DAY_BINS)
    count = np.bincount(hour, minlength=DAY_BINS)
    if np.any(count == 0):
        return None
    course: Array = total / count - np.mean(total / count)
    return course


def course_at(course: Array, times: Array) -> Array:
    """The daily course at ``times`` (epoch seconds), linear between the hours' middles."""
    hours = (times % DAY) / 3600.0 - 0.5
    below = np.floor(hours).astype(np.int64)
    fraction = hours - below
    at: Array = (course[below % DAY_BINS] * (1.0 - fraction)
                 + course[(below + 1) % DAY_BINS] * fraction)
    return at


def persisted(times: Array, values: Array, starts: Array, ends: Array,
              spread: tuple[Array, Array] | None = None, daily: bool = False,
              course: Array | None = None) -> tuple[Array, Array]:
    """One input over substeps from ``starts`` to ``ends`` (epoch seconds): held over each
    at its value as last read before the end (the zone's step rule) while its history
    reaches, else at its newest reading; and the covariance of the error ``(n, n)``: none
    over a substep that starts at or before the newest reading, else from
    ``increment_variance`` at the lag from the newest reading to the substep's start, of
    ``spread`` (a longer history of the input: times, values) if given, else of its
    history. ``daily``: what persists past the newest reading is its departure from the
    input's daily course (``daily_course``, learned from the same readings, when they
    span two days), carried along the course, and the spread is that of the departures;
    ``course``: that course when the caller has learned it already (``daily`` implied)."""
    finite = np.isfinite(times) & np.isfinite(values)
    times, values = times[finite], values[finite]
    if times.size == 0:
        raise ValueError("an input with no reading cannot be persisted")
    before = np.searchsorted(times, ends, side="left") - 1
    # A substep that ends at or before the first kept reading takes that reading (the
    # zone has nothing older).
    mean = values[np.maximum(before, 0)]
    ahead = np.maximum(starts - times[-1], 0.0) / 3600.0
    gap = np.abs(ahead[:, None] - ahead[None, :])
    lags = np.unique(np.r_[ahead, gap.ravel()])
    learned_times, learned_values = spread or (times, values)
    if course is None and daily:
        course = daily_course(learned_times, learned_values)
    if course is not None:
        # what persists is the departure from the day's course: the newest reading's,
        # carried along the course
        # each value at the middle of the time it stands for: a substep's, and the newest
        # reading's until the next substep
        unknown = ahead > 0.0
        half = 0.5 * (ends - starts)
        mean = np.where(unknown, mean + course_at(course, starts + half)
                        - course_at(course, times[-1:] + half[:1])[0], mean)
        learned_values = learned_values - course_at(course, learned_times)
    variance = increment_variance(learned_times, learned_values, lags)
    if not np.all(np.isfinite(variance)):
        variance = np.zeros_like(variance)  # one reading: nothing to learn a spread from
    v = np.interp(ahead, lags, variance)
    covariance = 0.5 * (v[:, None] + v[None, :] - np.interp(gap, lags, variance))
    unknown = ahead > 0.0
    covariance *= unknown[:, None] & unknown[None, :]
    return mean, covariance


@dataclass(frozen=True)
class ZoneOutlook:
    """Each zone's temperature at the end of each substep ``(B, n)``: the mean, the
    standard deviation from the state (temperature, R and C), from the inputs' futures, and
    of a reading (all three with the sensor's noise)."""

    mean: Array
    state_sd: Array
    input_sd: Array
    reading_sd: Array


def zone_outlook(x: Array, P: Array, substeps: Array, outdoor: InputOutlook,
                 heating: InputOutlook, noise: Array, noise_sd: float,
                 neighbour: InputOutlook | None = None) -> ZoneOutlook:
    """Zones of state ``x`` ``(B, 5)`` and covariance ``P`` ``(B, 5, 5)`` stepped through
    ``substeps`` (hours each, ``(n,)``) with ``outdoor`` (°C), ``heating`` (kW) and
    ``neighbour`` (the neighbours' mean °C; None: none read, the outdoor's taken) held
    over each at their outlook's mean; ``noise`` the process noise ``(5, 5)`` an hour (the
    zone bank's, ``ZoneKnobs.process_noise``), ``noise_sd`` a reading's (K)."""
    batch, count = x.shape[0], substeps.size
    ukf = UnscentedKalmanFilter(TimedZone(), x.copy(), P.copy(), gate=None)
    mean, state_var, input_var = (np.empty((batch, count)) for _ in range(3))
    # Per input, the variance its errors give the temperature at the end of the substep
    # so far, aᵀΣa, and Σa: the weights a of substep n are those of n - 1 decayed by d_n,
    # plus (1 - d_n) (times R for the heating) on substep n's own error, so both follow
    # by one update a substep (n² in all, not n³).
    names = ("outdoor", "heating", "neighbour")
    variance = {name: np.zeros(batch) for name in names}
    reach = {name: np.zeros((batch, count)) for name in names}
    beside = neighbour or InputOutlook.known(outdoor.mean)
    given = {"outdoor": outdoor.covariance, "heating": heating.covariance,
             "neighbour": beside.covariance}
    everyone = np.arange(batch)
    for k in range(count):
        hours = np.full(batch, substeps[k])
        # the weights an input's error takes, at the mean R and C before the substep
        resistance = np.exp(ukf.x[:, 1])
        decay = np.exp(-substeps[k] / np.exp(ukf.x[:, 1] + ukf.x[:, 2]))
        # With no neighbour read the neighbours' temperature is the outdoor one: the
        # outdoor's error then takes the whole weight.
        share = (1.0 / (1.0 + np.exp(-ukf.x[:, 4])) if neighbour is not None
                 else np.zeros(batch))
        for name, gain in (("outdoor", (1.0 - share) * (1.0 - decay)),
                           ("heating", resistance * (1.0 - decay)),
                           ("neighbour", share * (1.0 - decay))):
            sigma = given[name]
            variance[name] = (decay**2 * variance[name]
                              + 2.0 * decay * gain * reach[name][:, k]
                              + gain**2 * sigma[everyone, k, k])
            reach[name] = decay[:, None] * reach[name] + gain[:, None] * sigma[:, :, k]
        input_var[:, k] = np.maximum(sum(variance.values()), 0.0)
        ukf.predict(1.0, np.column_stack([outdoor.mean[:, k], heating.mean[:, k],
                                          beside.mean[:, k], hours]),
                    noise * substeps[k])
        mean[:, k], state_var[:, k] = ukf.x[:, 0], np.maximum(ukf.P[:, 0, 0], 0.0)
    sensor = noise_sd**2
    return ZoneOutlook(mean, np.sqrt(state_var), np.sqrt(input_var),
                       np.sqrt(state_var + input_var + sensor))
