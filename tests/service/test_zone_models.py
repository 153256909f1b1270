"""The thermal zones in the live service: spaces with an air temperature sensor, an outdoor
sensor on the site and a heating meter each learn their R and C from 15-minute readings
within 2 % of the truth; a failed commit leaves the zones as they were; their state survives
a restart; the setting switches them off; a space without an outdoor sensor, or without
heating, is reported for what it is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from twinsync.errors import InvalidInput, StoreError
from twinsync.model import Binding, Element, Sensor
from twinsync.physics.simulate import zone_weather
from twinsync.physics.thermal import ThermalZone
from twinsync.physics.zone_forecast import course_at, daily_course
from twinsync.pipeline import IncomingBatch, RawReading
from twinsync.service import TwinService
from twinsync.service.zone_models import ZONE_SNAPSHOT

from .faults import FailingStore

STEP = 900.0
DT = STEP / 3600
START = 1_767_225_600.0  # 2026-01-01
ZONES = 3
RESISTANCE = np.array([3.0, 6.0, 9.0])
CAPACITANCE = np.array([8.0, 15.0, 25.0])


def simulated(days: float, seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Outdoor (slot,), heating (zone, slot) and room readings (zone, slot): one outdoor
    temperature for the site, rooms of known R and C, sensor noise 0.05 K."""
    rng = np.random.default_rng(seed)
    slots = int(days * 24 / DT)
    outdoor, heating = zone_weather(rng, ZONES, slots, DT)
    outdoor = np.broadcast_to(outdoor[0], (ZONES, slots))
    model = ThermalZone()
    state = model.state(np.full(ZONES, 18.0), RESISTANCE, CAPACITANCE)
    rooms = np.empty((ZONES, slots))
    for k in range(slots):
        rooms[:, k] = state[:, 0]
        inputs = np.column_stack([outdoor[:, k], heating[:, k]])
        state = model.step(state, DT, inputs)
    return outdoor[0], heating, rooms + rng.normal(0, 0.05, rooms.shape)


async def open_site(url: str | TwinService, *, heated: bool = True, outdoor: bool = True,
                    **options: bool) -> TwinService:
    service = url if isinstance(url, TwinService) else TwinService.open(url, **options)
    if service.twin.sensors:
        return service
    elements = [Element("site", "IfcSite"), Element("block", "IfcBuilding", parent="site")]
    sensors = [Sensor("weather", "temperature", "degC", STEP)] if outdoor else []
    bindings = [Binding("weather", "site", "ambient_temperature")] if outdoor else []
    for k in range(ZONES):
        room = f"room-{k}"
        elements.append(Element(room, "IfcSpace", parent="block"))
        sensors.append(Sensor(f"{room}-t", "air_temperature", "degC", STEP))
        bindings.append(Binding(f"{room}-t", room, "air_temperature"))
        if heated:
            sensors.append(Sensor(f"{room}-kw", "power", "kW", STEP))
            bindings.append(Binding(f"{room}-kw", room, "heating_power"))
    await service.import_project(elements, sensors, bindings)
    return service


async def feed(service: TwinService, data: tuple[np.ndarray, ...], slots: range,
               per_batch: int = 24) -> None:
    outdoor, heating, rooms = data
    for first in range(slots.start, slots.stop, per_batch):
        last = min(first + per_batch, slots.stop)
        readings = []
        for k in range(first, last):
            at = START + k * STEP
            if "weather" in service.twin.sensors:
                readings.append(RawReading("weather", float(outdoor[k]), at))
            for z in range(ZONES):
                readings.append(RawReading(f"room-{z}-t", round(float(rooms[z, k]), 3), at))
                if f"room-{z}-kw" in service.twin.sensors:
                    readings.append(RawReading(f"room-{z}-kw", float(heating[z, k]), at))
        result = await service.ingest(IncomingBatch(readings, "test", START + last * STEP))
        assert result.accepted == len(readings)


