"""A twinsync process for the kill-and-restart test: a service with one MQTT connector.

Run as a script; prints the connector's received-readings count every 10 ms so the test
knows when the stream is under way and can kill this process in the middle of it.
"""

from __future__ import annotations

import asyncio
import sys

from twinsync.ingest.mqtt import MqttConnector, MqttSettings
from twinsync.service import TwinService


async def main(store_url: str, host: str, port: int, run_id: str) -> None:
    service = TwinService.open(store_url)
    connector = MqttConnector(MqttSettings(
        name=f"k-{run_id}", client_id=f"kill-{run_id}", host=host, port=port, qos=1,
        topics=[f"kill/{run_id}/{{sensor_id}}"], session_expiry=120, linger=0.005,
        max_batch_messages=50))
    await service.start_connector(connector)
    print("ready", flush=True)
    while True:
        print(connector.health().readings, flush=True)
        await asyncio.sleep(0.01)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
