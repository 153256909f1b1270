"""Neighbouring zones on the reading path: a room whose adjacent spaces (``adjacent_spaces``,
from the BIM model's space boundaries) read their air temperature takes their mean as an
input as of each step's event time, learns the share of its loss that goes to them, and
forecasts better than the same room fed without them; a neighbour's reading of the step's
time or after (its readings late, or its clock an hour ahead) is never taken; a neighbour
that stops reporting drops out of the mean, and a zone whose only neighbour did is stepped
without learning from the guess; a space beside one without a sensor takes nothing from it;
a failed commit leaves the zones and the neighbours' histories as they were; a state saved
before the share was in it loads with the share at its prior."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from twinsync.errors import StoreError
from twinsync.model import Binding, Element, PropertyValue, Sensor, Source
from twinsync.physics.neighbour_zone import NeighbourZone, share_of
from twinsync.physics.simulate import coupled_readings, row_neighbours, zone_weather
from twinsync.pipeline import IncomingBatch, RawReading
from twinsync.service import TwinService
from twinsync.service.zone_models import ZONE_SNAPSHOT

from .faults import FailingStore

STEP = 900.0
DT = STEP / 3600
START = 1_767_225_600.0  # 2026-01-01
ROOMS = 4
#: The rooms' envelopes (K/kW to the outdoors), partitions (K/kW each) and capacitances.
ENVELOPE = np.array([6.0, 9.0, 4.0, 12.0])
PARTITION = np.array([8.0, 6.0, 10.0, 7.0])
CAPACITANCE = np.array([10.0, 20.0, 8.0, 15.0])


class Site:
    """A row of ``ROOMS`` offices side by side (``simulate.row_neighbours``), each with a
    heating meter, under one site's weather: the truth and every 15-minute reading."""

    def __init__(self, days: float, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        self.steps = int(days * 96)
        outdoor, heating = zone_weather(rng, ROOMS, self.steps, DT)
        self.outdoor = outdoor[0]
        self.heating = heating
        self.beside = row_neighbours(1, ROOMS)
        self.rooms = coupled_readings(np.full(ROOMS, 18.0), ENVELOPE, PARTITION, CAPACITANCE,
                                      self.beside, np.broadcast_to(self.outdoor,
                                                                   (ROOMS, self.steps)),
                                      heating, DT, 4e-4, 0.05, rng)
        self.rooms = np.round(self.rooms, 3)
        conductance = self.beside / (0.5 * (PARTITION[:, None] + PARTITION[None, :]))
        total = 1.0 / ENVELOPE + conductance.sum(axis=1)
        self.resistance = 1.0 / total
        self.share = conductance.sum(axis=1) / total

    def neighbours(self) -> np.ndarray:
        """Each room's neighbours' mean reading ``(ROOMS, steps)``."""
        neighbours: np.ndarray = (self.beside @ self.rooms) / self.beside.sum(axis=1)[:, None]
        return neighbours


def adjacent(k: int, extra: tuple[str, ...] = ()) -> dict[str, PropertyValue]:
    names = [f"room-{j}" for j in (k - 1, k + 1) if 0 <= j < ROOMS] + list(extra)
    return {"adjacent_spaces": PropertyValue(names, "", 0.0, Source.BIM, 1.0)}


async def open_site(url: str | TwinService, *, neighbours: bool = True,
                    store_beside: bool = False) -> TwinService:
    """The site; ``neighbours`` False: the same rooms with no ``adjacent_spaces``;
    ``store_beside``: an unheated store without a sensor beside room 0."""
    service = url if isinstance(url, TwinService) else TwinService.open(url)
    if service.twin.sensors:
        return service
    elements = [Element("site", "IfcSite"), Element("block", "IfcBuilding", parent="site")]
    sensors = [Sensor("weather", "temperature", "degC", STEP)]
    bindings = [Binding("weather", "site", "ambient_temperature")]
    for k in range(ROOMS):
        room = f"room-{k}"
        extra = ("store",) if store_beside and k == 0 else ()
        elements.append(Element(room, "IfcSpace", parent="block",
                                properties=adjacent(k, extra) if neighbours else {}))
        sensors += [Sensor(f"{room}-t", "air_temperature", "degC", STEP),
                    Sensor(f"{room}-kw", "power", "kW", STEP)]
        bindings += [Binding(f"{room}-t", room, "air_temperature"),
                     Binding(f"{room}-kw", room, "heating_power")]
    if store_beside:
        elements.append(Element("store", "IfcSpace", parent="block",
                                properties={"adjacent_spaces": PropertyValue(
                                    ["room-0"], "", 0.0, Source.BIM, 1.0)}))
    await service.import_project(elements, sensors, bindings)
    return service


def quarter(site: Site, k: int, *, silent: tuple[int, ...] = (),
            shifted: dict[int, float] | None = None,
            left_out: tuple[int, ...] = ()) -> list[RawReading]:
    """The quarter hour ``k``'s readings: the weather, each room's air and heating (a room
    in ``silent`` sends no air reading, one in ``left_out`` none now; ``shifted``: a room's
    air stamped that many seconds off)."""
    at = START + k * STEP
    shifted = shifted or {}
    readings = [RawReading("weather", float(site.outdoor[k]), at)]
    for z in range(ROOMS):
        if z not in silent and z not in left_out:
            readings.append(RawReading(f"room-{z}-t", float(site.rooms[z, k]),
                                       at + shifted.get(z, 0.0)))
        readings.append(RawReading(f"room-{z}-kw", float(site.heating[z, k]), at))
    return readings


async def feed(service: TwinService, site: Site, slots: range, per_batch: int = 24,
               **options: Any) -> None:
    for first in range(slots.start, slots.stop, per_batch):
        last = min(first + per_batch, slots.stop)
        readings = [r for k in range(first, last) for r in quarter(site, k, **options)]
        result = await service.ingest(IncomingBatch(readings, "test", START + last * STEP))
        assert result.accepted == len(readings)


def carried(x: np.ndarray, site: Site, origin: int, hours: int, with_neighbours: bool
            ) -> np.ndarray:
    """Each zone's state ``x`` carried ``hours`` on from slot ``origin`` through the
    inputs as they came (the neighbours' readings, or the outdoor where none is taken):
    the temperature at each quarter hour, ``(ROOMS, hours * 4)``."""
    model = NeighbourZone()
    state = x.copy()
    beside = site.neighbours() if with_neighbours else np.broadcast_to(
        site.outdoor, (ROOMS, site.steps))
    path = np.empty((ROOMS, hours * 4))
    for step in range(hours * 4):
        k = origin + step
        state = model.step(state, DT, np.column_stack([np.full(ROOMS, site.outdoor[k]),
                                                       site.heating[:, k], beside[:, k]]))
        path[:, step] = state[:, 0]
    return path


async def test_a_zone_whose_neighbours_are_read_learns_their_share_and_forecasts_better(
        tmp_path: Path) -> None:
    days = 12
    site = Site(days + 1)
    learned: dict[bool, tuple[np.ndarray, list[dict[str, Any]]]] = {}
    for neighbours in (True, False):
        service = await open_site(f"sqlite:///{tmp_path}/{neighbours}.sqlite",
                                  neighbours=neighbours)
        try:
            await feed(service, site, range(days * 96))
            rows = [service.zones.index[f"room-{k}"] for k in range(ROOMS)]
            learned[neighbours] = (service.zones.bank.columns["x"][rows].copy(),
                                   [await service.zones.of_element(f"room-{k}")
                                    for k in range(ROOMS)])
        finally:
            await service.aclose()
    x, views = learned[True]
    alone_x, alone_views = learned[False]
    tau = site.resistance * CAPACITANCE
    with_error = np.abs(np.exp(x[:, 1] + x[:, 2]) / tau - 1.0)
    alone_error = np.abs(np.exp(alone_x[:, 1] + alone_x[:, 2]) / tau - 1.0)
    # The share is learned (true 0.35-0.68 here) and τ with it; without the neighbours the
    # rooms seem slower than they are (their neighbours follow them).
    assert np.abs(share_of(x[:, 4]) - site.share).max() < 0.15
    assert np.median(with_error) < 0.5 * np.median(alone_error)
    assert with_error.max() < 0.25
    # Fed without neighbours the share is never moved from its prior: 0.5, logit 0.
    assert alone_x[:, 4].tolist() == [0.0] * ROOMS
    # A day ahead through the inputs as they came, from the end of day 12.
    origin = days * 96 - 1
    truth = site.rooms[:, origin + 1:origin + 1 + 96]
    with_rmse = np.sqrt(np.mean((carried(x, site, origin, 24, True) - truth) ** 2))
    alone_rmse = np.sqrt(np.mean((carried(alone_x, site, origin, 24, False) - truth) ** 2))
    assert with_rmse < 0.75 * alone_rmse
    # The view says what was learned: the neighbours, the share, R split in two.
    for k, view in enumerate(views):
        assert [n["element_id"] for n in view["neighbours"]] == [
            f"room-{j}" for j in (k - 1, k + 1) if 0 <= j < ROOMS]
        share = view["neighbour_share"]
        assert share == pytest.approx(share_of(x[k:k + 1, 4])[0])
        assert 0 < view["neighbour_share_sd"] < 0.2
        assert view["resistance_outdoor"] == pytest.approx(view["resistance"] / (1 - share))
        assert view["resistance_neighbours"] == pytest.approx(view["resistance"] / share)
        assert view["forecast"]["neighbour_temperature"] is not None
        assert alone_views[k]["neighbours"] == [] and alone_views[k]["neighbour_share"] is None


def used_beside(service: TwinService, room: str) -> tuple[np.ndarray, np.ndarray]:
    """The times of the zone's kept readings (its ring), oldest first, and the neighbours'
    temperature each was stepped with."""
    c = service.zones.bank.columns
    k = service.zones.index[room]
    held = np.isfinite(c["ring_time"][k])
    order = np.argsort(c["ring_time"][k][held], kind="stable")
    return c["ring_time"][k][held][order], c["ring_neighbour"][k][held][order]


def taken_from_the_past(site: Site, used: np.ndarray, times: np.ndarray, neighbour: int
                        ) -> None:
    """Each neighbours' temperature ``used`` is the outdoor's of the step (none heard) or
    a reading the neighbour took strictly before the step's time."""
    taken = START + STEP * np.arange(site.steps)
    for value, at in zip(used.tolist(), times.tolist(), strict=True):
        k = round((at - START) / STEP)
        if value == site.outdoor[k - 1] or value == site.outdoor[k]:
            continue
        read_at = taken[site.rooms[neighbour] == value]
        assert read_at.size and read_at.min() < at, (at, value)


@pytest.mark.parametrize("how", ["late", "clock_ahead"])
async def test_a_neighbour_whose_readings_come_late_or_stamped_ahead_is_not_read_from_the_future(
        tmp_path: Path, how: str) -> None:
    site = Site(3)
    service = await open_site(f"sqlite:///{tmp_path}/twin.sqlite")
    try:
        if how == "late":
            # Room 1's air comes three hours after the others, each quarter hour's batch
            # carrying the readings of three hours before.
            for k in range(3 * 96):
                readings = quarter(site, k, left_out=(1,))
                if k >= 12:
                    late = k - 12
                    readings.append(RawReading("room-1-t", float(site.rooms[1, late]),
                                               START + late * STEP))
                result = await service.ingest(IncomingBatch(readings, "test",
                                                            START + k * STEP + 30.0))
                assert result.accepted == len(readings)
        else:
            # Room 1's clock runs an hour ahead: its air is stamped an hour after it was read.
            for k in range(3 * 96):
                result = await service.ingest(IncomingBatch(
                    quarter(site, k, shifted={1: 3600.0}), "test", START + k * STEP + 30.0))
        # Room 0's only neighbour is room 1: every step took room 1's reading from before it
        # (or, before room 1 was heard, the outdoor temperature), and room 1 was heard.
        times, used = used_beside(service, "room-0")
        assert times.size == 32
        taken_from_the_past(site, used, times, 1)
        k = np.round((times - START) / STEP).astype(int)
        assert np.all(used != site.outdoor[k - 1])
    finally:
        await service.aclose()


async def test_a_neighbour_that_stops_reporting_drops_out_and_an_only_one_is_not_learned_from(
        tmp_path: Path) -> None:
    site = Site(4)
    service = await open_site(f"sqlite:///{tmp_path}/twin.sqlite")
    try:
        await feed(service, site, range(3 * 96))
        # Room 2 stops; room 1 (beside rooms 0 and 2) and room 3 (beside room 2 alone) go on.
        await feed(service, site, range(3 * 96, 3 * 96 + 16), silent=(2,))
        c = service.zones.bank.columns
        three = service.zones.index["room-3"]
        parameters = c["x"][three, 1:].copy()
        early = c["stepped_early"][three]
        await feed(service, site, range(3 * 96 + 16, 4 * 96), silent=(2,))
        # Room 1 takes room 0 alone once room 2's last reading is over two hours old.
        times, used = used_beside(service, "room-1")
        for at, value in zip(times.tolist(), used.tolist(), strict=True):
            k = round((at - START) / STEP)
            assert value == site.rooms[0, k - 1]
        # Room 3 holds room 2's last reading and does not learn from it: its parameters
        # stay as they were, its temperature still follows its readings.
        times, used = used_beside(service, "room-3")
        assert set(used.tolist()) == {float(site.rooms[2, 3 * 96 - 1])}
        # (to rounding: the sigma points' weighted mean of an unmoved parameter is the
        # parameter within some 1e-10; a step that learns moves it by far more)
        assert np.allclose(c["x"][three, 1:], parameters, rtol=0.0, atol=1e-7)
        assert c["stepped_early"][three] - early == 4 * 96 - (3 * 96 + 16)
        assert c["x"][three, 0] == pytest.approx(site.rooms[3, 4 * 96 - 1], abs=0.3)
        view = await service.zones.of_element("room-3")
        assert view["neighbours"][0]["time"] == START + (3 * 96 - 1) * STEP
    finally:
        await service.aclose()


async def test_a_space_beside_one_without_a_sensor_takes_nothing_from_it(tmp_path: Path) -> None:
    site = Site(1)
    service = await open_site(f"sqlite:///{tmp_path}/twin.sqlite", store_beside=True)
    try:
        await feed(service, site, range(96))
        zero = await service.zones.of_element("room-0")
        # The store has no air sensor: no zone, and no neighbour of room 0.
        assert [n["element_id"] for n in zero["neighbours"]] == ["room-1"]
        store = await service.zones.of_element("store")
        assert store["modelled"] is False
        # A sensor bound to the store's air makes it one of room 0's neighbours.
        await service.import_project([], [Sensor("store-t", "air_temperature", "degC", STEP)],
                                     [Binding("store-t", "store", "air_temperature")])
        zero = await service.zones.of_element("room-0")
        assert [n["element_id"] for n in zero["neighbours"]] == ["room-1", "store"]
    finally:
        await service.aclose()


async def test_a_zone_with_no_neighbour_read_keeps_its_share_at_the_prior_exactly(
        tmp_path: Path) -> None:
    site = Site(2)
    service = await open_site(f"sqlite:///{tmp_path}/twin.sqlite")
    try:
        # Room 1 never reports its air: room 0, whose only neighbour it is, never hears one.
        await feed(service, site, range(2 * 96), silent=(1,))
        c = service.zones.bank.columns
        zero = service.zones.index["room-0"]
        knobs = service.zones.bank.knobs
        assert c["x"][zero, 4] == knobs.share_logit
        assert c["P"][zero, 4, :4].tolist() == [0.0] * 4
        assert c["P"][zero, 4, 4] == pytest.approx(knobs.share_logit_sd**2
                                                   + knobs.parameter_noise * 2 * 24, rel=1e-6)
        times, used = used_beside(service, "room-0")
        k = np.round((times - START) / STEP).astype(int)
        assert np.array_equal(used, site.outdoor[k - 1])
        assert c["stepped_early"][zero] == 0
    finally:
        await service.aclose()


async def test_a_failed_commit_leaves_the_zones_and_their_neighbours_as_they_were(
        tmp_path: Path) -> None:
    site = Site(1)
    store = FailingStore(f"sqlite:///{tmp_path}/twin.sqlite")
    service = await open_site(TwinService(store))
    steady = await open_site(f"sqlite:///{tmp_path}/steady.sqlite")
    try:
        await feed(service, site, range(48))
        await feed(steady, site, range(48))
        rows = np.arange(ROOMS)
        before = service.zones.bank.take(rows)
        history = {name: column.copy() for name, column in service.zones.history.columns.items()}
        latest = service.zones.slot_value.copy(), service.zones.slot_time.copy()
        store.fail_next = 1
        with pytest.raises(StoreError):
            await feed(service, site, range(48, 60))
        after = service.zones.bank.take(rows)
        for name, column in before.items():
            assert np.array_equal(after[name], column, equal_nan=True), name
        for name, column in history.items():
            assert np.array_equal(service.zones.history.columns[name], column,
                                  equal_nan=True), name
        assert np.array_equal(service.zones.slot_value, latest[0], equal_nan=True)
        assert np.array_equal(service.zones.slot_time, latest[1], equal_nan=True)
        # Sent again, the zones are those of a site whose commit never failed.
        await feed(service, site, range(48, 60))
        await feed(steady, site, range(48, 60))
        again, never = service.zones.bank.take(rows), steady.zones.bank.take(rows)
        for name, column in never.items():
            assert np.array_equal(again[name], column, equal_nan=True), name
        assert np.isfinite(again["ring_neighbour"][:, -1]).all()
    finally:
        await service.aclose()
        await steady.aclose()


def without_share(body: bytes) -> dict[str, np.ndarray]:
    """A saved zone state as the code before the neighbours saved it (format 3): the
    state ``[T, ln R, ln C, G]``, its covariance, no neighbours' column in the ring."""
    with np.load(io.BytesIO(body), allow_pickle=False) as saved:
        old = {name: saved[name] for name in saved.files if name != "column_ring_neighbour"}
    for name in ("column_x", "column_ahead_x", "column_recal_before", "column_recal_after"):
        old[name] = old[name][:, :4]
    for name in ("column_P", "column_ahead_P"):
        old[name] = old[name][:, :4, :4]
    old["column_ring_x"] = old["column_ring_x"][:, :, :4]
    old["format"] = np.array(3)
    return old


async def test_the_share_survives_a_restart_and_a_state_saved_before_it_loads_at_the_prior(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/twin.sqlite"
    site = Site(2)
    service = await open_site(url)
    try:
        await feed(service, site, range(96))
        state = service.zones.bank.take(np.arange(ROOMS))
        body = service.zones.dump()
        assert body is not None
    finally:
        await service.aclose()
    restarted = await open_site(url)
    try:
        again = restarted.zones.bank.take(np.arange(ROOMS))
        assert np.array_equal(again["x"], state["x"])
        assert np.array_equal(again["ring_neighbour"], state["ring_neighbour"], equal_nan=True)
        # The neighbours' histories came back too: room 0 is stepped with room 1 at once.
        await feed(restarted, site, range(96, 97))
        _, used = used_beside(restarted, "room-0")
        assert used[-1] == site.rooms[1, 95]
    finally:
        await restarted.aclose()
    buffer = io.BytesIO()
    np.savez(buffer, **without_share(body))  # type: ignore[arg-type]
    off = TwinService.open(url, zone_models=False)
    off.store.save_snapshot(ZONE_SNAPSHOT, buffer.getvalue())
    await off.aclose()
    old = await open_site(url)
    try:
        knobs = old.zones.bank.knobs
        loaded = old.zones.bank.take(np.arange(ROOMS))
        assert np.array_equal(loaded["x"][:, :4], state["x"][:, :4])
        assert loaded["x"][:, 4].tolist() == [knobs.share_logit] * ROOMS
        assert np.array_equal(loaded["P"][:, :4, :4], state["P"][:, :4, :4])
        assert np.allclose(loaded["P"][:, 4, 4], knobs.share_logit_sd**2)
        assert np.all(loaded["P"][:, 4, :4] == 0.0)
        # Its kept readings were stepped with no neighbour: the outdoor's.
        assert np.array_equal(loaded["ring_neighbour"], loaded["ring_outdoor"], equal_nan=True)
        await feed(old, site, range(97, 2 * 96))
        assert np.all(np.isfinite(old.zones.bank.columns["x"][:ROOMS]))
        assert np.any(old.zones.bank.columns["x"][:ROOMS, 4] != knobs.share_logit)
    finally:
        await old.aclose()