async def test_zones_fed_as_readings_learn_their_resistance_and_capacitance_within_two_percent(
        tmp_path: Path) -> None:
    data = simulated(days=6)
    service = await open_site(f"sqlite:///{tmp_path}/twin.sqlite")
    try:
        await feed(service, data, range(6 * 96))
        for k in range(ZONES):
            zone = await service.zones.of_element(f"room-{k}", hours=6)
            assert zone["modelled"] and zone["identifiable"] == "resistance_and_capacitance"
            # The first reading waits: no outdoor temperature was known before it.
            assert zone["readings"] == 6 * 96 - 1
            assert zone["resistance"] == pytest.approx(RESISTANCE[k], rel=0.02)
            assert zone["capacitance"] == pytest.approx(CAPACITANCE[k], rel=0.02)
            assert zone["time_constant_hours"] == pytest.approx(
                RESISTANCE[k] * CAPACITANCE[k], rel=0.02)
            assert 0 < zone["resistance_sd"] < 0.05 * RESISTANCE[k]
            assert zone["outdoor"]["element_id"] == "site"
            assert zone["temperature"] == pytest.approx(data[2][k, -1], abs=0.15)
            # Six hours on with the heating held and the outdoors carried along its daily
            # course from its latest reading: the model's own answer.
            forecast = zone["forecast"]
            assert forecast["inputs"] == "persisted"
            model = ThermalZone()
            state = model.state(np.array([zone["temperature"]]), RESISTANCE[k:k + 1],
                                CAPACITANCE[k:k + 1])
            held = model.step(state, 6.0, np.array([[forecast["outdoor_temperature"],
                                                     forecast["heating_kw"]]]))[0, 0]
            last = zone["last_time"]
            times = START + STEP * np.arange(6 * 96)
            course = daily_course(times, data[0][:6 * 96])
            assert course is not None
            for step in range(24):
                middle = np.array([last + STEP * (step + 0.5)])
                outdoor = (forecast["outdoor_temperature"] + course_at(course, middle)[0]
                           - course_at(course, np.array([last + STEP / 2]))[0])
                state = model.step(state, DT, np.array([[outdoor, forecast["heating_kw"]]]))
            truth = state[0, 0]
            assert forecast["low"] < truth < forecast["high"]
            assert forecast["temperature"] == pytest.approx(truth, abs=0.1)
            # the outdoors held flat instead: what the view answered before
            assert forecast["low"] < held < forecast["high"]
    finally:
        await service.aclose()


async def test_a_failed_commit_leaves_the_zones_as_they_were(tmp_path: Path) -> None:
    data = simulated(days=1)
    store = FailingStore(f"sqlite:///{tmp_path}/twin.sqlite")
    service = await open_site(TwinService(store))
    try:
        await feed(service, data, range(48))
        before = service.zones.bank.take(np.arange(ZONES))
        held = service.zones.slot_value.copy(), service.zones.slot_time.copy()
        store.fail_next = 1
        with pytest.raises(StoreError):
            await feed(service, data, range(48, 60))
        assert store.failures == 1
        after = service.zones.bank.take(np.arange(ZONES))
        for name, column in before.items():
            assert np.array_equal(after[name], column, equal_nan=True), name
        assert np.array_equal(service.zones.slot_value, held[0], equal_nan=True)
        assert np.array_equal(service.zones.slot_time, held[1], equal_nan=True)
        await feed(service, data, range(48, 60))
        assert service.zones.bank.columns["count"].tolist() == [59] * ZONES
    finally:
        await service.aclose()


async def test_the_zones_state_survives_a_restart(store_url: str) -> None:
    url = store_url
    data = simulated(days=1)
    service = await open_site(url)
    try:
        await feed(service, data, range(60))
        state = service.zones.bank.take(np.arange(ZONES))
        held = service.zones.slot_value.copy()
    finally:
        await service.aclose()
    restarted = await open_site(url)
    try:
        again = restarted.zones.bank.take(np.arange(ZONES))
        for name, column in state.items():
            assert np.array_equal(again[name], column, equal_nan=True), name
        assert np.array_equal(restarted.zones.slot_value, held, equal_nan=True)
        await feed(restarted, data, range(60, 70))
        assert restarted.zones.bank.columns["count"].tolist() == [69] * ZONES
    finally:
        await restarted.aclose()


async def test_the_setting_off_runs_no_zone_and_says_so(tmp_path: Path) -> None:
    service = await open_site(f"sqlite:///{tmp_path}/twin.sqlite", zone_models=False)
    try:
        await feed(service, simulated(days=1), range(24))
        assert service.zones.bank.columns["count"].tolist() == [0] * ZONES
        zone = await service.zones.of_element("room-0")
        assert zone == {"element_id": "room-0", "enabled": False, "modelled": False,
                        "reason": "zone models are off"}
    finally:
        await service.aclose()


async def test_a_space_without_an_outdoor_sensor_is_not_modelled_and_says_why(
        tmp_path: Path) -> None:
    service = await open_site(f"sqlite:///{tmp_path}/twin.sqlite", outdoor=False)
    try:
        await feed(service, simulated(days=1), range(24))
        zone = await service.zones.of_element("room-1")
        assert zone["modelled"] is False
        assert zone["reason"] == "no outdoor temperature sensor in the twin"
        assert service.zones.zones == []
        other = await service.zones.of_element("block")
        assert other["modelled"] is False and "not a space" in other["reason"]
        with pytest.raises(InvalidInput):
            await service.zones.of_element("room-1", hours=0)
    finally:
        await service.aclose()


