"""Readings/s from the real Mosquitto into the store, next to the broker's raw rate.

Each round has three runs against the same broker, all fed the same way by a publisher
process (``twinsync.bench.mqtt_publisher``, started with ``subprocess``):

1. raw: a paho subscriber (the same paho-mqtt, MQTT 5, QoS, Receive Maximum and PUBACK
   bursts as the connector) that only counts;
2. one reading per message: the MQTT connector (its paho client in a process of its own,
   as ``twinsync serve`` runs it) → ``TwinService.ingest`` (validation, sensor health,
   commit to SQLite, live state) → ack → PUBACK; CPU per reading counts both processes;
3. 100 readings per message as a SenML pack, same path.

The publisher writes as fast as the subscriber takes messages: the subscriber reports
its progress (counted, or committed) on the publisher's stdin and the publisher stays at
most ``--window`` readings ahead. With QoS 1 and MQTT 5 that window sits inside the
broker's in-flight allowance for the subscriber, so Mosquitto never queues past
``max_queued_messages`` and drops nothing; loss is still checked (messages missing, and
sequence gaps per sensor in the connector) and reported. ``--rounds 3`` repeats the
three runs and reports medians; ``--profile FILE`` writes a cProfile of the consumer's
one-reading run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from importlib.metadata import version
from pathlib import Path
from typing import IO, Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ..ingest.mqtt import MqttConnector, MqttSettings
from ..ingest.mqtt_client import send_pubacks
from ..model import Sensor
from ..service import TwinService
from . import mqtt_crash
from .mqtt_publisher import SENSORS

IDLE_SECONDS = 5.0
"""A run ends when everything arrived, or when nothing has arrived for this long."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--messages", type=int, default=200_000,
                        help="messages for the raw and one-reading runs (default 200,000)")
    parser.add_argument("--packs", type=int, default=3_000,
                        help="SenML packs of 100 readings for the batched run (default 3,000)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--qos", type=int, choices=(0, 1), default=1)
    parser.add_argument("--window", type=int, default=None,
                        help="readings the publisher may run ahead of the subscriber "
                             "(default 30,000 at QoS 1, 800 at QoS 0)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat the three runs and report medians (default 1)")
    parser.add_argument("--profile", metavar="FILE", default=None,
                        help="write a cProfile of the consumer in the one-reading run")
    parser.add_argument("--broker-crash", action="store_true",
                        help="instead: kill -9 a broker of our own mid-stream and count "
                             "the broker-acknowledged readings lost (bench/mqtt_crash.py)")
    mqtt_crash.add_arguments(parser)


# -- the publisher process -----------------------------------------------------------------

