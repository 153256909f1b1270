"""A zone's forecast with its inputs' futures uncertain: an input's mean squared change over
a lag, learned from its history, is a random walk's and a daily swing's; an input is known
while its history reaches and persisted past it; zones whose outdoor temperature wanders
as a random walk hold 88-92 % of their readings in the 90 % interval 6 and 24 h ahead,
where the same mean with the inputs taken as known holds far fewer; an outdoor daily
course is learned, and zones under a daily swing followed along it hold about 90 %, where
the swing held flat is far too wide a day ahead."""

from __future__ import annotations

import numpy as np
import pytest

from twinsync.physics.neighbour_zone import NeighbourZone
from twinsync.physics.thermal import ThermalZone
from twinsync.physics.zone_forecast import (
    InputOutlook,
    daily_course,
    increment_variance,
    persisted,
    zone_outlook,
)

STEP = 900.0
Z90 = 1.6449
#: Fourteen days of 15-minute readings.
LONG = 14 * 96
#: The zones here are what the model says with no process noise.
NO_NOISE = np.zeros((5, 5))


def test_a_random_walks_mean_squared_change_grows_with_the_lag() -> None:
    rng = np.random.default_rng(1)
    walks = np.cumsum(rng.normal(0.0, 0.2, (200, 288)), axis=1)
    times = np.arange(288) * STEP
    lags = np.array([0.25, 6.0, 24.0])
    found = np.mean([increment_variance(times, walk, lags) for walk in walks], axis=0)
    # 0.04 a step, four steps an hour
    assert found == pytest.approx(0.04 * 4 * lags, rel=0.1)
    # past the readings' span (72 h) it grows in proportion to the longest measured
    beyond = increment_variance(times, walks[0], np.array([71.75, 143.5]))
    assert beyond[1] == pytest.approx(2 * beyond[0])


def test_a_reading_a_second_for_two_weeks_is_learned_on_a_bounded_grid() -> None:
    rng = np.random.default_rng(2)
    count = 14 * 86_400
    walk = np.cumsum(rng.normal(0.0, 0.01, count))  # 0.36 a hour
    found = increment_variance(np.arange(count, dtype=np.float64), walk,
                               np.array([1.0, 6.0]))
    assert found == pytest.approx([0.36, 6 * 0.36], rel=0.2)


def test_a_daily_swings_mean_squared_change_comes_back_after_a_day() -> None:
    times = np.arange(288) * STEP
    swing = 8.0 * np.sin(2 * np.pi * times / 86_400)
    found = increment_variance(times, swing, np.array([12.0, 24.0]))
    assert found[0] == pytest.approx(2 * 8.0**2, rel=0.05)  # opposite phase: 2A²
    assert found[1] == pytest.approx(0.0, abs=1e-9)


def test_an_input_is_known_while_its_history_reaches_and_persisted_past_it() -> None:
    times = np.arange(8) * STEP
    values = np.arange(8.0)
    # substeps from two readings before the newest on
    starts = times[5] + STEP * np.arange(5)
    mean, covariance = persisted(times, values, starts, starts + STEP)
    assert mean.tolist() == [5.0, 6.0, 7.0, 7.0, 7.0]
    # the first three substeps start at or before the newest reading: no error
    assert np.all(covariance[:3] == 0.0) and np.all(covariance[:, :3] == 0.0)
    # one and two readings on: the squared change of one and of two readings (1 and 4)
    assert np.diag(covariance)[3:] == pytest.approx([1.0, 4.0])
    assert covariance[3, 4] == pytest.approx(0.5 * (1.0 + 4.0 - 1.0))


def test_zones_under_a_wandering_outdoor_temperature_hold_ninety_percent_of_readings() -> None:
    # 600 zones of known R and C, each outdoors a random walk; the spread of its future
    # learned from its last 14 days (the zone's own three kept days say too little of a
    # day's change: 85.5 % held a day ahead). 91.5 and 88.2 % here: a day ahead, the 14
    # days' own uncertainty (about 21 independent changes) still costs some 1.5 points.
    rng = np.random.default_rng(5)
    zones, history, ahead = 600, 288, 96
    resistance, capacitance = rng.uniform(2, 10, zones), rng.uniform(5, 30, zones)
    outdoor = 5.0 + np.cumsum(rng.normal(0.0, 0.3, (zones, LONG + ahead)), axis=1)
    model = ThermalZone()
    state = model.state(np.full(zones, 18.0), resistance, capacitance)
    truth = np.empty((zones, ahead))
    for k in range(ahead):
        at = LONG - 1 + k
        state = model.step(state, 0.25, np.column_stack([outdoor[:, at], np.zeros(zones)]))
        truth[:, k] = state[:, 0]
    readings = truth + rng.normal(0.0, 0.1, truth.shape)
    # the zone's state as the bank holds it: no heat gain, and sure of it
    x = NeighbourZone.state(np.full(zones, 18.0), resistance, capacitance, share=0.5)
    P = np.broadcast_to(np.diag([1e-6, 1e-8, 1e-8, 1e-8, 1e-8]), (zones, 5, 5)).copy()
    times = np.arange(LONG) * STEP
    starts = times[-1] + STEP * np.arange(ahead)
    means, covariances = np.empty((zones, ahead)), np.empty((zones, ahead, ahead))
    for z in range(zones):
        means[z], covariances[z] = persisted(times[-history:], outdoor[z, LONG - history:LONG],
                                             starts, starts + STEP,
                                             (times, outdoor[z, :LONG]))
    heating = InputOutlook.known(np.zeros((zones, ahead)))
    forecast = zone_outlook(x, P, np.full(ahead, 0.25), InputOutlook(means, covariances),
                            heating, NO_NOISE, 0.1)
    held = zone_outlook(x, P, np.full(ahead, 0.25), InputOutlook.known(means), heating,
                        NO_NOISE, 0.1)
    for hours, at_most in ((6, 0.85), (24, 0.4)):
        at = 4 * hours - 1
        miss = np.abs(readings[:, at] - forecast.mean[:, at])
        assert np.mean(miss <= Z90 * forecast.reading_sd[:, at]) == pytest.approx(0.9, abs=0.02)
        # the inputs taken as known: the same mean, far too sure
        assert np.mean(miss <= Z90 * held.reading_sd[:, at]) < at_most


