"""A field measurement of a sensor-fed property is recorded through the writer, moves the
fused value and its uncertainty, fades out as it ages, survives a restart, and is refused
whole when it cannot be used."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from twinsync.errors import InvalidInput, NotFound
from twinsync.model import Binding, Element, Sensor
from twinsync.pipeline import IncomingBatch, RawReading
from twinsync.service import TwinService
from twinsync.service.measurements import MeasurementIdReused, record_measurement, record_once
from twinsync.store.audit import Actor, AuditQuery

OPERATOR = Actor("site engineer", "operator")
DAY = 86_400.0


class Clock:
    """The service's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def service(tmp_path: Path, clock: Clock) -> AsyncIterator[TwinService]:
    """A slab with a coarse, noisy logger read every minute for 200 minutes (a slow random
    walk seen through noise of sd 0.3 °C), and a wall whose logger has never reported."""
    service = TwinService.open(f"sqlite:///{tmp_path}/twin.sqlite", clock=clock)
    await service.import_project(
        [Element("slab", "IfcSlab"), Element("wall", "IfcWall")],
        [Sensor("logger", "temperature", "degC", 60.0, resolution=0.1),
         Sensor("silent", "temperature", "degC", 60.0, resolution=0.1)],
        [Binding("logger", "slab", "core_temperature"),
         Binding("silent", "wall", "core_temperature")])
    rng = np.random.default_rng(3)
    start = clock.now - 200 * 60.0
    truth = 20.0 + np.cumsum(rng.normal(0.0, 0.02, 200))
    for k in range(0, 200, 20):
        readings = [RawReading("logger", float(round(truth[i] + rng.normal(0, 0.3), 1)),
                               start + 60.0 * i, None, i) for i in range(k, k + 20)]
        await service.ingest(IncomingBatch(readings, "gw", start + 60.0 * (k + 19) + 1))
    yield service
    await service.aclose()


def shown(service: TwinService, element_id: str = "slab") -> dict[str, Any]:
    value: dict[str, Any] = service.element_snapshot(element_id)["properties"][
        "core_temperature"]
    return value


def probe(value: float, **more: object) -> dict[str, object]:
    return {"property": "core_temperature", "value": value, "unit": "degC",
            "uncertainty": 0.05, "instrument": "probe HT-2", **more}


async def test_a_fresh_field_measurement_dominates_a_noisy_sensor(
        service: TwinService) -> None:
    before = shown(service)
    assert before["weights"] == {"logger": 1.0} and before["uncertainty"] is not None
    event = await record_measurement(service, "slab", probe(before["value"] + 1.0),
                                     actor=OPERATOR)
    assert event.seq is not None and event.data["by"] == "site engineer"
    after = shown(service)
    assert after["weights"]["field"] > 0.9 > after["weights"]["logger"] > 0.0
    assert [s["kind"] for s in after["sources"]] == ["sensor", "field"]
    assert abs(after["value"] - (before["value"] + 1.0)) < 0.1
    assert after["uncertainty"] < before["uncertainty"]
    field = after["field"]
    assert field["used"] and field["rate"] is not None and field["instrument"] == "probe HT-2"
    entries = service.store.audit(AuditQuery(element_id="slab"))
    assert entries[-1].operation == "record_measurement"
    assert entries[-1].actor.name == "site engineer"


async def test_a_field_measurement_fades_out_as_it_ages(service: TwinService,
                                                        clock: Clock) -> None:
    await record_measurement(service, "slab", probe(25.0), actor=OPERATOR)
    fresh = shown(service)
    clock.now += 3600.0
    hour = shown(service)
    assert hour["weights"]["field"] < fresh["weights"]["field"]
    assert hour["field"]["aged_uncertainty"] > fresh["field"]["aged_uncertainty"]
    assert hour["field"]["age"] == pytest.approx(3600.0, abs=1.0)
    # A measurement taken a week ago is hardly heard against the sensor.
    await record_measurement(service, "slab", probe(25.0, time=clock.now - 7 * DAY),
                             actor=OPERATOR)
    old = shown(service)
    assert old["weights"]["field"] < 0.05 and abs(old["value"] - 25.0) > 4.0


async def test_with_no_sensor_reading_the_field_measurement_carries_the_value_and_survives_a_restart(  # noqa: E501
        service: TwinService, tmp_path: Path, clock: Clock) -> None:
    assert "core_temperature" not in service.element_snapshot("wall")["properties"]
    await record_measurement(service, "wall", {**probe(68.0), "unit": "degF",
                                               "uncertainty": 0.9}, actor=OPERATOR)
    alone = shown(service, "wall")
    assert alone["value"] == pytest.approx(20.0) and alone["uncertainty"] == pytest.approx(0.5)
    assert alone["weights"] == {"field": 1.0} and alone["source"] == "field"
    assert alone["field"]["rate"] is None  # nothing to learn it from: the value does not age
    await service.aclose()
    reopened = TwinService.open(f"sqlite:///{tmp_path}/twin.sqlite", clock=clock)
    try:
        assert shown(reopened, "wall") == alone
        kinds = [e.kind for e in reopened.store.events(element_id="wall")]
        assert kinds[-1] == "property_changed"
    finally:
        await reopened.aclose()


