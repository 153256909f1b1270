"""The MQTT connector's client process: paho-mqtt, batching, and PUBACKs on request.

Run as ``python -m twinsync.ingest.mqtt_client`` by ``MqttConnector`` (``mqtt.py``), which
writes a ``ClientOptions`` frame to our stdin and reads ``Status`` and ``Received`` frames
from our stdout (``mqtt_wire.py``).

Why a process: paho spends ~26 µs of CPU on each message (MQTT 5 packet and property
parsing in pure Python). In the connector's own process that work held the interpreter
lock against decoding, validation and the commit, so a one-reading-per-message stream ran
at the speed of their sum. Here it has an interpreter of its own, and the service's
process only decodes whole batches.

Threads: paho's network thread appends every message to an open batch, sealed when it
reaches ``max_batch_messages`` or ``max_batch_bytes``, or once its first message has
waited ``linger`` seconds. The sender thread writes sealed batches to stdout; at most
``max_pending`` sealed batches wait, then the network thread blocks and stops reading the
socket, and the broker holds the rest (QoS 1) or drops it (QoS 0, which the connector's
sequence-gap counter reports). A full pipe blocks the sender the same way, so the
connector's pace reaches the broker.

Acks: the main thread reads ``Ack`` frames and sends that batch's PUBACKs, in arrival
order, in one write. Nothing is acked otherwise. When stdin ends (the connector closed
us, or its process died) we disconnect without acking: a persistent session makes the
broker deliver the unacked messages again.
"""

from __future__ import annotations

import os
import signal
import struct
import sys
import threading
import time
from collections import deque
from typing import IO, Any, cast

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from .mqtt_wire import ClientOptions, Received, Status, frame, read_ack, read_options

# A message as the network thread keeps it: topic, payload, qos, packet id, v5 user properties.
_Message = tuple[str, bytes, int, int, Any]

_PUBACK = struct.Struct("!BBH")
_PUBACK_HEADER = 0x40  # the PUBACK packet type in the fixed header


def send_pubacks(client: paho.Client, mids: list[int]) -> None:
    """Acknowledge QoS 1 messages, in the order given, with one write.

    paho 2.2's ``ack(mid)`` queues each PUBACK as its own packet, sent with its own
    syscall, and wakes the network thread with another; at one reading per message that
    was a third of the CPU. MQTT is a byte stream, so a batch's PUBACKs (4 bytes each,
    the same in MQTT 3.1.1 and 5 for success) go as one buffer through paho's own queue,
    which handles partial writes. ``paho-mqtt`` is pinned; the ack-after-commit tests
    guard this. The bench's raw subscriber acks through here too, so both pay the same."""
    if mids:
        packet = b"".join([_PUBACK.pack(_PUBACK_HEADER, 2, mid) for mid in mids])
        client._packet_queue(_PUBACK_HEADER, packet, 0, 0)


