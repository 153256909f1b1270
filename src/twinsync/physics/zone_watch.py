"""The thermal zones' divergence watch: a two-sided CUSUM on each zone reading's normalised
innovation, episodes of divergence, and recalibration over a recent window.

The zone bank (``zone_bank.py``) steps and updates the zones read in a round; right after,
``ZoneWatch.observe`` takes each of those readings' normalised innovation (the UKF's
innovation over its predicted standard deviation, what the innovation gate judges) and
feeds it to ``divergence.Cusum``, run on the round's zones alone: their rows of the bank
are restored into it, updated and saved back, so the state is one array a quantity in the
bank (never an object a zone) and a round costs what its zones do, not what the fleet does.
Everything here lives in the bank's columns (``COLUMNS``), so its savepoint, rollback, save
and restore carry it with the rest of the zone.

- **Watched** from the zone's ``WATCH_AFTER``-th reading: before, its temperature and
  parameters are still being learned from the prior. A reading health doubts (quality
  below ``TRUSTED``) is not watched (a gap for the CUSUM): its miss is the sensor's fault
  more likely than the model's, as for the prior's error (``zone_bank``).
- **An episode** starts when the CUSUM starts a divergence of a zone not already in one:
  code ``STARTED``, with the direction (the side whose sum passed), the change point's
  estimate ``since`` (the first reading after that side's sum last left zero) and the size:
  the mean innovation (K) and normalised innovation (sd) of the readings since then. The
  zone is recalibrated at once (below) and its sums start from zero.
- **Within an episode** a second start recalibrates again (``AGAIN``; at most once per
  ``AGAIN_AFTER`` readings), with no new episode. The episode ends (``ENDED``) after
  ``QUIET`` readings in a row without the CUSUM diverging: the model and the readings
  agree again. Only readings the watch takes count towards them: a room sensor stuck
  in an episode (its readings doubted) does not end it.
- **Recalibration** re-estimates the zone's parameters over a recent window: the
  readings since the change point (at most the ``RING`` last, kept with their inputs and
  the filter's state after each), filtered again by the same UKF from the state before
  the change with its parameters' covariance re-opened to the prior's (``ln R`` and
  ``ln C`` a factor of e either way; the heat gain keeps its own). The zone goes on from
  the end of that run: it has
  learned from the window what the readings since the change say, and its parameters are
  still uncertain enough to learn quickly from the readings that come.
  ``recalibrate.py``'s output-error fit was not used: at the alarm the window since the
  change is a few hours (about 16 readings for R halved), against time constants of tens
  of hours, and a least-squares fit of T, R and C over it is poorly determined and gives
  no covariance to say so; the filter's does, and keeps learning (docs/PHYSICS.md).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from .contract import Array, StateModel
from .divergence import REFERENCE, THRESHOLD, Cusum
from .neighbour_zone import NeighbourZone
from .ukf import UnscentedKalmanFilter

HOUR = 3600.0
#: A zone's state's size: ``[T, ln R, ln C, G, logit s]`` (``NeighbourZone``).
STATE = len(NeighbourZone.state_names)
#: Recent readings a zone keeps for recalibration: 8 h at 15 minutes, twice the delay
#: measured for R halved.
RING = 32
#: A zone is watched from its this-many-th reading (two days at 15 minutes): before, R and C
#: are still far from learned, and a start then is the learning's, not reality's.
WATCH_AFTER = 192
#: A reading's quality from which the watch takes it (fusion's threshold).
TRUSTED = 0.5
#: Readings in a row without the CUSUM diverging that end an episode: how long a capped
#: sum takes to fall to the release, ``(ceiling - release) / k`` with the defaults.
QUIET = 27
#: Readings at least between two recalibrations of one episode.
AGAIN_AFTER = 16
#: What ``observe`` says of a zone's reading.
NOTHING, STARTED, AGAIN, ENDED = 0, 1, 2, 3

#: The ring's columns ``(Z, RING)`` (``ring_x`` is ``(Z, RING, STATE)``).
RING_COLUMNS = ("ring_time", "ring_value", "ring_quality", "ring_outdoor", "ring_heating",
                "ring_neighbour", "ring_residual", "ring_normalised", "ring_p00")
#: Per zone: the CUSUM's (``divergence.Cusum``'s state, prefixed), when each side's sum
#: last left zero, the episode and the last recalibration.
COLUMNS = ("watch_diverging", "watch_upper", "watch_lower", "upper_since", "lower_since",
           "episode", "episode_since", "episode_start", "episodes", "quiet_run",
           "last_normalised", "recal_time", "recal_count", "recal_window", "recal_at_count",
           "recal_before", "recal_after", *RING_COLUMNS, "ring_x", "ring_count")
_COUNTS = ("episodes", "quiet_run", "recal_count", "recal_window", "recal_at_count",
           "ring_count")


def fresh_columns(size: int) -> dict[str, NDArray[Any]]:
    """The watch's columns for ``size`` zones never watched."""
    columns: dict[str, NDArray[Any]] = {}
    for name in COLUMNS:
        if name in _COUNTS:
            columns[name] = np.zeros(size, dtype=np.int64)
        elif name in ("recal_before", "recal_after"):
            columns[name] = np.full((size, STATE), np.nan)
        elif name == "ring_x":
            columns[name] = np.full((size, RING, STATE), np.nan)
        elif name in RING_COLUMNS:
            columns[name] = np.full((size, RING), np.nan)
        elif name in ("watch_diverging", "watch_upper", "watch_lower", "episode"):
            columns[name] = np.zeros(size)
        else:
            columns[name] = np.full(size, np.nan)
    return columns


