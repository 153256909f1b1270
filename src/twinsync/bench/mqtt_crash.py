"""Broker-acknowledged readings lost when the broker is ``kill -9``-ed mid-stream.

``twinsync bench mqtt --broker-crash [--configs defaults,lossless] --json``. For each
broker configuration it starts a Mosquitto of its own (``bench.broker``: another port, a
config file and persistence under a temporary folder), a twinsync service on a temporary
SQLite store with the MQTT connector supervised as ``twinsync serve`` runs it (QoS 1,
MQTT 5, persistent session), and a publisher process (paho, QoS 1, clean session) that
sends ``--messages`` one-reading messages as fast as the broker takes them. ``--kill-after``
seconds into the stream the broker gets SIGKILL; ``--down`` seconds later it starts again
from its persistence file; the publisher reconnects and goes on (paho resends what the
broker had not acknowledged).

What counts as lost: a message the broker acknowledged to the publisher (PUBACK seen,
``is_published()``) whose reading is not in the store at the end. The publisher prints the
acknowledged message numbers; the store is read back through ``Store.history``. Also
reported: readings stored twice, what the connector's own counters (received, acked,
sequence gaps) say, and how long the run took.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

from ..ingest.mqtt import MqttConnector, MqttSettings
from ..model import Sensor
from ..service import TwinService
from .broker import LOSSLESS, MOSQUITTO_DEFAULTS, Mosquitto

SENSORS = 100
CONFIGS: dict[str, dict[str, object]] = {
    "defaults": MOSQUITTO_DEFAULTS,
    "queue100k": {"max_queued_messages": 100_000, "max_inflight_messages": 0},
    "unlimited": {"max_queued_messages": 0, "max_queued_bytes": 0,
                  "max_inflight_messages": 0},
    "on_changes": {"max_queued_messages": 0, "max_queued_bytes": 0,
                   "max_inflight_messages": 0, "autosave_interval": 1,
                   "autosave_on_changes": "true"},
    "lossless": LOSSLESS,
}
"""Broker settings measured, beyond ``persistence true`` (always on)."""
IDLE_SECONDS = 8.0
"""The run ends once nothing new has been stored for this long after the publisher ended."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--configs", default="defaults,queue100k,unlimited,on_changes,lossless",
                        help=f"broker configurations to run, of {sorted(CONFIGS)}")
    parser.add_argument("--kill-after", type=float, default=3.0,
                        help="seconds into the stream when the broker is killed (default 3)")
    parser.add_argument("--down", type=float, default=1.0,
                        help="seconds the killed broker stays down (default 1)")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="messages/s the publisher sends (default 0: as fast as the "
                             "broker takes them, a burst twinsync cannot keep up with)")


# -- the publisher process ------------------------------------------------------------------

