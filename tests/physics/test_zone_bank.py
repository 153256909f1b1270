"""The zone bank: readings of many zones in one call give the numbers one call per reading
gives; each zone steps by its own time since its last reading; a savepoint puts the zones
it names back; the forecast widens with the horizon; a room heated without a meter is
tracked through its heat gain, its time constant learned and its variance honest."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twinsync.physics.simulate import daily_spells, room_readings
from twinsync.physics.thermal import HeatGainZone
from twinsync.physics.ukf import UnscentedKalmanFilter
from twinsync.physics.zone_bank import ZoneBank, ZoneKnobs
from twinsync.physics.zone_forecast import InputOutlook, zone_outlook

Z90 = 1.6449


def readings(seed: int = 1) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    zones = np.array([0, 1, 0, 2, 1, 0, 2, 2])
    times = np.array([0.0, 0.0, 900.0, 0.0, 1800.0, 1800.0, 600.0, 4200.0])
    values = 20 + rng.normal(0, 0.3, zones.size)
    return zones, times, values, rng.uniform(0.6, 1.0, zones.size), \
        rng.uniform(0, 10, zones.size), rng.choice([0.0, 2.0], zones.size)


def test_a_batch_in_one_call_gives_the_numbers_of_one_call_a_reading() -> None:
    zones, times, values, quality, outdoor, heating = readings()
    together, apart = ZoneBank(), ZoneBank()
    together.grow(3)
    apart.grow(3)
    together.update(zones, times, values, quality, outdoor, heating)
    for k in range(zones.size):
        apart.update(zones[k:k + 1], times[k:k + 1], values[k:k + 1], quality[k:k + 1],
                     outdoor[k:k + 1], heating[k:k + 1])
    for name, column in together.columns.items():
        assert np.allclose(column, apart.columns[name], equal_nan=True), name
    assert together.columns["count"].tolist() == [3, 2, 3]
    assert together.columns["time"].tolist() == [1800.0, 1800.0, 4200.0]


def test_a_zone_steps_by_its_own_time_since_its_last_reading() -> None:
    bank = ZoneBank()
    bank.grow(1)
    bank.update(np.array([0]), np.array([0.0]), np.array([20.0]), np.ones(1),
                np.array([5.0]), np.array([1.0]))
    start_x, start_p = bank.columns["x"].copy(), bank.columns["P"].copy()
    bank.update(np.array([0]), np.array([5400.0]), np.array([19.0]), np.ones(1),
                np.array([5.0]), np.array([1.0]))
    # The same by hand: 1.5 h with the inputs held, then the reading.
    k = bank.knobs
    ukf = UnscentedKalmanFilter(HeatGainZone(), start_x, start_p)
    ukf.predict(1.5, np.array([[5.0, 1.0]]), 1.5 * k.process_noise())
    ukf.update(np.array([[19.0]]), k.noise_sd**2, np.ones(1))
    assert np.allclose(bank.columns["x"], ukf.x)
    assert np.allclose(bank.columns["P"], ukf.P)


def test_a_savepoint_puts_back_the_zones_it_names() -> None:
    zones, times, values, quality, outdoor, heating = readings()
    bank = ZoneBank()
    bank.grow(3)
    bank.update(zones, times, values, quality, outdoor, heating)
    before = bank.take(np.arange(3))
    point = bank.savepoint(np.array([2, 0, 2]))
    bank.update(np.array([0, 2]), np.array([9000.0, 9000.0]), np.array([25.0, 15.0]),
                np.ones(2), np.zeros(2), np.zeros(2))
    bank.rollback(point)
    for name, column in before.items():
        assert np.array_equal(bank.columns[name], column, equal_nan=True), name


def _meaningful(bank: ZoneBank) -> dict[str, np.ndarray]:
    """The bank's columns as anything reads them: a zone's readings held back only up to
    its ``waiting`` count."""
    state = {name: column.copy() for name, column in bank.columns.items()}
    past = np.arange(ZoneBank.WAITING)[None, :] >= bank.columns["waiting"][:, None]
    for name in ("wait_time", "wait_value", "wait_quality", "wait_received"):
        state[name][past] = np.nan
    return state


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), zones=st.integers(1, 6), before=st.integers(0, 80),
       named=st.lists(st.integers(0, 5), max_size=50))
def test_a_savepoint_puts_back_everything_a_batch_of_the_zones_it_names_can_change(
        seed: int, zones: int, before: int, named: list[int]) -> None:
    rng = np.random.default_rng(seed)
    bank = ZoneBank()
    bank.grow(zones)
    clock = np.zeros(zones)

    def fold(which: np.ndarray) -> None:
        which = np.sort(which, kind="stable")
        times = np.empty(which.size)
        for k, zone in enumerate(which):  # each zone's readings in time order
            clock[zone] += rng.uniform(300.0, 1800.0)
            times[k] = clock[zone]
        # jumps now and then, so the watch starts episodes and recalibrates
        values = 20 + rng.normal(0, 0.3, which.size) + 6.0 * (rng.random(which.size) < 0.1)
        bank.update(which, times, values, rng.uniform(0.3, 1.0, which.size),
                    rng.uniform(0, 10, which.size), rng.choice([0.0, 2.0], which.size))

    fold(rng.integers(0, zones, before))
    # some zones hold readings back, as the reading path's desk makes them
    holding = np.flatnonzero(rng.random(zones) < 0.3)
    columns = bank.columns
    columns["waiting"][holding] = rng.integers(1, 5, holding.size)
    for name in ("wait_time", "wait_value", "wait_quality", "wait_received"):
        columns[name][holding] = rng.uniform(0, 100, (holding.size, ZoneBank.WAITING))
    expected = _meaningful(bank)
    asked = np.array([zone % zones for zone in named], dtype=np.int64)
    point = bank.savepoint(np.r_[asked, holding])
    # the batch: each named reading, and every reading held back, released and stepped
    fold(np.r_[asked, np.repeat(holding, columns["waiting"][holding])])
    columns["waiting"][np.unique(asked)] = rng.integers(0, 5, np.unique(asked).size)
    for name in ("wait_time", "wait_value", "wait_quality", "wait_received"):
        columns[name][np.unique(asked)] = -1.0
    bank.rollback(point)
    after = _meaningful(bank)
    for name, column in expected.items():
        assert np.array_equal(after[name], column, equal_nan=True), name


def test_the_forecast_widens_with_the_horizon_and_heads_for_equilibrium() -> None:
    bank = ZoneBank()
    bank.grow(1)
    bank.update(np.array([0]), np.array([0.0]), np.array([20.0]), np.ones(1),
                np.array([0.0]), np.array([0.0]))
    near, far = (bank.forecast(np.array([0]), np.array([h]), np.zeros(1), np.zeros(1))
                 for h in (1.0, 24.0))
    assert 0 < far.mean[0] < near.mean[0] < 20.0
    assert far.state_sd[0] > near.state_sd[0] > 0
    assert near.reading_sd[0] > near.state_sd[0]


def test_a_reading_health_doubts_moves_the_zone_less_the_less_it_is_trusted() -> None:
    moved = []
    for quality in (1.0, 0.6, 0.0):
        bank = ZoneBank()
        bank.grow(1)
        bank.update(np.array([0]), np.array([0.0]), np.array([20.0]), np.ones(1),
                    np.array([5.0]), np.array([0.0]))
        bank.update(np.array([0]), np.array([900.0]), np.array([21.0]), np.array([quality]),
                    np.array([5.0]), np.array([0.0]))
        moved.append(bank.columns["x"][0, 0])
    # From a prediction a little under 20 °C towards a reading of 21: a reading of quality
    # 0 still counts, as one with a hundred times its variance (the gate's floor).
    assert moved[0] > moved[1] > moved[2] > 19.9
    assert moved[0] - moved[2] > 0.3


def one(bank: ZoneBank, at: float, value: float, quality: float = 1.0) -> None:
    bank.update(np.array([0]), np.array([at]), np.array([value]), np.array([quality]),
                np.array([10.0]), np.array([0.0]))


def test_the_prior_is_the_forecast_to_a_new_time_before_any_reading_of_it() -> None:
    bank = ZoneBank()
    bank.grow(1)
    one(bank, 0.0, 20.0)
    assert np.isnan(bank.columns["prior_mean"][0])  # nothing came before the first
    expected = bank.forecast(np.array([0]), np.array([0.25]), np.array([10.0]),
                             np.array([0.0]))
    one(bank, 900.0, 20.3)
    c = bank.columns
    assert c["prior_mean"][0] == expected.mean[0]
    assert c["prior_variance"][0] == pytest.approx(expected.state_sd[0] ** 2, rel=1e-12)
    assert c["x"][0, 0] > c["prior_mean"][0] + 0.2  # the posterior took the reading
    # A second sensor's reading of the same time keeps the prior that holds neither.
    one(bank, 900.0, 20.3)
    assert c["prior_mean"][0] == expected.mean[0]


def test_the_priors_error_grows_when_the_room_moves_as_the_model_does_not_say() -> None:
    steady, jumpy = ZoneBank(), ZoneBank()
    for bank, jump in ((steady, 0.0), (jumpy, 1.0)):
        bank.grow(1)
        for k in range(40):
            one(bank, 900.0 * k, 20.0 + jump * (k % 2))
    assert steady.columns["prior_error"][0] < 0.01
    assert jumpy.columns["prior_error"][0] > 0.1
    assert jumpy.columns["prior_error"][0] > 10 * jumpy.columns["prior_variance"][0]


def test_a_doubted_reading_does_not_judge_the_priors_error() -> None:
    bank = ZoneBank()
    bank.grow(1)
    for k in range(10):
        one(bank, 900.0 * k, 20.0)
    before = bank.columns["prior_error"][0]
    one(bank, 9000.0, 30.0, quality=0.1)
    assert bank.columns["prior_error"][0] == before


def test_coasting_follows_the_inputs_without_moving_the_zone_or_its_last_reading() -> None:
    bank = ZoneBank()
    bank.grow(1)
    for k in range(8):
        one(bank, 900.0 * k, 20.0)
    before = bank.take(np.array([0]))
    # The heater goes on at 4 kW while the zone's sensor is silent: coasted hour by hour
    # the zone warms; held at the last heating seen (0 kW) it would have cooled.
    for hour in range(1, 7):
        bank.coast(np.array([0]), np.array([6300.0 + 3600.0 * hour]), np.array([10.0]),
                   np.array([4.0]))
    c = bank.columns
    for name in ("x", "P", "time", "count"):
        assert np.array_equal(c[name], before[name]), name
    assert c["ahead_time"][0] == 6300.0 + 6 * 3600.0
    held = bank.forecast(np.array([0]), np.array([6.0]), np.array([10.0]), np.array([0.0]))
    assert c["ahead_x"][0, 0] > c["x"][0, 0] > held.mean[0]
    # A late reading of the zone is still taken, and the coasting starts again from it.
    one(bank, 7200.0, 20.1)
    assert c["count"][0] == 9 and c["ahead_time"][0] == 7200.0
    assert np.array_equal(c["ahead_x"], c["x"])


def spell_heated_rooms(seed: int, zones: int, days: int) -> tuple[np.ndarray, ...]:
    """True τ (h), outdoor °C and readings ``(zones, steps)`` of rooms heated in daily
    spells (``daily_spells``) that no meter reads, with the bank's own noises."""
    rng = np.random.default_rng(seed)
    steps = days * 96
    knobs = ZoneKnobs()
    # the outdoors swinging 6 K either way round a wandering mean, warmest at 15:00
    hours = np.arange(steps) * 0.25
    outdoor = (5.0 + 6.0 * np.sin(2 * np.pi * (hours - 9.0) / 24)
               + np.cumsum(rng.normal(0.0, 0.1, (zones, steps)), axis=1))
    resistance, capacitance = rng.uniform(2, 10, zones), rng.uniform(5, 30, zones)
    heating = daily_spells(rng, resistance, steps)
    readings = room_readings(outdoor[:, 0] + 16.0, resistance, capacitance, outdoor, heating,
                             0.25, knobs.temperature_noise, knobs.noise_sd, rng)
    return resistance * capacitance, outdoor, readings