class Reading(NamedTuple):
    """A round's zone readings as the bank took them, one entry a zone: its time (s), the
    reading, its quality, the inputs held over the step to it (outdoor, heating and the
    neighbours' temperature), the innovation and its
    normalised value, and the filter's state and temperature variance after it."""

    zones: NDArray[np.int64]
    times: Array
    values: Array
    quality: Array
    outdoor: Array
    heating: Array
    neighbour: Array
    residual: Array
    normalised: Array
    x: Array
    p00: Array


class WatchReport(NamedTuple):
    """What the watch said, one entry a zone reading with something to say: the zone, the
    reading's time, the code (``STARTED``, ``AGAIN``, ``ENDED``), the CUSUM's statistic,
    the direction (+1 up, -1 down), size in K and in sd, the change point's time, and for
    a recalibration the window's readings and the state ``[T, ln R, ln C, G, logit s]`` before and
    after (NaN for an end)."""

    zones: NDArray[np.int64]
    times: Array
    code: NDArray[np.int64]
    statistic: Array
    direction: Array
    size: Array
    size_sd: Array
    since: Array
    window: NDArray[np.int64]
    before: Array
    after: Array

    @staticmethod
    def empty() -> WatchReport:
        none = np.zeros(0)
        return WatchReport(np.zeros(0, dtype=np.int64), none, np.zeros(0, dtype=np.int64),
                           none, none, none, none, none, np.zeros(0, dtype=np.int64),
                           np.zeros((0, STATE)), np.zeros((0, STATE)))

    @staticmethod
    def join(parts: list[WatchReport]) -> WatchReport:
        if not parts:
            return WatchReport.empty()
        return WatchReport(*(np.concatenate(fields) for fields in zip(*parts, strict=True)))


