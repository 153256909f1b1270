"""A thermal zone steps each reading with its inputs as they were at the reading's event
time, however the readings arrive: a room logger uploading six hours at once, an outdoor
station uploading after the rooms, a site's backlog after an outage, all learn R and C as
if every reading had come live; a zone waits for its inputs no longer than its bound and
says what it stepped without them; what waits survives a restart, and a failed commit
leaves it and the inputs' histories as they were. A silent room coasts through its inputs
by the same rules: as they were at each time, and not past a reading that waits."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from twinsync.errors import StoreError
from twinsync.pipeline import IncomingBatch, RawReading
from twinsync.service import TwinService
from twinsync.service.zone_models import WAIT_SECONDS, ZONE_SNAPSHOT

from .faults import FailingStore
from .test_zone_models import RESISTANCE, START, STEP, ZONES, open_site, simulated

DAYS = 3
Delivery = list[tuple[float, list[RawReading]]]


def readings_of(data: tuple[np.ndarray, ...], k: int, device: str) -> list[RawReading]:
    """Slot ``k``'s readings of one device: the station, the heating meters or the rooms."""
    outdoor, heating, rooms = data
    at = START + k * STEP
    if device == "station":
        return [RawReading("weather", float(outdoor[k]), at)]
    if device == "meters":
        return [RawReading(f"room-{z}-kw", float(heating[z, k]), at) for z in range(ZONES)]
    return [RawReading(f"room-{z}-t", round(float(rooms[z, k]), 3), at) for z in range(ZONES)]


def live(data: tuple[np.ndarray, ...], slots: range) -> Iterator[tuple[float, list[RawReading]]]:
    """Every device's readings of each quarter hour, 30 s after it, the rooms' last."""
    for k in slots:
        yield START + k * STEP + 30.0, [r for device in ("station", "meters", "rooms")
                                         for r in readings_of(data, k, device)]


def delivered(data: tuple[np.ndarray, ...], slots: range, buffered: str, every: int,
              ) -> Delivery:
    """Live, but the ``buffered`` device's readings come ``every`` slots at once, a minute
    after the last of them was taken (after the other devices' of the same times)."""
    out: Delivery = []
    held: list[RawReading] = []
    for k in slots:
        arrive = START + k * STEP + 30.0
        out.append((arrive, [r for device in ("station", "meters", "rooms")
                             if device != buffered for r in readings_of(data, k, device)]))
        held += readings_of(data, k, buffered)
        if (k + 1) % every == 0 or k + 1 == slots.stop:
            out.append((arrive + 30.0, held))
            held = []
    return out


async def send(service: TwinService, batches: Iterator[tuple[float, list[RawReading]]]
               | Delivery) -> None:
    for arrive, readings in batches:
        result = await service.ingest(IncomingBatch(readings, "site", arrive))
        assert result.accepted == len(readings)


async def zones_after(tmp_path: Path, name: str,
                      batches: Iterator[tuple[float, list[RawReading]]] | Delivery
                      ) -> list[dict[str, Any]]:
    service = await open_site(f"sqlite:///{tmp_path}/{name}.sqlite")
    try:
        await send(service, batches)
        return [await service.zones.of_element(f"room-{k}") for k in range(ZONES)]
    finally:
        await service.aclose()


def assert_learned_as_live(late: list[dict[str, Any]], right: list[dict[str, Any]],
                           rel: float) -> None:
    for k in range(ZONES):
        for name in ("resistance", "capacitance", "temperature"):
            assert late[k][name] == pytest.approx(right[k][name], rel=rel), (k, name)
        assert late[k]["readings"] == right[k]["readings"]
        assert late[k]["waiting"] == 0 and late[k]["stepped_before_inputs_known"] == 0


async def test_a_room_logger_uploading_six_hours_at_once_learns_as_if_its_readings_came_live(
        tmp_path: Path) -> None:
    data = simulated(days=DAYS)
    slots = range(DAYS * 96)
    right = await zones_after(tmp_path, "live", live(data, slots))
    uploaded = await zones_after(tmp_path, "logger", delivered(data, slots, "rooms", 24))
    # Stepped with the outdoor temperature of upload time, six hours of a daily swing of
    # ±8 °C bent R and C by several per cent; by the input's history they match.
    assert_learned_as_live(uploaded, right, rel=1e-3)
    for k in range(ZONES):
        assert uploaded[k]["resistance"] == pytest.approx(RESISTANCE[k], rel=0.03)


async def test_an_outdoor_station_uploading_after_the_rooms_of_the_same_time_is_waited_for(
        tmp_path: Path) -> None:
    data = simulated(days=DAYS)
    slots = range(DAYS * 96)
    right = await zones_after(tmp_path, "live", live(data, slots))
    hourly = delivered(data, slots, "station", 4)
    late = await zones_after(tmp_path, "hourly", hourly)
    assert_learned_as_live(late, right, rel=1e-3)
    # Midway through an hour the rooms' readings wait for the station's: not stepped yet,
    # so no state is shown ahead of the outdoor temperature that drives it.
    service = await open_site(f"sqlite:///{tmp_path}/midway.sqlite")
    try:
        await send(service, hourly[:-3])
        zone = await service.zones.of_element("room-0")
        assert zone["waiting"] > 0
        assert zone["last_time"] <= zone["outdoor"]["time"]
    finally:
        await service.aclose()