def test_a_daily_course_is_learned_from_two_days_of_readings_or_more() -> None:
    times = np.arange(14 * 96) * STEP
    swing = 5.0 + 8.0 * np.sin(2 * np.pi * times / 86_400)
    course = daily_course(times, swing)
    assert course is not None
    # each hour's mean of the swing as held between its readings (read at :00 to :45)
    read = (np.arange(24)[:, None] + np.arange(4)[None, :] / 4) * 3600
    assert course == pytest.approx(8.0 * np.sin(2 * np.pi * read / 86_400).mean(axis=1),
                                   abs=0.01)
    assert daily_course(times[:150], swing[:150]) is None  # a day and a half


def held_under_a_daily_swing(daily: bool) -> list[float]:
    """The share of readings 6 and 24 h ahead inside the 90 % interval of 600 zones of
    known R and C without heating, outdoors a daily swing of 3-8 °C (drawn for each day's
    middle, linear between) round a wandering mean, forecast from 14 days at four times of
    day; the outdoor persisted flat or along its daily course."""
    rng = np.random.default_rng(6)
    zones, ahead, days = 600, 96, 15
    resistance, capacitance = rng.uniform(2, 10, zones), rng.uniform(5, 30, zones)
    times = np.arange(LONG + ahead) * STEP
    drawn = rng.uniform(3.0, 8.0, (zones, days + 1))
    middles = 86_400.0 * (np.arange(days + 1) + 0.5)
    swing = np.stack([np.interp(times, middles, row) for row in drawn])
    outdoor = (5.0 + np.cumsum(rng.normal(0.0, 0.1, (zones, LONG + ahead)), axis=1)
               + swing * np.sin(2 * np.pi * (times / 3600 - 9.0) / 24))
    model = ThermalZone()
    noise = rng.normal(0.0, 0.1, (zones, LONG + ahead))
    # the zone's state as the bank holds it: no heat gain, and sure of it
    x = NeighbourZone.state(np.full(zones, 18.0), resistance, capacitance, share=0.5)
    P = np.broadcast_to(np.diag([1e-6, 1e-8, 1e-8, 1e-8, 1e-8]), (zones, 5, 5)).copy()
    inside = np.zeros(2)
    for origin in (LONG - 73, LONG - 49, LONG - 25, LONG - 1):
        state, readings = x.copy(), np.empty((zones, ahead))
        for k in range(ahead):
            state = model.step(state, 0.25, np.column_stack([outdoor[:, origin + k],
                                                             np.zeros(zones)]))
            readings[:, k] = state[:, 0] + noise[:, origin + k]
        starts = times[origin] + STEP * np.arange(ahead)
        kept = slice(origin + 1 - 288, origin + 1)
        means, covariances = np.empty((zones, ahead)), np.empty((zones, ahead, ahead))
        for z in range(zones):
            means[z], covariances[z] = persisted(times[kept], outdoor[z, kept], starts,
                                                 starts + STEP, (times[:origin + 1],
                                                                 outdoor[z, :origin + 1]),
                                                 daily=daily)
        forecast = zone_outlook(x, P, np.full(ahead, 0.25), InputOutlook(means, covariances),
                                InputOutlook.known(np.zeros((zones, ahead))), NO_NOISE, 0.1)
        for i, at in enumerate((23, 95)):
            miss = np.abs(readings[:, at] - forecast.mean[:, at])
            inside[i] += np.count_nonzero(miss <= Z90 * forecast.reading_sd[:, at])
    return (inside / (4 * zones)).tolist()


def test_zones_under_a_daily_swing_hold_ninety_percent_when_it_is_followed() -> None:
    # a zone without a heating meter: only the outdoors is unsure
    held = {daily: held_under_a_daily_swing(daily) for daily in (True, False)}
    # along its daily course: 90.2 and 88.0 % (a day ahead at the band's lower edge: the
    # next day's swing is not known, only the days' mean course)
    assert held[True][0] == pytest.approx(0.9, abs=0.02)
    assert 0.87 < held[True][1] < 0.92
    # held flat, the swing's bounded misses are taken as normal ones: far too wide a day
    # ahead (98.7 %)
    assert held[False][1] > 0.95
