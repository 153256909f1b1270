"""Helpers for the MQTT tests: a plain paho publisher and polling."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

import paho.mqtt.client as paho


def publish(host: str, port: int, messages: Iterable[tuple[str, bytes]], qos: int = 1,
            client_id: str = "") -> int:
    """Publish and wait until the broker has every QoS 1 message; returns the count."""
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect(host, port)
    client.loop_start()
    infos = [client.publish(topic, payload, qos=qos) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(10)
    client.disconnect()
    client.loop_stop()
    return len(infos)


async def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.05)
    return condition()
