"""Readings/s from the real Mosquitto into the store, next to the broker's raw rate.

Three runs against the same broker, each fed by a publisher in its own process (so its
CPU does not share the subscriber's GIL) that writes pre-encoded MQTT 3.1.1 PUBLISH
frames on a socket:

1. raw: a paho subscriber, driven exactly like the connector's, that only counts;
2. one reading per message: the MQTT connector → ``TwinService.ingest`` (validation,
   commit to SQLite, live state) → ack;
3. 100 readings per message as a SenML pack, same path.

The publisher stays at most ``--window`` messages ahead of what the subscriber has
counted (or committed): Mosquitto drops QoS 0 messages for a subscriber that falls
behind, and a rate measured over dropped messages would flatter nobody. Lost readings
(sequence gaps) are reported anyway.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import socket
import struct
import tempfile
import threading
import time
import uuid
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as paho

from ..ingest.mqtt import MqttConnector, MqttSettings
from ..model import Sensor
from ..service import TwinService

SENSORS = 100


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--messages", type=int, default=200_000,
                        help="messages for the raw and one-reading runs (default 200,000)")
    parser.add_argument("--packs", type=int, default=3_000,
                        help="SenML packs of 100 readings for the batched run (default 3,000)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--window", type=int, default=2_000,
                        help="messages the publisher may run ahead of the subscriber")


# -- the publisher process ------------------------------------------------------------------

def _varlen(n: int) -> bytes:
    out = bytearray()
    while True:
        n, byte = divmod(n, 128)
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _frame(topic: bytes, payload: bytes) -> bytes:
    body = struct.pack("!H", len(topic)) + topic + payload
    return b"\x30" + _varlen(len(body)) + body


def _payloads(kind: str, count: int) -> list[bytes]:
    if kind == "single":
        return [b'{"id":"s-%d","v":%d.25,"seq":%d}' % (n % SENSORS, n, n // SENSORS)
                for n in range(count)]
    return [orjson.dumps([{"n": f"s-{k}", "v": n + k / 100, "seq": n} for k in range(SENSORS)])
            for n in range(count)]


def _publish(host: str, port: int, topic: str, kind: str, count: int, window: int,
             done: Synchronized) -> None:  # type: ignore[type-arg]
    frames = [_frame(topic.encode(), p) for p in _payloads(kind, count)]
    unit = SENSORS if kind == "packs" else 1  # the subscriber counts readings
    with socket.create_connection((host, port)) as connection:
        client_id = f"bench-pub-{uuid.uuid4().hex[:8]}".encode()
        header = struct.pack("!H", 4) + b"MQTT" + bytes([4, 0x02]) + struct.pack("!H", 60)
        body = header + struct.pack("!H", len(client_id)) + client_id
        connection.sendall(b"\x10" + _varlen(len(body)) + body)
        connection.recv(4)
        step = 200
        for start in range(0, count, step):
            while start - done.value // unit > window:
                time.sleep(0.0002)
            connection.sendall(b"".join(frames[start:start + step]))
        connection.sendall(b"\xe0\x00")


def _start_publisher(args: argparse.Namespace, topic: str, kind: str, count: int,
                     done: Synchronized) -> mp.Process:  # type: ignore[type-arg]
    process = mp.get_context("spawn").Process(
        target=_publish, args=(args.host, args.port, topic, kind, count, args.window, done),
        daemon=True)
    process.start()
    return process


# -- the runs -------------------------------------------------------------------------------

def _raw(args: argparse.Namespace, count: int) -> dict[str, Any]:
    """The broker's rate to a paho subscriber that only counts."""
    topic = f"bench/{uuid.uuid4().hex[:8]}/raw"
    done = mp.get_context("spawn").Value("q", 0, lock=False)
    state = {"n": 0, "first": 0.0, "last": 0.0}
    finished = threading.Event()

    def on_message(client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        n = state["n"] = state["n"] + 1
        if n == 1:
            state["first"] = time.perf_counter()
        if n % 100 == 0 or n == count:
            done.value = n
            state["last"] = time.perf_counter()
            if n == count:
                finished.set()

    client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    client.on_message = on_message
    client.connect(args.host, args.port)
    client.subscribe(topic, 0)
    client.loop_start()
    time.sleep(0.3)
    publisher = _start_publisher(args, topic, "single", count, done)
    finished.wait(120)
    client.loop_stop()
    client.disconnect()
    publisher.join(5)
    elapsed = state["last"] - state["first"]
    return {"messages": state["n"], "rate": state["n"] / elapsed if elapsed else 0.0}


async def _pipeline(args: argparse.Namespace, kind: str, count: int) -> dict[str, Any]:
    """Messages through the connector and the service into a SQLite store."""
    with tempfile.TemporaryDirectory(prefix="twinsync-bench-") as folder:
        service = TwinService.open(f"sqlite:///{Path(folder) / 'bench.sqlite'}")
        for k in range(SENSORS):
            await service.add_sensor(Sensor(f"s-{k}", "temperature", "degC"))
        run = uuid.uuid4().hex[:8]
        connector = MqttConnector(MqttSettings(
            name=f"bench-{run}", host=args.host, port=args.port, qos=0, persistent=False,
            topics=[f"bench/{run}/{{series}}"], payload_format="json" if kind == "single"
            else "senml"))
        await connector.start()
        done = mp.get_context("spawn").Value("q", 0, lock=False)
        total = count * (SENSORS if kind == "packs" else 1)
        publisher = _start_publisher(args, f"bench/{run}/{kind}", kind, count, done)
        committed = 0
        first = last = 0.0
        cpu = time.process_time()
        try:
            async with asyncio.timeout(180):
                async for delivery in connector.deliveries():
                    result = await service.ingest(delivery.batch, delivery.dead_letters)
                    if delivery.ack is not None:
                        await delivery.ack()
                    if not first:
                        first = time.perf_counter()
                    committed += result.accepted
                    done.value = committed
                    last = time.perf_counter()
                    if committed + connector.health().details["lost_readings"] >= total:
                        break
        except TimeoutError:
            pass
        cpu = time.process_time() - cpu
        health = connector.health()
        await connector.aclose()
        await service.aclose()
        publisher.join(5)
    elapsed = last - first
    return {"readings": committed, "rate": committed / elapsed if elapsed else 0.0,
            "lost": health.details["lost_readings"],
            "cpu_us_per_reading": round(1e6 * cpu / max(committed, 1), 1)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    raw = _raw(args, args.messages)
    single = asyncio.run(_pipeline(args, "single", args.messages))
    packs = asyncio.run(_pipeline(args, "packs", args.packs))
    return {
        "client": f"paho-mqtt {paho.__version__ if hasattr(paho, '__version__') else ''}".strip(),
        "raw_broker_msgs_per_s": round(raw["rate"]),
        "one_per_message_readings_per_s": round(single["rate"]),
        "one_per_message_ratio": round(single["rate"] / raw["rate"], 2) if raw["rate"] else None,
        "one_per_message_lost": single["lost"],
        "one_per_message_cpu_us": single["cpu_us_per_reading"],
        "senml_100_readings_per_s": round(packs["rate"]),
        "senml_100_lost": packs["lost"],
        "senml_100_cpu_us": packs["cpu_us_per_reading"],
        "goals": "one-per-message >= 0.70 of raw; SenML batched >= 100,000 readings/s",
    }
