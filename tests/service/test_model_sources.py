"""A thermal zone's prediction of its room's air temperature is a source of the fused value:
with the room's only sensor stale it carries the value, marked as the model's, with an
uncertainty that grows; beside a fresh good sensor it barely moves the value; a sensor
health calls failed is outweighed by it; it is there again after a restart; and the zone
coasted on through a silent room's inputs is put back with a failed commit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from twinsync.errors import StoreError
from twinsync.pipeline import IncomingBatch, RawReading
from twinsync.service import TwinService

from .faults import FailingStore
from .test_zone_models import START, STEP, ZONES, open_site, simulated

DAYS = 2
SLOTS = DAYS * 96


class Clock:
    """The service's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


async def feed(service: TwinService, clock: Clock, data: tuple[np.ndarray, ...],
               slots: range, room_0: str = "read") -> None:
    """Readings of every sensor, a batch an hour, the clock moved with them; room 0's air
    sensor ``read`` as simulated, ``silent``, or ``stuck`` at its value before ``slots``."""
    outdoor, heating, rooms = data
    for first in range(slots.start, slots.stop, 4):
        last = min(first + 4, slots.stop)
        readings = []
        for k in range(first, last):
            at = START + k * STEP
            readings.append(RawReading("weather", float(outdoor[k]), at))
            for z in range(ZONES):
                value = round(float(rooms[z, k]), 3)
                if z == 0 and room_0 == "silent":
                    pass
                elif z == 0 and room_0 == "stuck":
                    readings.append(RawReading("room-0-t", round(float(
                        rooms[0, slots.start - 1]), 3), at))
                else:
                    readings.append(RawReading(f"room-{z}-t", value, at))
                readings.append(RawReading(f"room-{z}-kw", float(heating[z, k]), at))
        clock.now = START + last * STEP
        await service.ingest(IncomingBatch(readings, "test", clock.now))
        await service.watch.check()


async def air(service: TwinService, room: str = "room-0") -> dict[str, Any]:
    snapshot = await service.view(service.element_snapshot, room)
    fused: dict[str, Any] = snapshot["properties"]["air_temperature"]
    return fused


async def warmed(url: str, clock: Clock, data: tuple[np.ndarray, ...]) -> TwinService:
    service = await open_site(TwinService.open(url, clock=clock))
    await feed(service, clock, data, range(SLOTS))
    return service


async def test_a_room_whose_only_air_sensor_went_stale_shows_the_zone_models_temperature_with_a_growing_uncertainty(  # noqa: E501
        tmp_path: Path) -> None:
    data = simulated(days=DAYS + 1)
    clock = Clock()
    service = await warmed(f"sqlite:///{tmp_path}/twin.sqlite", clock, data)
    try:
        # Its readings came a batch an hour: stale after three silent hours.
        await feed(service, clock, data, range(SLOTS, SLOTS + 16), room_0="silent")
        health = (await service.view(service.sensor_snapshot, "room-0-t"))["health"]
        assert health["state"] == "stale" and health["quality"] < 0.5
        four_hours = await air(service)
        await feed(service, clock, data, range(SLOTS + 16, SLOTS + 40), room_0="silent")
        ten_hours = await air(service)
        for fused, slot in ((four_hours, SLOTS + 16), (ten_hours, SLOTS + 40)):
            # The model alone carries it, marked as such, its age since its last reading.
            assert fused["weights"] == {"prediction": 1.0}
            assert fused["source"] == "sensor" and fused["sensors"] == []
            [source] = fused["sources"]
            assert source["kind"] == "prediction" and source["model"] == "thermal_zone"
            assert source["basis"] == "extrapolated"
            assert source["age"] == START + slot * STEP - (START + (SLOTS - 1) * STEP)
            assert source["variance"] == pytest.approx(fused["uncertainty"] ** 2)
            assert fused["model"]["used"] and fused["time"] == START + (SLOTS - 1) * STEP
            truth = data[2][0, slot - 1]
            assert abs(fused["value"] - truth) < 3 * fused["uncertainty"] + 0.15
        assert ten_hours["uncertainty"] > four_hours["uncertainty"] * 1.3
        assert ten_hours["model"]["age"] == four_hours["model"]["age"] + 24 * STEP
    finally:
        await service.aclose()