class _Publisher:
    """The publisher subprocess: ready once its frames are built, paced by our progress."""

    def __init__(self, args: argparse.Namespace, topic: str, kind: str, count: int) -> None:
        per_message = SENSORS if kind == "packs" else 1
        window = max(1, _window(args) // per_message)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "twinsync.bench.mqtt_publisher", args.host,
             str(args.port), topic, kind, str(count), str(args.qos), str(window)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self._stdin: IO[str] = self.process.stdin  # type: ignore[assignment]
        self._stdout: IO[str] = self.process.stdout  # type: ignore[assignment]
        if self._stdout.readline().strip() != "ready":
            self.process.kill()
            raise RuntimeError("the bench publisher did not start")
        self._lock = threading.Lock()

    def go(self) -> None:
        self._stdin.write("go\n")
        self._stdin.flush()

    def progress(self, messages: int) -> None:
        with self._lock:
            try:
                self._stdin.write(f"{messages}\n")
                self._stdin.flush()
            except (BrokenPipeError, ValueError):
                pass

    def finish(self) -> int:
        """Close the feedback pipe; the count of PUBACKs the broker sent (QoS 1)."""
        with self._lock, contextlib.suppress(OSError):
            self._stdin.close()
        timer = threading.Timer(10.0, self.process.kill)  # a stuck publisher must not hang us
        timer.start()
        out = self._stdout.read()
        timer.cancel()
        self.process.wait()
        words = out.split()
        return int(words[-1]) if len(words) >= 4 and words[-4] == "published" else -1


def _window(args: argparse.Namespace) -> int:
    if args.window is not None:
        return int(args.window)
    return 30_000 if args.qos else 800


# -- the runs -------------------------------------------------------------------------------

def _raw(args: argparse.Namespace, count: int) -> dict[str, Any]:
    """The broker's rate to a paho subscriber that only counts."""
    topic = f"bench/{uuid.uuid4().hex[:8]}/raw"
    publisher = _Publisher(args, topic, "single", count)
    state: dict[str, Any] = {"n": 0, "first": 0.0, "last": 0.0}
    finished = threading.Event()
    report_every = 500

    unacked: list[int] = []

    def on_message(client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        n = state["n"] = state["n"] + 1
        if message.qos:
            unacked.append(message.mid)
        if n % report_every == 0 or n == count:
            # Acks go out in bursts, as the connector sends them after each commit, and
            # through the same one-write helper, so both pay the same for them.
            send_pubacks(client, unacked)
            unacked.clear()
            state["last"] = time.perf_counter()
            publisher.progress(n)
            if n == count:
                finished.set()

    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5,
                         manual_ack=True)
    client.on_message = on_message
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.ReceiveMaximum = 65_535  # as the connector asks
    client.connect(args.host, args.port, properties=properties)
    client.subscribe(topic, args.qos)
    client.loop_start()
    time.sleep(0.3)
    cpu = time.process_time()
    state["first"] = time.perf_counter()
    publisher.go()
    seen = -1
    while not finished.wait(IDLE_SECONDS) and state["n"] != seen:
        seen = state["n"]
    cpu = time.process_time() - cpu
    client.loop_stop()
    client.disconnect()
    acked = publisher.finish()
    elapsed = state["last"] - state["first"]
    return {"messages": state["n"], "rate": state["n"] / elapsed if elapsed else 0.0,
            "missing": count - state["n"], "broker_acked": acked,
            "cpu_us": round(1e6 * cpu / max(state["n"], 1), 1)}


async def _pipeline(args: argparse.Namespace, kind: str, count: int,
                    profile: cProfile.Profile | None = None) -> dict[str, Any]:
    """Messages through the connector and the service into a SQLite store."""
    per_message = SENSORS if kind == "packs" else 1
    total = count * per_message
    with tempfile.TemporaryDirectory(prefix="twinsync-bench-") as folder:
        service = TwinService.open(f"sqlite:///{Path(folder) / 'bench.sqlite'}")
        for k in range(SENSORS):
            await service.add_sensor(Sensor(f"s-{k}", "temperature", "degC"))
        run = uuid.uuid4().hex[:8]
        connector = MqttConnector(MqttSettings(
            name=f"bench-{run}", host=args.host, port=args.port, qos=args.qos,
            persistent=False, topics=[f"bench/{run}/{{series}}"],
            payload_format="json" if kind == "single" else "senml"))
        await connector.start()
        publisher = _Publisher(args, f"bench/{run}/{kind}", kind, count)
        committed = 0
        last = 0.0
        # The connector's MQTT client runs in a process of its own: its CPU counts too.
        client_pid = connector.health().details["client_pid"]
        client_before = _process_cpu(client_pid)
        cpu = time.process_time()
        threads_before = _thread_cpu()
        first = time.perf_counter()
        publisher.go()
        if profile is not None:
            profile.enable()
        deliveries = connector.deliveries()
        try:
            # Gaps in the sequence numbers are counted by the pipeline, once.
            while committed + service.pipeline.counts["lost"] < total:
                try:
                    delivery = await asyncio.wait_for(anext(deliveries), IDLE_SECONDS)
                except (TimeoutError, StopAsyncIteration):
                    break
                result = await service.ingest(delivery.batch, delivery.dead_letters)
                if delivery.ack is not None:
                    await delivery.ack()
                committed += result.accepted
                last = time.perf_counter()
                publisher.progress(committed // per_message)
        finally:
            if profile is not None:
                profile.disable()
            cpu = time.process_time() - cpu
            threads = {name: seconds - threads_before.get(name, 0.0)
                       for name, seconds in _thread_cpu().items()}
            threads["client process"] = _process_cpu(client_pid) - client_before
            cpu += threads["client process"]
            duplicates = service.pipeline.counts["duplicates"]
            lost = service.pipeline.counts["lost"]
            close = getattr(deliveries, "aclose", None)
            if close is not None:
                await close()
            await connector.aclose()
            await service.aclose()
            acked = publisher.finish()
    elapsed = last - first
    return {"readings": committed, "rate": committed / elapsed if elapsed else 0.0,
            "missing": total - committed, "lost": lost,
            "duplicates": duplicates, "broker_acked": acked,
            "cpu_us_per_reading": round(1e6 * cpu / max(committed, 1), 2),
            "cpu_us_by_thread": {name: round(1e6 * seconds / max(committed, 1), 1)
                                 for name, seconds in sorted(threads.items())
                                 if seconds > 0}}


def _stat_cpu(stat: Path) -> float:
    """User + system CPU seconds from a ``/proc`` ``stat`` file; OSError etc. if unreadable."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks


def _process_cpu(pid: int) -> float:
    """CPU seconds of a whole process so far (Linux only; else 0)."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        return _stat_cpu(Path(f"/proc/{pid}/stat"))
    return 0.0


def _thread_cpu() -> dict[str, float]:
    """CPU seconds per thread of this process, by thread name (Linux only; else empty)."""
    names = {thread.native_id: thread.name.split("-")[0].rstrip("0123456789_")
             for thread in threading.enumerate()}
    out: dict[str, float] = {}
    with contextlib.suppress(OSError):
        for task in Path("/proc/self/task").iterdir():
            with contextlib.suppress(OSError, IndexError, ValueError):
                name = names.get(int(task.name), "other")
                out[name] = out.get(name, 0.0) + _stat_cpu(task / "stat")
    return out


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(run[key] for run in runs))


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.broker_crash:
        return mqtt_crash.run(args)
    raws, singles, packs, ratios = [], [], [], []
    # Other work on the machine moves these figures a lot (2 cores for publisher, broker
    # and subscriber): the 1-minute load average before each round says how quiet it was.
    loads: list[float] = []
    profile = cProfile.Profile() if args.profile else None
    for round_number in range(args.rounds):
        loads.append(round(os.getloadavg()[0], 2))
        raw = _raw(args, args.messages)
        single = asyncio.run(_pipeline(args, "single", args.messages,
                                       profile if round_number == 0 else None))
        raws.append(raw)
        singles.append(single)
        ratios.append(single["rate"] / raw["rate"] if raw["rate"] else 0.0)
        packs.append(asyncio.run(_pipeline(args, "packs", args.packs)))
    if profile is not None:
        profile.dump_stats(args.profile)
    return {
        "client": f"paho-mqtt {version('paho-mqtt')}",
        "qos": args.qos,
        "window_readings": _window(args),
        "rounds": args.rounds,
        "raw_broker_msgs_per_s": round(_median(raws, "rate")),
        "raw_cpu_us_per_msg": _median(raws, "cpu_us"),
        "raw_missing": sum(r["missing"] for r in raws),
        "one_per_message_readings_per_s": round(_median(singles, "rate")),
        "one_per_message_ratio": round(statistics.median(ratios), 2),
        "one_per_message_cpu_us": _median(singles, "cpu_us_per_reading"),
        "one_per_message_cpu_us_by_thread": singles[-1]["cpu_us_by_thread"],
        "one_per_message_missing": sum(r["missing"] for r in singles),
        "one_per_message_lost": sum(r["lost"] for r in singles),
        "one_per_message_duplicates": sum(r["duplicates"] for r in singles),
        "senml_100_readings_per_s": round(_median(packs, "rate")),
        "senml_100_cpu_us": _median(packs, "cpu_us_per_reading"),
        "senml_100_cpu_us_by_thread": packs[-1]["cpu_us_by_thread"],
        "senml_100_missing": sum(r["missing"] for r in packs),
        "senml_100_lost": sum(r["lost"] for r in packs),
        "load_average_1min": {"before_each_round": loads,
                              "after": round(os.getloadavg()[0], 2)},
        "per_round": {"raw": [round(r["rate"]) for r in raws],
                      "one_per_message": [round(r["rate"]) for r in singles],
                      "ratio": [round(r, 2) for r in ratios],
                      "senml_100": [round(r["rate"]) for r in packs]},
        "goals": "one-per-message >= 0.70 of raw; SenML batched >= 100,000 readings/s",
    }