class ZoneWatch:
    """The divergence watch of a zone bank (see the module): ``reference`` k and
    ``threshold`` h of the CUSUM, as ``divergence.Cusum``'s (defaults the same)."""

    def __init__(self, reference: float = REFERENCE, threshold: float = THRESHOLD) -> None:
        self.cusum = Cusum(reference=reference, threshold=threshold)

    def observe(self, columns: dict[str, NDArray[Any]], seen: Reading) -> WatchReport:
        """Record a round's readings (each zone once) and move the CUSUM and the
        episodes; says which readings start, restart or end an episode. Recalibration is
        the caller's (``ZoneBank``): it needs the filter."""
        c = columns
        z = seen.zones
        self._remember(c, seen)
        watched = (c["count"][z] >= WATCH_AFTER) & (seen.quality >= TRUSTED)
        normalised = np.where(watched, seen.normalised, np.nan)
        c["last_normalised"][z] = seen.normalised
        cusum = self.cusum
        before_upper, before_lower = c["watch_upper"][z], c["watch_lower"][z]
        cusum.restore({"diverging": c["watch_diverging"][z], "upper": before_upper,
                       "lower": before_lower})
        told = cusum.update(normalised)
        after = cusum.save()
        c["watch_diverging"][z] = after["diverging"]
        c["watch_upper"][z], c["watch_lower"][z] = after["upper"], after["lower"]
        # The change point's estimate: the first reading after a side's sum left zero.
        for side, was in (("upper", before_upper), ("lower", before_lower)):
            left = (was <= 0.0) & (after[side] > 0.0)
            c[f"{side}_since"][z[left]] = seen.times[left]
        in_episode = c["episode"][z] > 0
        since_recal = c["count"][z] - c["recal_at_count"][z]
        started = told.started & ~in_episode
        again = told.diverging & in_episode & (since_recal >= AGAIN_AFTER)
        # Only a reading the watch took says the zone is in step: a stuck room sensor's
        # doubted readings (a gap for the CUSUM) ended an episode and cleared its alarm.
        quiet = np.where(told.diverging, 0, c["quiet_run"][z] + watched)
        ended = in_episode & ~again & (quiet >= QUIET)
        c["quiet_run"][z] = np.where(in_episode | started, quiet, 0)
        up = after["upper"] >= after["lower"]
        since = np.where(up, c["upper_since"][z], c["lower_since"][z])
        new = z[started]
        c["episode"][new] = 1.0
        c["episode_since"][new] = since[started]
        c["episode_start"][new] = seen.times[started]
        c["episodes"][new] += 1
        c["quiet_run"][new] = 0
        c["episode"][z[ended]] = 0.0
        code = np.where(started, STARTED, np.where(again, AGAIN, np.where(ended, ENDED,
                                                                          NOTHING)))
        said = np.flatnonzero(code)
        if said.size == 0:
            return WatchReport.empty()
        size, size_sd = self._size(c, z[said], since[said])
        unknown = np.full((said.size, STATE), np.nan)
        return WatchReport(z[said], seen.times[said], code[said].astype(np.int64),
                           told.statistic[said], np.where(up[said], 1.0, -1.0), size,
                           size_sd, since[said], np.zeros(said.size, dtype=np.int64),
                           unknown, unknown.copy())

    def _remember(self, c: dict[str, NDArray[Any]], seen: Reading) -> None:
        z = seen.zones
        at = c["ring_count"][z] % RING
        for name, values in (("ring_time", seen.times), ("ring_value", seen.values),
                             ("ring_quality", seen.quality), ("ring_outdoor", seen.outdoor),
                             ("ring_heating", seen.heating),
                             ("ring_neighbour", seen.neighbour),
                             ("ring_residual", seen.residual),
                             ("ring_normalised", seen.normalised), ("ring_p00", seen.p00)):
            c[name][z, at] = values
        c["ring_x"][z, at] = seen.x
        c["ring_count"][z] += 1

    @staticmethod
    def ordered(c: dict[str, NDArray[Any]], zones: NDArray[np.int64]
                ) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
        """Ring positions of ``zones`` oldest first ``(B, RING)``, and which hold a reading."""
        count = c["ring_count"][zones]
        held = np.minimum(count, RING)
        offset = np.arange(RING)[None, :]
        positions = (count[:, None] - RING + offset) % RING
        return positions, offset >= (RING - held)[:, None]

    def _size(self, c: dict[str, NDArray[Any]], zones: NDArray[np.int64], since: Array
              ) -> tuple[Array, Array]:
        """Mean innovation (K) and normalised innovation over the readings since ``since``."""
        positions, held = self.ordered(c, zones)
        rows = zones[:, None]
        with np.errstate(invalid="ignore"):
            window = held & (c["ring_time"][rows, positions] >= since[:, None])
        count = np.maximum(window.sum(axis=1), 1)
        residual = np.where(window, c["ring_residual"][rows, positions], 0.0).sum(axis=1)
        normalised = np.where(window, c["ring_normalised"][rows, positions], 0.0).sum(axis=1)
        return residual / count, normalised / count


