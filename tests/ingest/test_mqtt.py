"""The MQTT connector against the real Mosquitto: receive, map topics, keep sessions, share."""

from __future__ import annotations

import asyncio
import os
import signal

import orjson
import pytest

from twinsync.errors import ConnectorError
from twinsync.ingest.mqtt import MqttConnector, MqttSettings
from twinsync.service import TwinService

from .conftest import SENSORS, stored_pairs
from .mqtt_helpers import publish, wait_until


def settings(run_id: str, broker: tuple[str, int], **options: object) -> MqttSettings:
    host, port = broker
    options.setdefault("topics", [f"test/{run_id}/{{building}}/{{sensor_id}}"])
    options.setdefault("name", f"m-{run_id}")
    # Short session expiry: test sessions must not pile up in the broker.
    return MqttSettings(host=host, port=port, session_expiry=60, linger=0.01,
                        **options)  # type: ignore[arg-type]


async def test_qos_1_readings_arrive_with_the_sensor_id_from_the_topic(
        service: TwinService, mqtt_broker: tuple[str, int], run_id: str) -> None:
    connector = MqttConnector(settings(run_id, mqtt_broker, qos=1))
    await service.start_connector(connector)
    messages = [(f"test/{run_id}/b1/{SENSORS[i % 10]}", orjson.dumps({"v": i, "seq": i // 10}))
                for i in range(500)]
    await asyncio.to_thread(publish, *mqtt_broker, messages, 1)
    assert await wait_until(lambda: service.store.counts()["readings"] == 500)
    assert sorted(stored_pairs(service.store)) == sorted((SENSORS[i % 10], i // 10)
                                                     for i in range(500))
    health = connector.health().to_dict()
    assert health["connected"] and health["messages"] == 500
    assert service.pipeline.counts["lost"] == 0
    await service.stop_connector(connector.name)


async def test_qos_0_and_mqtt_3_1_1_deliver_bare_numbers_and_senml(
        service: TwinService, mqtt_broker: tuple[str, int], run_id: str) -> None:
    connector = MqttConnector(settings(run_id, mqtt_broker, qos=0, protocol=4))
    await service.start_connector(connector)
    senml = orjson.dumps([{"bn": "s-", "n": "1", "v": 1.0}, {"n": "2", "v": 2.0}])
    await asyncio.to_thread(publish, *mqtt_broker, [
        (f"test/{run_id}/b1/s-0", b"21.5"), (f"test/{run_id}/b1/pack", senml)], 0)
    assert await wait_until(lambda: service.store.counts()["readings"] == 3)
    await service.stop_connector(connector.name)


async def test_undecodable_payloads_become_dead_letters_with_topic_and_raw_bytes(
        service: TwinService, mqtt_broker: tuple[str, int], run_id: str) -> None:
    connector = MqttConnector(settings(run_id, mqtt_broker))
    await service.start_connector(connector)
    topic = f"test/{run_id}/b1/s-1"
    await asyncio.to_thread(publish, *mqtt_broker, [(topic, b"\x00\xffnot json{")])
    assert await wait_until(lambda: service.store.counts()["dead_letters"] == 1)
    [letter] = service.store.dead_letters()
    assert letter.reason == "bad_json"
    assert topic in letter.detail
    assert letter.payload == b"\x00\xffnot json{"
    assert letter.source == "b1"  # the building field names the sender
    await service.stop_connector(connector.name)


async def test_a_persistent_session_delivers_what_was_published_while_disconnected(
        service: TwinService, mqtt_broker: tuple[str, int], run_id: str) -> None:
    first = MqttConnector(settings(run_id, mqtt_broker))
    await first.start()  # subscribes: the broker now keeps the session
    await first.aclose()
    messages = [(f"test/{run_id}/b1/s-2", orjson.dumps({"v": i, "seq": i})) for i in range(300)]
    await asyncio.to_thread(publish, *mqtt_broker, messages)
    second = MqttConnector(settings(run_id, mqtt_broker))
    await service.start_connector(second)
    assert await wait_until(lambda: service.store.counts()["readings"] == 300)
    await service.stop_connector(second.name)


async def test_sequence_gaps_are_counted_once_by_the_pipeline_not_by_the_connector(
        service: TwinService, mqtt_broker: tuple[str, int], run_id: str) -> None:
    connector = MqttConnector(settings(run_id, mqtt_broker))
    await service.start_connector(connector)
    topic = f"test/{run_id}/b1/s-3"
    await asyncio.to_thread(publish, *mqtt_broker, [
        (topic, orjson.dumps({"v": 1, "seq": seq})) for seq in (0, 1, 5, 6, 6)])
    assert await wait_until(lambda: service.pipeline.counts["duplicates"] == 1)
    assert service.pipeline.counts["lost"] == 3
    health = await service.view(service.sensor_health, "s-3")
    assert (health["lost"], health["duplicates"]) == (3, 1)
    assert "lost_readings" not in connector.health().details
    await service.stop_connector(connector.name)


async def test_a_shared_subscription_splits_one_stream_between_two_connectors(
        service: TwinService, mqtt_broker: tuple[str, int], run_id: str) -> None:
    one = MqttConnector(settings(run_id, mqtt_broker, share_group=f"g{run_id}",
                                 client_id=f"one-{run_id}", name=f"one-{run_id}"))
    two = MqttConnector(settings(run_id, mqtt_broker, share_group=f"g{run_id}",
                                 client_id=f"two-{run_id}", name=f"two-{run_id}"))
    await service.start_connector(one)
    await service.start_connector(two)
    messages = [(f"test/{run_id}/b1/{SENSORS[i % 10]}", orjson.dumps({"v": i}))
                for i in range(400)]
    await asyncio.to_thread(publish, *mqtt_broker, messages)
    assert await wait_until(lambda: service.store.counts()["readings"] == 400)
    counts = (one.health().messages, two.health().messages)
    assert sum(counts) == 400 and min(counts) > 0
    await service.stop_connector(one.name)
    await service.stop_connector(two.name)


async def test_a_client_process_that_dies_is_started_again_and_nothing_is_lost(
        service: TwinService, mqtt_broker: tuple[str, int], run_id: str) -> None:
    connector = MqttConnector(settings(run_id, mqtt_broker))
    await service.start_connector(connector)
    first_pid = connector.health().details["client_pid"]
    os.kill(first_pid, signal.SIGKILL)
    # Published while no client runs: the persistent session keeps them for the next one.
    messages = [(f"test/{run_id}/b1/{SENSORS[i % 10]}", orjson.dumps({"v": i, "seq": i // 10}))
                for i in range(300)]
    await asyncio.to_thread(publish, *mqtt_broker, messages, 1)
    assert await wait_until(lambda: service.store.counts()["readings"] == 300, 20)
    details = connector.health().details
    assert details["client_pid"] not in (None, first_pid)
    assert details["connects"] == 2
    assert sorted(stored_pairs(service.store)) == sorted((SENSORS[i % 10], i // 10)
                                                     for i in range(300))
    await service.stop_connector(connector.name)


async def test_a_broker_that_is_not_there_fails_at_start(run_id: str) -> None:
    connector = MqttConnector(MqttSettings(name=run_id, port=1, connect_timeout=2))
    with pytest.raises(ConnectorError, match="cannot connect"):
        await connector.start()


async def test_poison_messages_cost_only_themselves_and_the_connector_keeps_running(
        service: TwinService, mqtt_broker: tuple[str, int], run_id: str) -> None:
    connector = MqttConnector(settings(run_id, mqtt_broker))
    await service.start_connector(connector)
    topic = f"test/{run_id}/b1/s-4"
    poison = [b'{"v": 1, "unit": 123}', b'{"v": 1, "u": ["degC"]}', b'{"v": NaN}',
              b'[{"v": 2, "seq": 1}, {"v": Infinity}]', b"\x00\xff\xfe binary junk",
              b'{"v": 1e308}', b'{"v": 1, "seq": 1.5}', b'{"v": true}',
              orjson.dumps({"id": "x" * 5000, "v": 1})]
    await asyncio.to_thread(publish, *mqtt_broker, [(topic, p) for p in poison])
    good = [(topic, orjson.dumps({"v": 20.0 + i, "seq": 10 + i})) for i in range(5)]
    await asyncio.to_thread(publish, *mqtt_broker, good)
    assert await wait_until(lambda: service.store.counts()["readings"] == 6)
    assert await wait_until(lambda: service.store.counts()["dead_letters"] == 9)
    reasons = sorted(letter.reason for letter in service.store.dead_letters())
    assert reasons == sorted(["bad_unit", "bad_unit", "not_finite", "not_finite", "bad_json",
                              "value_out_of_range", "bad_seq", "not_a_number", "id_too_long"])
    assert sorted(seq for _, seq in stored_pairs(service.store)) == [1, 10, 11, 12, 13, 14]
    health = connector.health()
    assert health.connected and health.messages == 14
    # Still consuming: a reading published after the poison ones arrives too.
    await asyncio.to_thread(publish, *mqtt_broker, [(topic, orjson.dumps({"v": 1, "seq": 99}))])
    assert await wait_until(lambda: service.store.counts()["readings"] == 7)
    await service.stop_connector(connector.name)