async def test_a_site_sending_its_backlog_after_an_outage_learns_as_if_it_had_been_live(
        tmp_path: Path) -> None:
    data = simulated(days=DAYS)
    slots = range(DAYS * 96)
    right = await zones_after(tmp_path, "live", live(data, slots))
    # Six hours down on day 2, then each device uploads its backlog, the rooms first.
    down = range(130, 154)
    batches: Delivery = [b for b in live(data, range(130))]
    back = START + down.stop * STEP + 30.0
    for offset, device in enumerate(("rooms", "meters", "station")):
        batches.append((back + offset, [r for k in down for r in readings_of(data, k, device)]))
    batches += [(at + 3.0, readings) for at, readings in live(data, range(154, slots.stop))]
    after = await zones_after(tmp_path, "outage", batches)
    assert_learned_as_live(after, right, rel=1e-3)


async def test_a_station_backfilling_a_gap_after_its_newest_reading_drives_the_rooms_of_the_gap(
        tmp_path: Path) -> None:
    data = simulated(days=DAYS)
    slots = range(DAYS * 96)
    right = await zones_after(tmp_path, "live", live(data, slots))
    # The room loggers upload every six hours; the station is cut off for the six hours
    # 144-167, then sends its newest reading first and the gap after it: behind its
    # watermark, the gap's readings are late for health but are still the outdoors of
    # their time, and the rooms' upload that follows is stepped with them.
    gap = range(144, 167)
    batches: Delivery = []
    for at, readings in delivered(data, slots, "rooms", 24):
        kept = [r for r in readings
                if not (r.sensor_id == "weather" and int((r.time - START) / STEP) in gap)]
        batches.append((at, kept))
        if any(r.sensor_id == "weather" and r.time == START + gap.stop * STEP
               for r in readings):
            batches.append((at + 15.0, [r for k in gap for r in readings_of(data, k, "station")]))
    backfilled = await zones_after(tmp_path, "backfill", batches)
    assert_learned_as_live(backfilled, right, rel=1e-3)