def publish_main(host: str, port: int, topic: str, count: int, rate: float) -> None:
    """Publish ``count`` messages QoS 1 (``rate`` a second, 0: at once) through broker
    restarts; print which were acknowledged."""
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    client = paho.Client(CallbackAPIVersion.VERSION2,
                         client_id=f"crash-pub-{uuid.uuid4().hex[:8]}")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.reconnect_delay_set(1, 1)
    client.connect(host, port)
    client.loop_start()
    print("ready", flush=True)
    infos = []
    started = time.monotonic()
    for n in range(count):
        if rate > 0 and n % 100 == 0:
            time.sleep(max(0.0, started + n / rate - time.monotonic()))
        payload = orjson.dumps({"v": float(n), "seq": n // SENSORS})
        infos.append(client.publish(topic.replace("+", f"s-{n % SENSORS}"), payload, qos=1))
    print("sent", flush=True)
    def acknowledged(info: paho.MQTTMessageInfo) -> bool:
        # A message published while the broker was down has rc NO_CONN, yet paho keeps
        # it and sends it after the reconnect: what counts is whether a PUBACK came.
        # ``_published`` is what ``is_published()`` returns once rc is not looked at.
        with info._condition:
            return bool(info._published)

    deadline = time.monotonic() + 60.0
    while time.monotonic() < deadline and not all(acknowledged(i) for i in infos[-1000:]):
        time.sleep(0.1)
    time.sleep(1.0)  # the last PUBACKs of earlier messages
    acked = [n for n, info in enumerate(infos) if acknowledged(info)]
    client.loop_stop()
    print(json.dumps({"acked": acked}), flush=True)


# -- one run --------------------------------------------------------------------------------

async def _run_config(args: argparse.Namespace, name: str, folder: Path) -> dict[str, Any]:
    broker = Mosquitto(folder / name, options=CONFIGS[name])
    broker.start()
    run_id = uuid.uuid4().hex[:8]
    service = TwinService.open(f"sqlite:///{folder / (name + '.sqlite')}")
    publisher: subprocess.Popen[str] | None = None
    try:
        for k in range(SENSORS):
            await service.add_sensor(Sensor(f"s-{k}", "temperature", "degC"))
        connector = MqttConnector(MqttSettings(
            name=f"crash-{run_id}", host="127.0.0.1", port=broker.port, qos=1,
            topics=[f"crash/{run_id}/{{sensor_id}}"], session_expiry=3600,
            reconnect_min=1, reconnect_max=2))
        await service.start_connector(connector)
        publisher = subprocess.Popen(
            [sys.executable, "-m", "twinsync.bench.mqtt_crash", "127.0.0.1",
             str(broker.port), f"crash/{run_id}/+", str(args.messages), str(args.rate)],
            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        assert publisher.stdout is not None
        if publisher.stdout.readline().strip() != "ready":
            raise RuntimeError("the crash bench's publisher did not start")
        started = time.monotonic()
        await asyncio.sleep(args.kill_after)
        stored_at_kill = service.store.counts()["readings"]
        broker.kill()
        await asyncio.sleep(args.down)
        broker.start(timeout=60.0)
        restarted_after = time.monotonic() - started
        out = await asyncio.to_thread(publisher.stdout.read)
        publisher.wait()
        acked = set(json.loads(out.strip().splitlines()[-1])["acked"])
        seen, quiet_since = -1, time.monotonic()
        while time.monotonic() - quiet_since < IDLE_SECONDS:
            count = service.store.counts()["readings"]
            if count != seen:
                seen, quiet_since = count, time.monotonic()
            await asyncio.sleep(0.25)
        elapsed = time.monotonic() - started
        stored = _stored_messages(service)
        [health] = [h for h in service.connector_health() if h.name == connector.name]
        distinct = set(stored)
        lost = acked - distinct
        return {
            "config": name, "options": CONFIGS[name], "published": args.messages,
            "broker_acked": len(acked), "stored_at_kill": stored_at_kill,
            "stored_distinct": len(distinct), "stored_twice": len(stored) - len(distinct),
            "lost_acked": len(lost),
            "lost_acked_percent": round(100.0 * len(lost) / max(len(acked), 1), 2),
            "stored_not_acked": len(distinct - acked),
            "lost_ranges": _ranges(sorted(lost))[:10],
            "dead_letters": service.store.counts()["dead_letters"],
            "duplicates_dropped": int(service.pipeline.counts["duplicates"]),
            "connector": {"state": health.state, "restarts": health.restarts,
                          "rejected_deliveries": health.rejected_deliveries,
                          "received_messages": health.details.get("received_messages"),
                          "acked_messages": health.details.get("acked_messages"),
                          "connects": health.details.get("connects")},
            # Gaps in the sequence numbers, counted by the pipeline for every transport.
            "sequence_gaps": int(service.pipeline.counts["lost"]),
            "broker_back_after_s": round(restarted_after, 2),
            "broker_saves": broker.log_count("Saving in-memory database"),
            "broker_save_errors": broker.log_count("Error saving"),
            "seconds": round(elapsed, 1),
        }
    finally:
        if publisher is not None and publisher.poll() is None:
            publisher.kill()
            publisher.wait()
        await service.aclose()
        broker.kill()


def _ranges(numbers: list[int]) -> list[list[int]]:
    """Contiguous runs of message numbers, ``[first, last]`` each."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and runs[-1][1] == n - 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return runs


def _stored_messages(service: TwinService) -> list[int]:
    """The message number of every stored reading (sensor k, seq q → message q·100 + k)."""
    numbers: list[int] = []
    for k in range(SENSORS):
        history = service.store.history(service.sensor_row(f"s-{k}"), 0.0, math.inf,
                                        limit=10_000_000)
        numbers += [int(seq) * SENSORS + k for seq in history.seq.tolist()]
    return numbers


async def _warm_up() -> None:
    """One small batch through a throw-away service: the pipeline's compiled passes are
    built on first use, and the first configuration must not pay for them mid-run."""
    from ..pipeline import IncomingBatch, RawReading

    with tempfile.TemporaryDirectory(prefix="twinsync-crash-warm-") as folder:
        service = TwinService.open(f"sqlite:///{Path(folder) / 'warm.sqlite'}")
        try:
            await service.add_sensor(Sensor("s-0", "temperature", "degC"))
            now = time.time()
            await service.ingest(IncomingBatch(
                [RawReading("s-0", float(n), now - 10 + n, None, n) for n in range(10)],
                "warm", now, "mqtt"))
        finally:
            await service.aclose()


def run(args: argparse.Namespace) -> dict[str, Any]:
    names = [name.strip() for name in args.configs.split(",") if name.strip()]
    unknown = sorted(set(names) - set(CONFIGS))
    if unknown:
        raise SystemExit(f"unknown --configs {unknown}; known: {sorted(CONFIGS)}")
    from ..health import warm_up

    warm_up()  # compile the health kernels now, not in the first batch of a run
    asyncio.run(_warm_up())
    runs = []
    with tempfile.TemporaryDirectory(prefix="twinsync-crash-") as folder:
        # mosquitto, started as root, runs as its own user: it must reach its folder.
        Path(folder).chmod(0o755)
        for name in names:
            runs.append(asyncio.run(_run_config(args, name, Path(folder))))
    return {"scenario": "broker kill -9 mid-stream, QoS 1, persistent session",
            "messages": args.messages, "kill_after_s": args.kill_after,
            "down_s": args.down, "publish_rate": args.rate or "burst", "runs": runs,
            "mosquitto": _mosquitto_version(),
            "load_average_1min_after": round(os.getloadavg()[0], 2)}


def _mosquitto_version() -> str:
    try:
        out = subprocess.run(["mosquitto", "-h"], capture_output=True, text=True,
                             timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.splitlines()[0] if out else "unknown"


if __name__ == "__main__":
    publish_main(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]),
                 float(sys.argv[5]))
