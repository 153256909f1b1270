"""The publisher process of ``twinsync bench mqtt``: pre-encoded PUBLISH frames on a socket.

Run as ``python -m twinsync.bench.mqtt_publisher HOST PORT TOPIC KIND COUNT QOS WINDOW``.
It builds every frame first, prints ``ready``, waits for ``go`` on stdin, then writes the
frames as fast as the subscriber takes them: the subscriber writes its progress (messages
counted or committed) to our stdin as decimal lines, and we stay at most ``WINDOW``
messages ahead of it. Waiting is a blocking read on the pipe, so a publisher that is
ahead costs no CPU. The window keeps every message inside Mosquitto's in-flight limit for
the subscriber (MQTT 5 Receive Maximum), so nothing reaches ``max_queued_messages`` and
nothing is dropped.

QoS 1 frames carry packet ids 1..65535 in turn; the broker's PUBACKs are read and
counted by a thread, and ``published N acked M`` is printed at the end.

A process of its own (started with ``subprocess``, not ``multiprocessing``) keeps its CPU
out of the subscriber's GIL, and keeps the bench free of spawn-time re-imports.
"""

from __future__ import annotations

import socket
import struct
import sys
import threading
import uuid

import orjson

SENSORS = 100
"""Sensors ``s-0`` … ``s-99``: the bench registers these; a SenML pack holds one of each."""
CHUNK = 250


def _varlen(n: int) -> bytes:
    out = bytearray()
    while True:
        n, byte = divmod(n, 128)
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def payloads(kind: str, count: int) -> list[bytes]:
    """``single``: one JSON reading per message; ``packs``: 100-record SenML packs.

    Every reading carries a per-sensor ``seq`` so the subscriber can count gaps."""
    if kind == "single":
        return [b'{"id":"s-%d","v":%d.25,"seq":%d}' % (n % SENSORS, n, n // SENSORS)
                for n in range(count)]
    return [orjson.dumps([{"n": f"s-{k}", "v": n + k / 100, "seq": n} for k in range(SENSORS)])
            for n in range(count)]


def frames(topic: str, kind: str, count: int, qos: int) -> list[bytes]:
    encoded = struct.pack("!H", len(topic.encode())) + topic.encode()
    out = []
    for n, payload in enumerate(payloads(kind, count)):
        if qos:
            body = encoded + struct.pack("!H", n % 65535 + 1) + payload
            out.append(b"\x32" + _varlen(len(body)) + body)
        else:
            body = encoded + payload
            out.append(b"\x30" + _varlen(len(body)) + body)
    return out


class _Progress:
    """The subscriber's progress as read from stdin; ``wait_for`` blocks until it moves."""

    def __init__(self) -> None:
        self.value = 0
        self.closed = False
        self._changed = threading.Condition()

    def read(self) -> None:
        for line in sys.stdin:
            with self._changed:
                if line.strip().isdigit():
                    self.value = max(self.value, int(line))
                self._changed.notify_all()
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def wait_for(self, at_least: int) -> None:
        with self._changed:
            while self.value < at_least and not self.closed:
                self._changed.wait(1.0)


def _count_acks(connection: socket.socket, counter: list[int]) -> None:
    # Every broker → publisher packet here is a 4-byte PUBACK (or the CONNACK, read before).
    pending = b""
    while True:
        try:
            data = connection.recv(1 << 16)
        except OSError:
            return
        if not data:
            return
        pending += data
        whole = len(pending) // 4
        counter[0] += whole
        pending = pending[whole * 4:]


def main(argv: list[str]) -> None:
    host, port, topic, kind = argv[0], int(argv[1]), argv[2], argv[3]
    count, qos, window = int(argv[4]), int(argv[5]), int(argv[6])
    prepared = frames(topic, kind, count, qos)
    with socket.create_connection((host, port)) as connection:
        client_id = f"bench-pub-{uuid.uuid4().hex[:8]}".encode()
        header = struct.pack("!H", 4) + b"MQTT" + bytes([4, 0x02]) + struct.pack("!H", 60)
        body = header + struct.pack("!H", len(client_id)) + client_id
        connection.sendall(b"\x10" + _varlen(len(body)) + body)
        if connection.recv(4)[:1] != b"\x20":
            raise SystemExit("no CONNACK from the broker")
        acks = [0]
        reader = threading.Thread(target=_count_acks, args=(connection, acks), daemon=True)
        reader.start()
        progress = _Progress()
        print("ready", flush=True)
        if sys.stdin.readline().strip() != "go":
            return
        threading.Thread(target=progress.read, daemon=True).start()
        for start in range(0, count, CHUNK):
            progress.wait_for(start + CHUNK - window)
            connection.sendall(b"".join(prepared[start:start + CHUNK]))
        progress.wait_for(count)  # stay connected until the subscriber has everything
        connection.sendall(b"\xe0\x00")
        reader.join(2.0)
        print(f"published {count} acked {acks[0]}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