async def test_a_zone_waits_for_a_silent_station_no_longer_than_its_bound_and_says_so(
        tmp_path: Path) -> None:
    data = simulated(days=1)
    service = await open_site(f"sqlite:///{tmp_path}/twin.sqlite")
    try:
        await send(service, live(data, range(40)))
        # The station goes silent for four hours: the rooms wait two, then step with the
        # last outdoor temperature known, and say how many readings went so.
        silent = [(at, [r for r in readings if r.sensor_id != "weather"])
                  for at, readings in live(data, range(40, 56))]
        await send(service, silent)
        zone = await service.zones.of_element("room-0")
        waited = int(WAIT_SECONDS // STEP)
        assert 0 < zone["waiting"] <= waited + 1
        assert zone["stepped_before_inputs_known"] == 16 - zone["waiting"]
        assert zone["readings"] == 40 - 1 + zone["stepped_before_inputs_known"]
    finally:
        await service.aclose()


async def test_readings_waiting_for_their_inputs_and_the_inputs_history_survive_a_restart(
        store_url: str, tmp_path: Path) -> None:
    data = simulated(days=1)
    slots = range(60)
    right = await zones_after(tmp_path, "live", live(data, slots))
    hourly = delivered(data, slots, "station", 4)
    service = await open_site(store_url)
    try:
        await send(service, hourly[:-3])
        waiting = (await service.zones.of_element("room-1"))["waiting"]
        assert waiting > 0
    finally:
        await service.aclose()
    restarted = await open_site(store_url)
    try:
        assert (await restarted.zones.of_element("room-1"))["waiting"] == waiting
        assert restarted.zones.holding == np.count_nonzero(
            restarted.zones.bank.columns["waiting"]) > 0
        await send(restarted, hourly[-3:])
        after = [await restarted.zones.of_element(f"room-{k}") for k in range(ZONES)]
        assert_learned_as_live(after, right, rel=1e-9)
    finally:
        await restarted.aclose()


async def test_a_failed_commit_leaves_the_inputs_history_and_the_waiting_readings_as_they_were(
        tmp_path: Path) -> None:
    data = simulated(days=1)
    slots = range(60)
    right = await zones_after(tmp_path, "live", live(data, slots))
    hourly = delivered(data, slots, "station", 4)
    store = FailingStore(f"sqlite:///{tmp_path}/twin.sqlite")
    service = await open_site(TwinService(store))
    try:
        desk = service.zones
        await send(service, hourly[:-1])
        inputs = np.arange(len(desk.slots))
        before = desk.bank.take(np.arange(ZONES)), desk.history.take(inputs)
        assert before[0]["waiting"].min() > 0
        # The station's hour would release the waiting rooms: its commit fails.
        store.fail_next = 1
        with pytest.raises(StoreError):
            await send(service, hourly[-1:])
        after = desk.bank.take(np.arange(ZONES)), desk.history.take(inputs)
        for was, now in zip(before, after, strict=True):
            for name, column in was.items():
                assert np.array_equal(now[name], column, equal_nan=True), name
        assert desk.holding == np.count_nonzero(desk.bank.columns["waiting"]) == ZONES
        await send(service, hourly[-1:])
        zones = [await service.zones.of_element(f"room-{k}") for k in range(ZONES)]
        assert_learned_as_live(zones, right, rel=1e-9)
    finally:
        await service.aclose()


async def test_a_zone_state_saved_before_the_inputs_kept_a_history_is_restored_from_their_latest(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/twin.sqlite"
    data = simulated(days=1)
    service = await open_site(url)
    try:
        await send(service, live(data, range(40)))
        state = service.zones.bank.take(np.arange(ZONES))
    finally:
        await service.aclose()
    # The blob as it was saved before: no histories, no waiting readings.
    off = TwinService.open(url, zone_models=False)
    blob = off.store.load_snapshot(ZONE_SNAPSHOT)
    assert blob is not None
    with np.load(io.BytesIO(blob)) as saved:
        old = {name: saved[name] for name in saved.files
               if not name.startswith("history_") and name not in (
                   "column_waiting", "column_wait_time", "column_wait_value",
                   "column_wait_quality", "column_wait_received", "column_ahead")}
    body = io.BytesIO()
    np.savez(body, **old)
    off.store.save_snapshot(ZONE_SNAPSHOT, body.getvalue())
    await off.aclose()
    restarted = await open_site(url)
    try:
        again = restarted.zones.bank.take(np.arange(ZONES))
        for name in ("x", "P", "time", "count"):
            assert np.array_equal(again[name], state[name], equal_nan=True), name
        assert restarted.zones.bank.columns["waiting"].tolist() == [0] * ZONES
        history = restarted.zones.history
        assert history.count.tolist() == [1] * len(restarted.zones.slots)
        assert history.columns["time"][:, 0].tolist() == restarted.zones.slot_time.tolist()
        await send(restarted, live(data, range(40, 50)))
        assert restarted.zones.bank.columns["count"].tolist() == [49] * ZONES
    finally:
        await restarted.aclose()


def without(batches: Iterator[tuple[float, list[RawReading]]] | Delivery, sensor: str
            ) -> Delivery:
    """The batches with ``sensor``'s readings left out (a sensor fallen silent)."""
    return [(at, [r for r in readings if r.sensor_id != sensor]) for at, readings in batches]


async def coasted_after(tmp_path: Path, name: str, batches: Delivery) -> dict[str, Any]:
    service = await open_site(f"sqlite:///{tmp_path}/{name}.sqlite")
    try:
        await send(service, batches)
        desk = service.zones
        return desk.bank.take(np.array([desk.index["room-0"]]))
    finally:
        await service.aclose()


async def test_a_silent_room_coasts_through_an_hourly_stations_readings_as_if_they_came_live(
        tmp_path: Path) -> None:
    data = simulated(days=1)
    read, silent = range(48), range(48, 72)
    right = await coasted_after(tmp_path, "live", [*live(data, read),
                                                   *without(live(data, silent), "room-0-t")])
    hourly = [*live(data, read),
              *without(delivered(data, silent, "station", 4), "room-0-t")]
    late = await coasted_after(tmp_path, "hourly", hourly)
    # Coasted on at the meters' times with the outdoor temperature of an hour before, the
    # silent room would run ahead of its station; it waits for it, then coasts through
    # each quarter hour with the outdoor temperature and heating of that time.
    assert late["ahead_time"][0] == right["ahead_time"][0] == START + 71 * STEP
    for name in ("ahead_x", "ahead_P"):
        assert np.allclose(late[name], right[name], rtol=1e-9, atol=0.0), name


async def test_a_room_reading_waiting_for_its_station_is_not_coasted_past(
        tmp_path: Path) -> None:
    data = simulated(days=1)
    # Room 0 silent for two hours, then it reads again while the station falls an hour
    # behind: its reading waits for the station, and the meters read on meanwhile.
    behind = [(START + k * STEP + 30.0, [
        *readings_of(data, k, "meters"),
        *(r for r in readings_of(data, k, "rooms") if k == 48 or r.sensor_id != "room-0-t")])
        for k in range(48, 52)]
    station = (START + 51 * STEP + 60.0,
               [r for k in range(48, 52) for r in readings_of(data, k, "station")])
    service = await open_site(f"sqlite:///{tmp_path}/twin.sqlite")
    try:
        desk = service.zones
        room = desk.index["room-0"]
        await send(service, [*live(data, range(40)),
                             *without(live(data, range(40, 48)), "room-0-t"), *behind])
        columns = desk.bank.columns
        assert columns["waiting"][room] == 1
        assert columns["ahead_time"][room] <= columns["wait_time"][room, 0]
        await send(service, [station])
        # The station's hour steps the reading, and the coasting starts again from it.
        assert columns["waiting"][room] == 0
        assert columns["time"][room] == columns["ahead_time"][room] == START + 48 * STEP
        assert desk.holding == np.count_nonzero(columns["waiting"])
    finally:
        await service.aclose()
