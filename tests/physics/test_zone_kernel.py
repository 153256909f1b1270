"""The compiled zone pass: it gives the numbers of the rounds (``update_in_rounds``, its batch
form) in every column of the bank and in what the watch says, on random batches (several
readings of a zone, zones read once, first readings, far-off readings the gate holds out
and re-opens on, readings stepped with guessed inputs, low quality, zones without a
heating meter, zones with neighbours read and without) and through a divergence episode
whose recalibration falls mid-batch."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twinsync.physics.simulate import room_readings, zone_weather
from twinsync.physics.zone_bank import ZoneBank
from twinsync.physics.zone_watch import AGAIN, STARTED, WATCH_AFTER, WatchReport

ZONES = 8
#: Readings of the warm-up: past the watch's start, so the batches are watched.
WARM = WATCH_AFTER + 20
QUARTER = 900.0


@lru_cache(maxsize=1)
def warmed() -> dict[str, Any]:
    """Eight rooms after ``WARM`` quarter-hours, the last two without a heating meter and
    the last never read (its first reading comes in a batch); the first four with
    neighbours read (the mean of the rooms beside them in the row), the others without."""
    rng = np.random.default_rng(3)
    outdoor, heating = zone_weather(rng, ZONES, WARM, 0.25)
    rooms = room_readings(np.full(ZONES, 18.0), rng.uniform(2, 10, ZONES),
                          rng.uniform(5, 30, ZONES), outdoor, heating, 0.25, 4e-4, 0.1, rng)
    bank = ZoneBank()
    bank.grow(ZONES)
    bank.meter(np.array([6, 7]), False)
    read = np.arange(ZONES - 1, dtype=np.int64)
    beside = np.where(np.arange(ZONES)[:, None] < 4, 0.5 * (np.roll(rooms, 1, axis=0)
                                                   + np.roll(rooms, -1, axis=0)), outdoor)
    for t in range(WARM):
        before = max(t - 1, 0)
        bank.update_in_rounds(read, np.full(read.size, QUARTER * t), rooms[read, t],
                              np.ones(read.size), outdoor[read, t], heating[read, t],
                              neighbour=beside[read, before])
    return bank.take(np.arange(ZONES))


def twins(*, watch: bool = True) -> tuple[ZoneBank, ZoneBank]:
    banks = ZoneBank(watch=watch), ZoneBank(watch=watch)
    for bank in banks:
        bank.grow(ZONES)
        bank.put(np.arange(ZONES), {k: v.copy() for k, v in warmed().items()})
    return banks


#: How far the pass may be from the rounds: a share of each quantity's size across the
#: zones (and a ring's slots), each state component and covariance entry on its own, a
#: state's size its value or its standard deviation, whichever is larger (a gain of
#: 0.05 ± 12 K is known to 12 K, not to 0.05). Not the bit: the compiler's ``exp`` (the C
#: library's) and NumPy's (its own vector code) differ in the last bit on about one
#: argument in twenty, and the UKF's central weight (-1e6 at alpha = 1e-3) makes an ulp
#: of a sigma point some 1e-10 of the mean. Over 200 random batches the pass was off by
#: at most 3e-7 of a quantity's size, and the rounds against themselves, their ``exp``
#: moved an ulp on one argument in twenty, moved as far (docs/PHYSICS.md). A mistake in
#: the pass is off by far more (a dropped Schmidt update: 0.02 K).
SHARE = 1e-6
#: Columns of states ``[..., STATE]`` and of covariances ``[..., STATE, STATE]``.
STATES = ("x", "ahead_x", "recal_before", "recal_after", "ring_x", "before", "after")
COVARIANCES = ("P", "ahead_P")
#: The divergence watch's CUSUM sums, in a normalised residual's units: their size is at
#: least one residual sd, since each reading adds a residual of about that size (a sum at
#: 0.06 was once off by 6.7e-8, 1.1e-6 of itself and 7e-8 of one sd).
CUSUMS = ("watch_upper", "watch_lower", "statistic")


def close(mine: np.ndarray, expected: np.ndarray, name: str, sd: np.ndarray) -> None:
    """``mine`` is ``expected`` but for rounding (``SHARE``); ``sd``: each state
    component's largest standard deviation across the zones."""
    if expected.dtype.kind != "f":
        np.testing.assert_array_equal(mine, expected, err_msg=name)
        return
    np.testing.assert_array_equal(np.isnan(mine), np.isnan(expected), err_msg=name)
    size = np.abs(np.where(np.isnan(expected), 0.0, expected))
    across = (0, 1) if name.startswith("ring_") else (0,)
    scale = size.max(axis=across, keepdims=True) if size.size else size
    if name in STATES:
        scale = np.maximum(scale, sd)
    elif name in COVARIANCES:
        scale = np.maximum(scale, sd[:, None] * sd[None, :])
    elif name in CUSUMS:
        scale = np.maximum(scale, 1.0)
    gap = np.abs(np.where(np.isnan(expected), 0.0, mine - expected))
    worst = (gap - 1e-9 * size - SHARE * scale).max(initial=0.0)
    assert worst <= 0.0, f"{name}: off by {gap.max():.3g} (largest {scale.max():.3g})"


def assert_same(compiled: ZoneBank, rounds: ZoneBank, told: WatchReport,
                oracle: WatchReport) -> None:
    variances = np.diagonal(rounds.columns["P"], axis1=1, axis2=2)
    sd = np.sqrt(np.nanmax(variances, axis=0))
    for name, column in rounds.columns.items():
        close(compiled.columns[name], column, name, sd)
    for name, field, expected in zip(WatchReport._fields, told, oracle, strict=True):
        close(field, expected, name, sd)


