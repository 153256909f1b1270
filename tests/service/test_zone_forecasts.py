"""A zone's air temperature through the forecast route's service: answered by the zone's
thermal model (its R and C learned, its inputs persisted with their own history's spread),
not by a level/trend fitted to its readings; the truth of the next day inside the interval
where the inputs held as known miss it; the threshold crossed where the mean crosses it;
a property of the room that is not its air temperature still answered by the level/trend;
the zone view's forecast is the route's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from twinsync.errors import Conflict
from twinsync.physics.thermal import ThermalZone
from twinsync.service import TwinService
from twinsync.service.forecasts import forecast

from .test_zone_models import (
    CAPACITANCE,
    DT,
    RESISTANCE,
    START,
    STEP,
    ZONES,
    feed,
    open_site,
    simulated,
)

DAYS = 4
HORIZON = 24 * 3600.0


def true_path(data: tuple[np.ndarray, ...], zone: int, first: int, times: list[float]
              ) -> np.ndarray:
    """The room's noiseless temperature at ``times`` from reading ``first`` on, its true
    inputs as they came (each read at a step acting over the next)."""
    outdoor, heating, _ = data
    model = ThermalZone()
    state = model.state(np.array([0.0]), RESISTANCE[zone:zone + 1], CAPACITANCE[zone:zone + 1])
    state[0, 0] = noiseless(data, zone, first)
    path = {}
    for k in range(first, first + int(HORIZON / STEP)):
        state = model.step(state, DT, np.array([[outdoor[k], heating[zone, k]]]))
        path[START + (k + 1) * STEP] = float(state[0, 0])
    return np.array([path[t] for t in times])


def noiseless(data: tuple[np.ndarray, ...], zone: int, at: int) -> float:
    """The room's temperature at reading ``at`` without the sensor's noise (the simulation
    run again without it)."""
    outdoor, heating, _ = data
    model = ThermalZone()
    state = model.state(np.array([18.0]), RESISTANCE[zone:zone + 1], CAPACITANCE[zone:zone + 1])
    for k in range(at):
        state = model.step(state, DT, np.array([[outdoor[k], heating[zone, k]]]))
    return float(state[0, 0])


async def opened(tmp_path: Path, days: float) -> TwinService:
    """The three rooms' site, its clock at ``days`` after the readings' start (the
    level/trend reads the store's last two days before it)."""
    service = TwinService.open(f"sqlite:///{tmp_path}/twin.sqlite",
                               clock=lambda: START + days * 86_400.0)
    return await open_site(service)


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[tuple[TwinService, tuple[np.ndarray, ...]]]:
    data = simulated(days=DAYS + 1)
    service = await opened(tmp_path, DAYS)
    await feed(service, data, range(DAYS * 96))
    yield service, data
    await service.aclose()


async def test_a_zones_air_temperature_is_forecast_by_its_thermal_model(
        site: tuple[TwinService, tuple[np.ndarray, ...]]) -> None:
    service, data = site
    last = START + (DAYS * 96 - 1) * STEP
    missed = {"model": 0, "held": 0}
    for zone in range(ZONES):
        answer = await forecast(service, f"room-{zone}", "air_temperature", HORIZON, steps=24)
        assert answer["model"] == "thermal_zone"
        assert answer["origin"] == last and answer["readings"] == DAYS * 96 - 1
        parameters = answer["parameters"]
        assert parameters["resistance"] == pytest.approx(RESISTANCE[zone], rel=0.05)
        assert parameters["capacitance"] == pytest.approx(CAPACITANCE[zone], rel=0.05)
        spread = answer["zone"]
        assert spread["outdoor"]["element_id"] == "site"
        assert spread["heating"]["property"] == "heating_power"
        # four days of the outdoors: its departure from its daily course persists
        assert spread["outdoor"]["assumed"] == "persisted_along_daily_course"
        assert spread["heating"]["assumed"] == "persisted"
        # The inputs' futures are what widen it: the state alone is sure within 0.2 K,
        # the inputs' share grows over the first hours (a day on, the outdoors' daily
        # swing is back where it was: its share may shrink again).
        assert max(spread["state_deviation"]) < 0.2
        assert np.all(np.diff(spread["input_deviation"][:6]) > 0)
        mean, low, high = (np.array(answer[k]) for k in ("mean", "low", "high"))
        assert np.all(low < mean) and np.all(mean < high)
        truth = true_path(data, zone, DAYS * 96 - 1, answer["time"])
        missed["model"] += int(np.count_nonzero((truth < low) | (truth > high)))
        # The same mean with the inputs taken as known (the zone view's interval before):
        # only the state's spread and the sensor's noise.
        held = np.hypot(np.array(spread["state_deviation"]), 0.1) * 1.6449
        missed["held"] += int(np.count_nonzero(np.abs(truth - mean) > held))
    # 72 zone-hours ahead, a 90 % interval: about 7 misses expected, more than half of
    # them with the inputs taken as known.
    assert missed["model"] <= 14 < 36 < missed["held"], missed


async def test_a_zones_forecast_crosses_a_threshold_where_its_mean_does(
        site: tuple[TwinService, tuple[np.ndarray, ...]]) -> None:
    service, _ = site
    plain = await forecast(service, "room-1", "air_temperature", 6 * 3600.0)
    threshold = 0.5 * (plain["level"] + plain["mean"][5])  # half way to the third hour
    answer = await forecast(service, "room-1", "air_temperature", 6 * 3600.0,
                            threshold=threshold, quantiles=(0.25, 0.75))
    assert answer["origin"] < answer["crossing"] < answer["time"][5]
    # the mean between its points, linear: the crossing within one of them
    points = np.r_[answer["origin"], answer["time"]]
    means = np.r_[answer["level"], answer["mean"]]
    after = int(np.searchsorted(points, answer["crossing"]))
    assert min(means[after - 1], means[after]) <= threshold <= max(means[after - 1],
                                                                    means[after])
    assert np.all(np.array(answer["quantiles"]["0.25"]) < np.array(answer["quantiles"]["0.75"]))
    # a threshold it does not reach in six hours
    far = await forecast(service, "room-1", "air_temperature", 6 * 3600.0, threshold=200.0)
    assert far["crossing"] is None


async def test_a_rooms_other_property_is_still_answered_by_its_level_or_trend(
        site: tuple[TwinService, tuple[np.ndarray, ...]]) -> None:
    service, _ = site
    answer = await forecast(service, "room-0", "heating_power", 3600.0)
    assert answer["model"] in ("local_level", "local_trend") and "zone" not in answer


async def test_a_zone_too_young_to_answer_is_answered_by_the_level_or_trend(
        tmp_path: Path) -> None:
    data = simulated(days=1)
    service = await opened(tmp_path, 1)
    try:
        await feed(service, data, range(6))  # five readings stepped, the first waits
        with pytest.raises(Conflict, match="at least 8"):
            await forecast(service, "room-0", "air_temperature", 3600.0)
        await feed(service, data, range(6, 40))
        answer = await forecast(service, "room-0", "air_temperature", 3600.0)
        assert answer["model"] == "thermal_zone"
    finally:
        await service.aclose()


async def test_the_zone_view_forecasts_a_day_ahead_as_the_route_does(
        site: tuple[TwinService, tuple[np.ndarray, ...]]) -> None:
    service, _ = site
    for zone in range(ZONES):
        view = (await service.zones.of_element(f"room-{zone}", hours=24))["forecast"]
        route = await forecast(service, f"room-{zone}", "air_temperature", HORIZON, steps=1)
        assert view["inputs"] == "persisted"
        for name, column in (("temperature", "mean"), ("sd", "deviation"), ("low", "low"),
                             ("high", "high")):
            assert view[name] == pytest.approx(route[column][0])
        # before, with the inputs held as known, about 0.3 K wide a day ahead
        assert view["high"] - view["low"] > 1.0


async def test_a_heated_room_without_a_heating_meter_is_forecast_by_its_model_through_its_gain(
        tmp_path: Path) -> None:
    # The rooms heated by spells of 2 and 4 kW that no sensor reads. Before the heat gain
    # the zone took the heat input as none: its prior missed each spell by 2.7-11.8 times
    # the variance it claimed, and the route answered by the level/trend (``MISFIT``).
    # Now the gain stands for the unmetered heating: the room fits, its model answers,
    # and the room's true next day is inside the interval about as often as it says.
    data = simulated(days=DAYS + 1)
    service = TwinService.open(f"sqlite:///{tmp_path}/twin.sqlite",
                               clock=lambda: START + DAYS * 86_400.0)
    await open_site(service, heated=False)
    try:
        await feed(service, data, range(DAYS * 96))
        missed = 0
        for zone in range(ZONES):
            view = await service.zones.of_element(f"room-{zone}")
            assert view["identifiable"] == "time_constant" and view["resistance"] is None
            assert view["misfit"] < 2.0, view["misfit"]
            # the equilibrium held above the outdoors: the heating's mean share, R·Φ̄
            mean_heating = RESISTANCE[zone] * float(np.mean(data[1][zone, :DAYS * 96]))
            assert 0.0 < view["gain"] < 3 * mean_heating
            # Four days of spells switched at random every 2-8 h tell τ only roughly (34,
            # 57 and 74 h against 24, 90 and 225; before, the rooms read thousands of
            # hours or minutes); a fortnight of daily spells tells it within 25 %
            # (``tests/physics/test_zone_bank.py``).
            tau = RESISTANCE[zone] * CAPACITANCE[zone]
            assert tau / 3.5 < view["time_constant_hours"] < 3.5 * tau
            answer = await forecast(service, f"room-{zone}", "air_temperature", HORIZON,
                                    steps=24)
            assert answer["model"] == "thermal_zone"
            assert answer["parameters"]["gain"] == pytest.approx(view["gain"])
            truth = true_path(data, zone, DAYS * 96 - 1, answer["time"])
            low, high = np.array(answer["low"]), np.array(answer["high"])
            missed += int(np.count_nonzero((truth < low) | (truth > high)))
        assert missed <= 14, missed  # 72 zone-hours ahead, about 7 expected
    finally:
        await service.aclose()