@pytest.mark.parametrize(("change", "reason"), [
    ({"uncertainty": 0.0}, "bad_uncertainty"),
    ({"unit": "kPa"}, "incompatible_unit"),
    ({"value": float("inf")}, "not_finite"),
    ({"time": time.time() + DAY}, "future_time"),
    ({"property": "strain"}, "not_sensor_fed"),
])
async def test_a_bad_measurement_is_refused_and_nothing_is_stored(
        service: TwinService, change: dict[str, object], reason: str) -> None:
    before = service.element_snapshot("slab")
    events = len(service.store.events(element_id="slab"))
    with pytest.raises(InvalidInput) as refused:
        await record_measurement(service, "slab", {**probe(21.0), **change}, actor=OPERATOR)
    assert refused.value.reason == reason
    assert service.element_snapshot("slab") == before
    assert len(service.store.events(element_id="slab")) == events


async def test_a_measurement_of_an_element_that_does_not_exist_is_not_found(
        service: TwinService) -> None:
    with pytest.raises(NotFound):
        await record_measurement(service, "nowhere", probe(21.0), actor=OPERATOR)


async def test_the_live_value_sent_to_subscribers_has_the_field_measurement_in_it(
        service: TwinService) -> None:
    before = service.publisher.changes_of(np.array([service.sensor_row("logger")]))
    await record_measurement(service, "slab", probe(30.0), actor=OPERATOR)
    after = service.publisher.changes_of(np.array([service.sensor_row("logger")]))
    assert before is not None and after is not None
    assert float(after.value[0]) == pytest.approx(shown(service)["value"])
    assert float(after.value[0]) > float(before.value[0]) + 5.0


async def test_a_field_measurement_is_kept_by_either_store(store_url: str) -> None:
    first = TwinService.open(store_url)
    try:
        await first.import_project([Element("wall", "IfcWall")],
                                   [Sensor("silent", "temperature", "degC", 60.0)],
                                   [Binding("silent", "wall", "core_temperature")])
        await record_measurement(first, "wall", probe(19.5, time=time.time() - 60.0),
                                 actor=OPERATOR)
        recorded = shown(first, "wall")
    finally:
        await first.aclose()
    again = TwinService.open(store_url)
    try:
        kept = shown(again, "wall")
        assert kept["value"] == recorded["value"] == 19.5
        assert kept["field"]["instrument"] == "probe HT-2"
        assert kept["field"]["time"] == recorded["field"]["time"]
    finally:
        await again.aclose()


async def test_a_measurement_not_weighed_against_a_sensor_still_learning_says_so(
        tmp_path: Path, clock: Clock) -> None:
    service = TwinService.open(f"sqlite:///{tmp_path}/new.sqlite", clock=clock)
    try:
        await service.import_project([Element("slab", "IfcSlab")],
                                     [Sensor("new", "temperature", "degC", 60.0)],
                                     [Binding("new", "slab", "core_temperature")])
        await service.ingest(IncomingBatch([RawReading("new", 20.0, clock.now - 60.0,
                                                       None, 0)], "gw", clock.now - 59.0))
        await record_measurement(service, "slab", probe(25.0), actor=OPERATOR)
        value = shown(service)
        assert value["value"] == 20.0 and value["weights"] == {"new": 1.0}
        assert value["field"]["used"] is False and value["uncertainty"] is None
    finally:
        await service.aclose()


async def test_a_measurement_sent_again_at_once_and_after_a_restart_is_recorded_once_by_either_store(  # noqa: E501
        store_url: str) -> None:
    body = probe(19.5, id="phone-7/0001")
    first = TwinService.open(store_url)
    try:
        await first.import_project([Element("wall", "IfcWall")],
                                   [Sensor("silent", "temperature", "degC", 60.0)],
                                   [Binding("silent", "wall", "core_temperature")])
        sent = await asyncio.gather(*(record_once(first, "wall", body, actor=OPERATOR)
                                      for _ in range(3)))
        assert sorted(r.replayed for r in sent) == [False, True, True]
        assert len({r.event.seq for r in sent}) == 1
        recorded = next(r.event for r in sent if not r.replayed)
    finally:
        await first.aclose()
    again = TwinService.open(store_url)
    try:
        retry = await record_once(again, "wall", body, actor=OPERATOR)
        assert retry.replayed and retry.event == recorded
        with pytest.raises(MeasurementIdReused, match=r"value 20\.5, not 19\.5"):
            await record_once(again, "wall", {**body, "value": 20.5}, actor=OPERATOR)
        stored = [e for e in again.store.events(element_id="wall", limit=100)
                  if "measured" in e.data]
        assert stored == [recorded]
        entries = again.store.audit(AuditQuery(element_id="wall", limit=100))
        assert [e.operation for e in entries].count("record_measurement") == 1
    finally:
        await again.aclose()