class Refit(NamedTuple):
    """A recalibration's result for its zones: the window's readings, the state and
    covariance at its end."""

    window: NDArray[np.int64]
    x: Array
    P: Array


def refit(model: StateModel, c: dict[str, NDArray[Any]], zones: NDArray[np.int64],
          since: Array, prior: Array, noise_per_hour: Array, reading_variance: float
          ) -> Refit:
    """Filter ``zones`` again over their readings since ``since`` (their ring), from the
    state after the reading before, with the parameters' covariance re-opened to
    ``prior``'s; the zones in rounds of one reading each, all at once.
    ``noise_per_hour``: each zone's process noise ``(B, n, n)``."""
    positions, held = ZoneWatch.ordered(c, zones)
    rows = zones[:, None]
    times = c["ring_time"][rows, positions]
    with np.errstate(invalid="ignore"):
        inside = held & (times >= since[:, None])
    # The window starts after the newest reading before the change; when the ring holds
    # none before it, after its oldest.
    first = np.where(inside.any(axis=1), inside.argmax(axis=1), RING - 1)
    oldest = RING - np.minimum(c["ring_count"][zones], RING)
    start = np.maximum(first - 1, oldest)
    start = np.minimum(start, RING - 1)
    window = (RING - 1 - start).astype(np.int64)
    pick = np.arange(zones.size)
    at = positions[pick, start]
    x = c["ring_x"][zones, at].copy()
    size = x.shape[1]
    P = np.zeros((zones.size, size, size))
    P[:, 0, 0] = c["ring_p00"][zones, at]
    P[:, 1:3, 1:3] = prior[1:3, 1:3]
    # The heat gain is not re-opened: it keeps the variance the zone has now (a zone
    # without a meter keeps it wide by its own walk). Re-opened to a prior of 10 K it took
    # the window's miss as a level, and a zone whose R halved started a second episode.
    # Nor is the neighbours' share: it keeps what the zone has learned of it (a window of
    # a few hours says little of how the loss splits, and with no neighbour read nothing).
    P[:, 3:, 3:] = c["P"][zones, 3:, 3:]
    gated_run = np.zeros(zones.size, dtype=np.int64)
    reopen = np.broadcast_to(prior, (zones.size, size, size)).copy()
    for step in range(int(window.max(initial=0))):
        going = np.flatnonzero(window > step)
        now = positions[going, start[going] + 1 + step]
        then = positions[going, start[going] + step]
        z = zones[going]
        hours = np.maximum(c["ring_time"][z, now] - c["ring_time"][z, then], 0.0) / HOUR
        ukf = UnscentedKalmanFilter(model, x[going], P[going])
        ukf.gated_run = gated_run[going]
        ukf.reopen_covariance = reopen[going]
        inputs = np.column_stack([c["ring_outdoor"][z, now], c["ring_heating"][z, now],
                                  c["ring_neighbour"][z, now], hours])
        ukf.predict(1.0, inputs, noise_per_hour[going] * hours[:, None, None])
        ukf.update(c["ring_value"][z, now][:, None], reading_variance, c["ring_quality"][z, now])
        x[going], P[going], gated_run[going] = ukf.x, ukf.P, ukf.gated_run
    return Refit(window, x, P)