async def test_without_a_heating_meter_only_the_time_constant_is_learned(
        tmp_path: Path) -> None:
    data = simulated(days=4)
    service = await open_site(f"sqlite:///{tmp_path}/twin.sqlite", heated=False)
    try:
        outdoor, heating, rooms = data
        # The rooms without heating: what they read is the zone driven by outdoors only.
        model = ThermalZone()
        state = model.state(np.full(ZONES, 18.0), RESISTANCE, CAPACITANCE)
        unheated = np.empty_like(rooms)
        for k in range(rooms.shape[1]):
            unheated[:, k] = state[:, 0]
            state = model.step(state, DT, np.column_stack([np.full(ZONES, outdoor[k]),
                                                           np.zeros(ZONES)]))
        await feed(service, (outdoor, heating, unheated), range(4 * 96))
        for k in range(ZONES):
            zone = await service.zones.of_element(f"room-{k}")
            assert zone["identifiable"] == "time_constant"
            assert zone["heating"] is None
            assert zone["resistance"] is None and zone["capacitance"] is None
            # A room without a meter is one whose heat gain could be anything: its walk
            # (fast, to follow a heating's spells) costs an unheated room's τ precision,
            # 6, 14 and 21 % off after four days where all were within 5 % before the
            # gain; the gain itself reads near 0 (0.1-1 K, its sd 4-9 K).
            assert zone["time_constant_hours"] == pytest.approx(
                RESISTANCE[k] * CAPACITANCE[k], rel=0.25)
            assert abs(zone["gain"]) < zone["gain_sd"]
    finally:
        await service.aclose()


