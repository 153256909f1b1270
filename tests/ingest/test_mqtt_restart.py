"""Kill twinsync between a commit and its PUBACK, restart it: every reading stored once.

Acks go out only after the commit, so what the killed process received but had not
committed comes again from the broker's persistent session. What it had committed but
not yet acked comes again too: the restarted pipeline must recognise those by
(sensor, seq) and drop them, counted as duplicates, so the store holds each reading once.
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

import numpy as np
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


async def test_a_connector_killed_between_commit_and_ack_stores_each_reading_once(
        mqtt_broker: tuple[str, int], run_id: str, store_url: str) -> None:
    service = TwinService.open(store_url)
    for sensor_id in SENSORS:
        await service.add_sensor(Sensor(sensor_id, "strain", ""))
    await service.aclose()

    kill_after = MESSAGES * PER_MESSAGE // 3
    worker = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("mqtt_worker.py")), store_url,
         mqtt_broker[0], str(mqtt_broker[1]), run_id], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1",
             "TWINSYNC_TEST_KILL_AFTER_COMMIT": str(kill_after)})
    assert worker.stdout is not None
    ready, client_pid = worker.stdout.readline().split()
    assert ready == "ready"

    def publish_paced() -> None:
        batch = messages(run_id)
        for start in range(0, MESSAGES, 50):  # ~18 ms apart: the kill lands mid-stream
            publish(*mqtt_broker, batch[start:start + 50])
            time.sleep(0.02)

    publisher = threading.Thread(target=publish_paced)
    publisher.start()
    last_line = ""
    for line in worker.stdout:
        last_line = line.strip()
        if last_line.startswith("killing"):
            break
    assert worker.wait(10) == -signal.SIGKILL
    worker.stdout.close()
    assert last_line.startswith("killing"), last_line
    # The connector's MQTT client process must not outlive it: its stdin closed.
    assert await wait_until(lambda: not Path(f"/proc/{client_pid}").exists(), 10)
    committed_at_kill, unacked = map(int, last_line.split()[1:3])
    await asyncio.to_thread(publisher.join)

    service = TwinService.open(store_url)
    stored_before_restart = len(stored_pairs(service.store))
    rows = np.array([service.sensor_row(sensor) for sensor in SENSORS])
    max_seq = service.pipeline.sequences.max_seq
    windows_restored = len(max_seq) > rows.max() and bool((max_seq[rows] >= 0).all())
    connector = MqttConnector(MqttSettings(
        name=f"k-{run_id}", client_id=f"kill-{run_id}", host=mqtt_broker[0],
        port=mqtt_broker[1], qos=1, topics=[f"kill/{run_id}/{{sensor_id}}"],
        session_expiry=120, linger=0.005))
    await service.start_connector(connector)
    expected = {(sensor, n) for n in range(MESSAGES) for sensor in SENSORS}
    assert await wait_until(lambda: set(stored_pairs(service.store)) >= expected, 20)
    await service.stop_connector(connector.name)
    pairs = stored_pairs(service.store)
    dropped = service.pipeline.counts["duplicates"]
    await service.aclose()

    published = len(expected)
    print(f"\nkill-and-restart: published {published}, committed before the kill "
          f"{committed_at_kill} ({unacked} of them unacked), stored before restart "
          f"{stored_before_restart}, stored after {len(pairs)} rows, distinct "
          f"{len(set(pairs))}, duplicates dropped by the pipeline {dropped}, windows "
          f"restored {windows_restored}")
    assert stored_before_restart == committed_at_kill  # the kill came after the commit
    assert 0 < committed_at_kill < published, "the kill did not land mid-stream"
    assert set(pairs) == expected  # nothing lost
    # The service rebuilt each sensor's sequence window from the store on start.
    assert windows_restored
    assert len(pairs) == published  # each reading exactly once
    assert dropped >= unacked  # the unacked batch came again and was dropped
