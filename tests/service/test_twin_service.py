"""The service commits before it answers, and a reopened twin is the twin it was."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from twinsync.errors import InvalidInput, NotFound, UnitError
from twinsync.model import Binding, Element, Sensor, Transform
from twinsync.pipeline import IncomingBatch, RawReading
from twinsync.service import TwinService


def incoming(*readings: RawReading) -> IncomingBatch:
    return IncomingBatch(list(readings), "test", time.time())


async def test_accepted_readings_are_in_the_store_when_ingest_returns(
        service: TwinService) -> None:
    now = time.time()
    result = await service.ingest(incoming(RawReading("L1-slab-t1", 30.0, now - 2),
                                           RawReading("L1-slab-t1", 31.0, now - 1),
                                           RawReading("nobody", 1.0)))
    assert result.accepted == 2
    assert [r[1] for r in result.rejected] == ["unknown_sensor"]
    history = service.store.history(service.sensor_row("L1-slab-t1"), now - 10, now + 10)
    assert history.value.tolist() == [30.0, 31.0]
    assert service.store.dead_letters()[0].payload == {"sensor_id": "nobody", "value": 1.0}


async def test_an_element_snapshot_shows_the_bound_sensors_live_value(
        service: TwinService) -> None:
    now = time.time()
    await service.ingest(incoming(RawReading("L1-room1-temp", 21.5, now)))
    snapshot = service.element_snapshot("L1-room1")
    prop = snapshot["properties"]["air_temperature"]
    assert (prop["value"], prop["unit"], prop["source"]) == (21.5, "degC", "iot")
    assert prop["time"] == pytest.approx(now)
    assert [s["id"] for s in snapshot["sensors"]] == ["L1-room1-temp", "L1-room1-rh"]
    assert snapshot["storey"] == "L1"


async def test_a_field_update_applies_whole_or_not_at_all(service: TwinService) -> None:
    with pytest.raises(UnitError):
        await service.update_element("L2-slab", status="issue", properties={
            "crack_width": {"value": 0.3, "unit": "mm"},
            "bad": {"value": 1, "unit": "bogons"}})
    element = service.twin.element("L2-slab")
    assert element.status.value != "issue"
    assert "crack_width" not in element.properties


async def test_importing_a_project_with_a_bad_binding_adds_nothing(
        service: TwinService) -> None:
    before = len(service.twin.elements)
    with pytest.raises(NotFound):
        await service.import_project([Element("new", "IfcWall")], [Sensor("s-new", "x")],
                                     [Binding("s-new", "missing-element", "p")])
    assert len(service.twin.elements) == before
    assert "s-new" not in service.twin.sensors


async def test_field_updates_need_a_known_source(service: TwinService) -> None:
    with pytest.raises(InvalidInput, match="source"):
        await service.update_element("L2-slab", status="issue", source="rumour")


async def test_a_reopened_store_restores_twin_live_state_and_history(
        service: TwinService, tmp_path: Path) -> None:
    now = time.time()
    await service.ingest(incoming(*[RawReading("L0-col1-strain", 100.0 + i, now - 10 + i)
                                    for i in range(10)]))
    await service.update_element("L0-col1", status="issue",
                                 properties={"note": "spalling at base"})
    url = service.store.url
    await service.aclose()

    reopened = TwinService.open(url)
    try:
        snapshot = reopened.element_snapshot("L0-col1")
        assert snapshot["status"] == "issue"
        assert snapshot["properties"]["note"]["value"] == "spalling at base"
        assert snapshot["properties"]["strain"]["value"] == 109.0
        sensor = reopened.sensor_snapshot("L0-col1-strain")
        assert sensor["count"] == 10
        assert sensor["mean"] == pytest.approx(104.5)
        row = reopened.sensor_row("L0-col1-strain")
        assert len(reopened.store.history(row, now - 60, now + 60).value) == 10
        assert len(reopened.twin.sensors) == 50
    finally:
        await reopened.aclose()


async def test_readings_redelivered_from_beyond_the_sequence_window_are_not_stored_twice(
        service: TwinService) -> None:
    now = time.time()
    first = [RawReading("L0-room2-temp", 20.0 + i / 100, now - 300 + i, None, i)
             for i in range(200)]
    assert (await service.ingest(incoming(*first))).accepted == 200
    url = service.store.url
    await service.aclose()

    reopened = TwinService.open(url)
    try:
        # A broker redelivers what it never saw acknowledged: here 100 readings, most of
        # them further behind the newest than the in-memory window reaches.
        again = await reopened.ingest(incoming(*first[100:]))
        assert again.accepted == 0 and again.duplicates == 100
        fresh = await reopened.ingest(incoming(
            RawReading("L0-room2-temp", 21.0, now - 50, None, 250),
            RawReading("L0-room2-temp", 21.0, now - 60, None, 120)))  # 120 is a repeat
        assert fresh.accepted == 1 and fresh.duplicates == 1
        row = reopened.sensor_row("L0-room2-temp")
        stored = reopened.store.history(row, now - 400, now + 10)
        assert len(stored.seq) == 201 and len(set(stored.seq.tolist())) == 201
        assert reopened.sensor_health("L0-room2-temp")["duplicates"] == 101
    finally:
        await reopened.aclose()


async def test_a_late_reading_behind_the_window_that_was_never_stored_is_kept(
        service: TwinService) -> None:
    now = time.time()
    sent = [RawReading("L0-room2-temp", 20.0, now - 300 + i, None, i)
            for i in range(200) if i != 30]
    await service.ingest(incoming(*sent))
    late = await service.ingest(incoming(RawReading("L0-room2-temp", 20.3, now - 270, None, 30)))
    assert late.accepted == 1 and late.duplicates == 0


async def test_a_rebinding_moves_the_sensor_in_one_commit_of_two_events(
        service: TwinService) -> None:
    before = service.store.events(limit=10_000)[-1].seq
    events = await service.rebind_sensor(Binding("L1-room1-temp", "L1-room2", "air_temperature"))
    assert [e.kind for e in events] == ["sensor_unbound", "sensor_bound"]
    stored = service.store.events(after=before)
    assert [(e.kind, e.element_id) for e in stored] == [
        ("sensor_unbound", "L1-room1"), ("sensor_bound", "L1-room2")]
    assert service.twin.bindings["L1-room1-temp"].element_id == "L1-room2"
    _, _, bindings = service.store.load_twin()
    assert {b.sensor_id: b.element_id for b in bindings}["L1-room1-temp"] == "L1-room2"
    await service.ingest(incoming(RawReading("L1-room1-temp", 19.5, time.time())))
    assert service.element_snapshot("L1-room2")["properties"]["air_temperature"]["value"] == 19.5


async def test_a_refused_rebinding_leaves_the_old_binding_and_commits_nothing(
        service: TwinService) -> None:
    before = service.store.events(limit=10_000)[-1].seq
    with pytest.raises(NotFound):
        await service.rebind_sensor(Binding("L1-room1-temp", "no-such-room", "air_temperature"))
    with pytest.raises(UnitError):
        await service.rebind_sensor(
            Binding("L1-room1-temp", "L1-room2", "air_temperature", Transform(unit="m")))
    assert service.twin.bindings["L1-room1-temp"].element_id == "L1-room1"
    assert "L1-room1-temp" in service.twin.sensors_of("L1-room1")
    assert service.store.events(after=before) == []
