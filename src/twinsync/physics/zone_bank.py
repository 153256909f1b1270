"""Every live thermal zone's state in one set of arrays, stepped to each reading's own time
and updated by the unscented Kalman filter (joint estimation of ``[T, ln R, ln C, G,
logit s]``: the temperature, R and C, the heat gain ``G`` no input explains and the share
``s`` of the zone's loss that goes to its neighbouring zones, ``NeighbourZone``). A zone
with no neighbour read is stepped with the neighbours' temperature at the outdoor one, for
which ``s`` moves nothing: it is then exactly ``HeatGainZone``.

A zone's readings come at their own times, so each zone steps by its own ``dt``: the step
length travels as a third input column (``TimedZone``). ``update`` folds a batch in one
compiled pass (``zone_kernel``): each zone's readings one after another, a reading costing
about a µs whatever the batch. Its batch form, ``update_in_rounds``, takes the batch in
rounds (the first reading of each zone, then the second, ...), one vectorised UKF call
over the zones a round reads; a round costs some hundreds of µs whatever its size, so a
batch costs a round per reading of its busiest zone. It is kept as the pass's oracle (the
same numbers to rounding, ``tests/physics/test_zone_kernel.py``); the coast, the forecast
and the watch's recalibration in it are NumPy as well.

Each zone also keeps its **prior** at its latest reading time: the temperature's mean and
variance as predicted to that time from the readings before it, before any reading of that
time was folded in. Fusion weighs the model with it beside the sensors that read at that time
(``service/model_sources.py``): the posterior already holds those readings, the prior does
not, so nothing is counted twice.

Over a step the outdoor temperature, the heating and the neighbours' mean temperature are
held at the values the caller gives (each input as last read before the reading's event
time, ``zone_inputs.py``). A
reading's quality weighs it as in every filter here (``gate``): its variance is divided
by its quality (at least the gate's floor, 0.01).

>>> bank = ZoneBank()
>>> bank.grow(2)
>>> report = bank.update(np.array([0, 1]), np.array([0.0, 0.0]), np.array([20.0, 18.0]),
...                      np.ones(2), np.array([5.0, 5.0]), np.zeros(2))
>>> bank.columns["count"].tolist(), report.zones.size  # no zone watched yet: nothing to say
([1, 1], 0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from . import zone_kernel, zone_watch
from .contract import Array, NotPositiveDefinite
from .gate import DEFAULT_GATE
from .neighbour_zone import NeighbourZone
from .ukf import MerweWeights, UnscentedKalmanFilter
from .zone_kernel import Said
from .zone_step import Knobs
from .zone_watch import (
    AGAIN,
    RING,
    STARTED,
    STATE,
    WATCH_AFTER,
    Reading,
    WatchReport,
    ZoneWatch,
    fresh_columns,
    refit,
)

HOUR = 3600.0
#: The readings a zone holds back, and its ring of recent readings (``ZoneSave``).
_HELD = ("wait_time", "wait_value", "wait_quality", "wait_received")
_RING = (*zone_watch.RING_COLUMNS, "ring_x")
#: Readings the prior's error is averaged over (a day at 15 minutes).
ERROR_READINGS = 96
#: A reading's quality from which it judges the prior's error (fusion's threshold), and
#: from which the divergence watch takes it (``zone_watch.TRUSTED``).
TRUSTED = zone_watch.TRUSTED
#: ``contract.floor_eigenvalues``'s share of the largest eigenvalue an eigenvalue is
#: floored at (its default, as the UKF calls it).
FLOOR_SHARE = 1e-12


@dataclass(frozen=True, slots=True)
class ZoneKnobs:
    """The prior and the noises of every zone. ``resistance`` (K/kW) and ``capacitance``
    (kWh/K) are where a new zone starts, ``log_sd`` how unsure that start is (1.0: a factor
    of e either way); a new zone's heat gain starts at 0 K, ``gain_sd`` unsure;
    ``noise_sd`` is a temperature reading's noise (K); the process noises are variances per
    hour: the temperature's (what the one-node model misses: sun, people, doors), each
    log-parameter's (how fast R and C may drift) and the heat gain's, a random walk. In a
    zone with a heating meter (``gain_noise``) the gain takes the sun and people and must
    stay small and slow, or it takes part of ``R·Φ``: R is told less well, and a change of
    R is told later. From 0 ± 0.3 K (``gain_sd``), 1e-3 K² an hour (0.15 K a day's root),
    chosen on the calibration bench's zones (R within 2 %: 1.7 % at the worst; with
    ``gain_sd`` 1 K, 1.9 % at 3e-3 and 2.3 % at 1e-2), the service's three rooms (R within
    2 % after six days: 3.5 % with ``gain_sd`` 1 K) and the divergence tests (R halved told
    after 8 readings as without the gain, 24 at 3e-3; with ``gain_sd`` 1 K a gain that
    learned a wrong level in the first days stayed there and brought a second episode).
    In a zone without one (``unmetered_gain_noise``) it is the heating itself, switched on
    and off, and must follow a spell within the hour: 30 K² an hour, chosen on simulated
    rooms heated in daily spells (``twinsync bench zone-gain`` seeds 0-2; docs/PHYSICS.md);
    it starts from 0 ± 10 K (``unmetered_gain_sd``: a heated room sits 10-20 K above the
    outdoors, and a gain held near 0 at first lets the filter explain the room's warmth
    by a time constant of thousands of hours instead, which it then keeps).

    The share of the zone's loss that goes to its neighbours starts at ``share`` with a
    logit ``share_logit_sd`` unsure (0.5 and 0.75: 95 % of the prior between 0.18 and
    0.82; chosen on the tune seeds 0-2 of ``twinsync bench zone-neighbours``,
    docs/PHYSICS.md "Neighbouring zones") and drifts as ln R and ln C do
    (``parameter_noise``)."""

    resistance: float = 5.0
    capacitance: float = 10.0
    log_sd: float = 1.0
    temperature_sd: float = 0.5
    gain_sd: float = 0.3
    noise_sd: float = 0.1
    temperature_noise: float = 4e-4
    parameter_noise: float = 4e-8
    gain_noise: float = 1e-3
    unmetered_gain_sd: float = 10.0
    unmetered_gain_noise: float = 30.0
    share: float = 0.5
    share_logit_sd: float = 0.75

    @property
    def share_logit(self) -> float:
        """Where a new zone's ``logit s`` starts."""
        return float(np.log(self.share / (1.0 - self.share)))

    def prior(self) -> Array:
        """A new zone's covariance ``(5, 5)`` (its temperature's from ``temperature_sd``)."""
        return np.diag([self.temperature_sd**2, self.log_sd**2, self.log_sd**2,
                        self.gain_sd**2, self.share_logit_sd**2])

    def process_noise(self, metered: bool = True) -> Array:
        """The process noise ``(5, 5)`` an hour of a zone with a heating meter, or
        (``metered`` False) without one."""
        gain = self.gain_noise if metered else self.unmetered_gain_noise
        return np.diag([self.temperature_noise, self.parameter_noise, self.parameter_noise,
                        gain, self.parameter_noise])


