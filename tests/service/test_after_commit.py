"""A delivery that fails after its commit is kept once: never tried again, never a dead
letter, the connector goes on. Against the real stores, the real MQTT broker, and a
publisher or hub made to fail right after the commit."""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twinsync.errors import FailedAfterCommit
from twinsync.ingest.connector import ConnectorHealth, Delivery
from twinsync.ingest.mqtt import MqttConnector, MqttSettings
from twinsync.model import Binding, Element, Sensor
from twinsync.pipeline import DeadLetter, IncomingBatch, RawReading
from twinsync.service import TwinService
from twinsync.service.supervisor import INGEST_ERROR, Backoff, ConnectorSupervisor

from ..ingest.mqtt_helpers import publish, wait_until
from . import stored
from .faults import FailingHub, FailingPublisher, FailingStore

SENSORS = [f"s-{i}" for i in range(3)]
FAST = Backoff(initial=0.001, maximum=0.005)
POISON = -1000.0
"""Values at or below this make the injected ingest raise (a reading that breaks ingest)."""


async def open_service(url: str) -> TwinService:
    return await stored.open_service(url, SENSORS)


def stored_values(service: TwinService) -> list[float]:
    return stored.stored_values(service, SENSORS)


def message(run_id: str, sensor: str, value: float, seq: int | None) -> tuple[str, bytes]:
    body: dict[str, object] = {"v": value, "t": time.time() - 5 + value / 1000}
    if seq is not None:
        body["seq"] = seq
    return f"after/{run_id}/{sensor}", orjson.dumps(body)


async def test_mqtt_readings_whose_publishing_fails_after_the_commit_are_kept_once(
        mqtt_broker: tuple[str, int], store_url: str) -> None:
    run_id = uuid.uuid4().hex[:10]
    service = await open_service(store_url)
    publisher = service.publisher = FailingPublisher(service)
    publisher.fail_next = 10**6  # every batch fails right after its commit
    connector = MqttConnector(MqttSettings(
        name=f"after-{run_id}", client_id=f"after-{run_id}", host=mqtt_broker[0],
        port=mqtt_broker[1], topics=[f"after/{run_id}/{{sensor_id}}"], session_expiry=120,
        linger=0.005, max_batch_messages=20))
    await service.start_connector(connector)
    # Every other reading has no sequence number: only the commit's outcome tells whether
    # it is stored, nothing would recognise it as a repeat.
    burst = [message(run_id, SENSORS[n % 3], float(n), n if n % 2 else None)
             for n in range(60)]
    await asyncio.to_thread(publish, *mqtt_broker, burst)
    assert await wait_until(lambda: len(stored_values(service)) >= 60)
    await asyncio.to_thread(publish, *mqtt_broker, [message(run_id, "s-0", 100.0, None)])
    assert await wait_until(lambda: 100.0 in stored_values(service))
    assert await wait_until(lambda: connector.health().details["acked_messages"] == 61)
    await asyncio.sleep(0.3)  # time for anything that would be tried again

    assert stored_values(service) == [float(n) for n in range(60)] + [100.0]
    assert service.store.counts()["dead_letters"] == 0
    [health] = service.connector_health()
    assert health.state == "running" and health.restarts == 0
    assert health.failed_after_commit == publisher.failures >= 2
    assert health.rejected_deliveries == 0 and health.retries == 0
    assert health.last_error is not None and health.last_error.startswith("after commit:")
    assert "injected" in health.last_error
    await service.aclose()

    # Every message was acked: a restart on the same session is handed nothing again.
    service = await open_service(store_url)
    again = MqttConnector(MqttSettings(
        name=f"after-{run_id}", client_id=f"after-{run_id}", host=mqtt_broker[0],
        port=mqtt_broker[1], topics=[f"after/{run_id}/{{sensor_id}}"], session_expiry=120,
        linger=0.005))
    await service.start_connector(again)
    await asyncio.to_thread(publish, *mqtt_broker, [message(run_id, "s-1", 200.0, None)])
    assert await wait_until(lambda: 200.0 in stored_values(service))
    await asyncio.sleep(0.3)
    assert stored_values(service) == [float(n) for n in range(60)] + [100.0, 200.0]
    assert again.health().messages == 1
    await service.aclose()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_a_subscriber_that_fails_after_the_commit_leaves_the_batch_committed_once(
        store_url: str) -> None:
    # A sensor back from silence makes events, which go to subscribers once committed.
    clock = Clock(time.time())
    service = TwinService.open(store_url, clock=clock)
    hub = service.hub = FailingHub()
    hub.subscribe()
    await service.import_project([Element("slab", "IfcSlab")],
                                 [Sensor("t", "temperature", "degC", expected_interval=60)],
                                 [Binding("t", "slab", "core_temperature")])
    start = clock.now
    await service.ingest(IncomingBatch(
        [RawReading("t", 20.0 + (i % 3) * 0.1, start - 600 + 60 * i, None, i)
         for i in range(11)], "gw", start))
    clock.now = start + 90 * 60
    await service.watch.check()
    assert service.sensor_health("t")["state"] == "offline"
    events_before = service.store.counts()["events"]

    hub.fail_next = 1
    clock.now += 1
    back = IncomingBatch([RawReading("t", 20.1, clock.now, None, None)], "gw", clock.now)
    with pytest.raises(FailedAfterCommit, match="publishing its events failed") as raised:
        await service.ingest(back)
    assert hub.failures == 1
    assert raised.value.result is not None and raised.value.result.accepted == 1  # type: ignore[attr-defined]
    row = service.sensor_row("t")
    assert service.store.history(row, clock.now - 1, clock.now + 1).value.tolist() == [20.1]
    assert service.store.counts()["events"] > events_before  # the events are kept too
    assert service.sensor_health("t")["state"] != "offline"  # live state moved on
    await service.aclose()