async def test_beside_a_fresh_good_sensor_the_fused_value_is_within_a_hair_of_the_sensors(
        tmp_path: Path) -> None:
    data = simulated(days=DAYS)
    clock = Clock()
    service = await warmed(f"sqlite:///{tmp_path}/twin.sqlite", clock, data)
    try:
        for room in range(ZONES):
            fused = await air(service, f"room-{room}")
            reading = round(float(data[2][room, SLOTS - 1]), 3)
            # The model's prior, made before this reading, is weighed beside it: the
            # Kalman update, each reading counted once.
            assert set(fused["weights"]) == {f"room-{room}-t", "prediction"}
            assert fused["model"]["basis"] == "prior" and fused["model"]["age"] == STEP
            assert abs(fused["value"] - reading) < 0.03  # the sensor's noise: 0.05 K
            assert fused["source"] == "iot" and fused["sensor_id"] == f"room-{room}-t"
            # The fused uncertainty is below both sources'.
            model_sd = fused["model"]["uncertainty"]
            assert fused["uncertainty"] < model_sd
    finally:
        await service.aclose()


async def test_a_sensor_health_calls_failed_is_outweighed_by_the_model(tmp_path: Path) -> None:
    data = simulated(days=DAYS + 1)
    clock = Clock()
    service = await warmed(f"sqlite:///{tmp_path}/twin.sqlite", clock, data)
    try:
        await feed(service, clock, data, range(SLOTS, SLOTS + 16), room_0="stuck")
        health = (await service.view(service.sensor_snapshot, "room-0-t"))["health"]
        assert health["quality"] == pytest.approx(0.1)
        fused = await air(service)
        assert fused["weights"] == {"prediction": 1.0}
        assert fused["model"]["used"] and fused["model"]["basis"] == "extrapolated"
        stuck = round(float(data[2][0, SLOTS - 1]), 3)
        truth = data[2][0, SLOTS + 15]
        assert abs(fused["value"] - truth) < abs(stuck - truth)
    finally:
        await service.aclose()


async def test_the_models_source_is_there_again_after_a_restart(store_url: str) -> None:
    data = simulated(days=DAYS + 1)
    clock = Clock()
    service = await warmed(store_url, clock, data)
    try:
        await feed(service, clock, data, range(SLOTS, SLOTS + 16), room_0="silent")
        before = await air(service)
    finally:
        await service.aclose()
    restarted = await open_site(TwinService.open(store_url, clock=clock))
    try:
        await restarted.watch.check()
        after = await air(restarted)
        assert after["weights"] == {"prediction": 1.0}
        assert after["value"] == pytest.approx(before["value"], abs=1e-9)
        assert after["uncertainty"] == pytest.approx(before["uncertainty"], rel=1e-9)
    finally:
        await restarted.aclose()


async def test_a_failed_commit_puts_back_the_coasting_of_a_silent_room(tmp_path: Path) -> None:
    data = simulated(days=DAYS + 1)
    clock = Clock()
    store = FailingStore(f"sqlite:///{tmp_path}/twin.sqlite")
    service = await open_site(TwinService(store, clock=clock))
    try:
        await feed(service, clock, data, range(SLOTS), room_0="read")
        await feed(service, clock, data, range(SLOTS, SLOTS + 8), room_0="silent")
        columns = service.zones.bank.columns
        coasted = {name: columns[name].copy() for name in ("ahead_x", "ahead_P", "ahead_time")}
        assert coasted["ahead_time"][0] > columns["time"][0]  # room 0 coasted on
        store.fail_next = 1
        with pytest.raises(StoreError):
            await feed(service, clock, data, range(SLOTS + 8, SLOTS + 12), room_0="silent")
        for name, column in coasted.items():
            assert np.array_equal(columns[name], column), name
        await feed(service, clock, data, range(SLOTS + 8, SLOTS + 12), room_0="silent")
        assert columns["ahead_time"][0] == START + (SLOTS + 11) * STEP
    finally:
        await service.aclose()