async def test_a_damaged_saved_state_is_not_used_and_the_zones_learn_afresh(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/twin.sqlite"
    service = await open_site(url)
    try:
        await feed(service, simulated(days=1), range(24))
    finally:
        await service.aclose()
    for turn, body in enumerate((b"not a saved state", b"PK\x03\x04 cut short")):
        # With the zones off nothing saves over the damaged blob at closing.
        off = TwinService.open(url, zone_models=False)
        off.store.save_snapshot(ZONE_SNAPSHOT, body)
        await off.aclose()
        restarted = await open_site(url)
        try:
            assert restarted.zones.bank.columns["count"].tolist() == [0] * ZONES
            await feed(restarted, simulated(days=1), range(24 + 6 * turn, 30 + 6 * turn))
            assert restarted.zones.bank.columns["count"].tolist() == [5] * ZONES
        finally:
            await restarted.aclose()


async def feed_every_quarter(service: TwinService, data: tuple[np.ndarray, ...],
                             slots: range, outdoor_clock: float = 0.0,
                             one_gateway: bool = True) -> None:
    """Each quarter hour the rooms' readings and the weather station's, stamped
    ``outdoor_clock`` seconds off, arrive 30 s after: in one batch (a site gateway that
    forwards both) or the station's first, on its own."""
    outdoor, heating, rooms = data
    for k in slots:
        at = START + k * STEP
        weather = [RawReading("weather", float(outdoor[k]), at + outdoor_clock)]
        readings = weather if one_gateway else []
        if not one_gateway:
            result = await service.ingest(IncomingBatch(weather, "station", at + 30.0))
            assert result.accepted == 1
        for z in range(ZONES):
            readings.append(RawReading(f"room-{z}-t", round(float(rooms[z, k]), 3), at))
            readings.append(RawReading(f"room-{z}-kw", float(heating[z, k]), at))
        result = await service.ingest(IncomingBatch(readings, "site", at + 30.0))
        assert result.accepted == len(readings)


async def learned(tmp_path: Path, name: str, outdoor_clock: float, one_gateway: bool = True,
                  days: float = 3) -> list[dict[str, Any]]:
    service = await open_site(f"sqlite:///{tmp_path}/{name}.sqlite")
    try:
        await feed_every_quarter(service, simulated(days=days), range(int(days * 96)),
                                 outdoor_clock, one_gateway)
        health = service.health.state(service.sensor_row("weather"))
        zones = [await service.zones.of_element(f"room-{k}") for k in range(ZONES)]
        return [zone | {"weather_health": health.state} for zone in zones]
    finally:
        await service.aclose()


@pytest.mark.parametrize("one_gateway", [True, False])
async def test_a_zone_whose_outdoor_station_runs_an_hour_slow_learns_as_if_its_clock_were_right(
        tmp_path: Path, one_gateway: bool) -> None:
    right = await learned(tmp_path, "right", 0.0, one_gateway)
    slow = await learned(tmp_path, "slow", -3600.0, one_gateway)
    last = START + (3 * 96 - 1) * STEP
    for k in range(ZONES):
        assert slow[k]["weather_health"] == "clock" and right[k]["weather_health"] == "ok"
        # Health names the clock an hour behind; the zone takes the station's readings
        # when they were taken (their arrival, 30 s on), not an hour before. By their
        # stamps, a reading forwarded with the rooms' of a quarter hour acted on the step
        # before it (R 0.5 % off the right clock's); one sent on its own was held by arrival.
        assert slow[k]["outdoor"]["clock_corrected_by"] == pytest.approx(3630.0)
        assert slow[k]["outdoor"]["time"] == pytest.approx(last + 30.0)
        assert right[k]["outdoor"]["clock_corrected_by"] == 0.0
        assert right[k]["outdoor"]["time"] == last
        for name in ("resistance", "capacitance", "temperature"):
            assert slow[k][name] == pytest.approx(right[k][name], rel=1e-3), (k, name)
        assert slow[k]["resistance"] == pytest.approx(RESISTANCE[k], rel=0.03)


async def test_a_zone_whose_outdoor_station_runs_an_hour_fast_holds_its_input_until_the_clock_is_known(  # noqa: E501
        tmp_path: Path) -> None:
    right = await learned(tmp_path, "right", 0.0)
    fast = await learned(tmp_path, "fast", 3600.0)
    last = START + (3 * 96 - 1) * STEP
    for k in range(ZONES):
        # The pipeline quarantines the first stamps an hour ahead, then corrects them: the
        # zone waits for its first believed outdoor reading, then learns as with a right
        # clock (nothing is moved by the zone itself).
        assert fast[k]["readings"] < right[k]["readings"] == 3 * 96 - 1
        assert fast[k]["outdoor"]["time"] == pytest.approx(last + 30.0, abs=1.0)
        assert fast[k]["outdoor"]["clock_corrected_by"] == 0.0
        for name in ("resistance", "capacitance"):
            assert fast[k][name] == pytest.approx(right[k][name], rel=5e-3), (k, name)


async def test_a_space_declared_no_thermal_zone_stops_being_one_at_once_and_comes_back_fresh(
        tmp_path: Path) -> None:
    service = await open_site(f"sqlite:///{tmp_path}/twin.sqlite")
    try:
        data = simulated(days=1)
        await feed(service, data, range(24))
        await service.update_element("room-1", properties={"thermal_zone": False})
        assert "room-1" not in service.zones.index
        zone = await service.zones.of_element("room-1")
        assert zone["modelled"] is False
        assert zone["reason"] == "its thermal_zone property is false"
        await service.update_element("room-1", properties={"thermal_zone": True})
        k = service.zones.index["room-1"]
        assert service.zones.bank.columns["count"][k] == 0
        await feed(service, data, range(24, 48))
        assert service.zones.bank.columns["count"][k] > 0
    finally:
        await service.aclose()


async def test_an_element_declared_a_thermal_zone_is_modelled_from_its_next_reading(
        tmp_path: Path) -> None:
    service = await open_site(f"sqlite:///{tmp_path}/twin.sqlite")
    try:
        await service.import_project(
            [Element("store", "IfcBuildingElementProxy", parent="block")],
            [Sensor("store-t", "air_temperature", "degC", STEP)],
            [Binding("store-t", "store", "air_temperature")])
        assert "store" not in service.zones.index
        await service.update_element("store", properties={"thermal_zone": True})
        assert "store" in service.zones.index
    finally:
        await service.aclose()


async def test_a_site_declared_not_outdoors_no_longer_feeds_the_zones(tmp_path: Path) -> None:
    service = await open_site(f"sqlite:///{tmp_path}/twin.sqlite")
    try:
        assert len(service.zones.zones) == ZONES
        await service.update_element("site", properties={"outdoor": False})
        assert service.zones.zones == []
        zone = await service.zones.of_element("room-0")
        assert zone["reason"] == "no outdoor temperature sensor in the twin"
        # A PATCH that changes nothing of the kind leaves the zones as they are.
        await service.update_element("site", properties={"outdoor": True})
        assert len(service.zones.zones) == ZONES
        before = service.zones.zones
        await service.update_element("room-0", properties={"volume": 42.0})
        assert service.zones.zones is before
    finally:
        await service.aclose()


async def test_a_failed_commit_of_a_space_declared_no_zone_leaves_it_a_zone(
        tmp_path: Path) -> None:
    store = FailingStore(f"sqlite:///{tmp_path}/twin.sqlite")
    service = await open_site(TwinService(store))
    try:
        store.fail_next = 1
        with pytest.raises(StoreError):
            await service.update_element("room-1", properties={"thermal_zone": False})
        assert "room-1" in service.zones.index
        await service.update_element("room-1", properties={"thermal_zone": False})
        assert "room-1" not in service.zones.index
    finally:
        await service.aclose()