# -- a random mix of failures ------------------------------------------------------------------


class ListSource:
    """A connector over a list of deliveries that ends when they are handed out. Before it
    hands out delivery ``i`` it calls ``arm(i)``: the supervisor takes one delivery at a
    time, so the fault armed is that delivery's."""

    kind = "list"

    def __init__(self, name: str, batches: list[IncomingBatch],
                 arm: Callable[[int], None]) -> None:
        self.name = name
        self.batches = batches
        self.arm = arm
        self.acks = [0] * len(batches)
        self._health = ConnectorHealth(name, self.kind, connected=True)

    async def start(self) -> None:
        pass

    async def aclose(self) -> None:
        pass

    def health(self) -> ConnectorHealth:
        return self._health

    async def deliveries(self) -> AsyncIterator[Delivery]:
        for number, batch in enumerate(self.batches):
            self.arm(number)

            async def ack(number: int = number) -> None:
                self.acks[number] += 1

            yield Delivery(batch, [], ack)


KINDS = ("good", "good", "good", "unknown", "poison")
"""What each reading is: stored, refused by the pipeline with a reason, or breaking ingest."""
reading_kinds = st.lists(st.sampled_from(KINDS), min_size=1, max_size=12)
failure_points = st.sampled_from(["none", "before commit", "after commit", "both"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(reading_kinds, failure_points, st.booleans()),
                min_size=1, max_size=6))
def test_every_good_reading_is_stored_once_whatever_fails_before_or_after_the_commit(
        plan: list[tuple[list[str], str, bool]]) -> None:
    asyncio.run(_run_plan(plan))


async def _run_plan(plan: list[tuple[list[str], str, bool]]) -> None:
    now = time.time()
    batches: list[IncomingBatch] = []
    good: list[float] = []
    poison: list[float] = []
    unknown = 0
    seqs = dict.fromkeys(SENSORS, 0)
    number = 0
    for kinds, _, numbered in plan:
        readings = []
        for kind in kinds:
            number += 1
            sensor = SENSORS[number % len(SENSORS)]
            value = float(number)
            if kind == "unknown":
                sensor, unknown = "nobody", unknown + 1
            elif kind == "poison":
                value = POISON - number
                poison.append(value)
            else:
                good.append(value)
            seq = None
            if numbered:  # else none: readings a repeat could not be told from
                seqs[sensor] = seqs.get(sensor, 0) + 1
                seq = seqs[sensor]
            readings.append(RawReading(sensor, value, now - 100 + number * 0.01, None, seq))
        batches.append(IncomingBatch(readings, "gw", now, "list"))

    with tempfile.TemporaryDirectory() as directory:
        store = FailingStore(f"sqlite:///{directory}/twin.db")
        service = TwinService(store)
        for sensor_id in SENSORS:
            await service.add_sensor(Sensor(sensor_id, "temperature", "degC"))
        publisher = service.publisher = FailingPublisher(service)

        def arm(number: int) -> None:
            point = plan[number][1]
            store.fail_next = 2 if point in ("before commit", "both") else 0
            publisher.fail_next = 1 if point in ("after commit", "both") else 0

        async def ingest(batch: IncomingBatch, letters: Sequence[DeadLetter]) -> object:
            if any(reading.value <= POISON for reading in batch.readings):
                raise ValueError("injected: this reading breaks ingest")
            return await service.ingest(batch, letters)

        supervisor = ConnectorSupervisor(ingest, service.add_dead_letters, backoff=FAST)
        source = ListSource("mix", batches, arm)
        await supervisor.start(source)
        assert await wait_until(lambda: supervisor.health()[0].state == "finished", 30)
        [health] = supervisor.health()
        await supervisor.aclose()

        assert stored_values(service) == sorted(good)
        letters = service.store.dead_letters(limit=1000)
        assert sorted(letter.payload["value"] for letter in letters
                      if letter.reason == INGEST_ERROR) == sorted(poison)
        assert sum(letter.reason == "unknown_sensor" for letter in letters) == unknown
        assert len(letters) == len(poison) + unknown
        assert source.acks == [1] * len(batches)
        assert health.restarts == 0
        assert health.failed_after_commit == publisher.failures
        assert health.rejected_deliveries == sum(
            any(kind == "poison" for kind in kinds) for kinds, _, _ in plan)
        await service.aclose()
