"""Every change is a transaction: a failed commit leaves live state exactly as it was, and
the same request sent again is accepted whole."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from twinsync.demo import demo_project
from twinsync.errors import StoreError
from twinsync.model import Binding, Element, Sensor, Transform
from twinsync.pipeline import Flag, IncomingBatch, RawReading
from twinsync.service import TwinService

from .faults import FailingStore, live_state


@pytest.fixture
async def failing(tmp_path: Path) -> AsyncIterator[tuple[TwinService, FailingStore]]:
    store = FailingStore(f"sqlite:///{tmp_path / 'twin.sqlite'}")
    service = TwinService(store)
    project = demo_project()
    await service.import_project(project.elements, project.sensors, project.bindings)
    yield service, store
    await service.aclose()


def readings(start: float, count: int, *, sensor: str = "L1-slab-t1", seq: int = 0,
             source: str = "gw") -> IncomingBatch:
    return IncomingBatch([RawReading(sensor, 30.0 + 0.1 * i, start + i, None, seq + i)
                          for i in range(count)], source, start + count + 0.5)


async def test_a_failed_commit_leaves_live_state_as_it_was_and_the_retry_is_accepted_whole(
        failing: tuple[TwinService, FailingStore]) -> None:
    service, store = failing
    now = time.time()
    await service.ingest(readings(now - 100, 20))
    before = live_state(service)
    batch = readings(now - 50, 5, seq=20)
    store.fail_next = 1
    with pytest.raises(StoreError):
        await service.ingest(batch)
    assert live_state(service) == before
    again = await service.ingest(batch)
    assert (again.accepted, again.duplicates) == (5, 0)
    row = service.sensor_row("L1-slab-t1")
    assert len(service.store.history(row, now - 200, now).value) == 25


async def test_a_failed_commit_of_a_batch_that_changes_health_takes_its_alarms_back(
        failing: tuple[TwinService, FailingStore]) -> None:
    service, store = failing
    sensor, step = "L1-slab-t1", 2.0  # the demo's loggers report every 2 s
    start = time.time() - 400 * step

    def batch(values: list[float], seq: int) -> IncomingBatch:
        return IncomingBatch([RawReading(sensor, v, start + step * (seq + i), None, seq + i)
                              for i, v in enumerate(values)], "gw",
                             start + step * (seq + len(values) - 1) + 0.5)

    for k in range(10):  # a normal, varying history to learn from
        await service.ingest(batch([20.0 + 0.3 * ((i * 7) % 5) + 0.01 * k
                                    for i in range(20)], 20 * k))
    stuck = batch([21.0] * 150, 200)  # then the same value, far longer than it ever was
    before = live_state(service)
    store.fail_next = 1
    with pytest.raises(StoreError):
        await service.ingest(stuck)
    assert live_state(service) == before
    assert "health:" + sensor not in service.alarms.active
    result = await service.ingest(stuck)
    assert result.accepted == 150
    assert service.sensor_health(sensor)["state"] == "stuck"
    assert "health:" + sensor in service.alarms.active


async def test_a_failed_commit_of_a_new_clock_estimate_keeps_the_old_one(
        failing: tuple[TwinService, FailingStore]) -> None:
    service, store = failing
    now = time.time()
    # Stamped 90 s ahead: the source's clock estimate would move.
    ahead = IncomingBatch([RawReading("L1-slab-t1", 30.0, now + 90.0, None, 1)], "fast-gw", now)
    store.fail_next = 1
    with pytest.raises(StoreError):
        await service.ingest(ahead)
    assert "fast-gw" not in service.pipeline.clocks.sources
    await service.ingest(ahead)
    assert service.pipeline.clocks.offset("fast-gw") > 80.0


async def test_a_failed_commit_of_a_twin_operation_changes_nothing(
        failing: tuple[TwinService, FailingStore], tmp_path: Path) -> None:
    service, store = failing
    before = live_state(service)
    store.fail_next = 1
    with pytest.raises(StoreError):
        await service.import_project([Element("new-wall", "IfcWall")],
                                     [Sensor("new-strain", "strain", "")],
                                     [Binding("new-strain", "new-wall", "strain")])
    assert live_state(service) == before
    for operation in (
            lambda: service.add_element(Element("w2", "IfcWall")),
            lambda: service.add_sensor(Sensor("s2", "temperature", "degC")),
            lambda: service.update_element("L1-slab", status="in_progress",
                                           properties={"note": "poured"}),
            lambda: service.rebind_sensor(Binding("L1-slab-t1", "L1-slab", "core_temperature",
                                                  Transform(1.01, 0.2)))):
        store.fail_next = 1
        with pytest.raises(StoreError):
            await operation()
        assert live_state(service) == before
    # A sensor added after the failures takes the next row, as the store has it.
    await service.add_sensor(Sensor("s3", "temperature", "degC"))
    await service.aclose()
    reopened = TwinService.open(store.url)
    try:
        assert reopened.sensor_row("s3") == service.sensor_row("s3")
        assert "w2" not in reopened.twin.elements
    finally:
        await reopened.aclose()


async def test_a_failed_commit_answers_503_with_retry_after(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from twinsync.api.app import create_app
    from twinsync.cli.token_cmd import create_token
    from twinsync.config import Settings
    from twinsync.tokens import Role

    store = FailingStore(f"sqlite:///{tmp_path / 'twin.sqlite'}")
    service = TwinService(store)
    await service.add_sensor(Sensor("t", "temperature", "degC"))
    app = create_app(Settings(store=store.url), service=service)
    token, _ = create_token(store.url, "device", Role.DEVICE, sensors=("t",))
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        store.fail_next = 1
        body = [{"sensor_id": "t", "value": 20.5, "seq": 1}]
        failed = client.post("/api/readings", json=body)
        assert failed.status_code == 503
        assert failed.headers["retry-after"] == "2"
        assert failed.json()["error"] == "store_unavailable"
        retried = client.post("/api/readings", json=body)
        assert retried.status_code == 200 and retried.json()["accepted"] == 1
    await service.aclose()


async def test_a_reading_outside_its_kinds_physical_range_is_kept_but_never_shown(
        failing: tuple[TwinService, FailingStore]) -> None:
    service, _ = failing
    now = time.time()
    await service.ingest(readings(now - 10, 3))
    shown = service.sensor_snapshot("L1-slab-t1")["value"]
    result = await service.ingest(IncomingBatch(
        [RawReading("L1-slab-t1", -300.0, now - 1, None, 3)], "gw", now))
    assert result.accepted == 1
    row = service.sensor_row("L1-slab-t1")
    stored = service.store.history(row, now - 2, now)
    assert stored.value.tolist() == [-300.0] and stored.quality.tolist() == [0.0]
    assert stored.flags[0] & Flag.OUT_OF_RANGE
    assert service.sensor_snapshot("L1-slab-t1")["value"] == shown


async def test_the_answer_counts_readings_kept_but_not_believed(
        failing: tuple[TwinService, FailingStore]) -> None:
    service, _ = failing
    now = time.time()
    result = await service.ingest(IncomingBatch(
        [RawReading("L1-slab-t1", -300.0, now - 2, None, 1),       # below absolute zero
         RawReading("L1-slab-t1", 30.0, now + 3600.0, None, 2),     # an hour ahead
         RawReading("L1-slab-t1", 30.0, now - 1, None, 3)], "gw", now))
    answer = result.to_dict()
    assert (answer["accepted"], answer["out_of_range"], answer["quarantined"]) == (3, 1, 1)
    assert service.sensor_health("L1-slab-t1")["quarantined"] == 1