class TimedZone(NeighbourZone):
    """The RC zone with its heat gain and its neighbours, each zone's step length (hours)
    as the fourth input column; ``dt`` given to ``step`` scales it (1.0)."""

    input_names: tuple[str, ...] = ("outdoor_temperature", "heating_kw",
                                    "neighbour_temperature", "hours")

    def step(self, state: Array, dt: float | Array, inputs: Array) -> Array:
        return super().step(state, dt * inputs[:, 3], inputs[:, :3])


class ZoneSave(NamedTuple):
    """Some zones as they were (``ZoneBank.savepoint``): their rows but for the ring and
    the readings held back (``columns``); the readings held back of those that held some
    (``held_zones``, ``held``); and of the ring only the slots the batch may overwrite
    (``ring_zones``, ``ring_slots``, ``ring``)."""

    zones: NDArray[np.int64]
    columns: dict[str, NDArray[Any]]
    held_zones: NDArray[np.int64]
    held: dict[str, NDArray[Any]]
    ring_zones: NDArray[np.int64]
    ring_slots: NDArray[np.int64]
    ring: dict[str, NDArray[Any]]


class Forecast(NamedTuple):
    """Each zone's temperature some hours on: mean and standard deviation of the state (the
    air as the model has it) and of a reading (the state's plus the sensor's noise)."""

    mean: Array
    state_sd: Array
    reading_sd: Array