class ClientProcess:
    """One paho client feeding batches to ``out`` and acking what it is told to."""

    def __init__(self, options: ClientOptions, out: IO[bytes]) -> None:
        self.options = options
        self._out = out
        self._write_lock = threading.Lock()
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)   # a batch opened, sealed, or closing
        self._space = threading.Condition(self._lock)   # a sealed batch was taken
        self._open: list[_Message] = []
        self._open_bytes = 0
        self._opened_at = 0.0
        self._sealed: deque[tuple[float, list[_Message]]] = deque()
        self._unacked: dict[int, list[int]] = {}
        self._next_batch = 0
        self._closing = False
        self._connects = 0
        self._client = self._new_client()

    def _new_client(self) -> paho.Client:
        o = self.options
        v5 = o.protocol == 5
        client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=o.client_id,
            protocol=paho.MQTTv5 if v5 else paho.MQTTv311,
            clean_session=None if v5 else not o.persistent, manual_ack=True)
        if o.username is not None:
            client.username_pw_set(o.username, o.password)
        if o.tls:
            client.tls_set(ca_certs=o.tls_ca, certfile=o.tls_cert, keyfile=o.tls_key)
            client.tls_insecure_set(o.tls_insecure)
        client.reconnect_delay_set(o.reconnect_min, o.reconnect_max)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _send(self, data: bytes) -> None:
        with self._write_lock:
            self._out.write(data)
            self._out.flush()

    def _status(self, connected: bool, subscribed: bool = False,
                error: str | None = None) -> None:
        self._send(frame(Status(connected, subscribed, self._connects, error)))

    # -- lifecycle ---------------------------------------------------------------------------

    def connect(self) -> bool:
        """Connect and start paho's thread; False (reported on stdout) if the broker is not
        there at all. Later failures are paho's to retry, with backoff."""
        o = self.options
        properties = None
        if o.protocol == 5:
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = o.session_expiry if o.persistent else 0
            # Acks wait for the commit, so the broker must let many messages be in flight.
            properties.ReceiveMaximum = o.receive_maximum
        try:
            self._client.connect(
                o.host, o.port, o.keepalive,
                clean_start=not o.persistent if o.protocol == 5
                else paho.MQTT_CLEAN_START_FIRST_ONLY,
                properties=properties)
        except (OSError, ValueError) as exc:
            self._status(False, error=f"cannot connect to {o.host}:{o.port}: {exc}")
            return False
        self._client.loop_start()
        return True

    def close(self) -> None:
        with self._lock:
            self._closing = True
            self._ready.notify_all()
            self._space.notify_all()
        self._confirm_acks()
        self._client.disconnect()
        self._client.loop_stop()

    def _confirm_acks(self, timeout: float = 2.0) -> None:
        """Wait until the broker has read our last PUBACKs, before hanging up.

        paho closes its socket right after sending DISCONNECT. With messages still unread
        on it the kernel resets the connection, and the broker drops what it had not yet
        read from us — the last batch's PUBACKs among them, so that batch came again (a
        test saw it). A PINGREQ's answer proves the broker has read everything sent
        before it: MQTT handles one connection's packets in order. paho is pinned, and
        ``_send_pingreq``/``_ping_t`` are its keepalive's own."""
        client = self._client
        if not client.is_connected():
            return
        client._send_pingreq()
        deadline = time.monotonic() + timeout
        while (client._ping_t or client._out_packet) and time.monotonic() < deadline:
            time.sleep(0.002)

    # -- paho's network thread ---------------------------------------------------------------

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any,
                    properties: Any) -> None:
        if reason.is_failure:
            self._status(False, error=f"connection refused: {reason}")
            return
        self._connects += 1
        self._status(True)
        client.subscribe([(f, self.options.qos) for f in self.options.filters])

    def _on_subscribe(self, client: paho.Client, userdata: Any, mid: int, reasons: Any,
                      properties: Any) -> None:
        failed = [str(r) for r in reasons if r.is_failure]
        if failed:
            self._status(True, error=f"subscription refused: {failed}")
        else:
            self._status(True, subscribed=True)

    def _on_disconnect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any,
                       properties: Any) -> None:
        if not self._closing:
            self._status(False, error=f"disconnected: {reason}; reconnecting")

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        properties = message.properties
        user = getattr(properties, "UserProperty", None) if properties is not None else None
        payload = cast(bytes, message.payload)  # received payloads are bytes
        with self._lock:
            if not self._open:
                self._opened_at = time.monotonic()
                self._ready.notify()  # the sender learns when this batch's linger ends
            self._open.append((message.topic, payload, message.qos, message.mid, user))
            self._open_bytes += len(payload)
            o = self.options
            if len(self._open) < o.max_batch_messages and self._open_bytes < o.max_batch_bytes:
                return
            self._seal_locked()
            # Backpressure: block the network thread, so paho stops reading the socket.
            while len(self._sealed) > o.max_pending and not self._closing:
                self._space.wait(0.5)

    def _seal_locked(self) -> None:
        if self._open:
            self._sealed.append((time.time(), self._open))
            self._open = []
            self._open_bytes = 0
            self._ready.notify()

    # -- the sender thread -------------------------------------------------------------------

    def send_batches(self) -> None:
        """Write each sealed batch to stdout, oldest first, until closing."""
        linger = self.options.linger
        while True:
            with self._lock:
                while not self._sealed:
                    if self._closing:
                        return
                    wait = None
                    if self._open:
                        # A partial batch waits out its linger: sealing whatever was open
                        # at every turn made batches of ~15 messages whose fixed cost (a
                        # commit, a thread hand-off) outweighed their readings.
                        wait = self._opened_at + linger - time.monotonic()
                        if wait <= 0:
                            self._seal_locked()
                            break
                    self._ready.wait(wait)
                received_at, messages = self._sealed.popleft()
                self._space.notify()
                batch = self._next_batch
                self._next_batch += 1
                mids = [message[3] for message in messages if message[2]]
                if mids:
                    self._unacked[batch] = mids
            users = [message[4] for message in messages]
            self._send(frame(Received(
                batch, received_at, [message[0] for message in messages],
                [message[1] for message in messages],
                users if any(user is not None for user in users) else None)))

    # -- the main thread ---------------------------------------------------------------------

    def ack(self, batch: int) -> None:
        with self._lock:
            mids = self._unacked.pop(batch, None)
        if mids:
            send_pubacks(self._client, mids)


def main() -> int:
    # Ctrl-C reaches the whole process group: we stop when the connector closes our stdin,
    # not before, so its last commits can still be acked.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    options = read_options(stdin)
    if options is None:
        return 2
    process = ClientProcess(options, stdout)
    if not process.connect():
        return 1
    sender = threading.Thread(target=process.send_batches, name="mqtt-sender", daemon=True)
    sender.start()
    try:
        while (ack := read_ack(stdin)) is not None:
            process.ack(ack.batch)
    finally:
        process.close()
    return 0


if __name__ == "__main__":
    code = main()
    # Not sys.exit: the sender thread may sit in a write to a pipe nobody reads any more,
    # holding stdout's lock, and the interpreter's shutdown would wait on it. Every frame
    # was flushed when it was written.
    os._exit(code)
