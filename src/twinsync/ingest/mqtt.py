"""The MQTT connector: subscribe with topic templates, decode, hand over batches, ack late.

Client library: paho-mqtt 2.x, chosen by measuring on this project's 2-core machine
(docs/INGEST.md): gmqtt costs ~5.6 µs of CPU per message against paho's ~17 µs, but gmqtt
forces PUBACK on receipt below MQTT 5, acks late only by running one task per message, and
has no way to stop reading its socket. paho acks by hand in 3.1.1 and 5
(``manual_ack=True`` + ``client.ack(mid, qos)``) and its network thread can simply block.

Threads: paho's network thread appends every message to an open batch; a batch is sealed
when it reaches ``max_batch_messages`` or ``max_batch_bytes``, or by the consumer once its
first message has waited ``linger`` seconds. At most ``max_pending`` sealed batches wait;
then the network thread
blocks, stops reading the socket, and the broker holds the rest (QoS 1) or drops it (QoS 0,
which the sequence-gap counter reports). Decoding runs in the consumer's event loop.

Acks: the QoS 1 messages of a sealed batch are acknowledged, in arrival order, only when
every delivery made from that batch has been acked by the service, i.e. committed. With a
persistent session (fixed client id, clean session off, session expiry for MQTT 5) the
broker redelivers whatever was not acked when twinsync died.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ..errors import ConnectorError
from ..pipeline import DeadLetter, IncomingBatch, RawReading
from .connector import ConnectorHealth, Delivery
from .payloads import FORMATS, decode_objects_many, decode_payload
from .topics import TopicRouter

# A raw message as the network thread saw it: topic, payload, qos, mid, v5 user properties.
_Message = tuple[str, bytes, int, int, Any]
_SOURCE_FIELDS = ("client_id", "gateway", "building")
_ROUTE_CACHE = 100_000
"""Topics whose fields are remembered; past this the cache starts again."""


@dataclass(slots=True)
class MqttSettings:
    """Everything a ``[[connectors]]`` table with ``kind = "mqtt"`` may set."""

    name: str = "mqtt"
    topics: list[str] = field(default_factory=lambda: ["twinsync/{sensor_id}"])
    host: str = "127.0.0.1"
    port: int = 1883
    qos: int = 1
    protocol: int = 5
    """5 (MQTT 5, the default: receive maximum and session expiry) or 4 (MQTT 3.1.1)."""
    client_id: str = ""
    """Fixed by default (``twinsync-<name>``): a persistent session is keyed by it."""
    username: str | None = None
    password: str | None = None
    tls: bool = False
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_insecure: bool = False
    persistent: bool = True
    session_expiry: int = 7 * 86_400
    share_group: str | None = None
    payload_format: str = "auto"
    max_batch_messages: int = 5_000
    max_batch_bytes: int = 4 << 20
    max_pending: int = 4
    linger: float = 0.02
    keepalive: int = 30
    reconnect_min: int = 1
    reconnect_max: int = 30
    receive_maximum: int = 65_535
    connect_timeout: float = 10.0

    def __post_init__(self) -> None:
        if not self.client_id:
            self.client_id = f"twinsync-{self.name}"
        if self.qos not in (0, 1):
            raise ConnectorError(f"mqtt connector {self.name!r}: qos must be 0 or 1")
        if self.protocol not in (4, 5):
            raise ConnectorError(f"mqtt connector {self.name!r}: protocol must be 4 (3.1.1) "
                                 "or 5")
        if self.payload_format not in FORMATS:
            raise ConnectorError(f"mqtt connector {self.name!r}: payload_format must be one "
                                 f"of {FORMATS}")
        if self.max_batch_messages < 1 or self.max_pending < 1 or self.linger <= 0:
            raise ConnectorError(f"mqtt connector {self.name!r}: batch bounds must be positive")


_PUBACK = struct.Struct("!BBH")
_PUBACK_HEADER = 0x40  # the PUBACK packet type in the fixed header


class _AckGroup:
    """Acks the QoS 1 messages of one sealed batch once all its deliveries are committed."""

    __slots__ = ("_client", "_mids", "_remaining")

    def __init__(self, client: paho.Client, mids: list[int], deliveries: int) -> None:
        self._client = client
        self._mids = mids
        self._remaining = deliveries

    def part(self) -> Callable[[], Awaitable[None]]:
        done = False

        async def ack() -> None:
            nonlocal done
            if done:
                return
            done = True
            self._remaining -= 1
            if self._remaining == 0:
                self.release()

        return ack

    def release(self) -> None:
        send_pubacks(self._client, self._mids)
        self._mids = []


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


class MqttConnector:
    """A Connector reading one broker; see the module docstring for threads and acks."""

    kind = "mqtt"

    def __init__(self, settings: MqttSettings) -> None:
        self.settings = settings
        self.name = settings.name
        self.router = TopicRouter(settings.topics)
        self._health = ConnectorHealth(settings.name, self.kind)
        self._client: paho.Client | None = None
        self._lock = threading.Lock()
        self._space = threading.Condition(self._lock)
        self._open: list[_Message] = []
        self._open_bytes = 0
        self._opened_at = 0.0
        self._sealed: deque[tuple[float, list[_Message]]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._closing = False
        self._subscribed: asyncio.Future[None] | None = None
        self._routes: dict[str, tuple[dict[str, str], str | None, str]] = {}
        self._last_seq: dict[Any, int] = {}
        self._lost: dict[Any, int] = {}
        self._lost_total = 0
        self._repeated = 0
        self._connects = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        s = self.settings
        self._loop = asyncio.get_running_loop()
        self._subscribed = self._loop.create_future()
        v5 = s.protocol == 5
        client = paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id=s.client_id,
            protocol=paho.MQTTv5 if v5 else paho.MQTTv311,
            clean_session=None if v5 else not s.persistent, manual_ack=True)
        if s.username is not None:
            client.username_pw_set(s.username, s.password)
        if s.tls:
            client.tls_set(ca_certs=s.tls_ca, certfile=s.tls_cert, keyfile=s.tls_key)
            client.tls_insecure_set(s.tls_insecure)
        client.reconnect_delay_set(s.reconnect_min, s.reconnect_max)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        self._client = client
        properties = None
        if v5:
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = s.session_expiry if s.persistent else 0
            # Acks wait for the commit, so the broker must let many messages be in flight.
            properties.ReceiveMaximum = s.receive_maximum
        try:
            await asyncio.to_thread(
                client.connect, s.host, s.port, s.keepalive,
                clean_start=not s.persistent if v5 else paho.MQTT_CLEAN_START_FIRST_ONLY,
                properties=properties)
        except (OSError, ValueError) as exc:
            self._health.error = f"cannot connect to {s.host}:{s.port}: {exc}"
            raise ConnectorError(f"mqtt connector {self.name!r}: {self._health.error}") from exc
        client.loop_start()
        try:
            await asyncio.wait_for(asyncio.shield(self._subscribed), s.connect_timeout)
        except (TimeoutError, ConnectorError) as exc:
            await self.aclose()
            error = str(exc) or f"no CONNACK/SUBACK within {s.connect_timeout} s"
            raise ConnectorError(f"mqtt connector {self.name!r}: {error}") from exc

    async def aclose(self) -> None:
        client, self._client = self._client, None
        with self._lock:
            self._closing = True
            self._space.notify_all()
        self._wake.set()
        if client is not None:
            client.disconnect()
            await asyncio.to_thread(client.loop_stop)
        self._health.connected = False

    async def __aenter__(self) -> MqttConnector:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def health(self) -> ConnectorHealth:
        details = self._health.details
        details["lost_readings"] = self._lost_total
        details["sensors_with_gaps"] = len(self._lost)
        details["lost_by_sensor"] = dict(sorted(self._lost.items(), key=lambda kv: -kv[1])[:20])
        details["repeated_readings"] = self._repeated
        details["connects"] = self._connects
        details["pending_batches"] = len(self._sealed)
        details["client_id"] = self.settings.client_id
        details["subscriptions"] = self.router.subscriptions(self.settings.share_group)
        return self._health

    # -- paho's network thread ---------------------------------------------------------------

    def _call_soon(self, callback: Callable[..., Any], *args: Any) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(callback, *args)

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any,
                    properties: Any) -> None:
        if reason.is_failure:
            self._health.error = f"connection refused: {reason}"
            self._call_soon(self._settle, ConnectorError(f"connection refused: {reason}"))
            return
        self._connects += 1
        self._health.connected = True
        self._health.error = None
        filters = self.router.subscriptions(self.settings.share_group)
        client.subscribe([(f, self.settings.qos) for f in filters])

    def _on_subscribe(self, client: paho.Client, userdata: Any, mid: int, reasons: Any,
                      properties: Any) -> None:
        failed = [str(r) for r in reasons if r.is_failure]
        if failed:
            self._health.error = f"subscription refused: {failed}"
            self._call_soon(self._settle, ConnectorError(self._health.error))
        else:
            self._call_soon(self._settle, None)

    def _on_disconnect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any,
                       properties: Any) -> None:
        self._health.connected = False
        if not self._closing:
            self._health.error = f"disconnected: {reason}; reconnecting"

    def _settle(self, error: ConnectorError | None) -> None:
        future = self._subscribed
        if future is not None and not future.done():
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        properties = message.properties
        user = getattr(properties, "UserProperty", None) if properties is not None else None
        payload = message.payload
        with self._lock:
            opened = not self._open
            if opened:
                self._opened_at = time.monotonic()
            self._open.append((message.topic, payload, message.qos, message.mid, user))
            self._open_bytes += len(payload)
            s = self.settings
            if len(self._open) < s.max_batch_messages and self._open_bytes < s.max_batch_bytes:
                if opened:
                    # One wake-up per batch, not per message: the consumer learns when
                    # this batch's linger runs out.
                    self._call_soon(self._wake.set)
                return
            self._seal_locked()
            # Backpressure: block the network thread, so paho stops reading the socket.
            while len(self._sealed) > s.max_pending and not self._closing:
                self._space.wait(0.5)
        self._call_soon(self._wake.set)

    def _seal_locked(self) -> None:
        if self._open:
            self._sealed.append((time.time(), self._open))
            self._open = []
            self._open_bytes = 0

    # -- the consumer's event loop -----------------------------------------------------------

    async def deliveries(self) -> AsyncIterator[Delivery]:
        linger = self.settings.linger
        while not self._closing:
            with self._lock:
                # A partial batch waits out its linger even when the consumer is idle:
                # sealing whatever is open at every turn made batches of ~15 messages
                # whose fixed cost (a commit, a thread hand-off) outweighed the readings.
                wait = linger
                if self._open:
                    wait = self._opened_at + linger - time.monotonic()
                    if wait <= 0 and not self._sealed:
                        self._seal_locked()
                sealed = self._sealed.popleft() if self._sealed else None
                if sealed is not None:
                    self._space.notify()
            if sealed is None:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), max(wait, 0.0005))
                continue
            for delivery in self._decode(*sealed):
                yield delivery

    def _decode(self, received_at: float, messages: list[_Message]) -> list[Delivery]:
        fmt = self.settings.payload_format
        routes = [self._route(message[0]) for message in messages]
        # The common message (one JSON object, one reading) is parsed for the whole batch
        # in one call; whatever that does not vouch for goes through decode_payload.
        fast = decode_objects_many([message[1] for message in messages],
                                   [route[1] for route in routes], fmt)
        by_source: dict[str, tuple[list[RawReading], list[DeadLetter]]] = {}
        mids: list[int] = []
        every: list[RawReading] = []
        dead = 0
        for (topic, payload, qos, mid, user), (fields, sensor_id, source), reading in zip(
                messages, routes, fast, strict=True):
            if qos:
                mids.append(mid)
            if user:
                source = self._source(fields, user)
            group = by_source.get(source)
            if group is None:
                group = by_source[source] = ([], [])
            if reading is not None:
                group[0].append(reading)
                every.append(reading)
                continue
            readings, rejects = decode_payload(payload, sensor_id, fmt, now=received_at)
            for reject in rejects:
                payload_kept = reject.payload if isinstance(reject.payload, bytes) else payload
                group[1].append(DeadLetter(received_at, source, reject.reason,
                                           f"topic {topic}: {reject.detail}", payload_kept))
            dead += len(rejects)
            group[0].extend(readings)
            every.extend(readings)
        self._track_gaps(every)
        health = self._health
        health.messages += len(messages)
        health.readings += len(every)
        health.dead_letters += dead
        health.last_message_at = received_at
        client = self._client
        if client is None:
            return []
        group_ack = _AckGroup(client, mids, len(by_source))
        return [
            Delivery(IncomingBatch(readings, source, received_at, self.kind), letters,
                     group_ack.part())
            for source, (readings, letters) in by_source.items()
        ]

    def _route(self, topic: str) -> tuple[dict[str, str], str | None, str]:
        """A topic's fields, its sensor id and its source without user properties; cached."""
        route = self._routes.get(topic)
        if route is None:
            if len(self._routes) >= _ROUTE_CACHE:
                self._routes.clear()
            fields = self.router.match(topic) or {}
            route = self._routes[topic] = (fields, fields.get("sensor_id"),
                                           self._source(fields, None))
        return route

    def _source(self, fields: dict[str, str], user: Any) -> str:
        """Whose clock the readings carry: publisher id, else gateway/building, else us."""
        if "client_id" in fields:
            return fields["client_id"]
        if user:
            for key, value in user:
                if key in ("client_id", "source"):
                    return str(value)
        for name in _SOURCE_FIELDS[1:]:
            if name in fields:
                return fields[name]
        return self.name

    def _track_gaps(self, readings: list[RawReading]) -> None:
        # Mosquitto drops QoS 0 silently when a subscriber falls behind: a jump in a
        # sensor's sequence numbers is the only trace, so count it.
        last_seq = self._last_seq
        for reading in readings:
            seq = reading.seq
            if type(seq) is not int:
                continue
            sensor = reading.sensor_id
            last = last_seq.get(sensor)
            if last is None or seq > last:
                if last is not None and seq > last + 1:
                    gap = seq - last - 1
                    self._lost_total += gap
                    self._lost[sensor] = self._lost.get(sensor, 0) + gap
                last_seq[sensor] = seq
            else:
                self._repeated += 1  # redelivered or reordered; the store dedupes
