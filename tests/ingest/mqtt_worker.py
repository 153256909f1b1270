"""A twinsync process for the kill-and-restart test: a service fed by one MQTT connector.

Run as a script. It prints ``ready CLIENT_PID`` (the pid of the connector's MQTT client
process), then consumes the connector the way ``TwinService.run_connector`` does (ingest,
which commits, then ack) and prints the readings committed after each batch.
With ``TWINSYNC_TEST_KILL_AFTER_COMMIT=N`` set, the first time N readings are committed it
prints ``killing COMMITTED UNACKED`` and SIGKILLs itself right after ``service.ingest``
returned and before ``ack()``: the dangerous spot, where the store has readings whose
messages the broker will deliver again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from twinsync.ingest.mqtt import MqttConnector, MqttSettings
from twinsync.service import TwinService

KILL_AFTER_COMMIT = "TWINSYNC_TEST_KILL_AFTER_COMMIT"


async def main(store_url: str, host: str, port: int, run_id: str) -> None:
    kill_after = int(os.environ.get(KILL_AFTER_COMMIT, "0"))
    service = TwinService.open(store_url)
    connector = MqttConnector(MqttSettings(
        name=f"k-{run_id}", client_id=f"kill-{run_id}", host=host, port=port, qos=1,
        topics=[f"kill/{run_id}/{{sensor_id}}"], session_expiry=120, linger=0.005,
        max_batch_messages=50))
    await connector.start()
    print("ready", connector.health().details["client_pid"], flush=True)
    committed = 0
    async for delivery in connector.deliveries():
        result = await service.ingest(delivery.batch, delivery.dead_letters)
        committed += result.accepted
        if kill_after and committed >= kill_after:
            print(f"killing {committed} {result.accepted}", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        if delivery.ack is not None:
            await delivery.ack()
        print(committed, flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