def test_a_room_heated_without_a_meter_is_tracked_with_its_time_constant_and_honest_variance(
        ) -> None:
    # Before the heat gain, such a room (its heating taken as none, so its equilibrium
    # the outdoor temperature) was fit only by a time constant of thousands of hours or
    # of minutes, its prior missing by 6 times the variance it claimed (the bench's
    # median), and a forecast 6 h ahead held a fifth of the readings.
    zones, days = 20, 14
    tau, outdoor, rooms = spell_heated_rooms(8, zones, days)
    bank = ZoneBank()
    bank.grow(zones)
    everyone = np.arange(zones, dtype=np.int64)
    bank.meter(everyone, False)
    inside, counted = np.zeros(2), 0
    knobs = bank.knobs
    for k in range(days * 96 - 24):
        bank.update(everyone, np.full(zones, 900.0 * k), rooms[:, k], np.ones(zones),
                    outdoor[:, max(k - 1, 0)], np.zeros(zones))
        if k >= 7 * 96 and k % 24 == 0:
            # the outdoors as it came (known), no heating known: what is left is the
            # gain's walk and the state's own uncertainty
            c = bank.columns
            ahead = zone_outlook(c["x"], c["P"], np.full(24, 0.25),
                                 InputOutlook.known(outdoor[:, k:k + 24]),
                                 InputOutlook.known(np.zeros((zones, 24))),
                                 bank.noise(everyone), knobs.noise_sd)
            for i, at in enumerate((4, 24)):  # 1 and 6 h on
                miss = np.abs(rooms[:, k + at] - ahead.mean[:, at - 1])
                inside[i] += np.count_nonzero(miss <= Z90 * ahead.reading_sd[:, at - 1])
            counted += zones
    found = np.exp(bank.columns["x"][:, 1] + bank.columns["x"][:, 2])
    assert np.all(np.abs(found / tau - 1) < 0.25), np.round(found / tau, 2)
    misfit = bank.misfit()
    assert np.all(misfit < 2.0) and 0.7 < np.median(misfit) < 1.3, np.round(misfit, 2)
    assert np.all(inside / counted > 0.85), inside / counted
