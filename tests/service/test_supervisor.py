"""The connector supervisor against the real Mosquitto: no message stops a connector, a
failing consumer comes back with backoff, a store error is retried unacked, and health
says which of these is happening."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from twinsync.errors import ConnectorError, Overloaded, StoreError
from twinsync.ingest.connector import ConnectorHealth, Delivery
from twinsync.ingest.mqtt import MqttConnector, MqttSettings
from twinsync.model import Sensor
from twinsync.pipeline import DeadLetter, IncomingBatch, RawReading
from twinsync.service import TwinService
from twinsync.service.supervisor import INGEST_ERROR, Backoff, ConnectorSupervisor

from ..ingest.mqtt_helpers import publish, wait_until
from . import stored
from .faults import FailingStore

SENSORS = [f"s-{i}" for i in range(4)]
POISON = -999.0
"""A value the injected ingest refuses with an exception (not a refusal with a reason)."""
FAST = Backoff(initial=0.01, maximum=0.05)


async def open_service(url: str) -> TwinService:
    return await stored.open_service(url, SENSORS)


def stored_values(service: TwinService) -> list[float]:
    return stored.stored_values(service, SENSORS)


def mqtt(run_id: str, broker: tuple[str, int], **options: object) -> MqttConnector:
    return MqttConnector(MqttSettings(
        name=f"sup-{run_id}", client_id=f"sup-{run_id}", host=broker[0], port=broker[1],
        topics=[f"sup/{run_id}/{{sensor_id}}"], session_expiry=120, linger=0.005,
        **options))  # type: ignore[arg-type]


def message(run_id: str, sensor: str, value: float, seq: int) -> tuple[str, bytes]:
    return (f"sup/{run_id}/{sensor}",
            orjson.dumps({"v": value, "seq": seq, "t": time.time()}))


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'twin.db'}"


@pytest.fixture
def run_id() -> str:
    return uuid.uuid4().hex[:10]


async def test_a_delivery_whose_ingest_raises_is_a_dead_letter_acked_and_never_redelivered(
        mqtt_broker: tuple[str, int], run_id: str, store_url: str) -> None:
    service = await open_service(store_url)

    async def ingest(batch: IncomingBatch, letters: Sequence[DeadLetter]) -> object:
        if any(reading.value == POISON for reading in batch.readings):
            raise ValueError("injected: this reading breaks ingest")
        return await service.ingest(batch, letters)

    supervisor = ConnectorSupervisor(ingest, service.add_dead_letters, backoff=FAST)
    connector = mqtt(run_id, mqtt_broker, max_batch_messages=50)
    await supervisor.start(connector)
    # Published as one burst, so the poison shares batches with good readings.
    batch = [message(run_id, SENSORS[n % 4], float(n), n // 4) for n in range(40)]
    batch.insert(17, message(run_id, "s-1", POISON, 1000))
    await asyncio.to_thread(publish, *mqtt_broker, batch)
    assert await wait_until(lambda: len(stored_values(service)) == 40)
    later = [message(run_id, "s-2", 500.0, 2000)]
    await asyncio.to_thread(publish, *mqtt_broker, later)
    assert await wait_until(lambda: 500.0 in stored_values(service))
    [letter] = service.store.dead_letters(reason=INGEST_ERROR)
    assert letter.payload["value"] == POISON and letter.payload["sensor_id"] == "s-1"
    assert "injected" in letter.detail
    [health] = supervisor.health()
    assert health.state == "running" and health.restarts == 0
    assert health.rejected_deliveries == 1
    assert health.last_error is not None and "injected" in health.last_error
    assert await wait_until(lambda: connector.health().details["awaiting_ack"] == 0)
    assert connector.health().details["acked_messages"] == 42
    await supervisor.aclose()
    await service.aclose()

    # A restart with the same session: the broker has nothing of it left to send.
    service = await open_service(store_url)
    again = mqtt(run_id, mqtt_broker)
    await service.start_connector(again)
    await asyncio.to_thread(publish, *mqtt_broker, [message(run_id, "s-3", 600.0, 3000)])
    assert await wait_until(lambda: 600.0 in stored_values(service))
    await asyncio.sleep(0.3)
    assert POISON not in stored_values(service)
    assert len(service.store.dead_letters(reason=INGEST_ERROR)) == 1
    assert again.health().messages == 1
    await service.aclose()


async def test_a_unit_that_is_not_a_string_does_not_stop_mqtt_ingest(
        mqtt_broker: tuple[str, int], run_id: str, store_url: str) -> None:
    service = await open_service(store_url)
    connector = mqtt(run_id, mqtt_broker)
    await service.start_connector(connector)
    bad = (f"sup/{run_id}/s-0", orjson.dumps({"v": 1.5, "unit": 123, "seq": 1}))
    await asyncio.to_thread(publish, *mqtt_broker, [bad, message(run_id, "s-1", 2.5, 1)])
    assert await wait_until(lambda: 2.5 in stored_values(service))
    assert await wait_until(lambda: service.store.counts()["dead_letters"] == 1)
    await asyncio.to_thread(publish, *mqtt_broker, [message(run_id, "s-1", 3.5, 2)])
    assert await wait_until(lambda: 3.5 in stored_values(service))
    [health] = service.connector_health()
    assert health.state == "running" and health.connected
    await service.aclose()
    service = await open_service(store_url)
    await service.start_connector(mqtt(run_id, mqtt_broker))
    await asyncio.to_thread(publish, *mqtt_broker, [message(run_id, "s-1", 4.5, 3)])
    assert await wait_until(lambda: 4.5 in stored_values(service))
    assert service.store.counts()["dead_letters"] == 1  # not delivered again
    await service.aclose()


@pytest.mark.parametrize("failure", [StoreError("injected: the database is away"),
                                     Overloaded("injected: the database is away",
                                                retry_after=0.02)],
                         ids=["store error", "writer full"])
async def test_a_store_error_holds_the_ack_and_the_same_delivery_is_tried_until_committed(
        mqtt_broker: tuple[str, int], run_id: str, store_url: str,
        failure: Exception) -> None:
    service = await open_service(store_url)
    store_down = True
    calls = 0

    async def ingest(batch: IncomingBatch, letters: Sequence[DeadLetter]) -> object:
        nonlocal calls
        calls += 1
        if store_down:
            raise failure
        return await service.ingest(batch, letters)

    supervisor = ConnectorSupervisor(ingest, service.add_dead_letters, backoff=FAST)
    connector = mqtt(run_id, mqtt_broker)
    await supervisor.start(connector)
    await asyncio.to_thread(publish, *mqtt_broker,
                            [message(run_id, "s-0", float(n), n) for n in range(10)])
    assert await wait_until(lambda: supervisor.health()[0].retries >= 3)
    [health] = supervisor.health()
    assert health.state == "retrying" and "database is away" in (health.last_error or "")
    assert connector.health().details["acked_messages"] == 0
    store_down = False
    assert await wait_until(lambda: len(stored_values(service)) == 10)
    assert await wait_until(lambda: connector.health().details["acked_messages"] == 10)
    [health] = supervisor.health()
    assert health.state == "running" and health.rejected_deliveries == 0
    assert service.store.counts()["dead_letters"] == 0
    await supervisor.aclose()
    await service.aclose()


async def test_a_store_whose_commits_fail_holds_mqtt_readings_until_it_commits_them_once(
        mqtt_broker: tuple[str, int], run_id: str, store_url: str) -> None:
    # The real path: the service's own writer and a store whose disk fails three times.
    store = FailingStore(store_url)
    service = TwinService(store)
    for sensor_id in SENSORS:
        await service.add_sensor(Sensor(sensor_id, "temperature", "degC"))
    store.fail_next = 3
    connector = mqtt(run_id, mqtt_broker)
    await service.start_connector(connector)
    await asyncio.to_thread(publish, *mqtt_broker,
                            [message(run_id, "s-0", float(n), n) for n in range(10)])
    assert await wait_until(lambda: len(stored_values(service)) == 10)
    assert store.failures == 3
    assert stored_values(service) == [float(n) for n in range(10)]  # each once
    assert await wait_until(lambda: connector.health().details["acked_messages"] == 10)
    [health] = service.connector_health()
    assert health.retries >= 1 and health.rejected_deliveries == 0
    assert service.store.counts()["dead_letters"] == 0
    await service.aclose()


class FlakySource:
    """A source whose stream breaks on its first ``breaks`` runs, after one delivery."""

    kind = "flaky"

    def __init__(self, name: str, breaks: int) -> None:
        self.name = name
        self.breaks = breaks
        self.starts = 0
        self.closes = 0
        self._health = ConnectorHealth(name, self.kind)

    async def start(self) -> None:
        self.starts += 1
        self._health.connected = True

    async def aclose(self) -> None:
        self.closes += 1
        self._health.connected = False

    def health(self) -> ConnectorHealth:
        return self._health

    async def deliveries(self) -> AsyncIterator[Delivery]:
        run = self.starts
        yield Delivery(IncomingBatch([RawReading("s-0", float(run), time.time(), None, run)],
                                     self.name, time.time(), self.kind))
        if run <= self.breaks:
            raise ConnectionResetError(f"run {run}: the source went away")
        await asyncio.Event().wait()  # then it stays, quietly


async def test_a_consumer_that_raises_is_restarted_with_backoff_and_its_health_says_so(
        store_url: str) -> None:
    service = await open_service(store_url)
    supervisor = ConnectorSupervisor(service.ingest, service.add_dead_letters,
                                     backoff=Backoff(initial=0.2, maximum=0.4, jitter=0.0))
    source = FlakySource("flaky", breaks=2)
    await supervisor.start(source)
    assert await wait_until(lambda: supervisor.health()[0].state == "restarting", 2)
    assert "the source went away" in (supervisor.health()[0].last_error or "")
    assert await wait_until(lambda: len(stored_values(service)) == 3, 5)
    [health] = supervisor.health()
    assert health.state == "running"
    assert health.restarts == 2 and source.starts == 3 and source.closes == 2
    assert health.since is not None and health.last_error_at is not None
    await supervisor.aclose()
    assert source.closes == 3
    await service.aclose()


async def test_a_connector_that_cannot_start_keeps_trying_then_ends_failed(
        store_url: str, run_id: str) -> None:
    service = await open_service(store_url)
    supervisor = ConnectorSupervisor(service.ingest, service.add_dead_letters,
                                     backoff=FAST, max_restarts=2)
    nowhere = MqttConnector(MqttSettings(name=run_id, port=1, connect_timeout=2))
    with pytest.raises(ConnectorError, match="cannot connect"):
        await supervisor.start(nowhere)  # waited for: the caller hears why
    assert supervisor.health() == []
    await supervisor.start(nowhere, wait=False)  # in the background: health says why
    assert await wait_until(lambda: supervisor.health()[0].state == "failed", 10)
    [health] = supervisor.health()
    assert health.restarts == 2 and "cannot connect" in (health.last_error or "")
    assert not health.connected
    await supervisor.aclose()
    await service.aclose()


async def test_aclose_releases_every_connector_whatever_its_state(
        mqtt_broker: tuple[str, int], run_id: str, store_url: str) -> None:
    service = await open_service(store_url)
    supervisor = ConnectorSupervisor(service.ingest, service.add_dead_letters, backoff=FAST)
    running = mqtt(run_id, mqtt_broker)
    await supervisor.start(running)
    client_pid = running.health().details["client_pid"]
    retrying = MqttConnector(MqttSettings(name=f"x-{run_id}", port=1, connect_timeout=1))
    await supervisor.start(retrying, wait=False)
    assert await wait_until(lambda: {h.state for h in supervisor.health()}
                            >= {"running", "restarting"})
    await supervisor.aclose()
    await supervisor.aclose()  # twice is fine
    assert supervisor.health() == [] and supervisor.connectors == {}
    assert await wait_until(lambda: not Path(f"/proc/{client_pid}").exists())
    assert all(not task.get_name().startswith(("connector", "connector-supervisor"))
               for task in asyncio.all_tasks())
    await service.aclose()


@given(st.integers(0, 200), st.integers(0, 2**32))
def test_backoff_grows_and_never_passes_its_cap(attempt: int, seed: int) -> None:
    backoff = Backoff(initial=0.5, maximum=30.0, jitter=0.2)
    delay = backoff.delay(attempt, random.Random(seed))
    assert 0.5 * 0.8 <= delay <= 30.0
    if attempt >= 6:  # 0.5 * 2^6 = 32 > cap: only jitter below the cap remains
        assert delay >= 30.0 * 0.8
