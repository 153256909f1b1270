"""Kill twinsync in the middle of a QoS 1 stream, restart it: every reading is stored.

Acks go out only after the commit, so what the killed process received but had not
committed comes again from the broker's persistent session. What it had committed but
not yet acked comes again too: those are the duplicates that dedupe by (sensor, seq)
removes.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson

from twinsync.ingest.mqtt import MqttConnector, MqttSettings
from twinsync.model import Sensor
from twinsync.service import TwinService

from .conftest import stored_pairs
from .mqtt_helpers import publish, wait_until

MESSAGES = 900          # under Mosquitto's default max_queued_messages (1000)
PER_MESSAGE = 5
SENSORS = [f"k-{i}" for i in range(PER_MESSAGE)]


def messages(run_id: str) -> list[tuple[str, bytes]]:
    return [(f"kill/{run_id}/ignored",
             orjson.dumps([{"id": sensor, "v": float(n), "seq": n} for sensor in SENSORS]))
            for n in range(MESSAGES)]


async def test_a_killed_connector_loses_nothing_and_dedupe_leaves_each_reading_once(
        mqtt_broker: tuple[str, int], run_id: str, store_url: str) -> None:
    service = TwinService.open(store_url)
    for sensor_id in SENSORS:
        await service.add_sensor(Sensor(sensor_id, "strain", ""))
    await service.aclose()

    worker = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("mqtt_worker.py")), store_url,
         mqtt_broker[0], str(mqtt_broker[1]), run_id],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert worker.stdout is not None
    assert worker.stdout.readline().strip() == "ready"

    def publish_paced() -> None:
        batch = messages(run_id)
        for start in range(0, MESSAGES, 50):  # ~18 ms apart: the kill lands mid-stream
            publish(*mqtt_broker, batch[start:start + 50])
            time.sleep(0.02)

    publisher = threading.Thread(target=publish_paced)
    publisher.start()
    received_at_kill = 0
    for line in worker.stdout:
        received_at_kill = int(line)
        if received_at_kill >= MESSAGES * PER_MESSAGE // 3:
            break
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    await asyncio.to_thread(publisher.join)

    service = TwinService.open(store_url)
    stored_before_restart = len(stored_pairs(service.store))
    connector = MqttConnector(MqttSettings(
        name=f"k-{run_id}", client_id=f"kill-{run_id}", host=mqtt_broker[0],
        port=mqtt_broker[1], qos=1, topics=[f"kill/{run_id}/{{sensor_id}}"],
        session_expiry=120, linger=0.005))
    await service.start_connector(connector)
    expected = {(sensor, n) for n in range(MESSAGES) for sensor in SENSORS}
    assert await wait_until(lambda: set(stored_pairs(service.store)) >= expected, 20)
    await service.stop_connector(connector.name)
    pairs = stored_pairs(service.store)
    await service.aclose()

    published = len(expected)
    duplicates = len(pairs) - len(set(pairs))
    print(f"\nkill-and-restart: published {published}, received before kill "
          f"{received_at_kill}, stored before restart {stored_before_restart}, stored "
          f"{len(pairs)} rows, distinct {len(set(pairs))}, duplicates {duplicates}")
    assert 0 < stored_before_restart < published, "the kill did not land mid-stream"
    assert set(pairs) == expected  # every published reading, once after dedupe