class ZoneBank:
    """The state of ``len(self)`` zones: ``x`` ``(Z, 5)``, ``P`` ``(Z, 5, 5)``, the time of
    each zone's last reading (epoch seconds), its readings so far, its gated run, the
    temperature's prior mean and variance at its last reading time (NaN before a second
    reading), and the prior's mean squared error against trusted readings (``prior_error``,
    over about the last ``ERROR_READINGS``): what the prior's variance should be, plus the
    readings' noise, if the model is as good as it says; the state coasted on through
    the inputs read since the last reading (``coast``; the last reading's state where
    none was); and the readings each zone holds back until its inputs are known
    (``waiting`` of them, at most ``WAITING``: event time, value, quality, receive time,
    sorted by event time) with how many readings were stepped before their inputs were
    known (``stepped_early``); whether the zone's heating is metered (``metered``: its
    heat gain's process noise, ``ZoneKnobs``; the caller says, True for a new zone); and
    the divergence watch's columns (``zone_watch.COLUMNS``: its CUSUM, episode, recent
    readings and last recalibration). The caller decides what waits and what coasts."""

    COLUMNS = ("x", "P", "time", "count", "gated_run", "prior_mean",
               "prior_variance", "prior_error", "ahead_x", "ahead_P", "ahead_time",
               "waiting", "wait_time", "wait_value", "wait_quality", "wait_received",
               "stepped_early", "metered", *zone_watch.COLUMNS)
    PRIORS = ("prior_mean", "prior_variance", "prior_error")
    #: The state coasted past the last reading (``coast``), and where it starts from.
    AHEAD = {"ahead_x": "x", "ahead_P": "P", "ahead_time": "time"}
    #: Readings a zone holds back at most: a day of 15-minute readings.
    WAITING = 96

    def __init__(self, knobs: ZoneKnobs | None = None, *, watch: bool = True) -> None:
        self.knobs = knobs or ZoneKnobs()
        self.model = TimedZone()
        #: The divergence watch (``zone_watch.py``); None: not watched (the bench's
        #: "before"), its columns kept as fresh.
        self.watch = ZoneWatch() if watch else None
        self._told: list[WatchReport] = []
        self.prior = self.knobs.prior()
        #: The process noise an hour of a zone without and with a heating meter, indexed
        #: by its ``metered`` column: built once, not at each round.
        self._noises = np.stack([self.knobs.process_noise(False),
                                 self.knobs.process_noise(True)])
        self.columns: dict[str, NDArray[Any]] = {}
        self._fresh(0)
        self._weights = MerweWeights(STATE)
        self._kernel_knobs = self._knobs_of_the_pass()

    def _knobs_of_the_pass(self) -> Knobs:
        """The compiled pass's settings: those of the UKF, its gate and the watch here."""
        gate, watch = DEFAULT_GATE, self.watch or ZoneWatch()
        cusum = watch.cusum
        return Knobs(STATE + self._weights.lam, self.knobs.noise_sd**2, gate.quality_floor,
                     gate.threshold(1), gate.reopen_after, ERROR_READINGS, TRUSTED,
                     FLOOR_SHARE, self.watch is not None, WATCH_AFTER, cusum.reference,
                     cusum.threshold, cusum.release, cusum.ceiling, cusum.limit)

    def __len__(self) -> int:
        return int(self.columns["count"].shape[0])

    def _fresh(self, size: int) -> None:
        k = self.knobs
        x = np.zeros((size, STATE))
        x[:, 0] = np.nan
        x[:, 1], x[:, 2] = np.log(k.resistance), np.log(k.capacitance)
        x[:, 4] = k.share_logit
        self.columns = {"x": x, "P": np.broadcast_to(self.prior, (size, STATE, STATE)).copy(),
                        "time": np.full(size, np.nan),
                        "count": np.zeros(size, dtype=np.int64),
                        "gated_run": np.zeros(size, dtype=np.int64),
                        "prior_mean": np.full(size, np.nan),
                        "prior_variance": np.full(size, np.nan),
                        "prior_error": np.full(size, np.nan),
                        "waiting": np.zeros(size, dtype=np.int64),
                        "stepped_early": np.zeros(size, dtype=np.int64),
                        "metered": np.ones(size, dtype=np.bool_)}
        for ahead, start in self.AHEAD.items():
            self.columns[ahead] = self.columns[start].copy()
        for name in ("wait_time", "wait_value", "wait_quality", "wait_received"):
            self.columns[name] = np.full((size, self.WAITING), np.nan)
        self.columns |= fresh_columns(size)

    def grow(self, size: int) -> None:
        """At least ``size`` zones; new ones fresh."""
        old = len(self)
        if size <= old:
            return
        kept = self.columns
        self._fresh(size)
        for name, column in kept.items():
            self.columns[name][:old] = column

    def forget(self, zones: NDArray[np.int64]) -> None:
        """``zones`` start afresh (an element that became a zone, or another one's row)."""
        fresh = ZoneBank(self.knobs)
        fresh._fresh(zones.size)
        for name, column in fresh.columns.items():
            self.columns[name][zones] = column

    def meter(self, zones: NDArray[np.int64], metered: NDArray[np.bool_] | bool) -> None:
        """Say whether ``zones``' heating is metered: their heat gain's process noise, and
        for a zone that has taken no reading yet its gain's prior (``ZoneKnobs``)."""
        c = self.columns
        c["metered"][zones] = metered
        fresh = zones[c["count"][zones] == 0]
        k = self.knobs
        variance = np.where(c["metered"][fresh], k.gain_sd**2, k.unmetered_gain_sd**2)
        for name in ("P", "ahead_P"):
            c[name][fresh, 3, :] = 0.0
            c[name][fresh, :, 3] = 0.0
            c[name][fresh, 3, 3] = variance

    def noise(self, zones: NDArray[np.int64]) -> Array:
        """Each of ``zones``' process noise ``(B, 5, 5)`` an hour: its heat gain's as
        metered or not (``ZoneKnobs``)."""
        noise: Array = self._noises[self.columns["metered"][zones].astype(np.intp)]
        return noise

    def misfit(self, zones: NDArray[np.int64] | slice = slice(None)) -> Array:
        """Each zone's prior's mean squared error over about the last day against the
        variance it claims (the prior's and a reading's noise): about 1 for a zone the
        model fits, NaN before any reading was judged. Above ``zone_forecasts.MISFIT``
        the forecast route answers by the level/trend."""
        c = self.columns
        ratio: Array = c["prior_error"][zones] / (c["prior_variance"][zones]
                                                   + self.knobs.noise_sd**2)
        return ratio

    def take(self, zones: NDArray[np.int64]) -> dict[str, NDArray[Any]]:
        """Copies of ``zones``' rows (for a snapshot or a move to new rows)."""
        return {name: column[zones].copy() for name, column in self.columns.items()}

    def put(self, zones: NDArray[np.int64], rows: dict[str, NDArray[Any]]) -> None:
        for name, column in self.columns.items():
            column[zones] = rows[name]

    def savepoint(self, zones: NDArray[np.int64]) -> ZoneSave:
        """What ``rollback`` needs to put ``zones`` back after a batch that steps each
        of them once for each time it is named, and each that holds readings back for each
        of those (the readings it may release). Not a copy of their whole rows: at 10,000
        rooms that copy (6.7 KB a zone) was a third of the zones' cost. A zone's readings
        held back are saved only where it holds some (past its ``waiting`` count nothing
        is read, and a rollback puts the count back); of its ring, only the slots its
        readings would write (one a reading stepped, from ``ring_count`` on; a
        recalibration rewrites the newest of them)."""
        once, named = np.unique(zones, return_counts=True)
        c = self.columns
        whole = {name: column[once].copy() for name, column in c.items()
                 if name not in _HELD and name not in _RING}
        held_zones = once[c["waiting"][once] > 0]
        held = {name: c[name][held_zones].copy() for name in _HELD}
        written = np.minimum(named + c["waiting"][once], RING)
        ring_zones = np.repeat(once, written)
        starts = np.repeat(np.cumsum(written) - written, written)
        ring_slots = (np.repeat(c["ring_count"][once], written)
                      + np.arange(ring_zones.size) - starts) % RING
        ring = {name: c[name][ring_zones, ring_slots].copy() for name in _RING}
        return ZoneSave(once, whole, held_zones, held, ring_zones, ring_slots, ring)

    def rollback(self, point: ZoneSave) -> None:
        c = self.columns
        for name, rows in point.columns.items():
            c[name][point.zones] = rows
        for name, rows in point.held.items():
            c[name][point.held_zones] = rows
        for name, values in point.ring.items():
            c[name][point.ring_zones, point.ring_slots] = values

    def update(self, zones: NDArray[np.int64], times: Array, values: Array, quality: Array,
               outdoor: Array, heating: Array, known: NDArray[np.bool_] | None = None,
               neighbour: Array | None = None) -> WatchReport:
        """Fold in readings of ``zones`` (one entry a reading, each zone's in time order):
        step each zone from its last reading to ``times`` (epoch seconds) with ``outdoor``
        (°C), ``heating`` (kW) and ``neighbour`` (the neighbours' mean °C; default the
        outdoor temperature: no neighbour read) held, then update with ``values`` (°C). A
        zone's first
        reading starts its temperature. Returns what the divergence watch said (episodes
        started, recalibrated, ended). ``known`` (default all): whether the inputs were
        known up to each reading's time; one stepped without (an outdoor sensor silent
        past the wait) is taken by the filter but judged as a doubted reading is: neither
        the watch nor the prior's error takes its miss, more likely the input's than the
        model's.

        The compiled pass (``zone_kernel.fold``): each zone's readings one after another,
        recalibrations included. ``update_in_rounds`` is its batch form, the same numbers
        to rounding."""
        if zones.size == 0:
            return WatchReport.empty()
        # As the rounds' filter refuses them (``kalman._measurement``, ``gate``): the pass
        # would take a NaN reading as one the gate holds out.
        if not (np.isfinite(values).all() and np.isfinite(quality).all()):
            raise ValueError("zone readings and their quality must be finite")
        order = np.argsort(zones, kind="stable")
        z = np.ascontiguousarray(zones[order], dtype=np.int64)
        judged_by = quality if known is None else np.where(known, quality, 0.0)
        beside = outdoor if neighbour is None else neighbour
        at, value, weight, held_out, held_heating, held_beside, judged = (
            np.ascontiguousarray(column[order], dtype=np.float64)
            for column in (times, values, quality, outdoor, heating, beside, judged_by))
        guessed = (np.zeros(z.size, dtype=np.bool_) if known is None
                   else np.ascontiguousarray(~known[order]))
        starts = np.flatnonzero(np.r_[True, z[1:] != z[:-1], True])
        said = Said.of(z.size)
        weights = self._weights
        failed = zone_kernel.fold(tuple(self.columns[name] for name in zone_kernel.COLUMNS),
                                  self.prior, self._noises, weights.mean, weights.cov,
                                  self._kernel_knobs, z, at, value, weight, held_out,
                                  held_heating, held_beside, judged, guessed, starts, said)
        if failed >= 0:
            raise NotPositiveDefinite("covariance", [int(z[failed])])
        spoken = np.flatnonzero(said.code)
        if spoken.size == 0:
            return WatchReport.empty()
        # In the rounds' order: by each zone's reading rank, then zone.
        rank = spoken - starts[np.searchsorted(starts, spoken, side="right") - 1]
        spoken = spoken[np.lexsort((z[spoken], rank))]
        return WatchReport(z[spoken], at[spoken], said.code[spoken], said.statistic[spoken],
                           said.direction[spoken], said.size[spoken], said.size_sd[spoken],
                           said.since[spoken], said.window[spoken], said.before[spoken],
                           said.after[spoken])

    def update_in_rounds(self, zones: NDArray[np.int64], times: Array, values: Array,
                         quality: Array, outdoor: Array, heating: Array,
                         known: NDArray[np.bool_] | None = None,
                         neighbour: Array | None = None) -> WatchReport:
        """``update`` in its batch form, NumPy: the readings in rounds (the first reading
        of each zone, then the second, ...), each round one vectorised UKF over the zones
        it reads; a round costs some hundreds of µs whatever its size. The oracle of the
        compiled pass (``tests/physics/test_zone_kernel.py``)."""
        if zones.size == 0:
            return WatchReport.empty()
        # The quality the watch and the prior's error judge a reading by: none for one
        # stepped without its inputs (the filter still takes it by its own quality).
        judged_by = quality if known is None else np.where(known, quality, 0.0)
        beside = outdoor if neighbour is None else neighbour
        self._told = []
        order = np.argsort(zones, kind="stable")
        sorted_zones = zones[order]
        starts = np.flatnonzero(np.r_[True, sorted_zones[1:] != sorted_zones[:-1]])
        rank = np.arange(zones.size) - np.repeat(starts, np.diff(np.r_[starts, zones.size]))
        for round_ in range(int(rank.max()) + 1):
            taken = order[rank == round_]
            self._round(zones[taken], times[taken], values[taken], quality[taken],
                        outdoor[taken], heating[taken], beside[taken], judged_by[taken],
                        None if known is None else ~known[taken])
        told, self._told = WatchReport.join(self._told), []
        return told

    def _round(self, zones: NDArray[np.int64], times: Array, values: Array, quality: Array,
               outdoor: Array, heating: Array, neighbour: Array, judged_by: Array,
               guessed: NDArray[np.bool_] | None = None) -> None:
        c = self.columns
        x, P, last = c["x"], c["P"], c["time"]
        count, gated_run = c["count"], c["gated_run"]
        first = count[zones] == 0
        if first.any():
            new = zones[first]
            x[new, 0] = values[first]
            last[new] = times[first]
            count[new] = 1
            self._restart_coast(new)
        going = ~first
        if not going.any():
            return
        z = zones[going]
        hours = np.maximum(times[going] - last[z], 0.0) / HOUR
        k = self.knobs
        ukf = UnscentedKalmanFilter(self.model, x[z], P[z])
        ukf.gated_run = gated_run[z].copy()
        ukf.reopen_covariance = np.broadcast_to(self.prior, (z.size, STATE, STATE)).copy()
        inputs = np.column_stack([outdoor[going], heating[going], neighbour[going], hours])
        ukf.predict(1.0, inputs, self.noise(z) * hours[:, None, None])
        # The prior of a new time; a second reading of the same time (another sensor of the
        # zone) keeps the one from before the first, so it holds neither reading.
        later = hours > 0.0
        c["prior_mean"][z[later]] = ukf.x[later, 0]
        c["prior_variance"][z[later]] = ukf.P[later, 0, 0]
        # How far the prior really misses, from readings that can be trusted (a failed
        # sensor's would charge its fault to the model): a running mean over the last
        # ERROR_READINGS or so, so a room the one-node model does not fit (sun, people,
        # an open window) weighs its model less than its filter's variance says.
        judged = later & (judged_by[going] >= TRUSTED)
        seen = z[judged]
        miss = (values[going][judged] - ukf.x[judged, 0]) ** 2
        error = c["prior_error"][seen]
        step = 1.0 / np.minimum(count[seen], ERROR_READINGS)
        c["prior_error"][seen] = np.where(np.isnan(error), miss, error + step * (miss - error))
        guess = None if guessed is None else np.flatnonzero(guessed[going])
        if guess is not None and guess.size:
            predicted_x, predicted_P = ukf.x[guess].copy(), ukf.P[guess].copy()
        innovation = ukf.update(values[going][:, None], k.noise_sd**2, quality[going])
        if guess is not None and guess.size:
            # Stepped with its inputs held at a guess (the outdoor sensor silent past the
            # wait): the reading still corrects the temperature, but R, C and the gain do
            # not learn from a miss that is more likely the input's (before, two silent
            # days took a room's R from 3 to 0.2 K/kW). A Schmidt ("consider") update:
            # the parameters' Kalman gain is zero, so their mean and covariance stay as
            # predicted; with the temperature measured directly, its variance and its
            # covariance with them are the full update's (P00 - P00²/S and
            # (1 - P00/S)·P0j).
            ukf.x[guess, 1:] = predicted_x[:, 1:]
            ukf.P[guess, 1:, 1:] = predicted_P[:, 1:, 1:]
        x[z], P[z] = ukf.x, ukf.P
        gated_run[z] = ukf.gated_run
        last[z] = np.maximum(last[z], times[going])
        count[z] += 1
        if self.watch is not None:
            # The innovation over its predicted sd (one reading: no Cholesky needed), the
            # number the gate judged squared; a gated reading's counts too.
            residual = innovation.residual[:, 0]
            normalised = residual / np.sqrt(innovation.covariance[:, 0, 0])
            self._watch(Reading(z, times[going], values[going], judged_by[going],
                                outdoor[going], heating[going], neighbour[going], residual,
                                normalised,
                                ukf.x, ukf.P[:, 0, 0]))
        self._restart_coast(z)

    def _watch(self, seen: Reading) -> None:
        """The round's readings to the divergence watch; a zone whose episode starts (or
        goes on past another start) is recalibrated here, its CUSUM restarted."""
        assert self.watch is not None
        told = self.watch.observe(self.columns, seen)
        if told.zones.size == 0:
            return
        self._told.append(told)
        self._recalibrate(told)

    def _recalibrate(self, told: WatchReport) -> None:
        """Recalibrate the zones ``told`` starts or restarts an episode of (``refit``),
        their CUSUM restarted; the fit's window and the state before and after written
        into ``told``."""
        c = self.columns
        chosen = np.flatnonzero((told.code == STARTED) | (told.code == AGAIN))
        if chosen.size == 0:
            return
        zones = told.zones[chosen]
        k = self.knobs
        fit = refit(self.model, c, zones, told.since[chosen], self.prior, self.noise(zones),
                    k.noise_sd**2)
        told.before[chosen] = c["x"][zones]
        told.after[chosen] = fit.x
        told.window[chosen] = fit.window
        c["recal_before"][zones], c["recal_after"][zones] = c["x"][zones], fit.x
        c["x"][zones], c["P"][zones] = fit.x, fit.P
        c["recal_time"][zones] = told.times[chosen]
        c["recal_window"][zones] = fit.window
        c["recal_count"][zones] += 1
        c["recal_at_count"][zones] = c["count"][zones]
        newest = (c["ring_count"][zones] - 1) % RING
        c["ring_x"][zones, newest], c["ring_p00"][zones, newest] = fit.x, fit.P[:, 0, 0]
        for name in ("watch_diverging", "watch_upper", "watch_lower"):
            c[name][zones] = 0.0

    def _restart_coast(self, zones: NDArray[np.int64]) -> None:
        c = self.columns
        for ahead, start in self.AHEAD.items():
            c[ahead][zones] = c[start][zones]

    def coast(self, zones: NDArray[np.int64], times: Array, outdoor: Array,
              heating: Array, neighbour: Array | None = None) -> None:
        """Step the coasted state of ``zones`` (each once) on to ``times`` with ``outdoor``,
        ``heating`` and ``neighbour`` (default: the outdoor) held, without a reading: so a
        zone whose sensor is silent follows its inputs as they are read, not as last seen.
        The zone itself (its state, its last reading's time) does not move: a late reading
        of it is still taken."""
        c = self.columns
        with np.errstate(invalid="ignore"):
            behind = (c["count"][zones] > 0) & (times > c["ahead_time"][zones])
        z = zones[behind]
        if z.size == 0:
            return
        hours = (times[behind] - c["ahead_time"][z]) / HOUR
        beside = outdoor if neighbour is None else neighbour
        ukf = UnscentedKalmanFilter(self.model, c["ahead_x"][z], c["ahead_P"][z], gate=None)
        ukf.predict(1.0, np.column_stack([outdoor[behind], heating[behind], beside[behind],
                                          hours]),
                    self.noise(z) * hours[:, None, None])
        c["ahead_x"][z], c["ahead_P"][z], c["ahead_time"][z] = ukf.x, ukf.P, times[behind]

    def forecast(self, zones: NDArray[np.int64], hours: Array, outdoor: Array,
                 heating: Array, *, coasted: bool = False, neighbour: Array | None = None
                 ) -> Forecast:
        """Each of ``zones`` ``hours`` after its last reading (``coasted``: after its
        coasted state's time), the inputs held (``neighbour`` default: the outdoor
        temperature; its state is not changed)."""
        k = self.knobs
        c = self.columns
        x, P = (c["ahead_x"], c["ahead_P"]) if coasted else (c["x"], c["P"])
        ukf = UnscentedKalmanFilter(self.model, x[zones], P[zones], gate=None)
        beside = outdoor if neighbour is None else neighbour
        ukf.predict(1.0, np.column_stack([outdoor, heating, beside, hours]),
                    self.noise(zones) * np.asarray(hours)[:, None, None])
        variance = np.maximum(ukf.P[:, 0, 0], 0.0)
        return Forecast(ukf.x[:, 0].copy(), np.sqrt(variance),
                        np.sqrt(variance + k.noise_sd**2))