def fold_both(compiled: ZoneBank, rounds: ZoneBank, *batch: Any) -> WatchReport:
    told = compiled.update(*batch)
    oracle = rounds.update_in_rounds(*batch)
    assert_same(compiled, rounds, told, oracle)
    return told


@st.composite
def batches(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """A batch of readings: each zone's in time order (some at the same time), values near
    the room's with now and then a far-off one, qualities from 0 to 1, some stepped with
    guessed inputs, the neighbours' temperature read for some (else the outdoor one)."""
    per_zone = draw(st.lists(st.integers(0, 9), min_size=ZONES, max_size=ZONES))
    seed = draw(st.integers(0, 2**31))
    far_share = draw(st.sampled_from([0.0, 0.1, 0.7]))
    rng = np.random.default_rng(seed)
    zones = np.repeat(np.arange(ZONES, dtype=np.int64), per_zone)
    steps = rng.choice([0.0, 60.0, QUARTER, 4 * QUARTER], zones.size, p=[0.1, 0.2, 0.6, 0.1])
    times = np.empty(zones.size)
    for zone in range(ZONES):
        mine = zones == zone
        times[mine] = QUARTER * WARM + np.cumsum(steps[mine])
    last = warmed()["x"][zones, 0]
    values = np.where(np.isnan(last), 19.0, last) + rng.normal(0.0, 0.15, zones.size)
    values += np.where(rng.random(zones.size) < far_share, rng.choice([-8.0, 8.0],
                                                                       zones.size), 0.0)
    quality = np.where(rng.random(zones.size) < 0.3, rng.uniform(0.0, 0.6, zones.size), 1.0)
    outdoor = rng.uniform(-5.0, 15.0, zones.size)
    heating = rng.choice([0.0, 2.0, 4.0], zones.size)
    known = rng.random(zones.size) < 0.8
    beside = np.where(rng.random(zones.size) < draw(st.sampled_from([0.0, 0.5, 1.0])),
                      rng.uniform(5.0, 25.0, zones.size), outdoor)
    # Shuffled: the zones' readings interleave, each zone's still in time order.
    mixed = np.argsort(rng.random(zones.size) + zones * 0.0, kind="stable")
    mixed = mixed[np.lexsort((np.arange(mixed.size), times[mixed]))]
    return zones[mixed], times[mixed], values[mixed], quality[mixed], outdoor[mixed], \
        heating[mixed], known[mixed], beside[mixed]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches(), st.booleans(), st.booleans())
def test_the_compiled_pass_gives_the_numbers_of_the_rounds(
        batch: tuple[np.ndarray, ...], with_known: bool, watch: bool) -> None:
    compiled, rounds = twins(watch=watch)
    *readings, known, beside = batch
    fold_both(compiled, rounds, *readings, known if with_known else None, beside)
    # A second batch goes on from where the first left both.
    later = [readings[0], readings[1] + 8 * QUARTER, *readings[2:]]
    fold_both(compiled, rounds, *later, None, beside + 1.0)


def test_a_gate_held_shut_reopens_in_the_compiled_pass_as_in_the_rounds() -> None:
    compiled, rounds = twins()
    zones = np.repeat(np.arange(3, dtype=np.int64), 8)
    times = QUARTER * (WARM + np.tile(np.arange(8), 3))
    values = np.repeat(warmed()["x"][:3, 0], 8) + 6.0  # a step no model expects
    fold_both(compiled, rounds, zones, times, values, np.ones(zones.size),
              np.full(zones.size, 5.0), np.zeros(zones.size), None)
    # Five held out, the sixth re-opened the gate and was taken.
    assert (compiled.columns["gated_run"][:3] == 0).all()
    assert np.allclose(compiled.columns["x"][:3, 0], values[::8], atol=0.5)


def test_a_divergence_and_its_recalibration_mid_batch_are_the_rounds_own() -> None:
    rng = np.random.default_rng(5)
    compiled, rounds = twins()
    steps = 60
    outdoor, heating = zone_weather(rng, ZONES, steps, 0.25)
    start = warmed()["x"][:, 0]
    start = np.where(np.isnan(start), 18.0, start)
    rooms = room_readings(start, np.full(ZONES, 4.0), np.full(ZONES, 12.0), outdoor,
                          heating, 0.25, 4e-4, 0.1, rng)
    rooms[[0, 6], 10:] += 1.5  # a room and an unmetered one run warm from the tenth
    read = np.arange(ZONES, dtype=np.int64)
    zones = np.tile(read, steps)
    times = QUARTER * (WARM + np.repeat(np.arange(steps), ZONES))
    told = fold_both(compiled, rounds, zones, times, rooms.T.ravel(), np.ones(zones.size),
                     outdoor.T.ravel(), heating.T.ravel(), None)
    recalibrated = np.isin(told.code, [STARTED, AGAIN])
    assert {0, 6} <= set(told.zones[recalibrated].tolist())
    assert np.isfinite(told.after[recalibrated]).all()
    assert (compiled.columns["recal_count"][[0, 6]] >= 1).all()


def test_a_reading_that_is_not_a_number_is_refused_by_the_pass_as_by_the_rounds() -> None:
    compiled, rounds = twins()
    zones, times = np.array([0, 1], dtype=np.int64), np.full(2, QUARTER * WARM)
    for values, quality in ((np.array([20.0, np.nan]), np.ones(2)),
                            (np.full(2, 20.0), np.array([1.0, np.nan]))):
        for update in (compiled.update, rounds.update_in_rounds):
            with pytest.raises(ValueError):
                update(zones, times, values, quality, np.zeros(2), np.zeros(2))
