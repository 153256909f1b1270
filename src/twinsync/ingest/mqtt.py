"""The MQTT connector: subscribe with topic templates, decode, hand over batches, ack late.

Client library: paho-mqtt 2.x, chosen by measuring on this project's 2-core machine
(docs/INGEST.md): gmqtt costs ~5.6 µs of CPU per message against paho's ~17 µs, but gmqtt
forces PUBACK on receipt below MQTT 5, acks late only by running one task per message, and
has no way to stop reading its socket. paho acks by hand in 3.1.1 and 5
(``manual_ack=True``) and its network thread can simply block.

Processes: paho runs in a client process of the connector's own (``mqtt_client.py``,
frames in ``mqtt_wire.py``), which receives, batches, and sends PUBACKs when told to.
paho's per-message parsing then no longer shares this process's interpreter lock with
decoding, validation and the commit. This side decodes each batch (one msgspec call for
the common one-object payloads, ``payloads.decode_payload`` for the rest, as HTTP does),
routes topics, and hands the service one delivery per source. Sequence gaps are counted
by the pipeline, once, whatever the transport.

Acks: the QoS 1 messages of a batch are acknowledged, in arrival order, only when every
delivery made from that batch has been acked by the service, i.e. committed; then one
``Ack`` frame goes to the client. With a persistent session (fixed client id, clean
session off, session expiry for MQTT 5) the broker redelivers whatever was not acked when
twinsync — or only its client process — died. A client process that dies is started
again, with backoff; the client exits when its stdin closes, so it never outlives us.

Start: ``start()`` returns once the broker has accepted the connection (CONNACK). The
SUBACK is waited for only until the first message arrives: a persistent session's backlog
comes before it, and a large one used to fail start-up. ``health().ready`` is False until
the SUBACK; ``details`` count messages received and acked (told to the client to PUBACK)
and those awaiting their ack.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConnectorError
from ..pipeline import DeadLetter, IncomingBatch, RawReading
from .connector import ConnectorHealth, Delivery
from .mqtt_wire import Ack, ClientOptions, FrameReader, Received, Status, frame
from .payloads import FORMATS, decode_objects_many, decode_payload
from .topics import TopicRouter

_SENDER_FIELDS = ("gateway", "building")
"""Topic fields that name the sender when no client id does."""
_ROUTE_CACHE = 100_000
"""Topics whose fields are remembered; past this the cache starts again."""
_CLIENT_MODULE = "twinsync.ingest.mqtt_client"
_STOP_SECONDS = 5.0
"""How long a closing client may take to disconnect before it is killed."""


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


class _Client:
    """One running client process and the channel to it."""

    __slots__ = ("acked", "early", "process", "reader", "sizes", "writer")

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        assert process.stdout is not None and process.stdin is not None
        self.reader = FrameReader(process.stdout)
        self.writer: asyncio.StreamWriter = process.stdin
        self.early: deque[Received] = deque(maxlen=1)
        """The first batch of a backlog, read while waiting for the SUBACK: at most one,
        since start-up stops waiting as soon as the backlog begins."""
        self.sizes: dict[int, int] = {}
        """Messages in each batch handed out and not yet acked."""
        self.acked = 0
        """Messages this process was told to acknowledge."""

    def send(self, message: Ack | ClientOptions) -> None:
        size = self.sizes.pop(message.batch, 0) if isinstance(message, Ack) else 0
        if not self.writer.is_closing():
            self.writer.write(frame(message))
            self.acked += size


class _AckGroup:
    """Acks one batch once all the deliveries made from it are committed."""

    __slots__ = ("_batch", "_client", "_remaining")

    def __init__(self, client: _Client, batch: int, deliveries: int) -> None:
        self._client = client
        self._batch = batch
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
                # To a client that has died meanwhile this goes nowhere: the broker
                # delivers the batch again to its successor, and dedupe drops it.
                self._client.send(Ack(self._batch))

        return ack


class MqttConnector:
    """A Connector reading one broker; see the module docstring for processes and acks."""

    kind = "mqtt"

    def __init__(self, settings: MqttSettings) -> None:
        self.settings = settings
        self.name = settings.name
        self.router = TopicRouter(settings.topics)
        self._health = ConnectorHealth(settings.name, self.kind, ready=False)
        self._client: _Client | None = None
        self._closing = False
        self._routes: dict[str, tuple[dict[str, str], str | None, str]] = {}
        self._connects = 0
        self._connects_before = 0
        """Connections made by client processes that have since exited."""
        self._acked_before = 0
        """Messages acked through client processes that have since exited."""

    # -- lifecycle ---------------------------------------------------------------------------

    def _options(self) -> ClientOptions:
        # Every option but the filters is the setting of the same name: copied by name, so
        # an option added to ClientOptions cannot silently keep its default here.
        s = self.settings
        same = {name: getattr(s, name) for name in ClientOptions.__struct_fields__
                if name != "filters"}
        return ClientOptions(filters=self.router.subscriptions(s.share_group), **same)

    async def start(self) -> None:
        self._closing = False
        self._client = await self._spawn()

    async def _spawn(self) -> _Client:
        """A client process, connected; ConnectorError if the broker does not accept it
        within ``connect_timeout``.

        A persistent session's backlog comes right after the CONNACK, and the broker sends
        the SUBACK only behind what it had already queued for us: hundreds of thousands of
        messages can stand before it. So the SUBACK is waited for only until the first
        batch arrives or the timeout ends; the connector then runs unsubscribed-so-far
        (``health().ready`` is False, the supervisor says ``connecting``) and the SUBACK's
        status frame, when it comes, sets it ready."""
        s = self.settings
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", _CLIENT_MODULE, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, limit=max(s.max_batch_bytes, 1 << 20))
        client = _Client(process)
        # Options (the password too) go through the pipe, never the command line.
        client.send(self._options())
        connected = False
        try:
            async with asyncio.timeout(s.connect_timeout):
                while True:
                    message = await client.reader.receive()
                    if isinstance(message, Received):
                        client.early.append(message)
                        return client  # the backlog has begun; its SUBACK follows it
                    self._apply(message)
                    connected = connected or message.connected
                    if message.subscribed:
                        return client
                    if message.error is not None:
                        raise ConnectorError(message.error)
        except asyncio.CancelledError:
            # Stopped while starting (the service's stop_connector cancels its consumer):
            # the client must not be left running, connected and unacknowledged.
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            raise
        except TimeoutError as exc:
            if connected:
                return client  # connected, SUBACK still queued: not a failure
            error = f"no CONNACK within {s.connect_timeout} s"
            cause: BaseException = exc
        except (ConnectorError, asyncio.IncompleteReadError) as exc:
            if isinstance(exc, asyncio.IncompleteReadError):
                error = f"the MQTT client process exited (code {process.returncode})"
            else:
                error = str(exc)
            cause = exc
        await self._stop(client)
        self._health.error = error
        self._health.connected = False
        self._health.ready = False
        raise ConnectorError(f"mqtt connector {self.name!r}: {error}") from cause

    async def _stop(self, client: _Client) -> None:
        """Close the client's stdin, so it disconnects and exits; kill it if it lingers."""
        self._retire(client)
        with contextlib.suppress(OSError, RuntimeError):
            client.writer.close()
        try:
            async with asyncio.timeout(_STOP_SECONDS):
                # Read what it still writes: a client blocked on a full pipe cannot exit.
                if not client.reader.busy:  # else the consumer reads until the end
                    await client.reader.drain()
                await client.process.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                client.process.kill()
            await client.process.wait()

    def _retire(self, client: _Client) -> None:
        """Fold a client's ack count into the connector's, once."""
        self._acked_before += client.acked
        client.acked = 0

    async def _respawn(self) -> _Client | None:
        """Start a new client after one died, retrying with backoff until closed."""
        delay = float(self.settings.reconnect_min)
        while not self._closing:
            await asyncio.sleep(delay)
            if self._closing:
                break
            try:
                return await self._spawn()
            except ConnectorError:
                delay = min(delay * 2, float(self.settings.reconnect_max))
        return None

    async def aclose(self) -> None:
        self._closing = True
        client, self._client = self._client, None
        if client is not None:
            await self._stop(client)
        self._health.connected = False
        self._health.ready = False

    async def __aenter__(self) -> MqttConnector:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def health(self) -> ConnectorHealth:
        details = self._health.details
        client = self._client
        # What reached us and what we told the broker is done: the difference is held
        # by the broker for us (or, for a client that died, delivered again).
        details["received_messages"] = self._health.messages
        details["acked_messages"] = self._acked_before + (client.acked if client else 0)
        details["awaiting_ack"] = sum(client.sizes.values()) if client else 0
        details["connects"] = self._connects
        details["client_pid"] = self._client.process.pid if self._client is not None else None
        details["client_id"] = self.settings.client_id
        details["subscriptions"] = self.router.subscriptions(self.settings.share_group)
        return self._health

    def _apply(self, status: Status) -> None:
        self._health.connected = status.connected
        self._health.ready = status.subscribed
        self._health.error = status.error
        self._connects = self._connects_before + status.connects

    # -- the consumer's event loop -----------------------------------------------------------

    async def deliveries(self) -> AsyncIterator[Delivery]:
        while not self._closing:
            client = self._client
            if client is None:
                return
            if client.early:
                message: Status | Received = client.early.popleft()
            else:
                try:
                    message = await client.reader.receive()
                except (asyncio.IncompleteReadError, ConnectionError):
                    if self._closing or self._client is not client:
                        continue
                    code = await client.process.wait()
                    self._retire(client)
                    self._health.connected = False
                    self._health.error = (f"the MQTT client process exited (code {code}); "
                                          "starting another")
                    self._connects_before = self._connects
                    replacement = await self._respawn()
                    if self._closing and replacement is not None:
                        await self._stop(replacement)  # aclose() came while it started
                        return
                    self._client = replacement
                    continue
            if self._closing:
                return
            if isinstance(message, Status):
                self._apply(message)
                continue
            client.sizes[message.batch] = len(message.topics)
            for delivery in self._decode(client, message):
                yield delivery

    def _decode(self, client: _Client, received: Received) -> list[Delivery]:
        fmt = self.settings.payload_format
        received_at = received.received_at
        topics, payloads = received.topics, received.payloads
        routes = [self._route(topic) for topic in topics]
        # The common message (one JSON object, one reading) is parsed for the whole batch
        # in one call; whatever that does not vouch for goes through decode_payload.
        fast = decode_objects_many(payloads, [route[1] for route in routes], fmt)
        users = received.users or [None] * len(topics)
        by_source: dict[str, tuple[list[RawReading], list[DeadLetter]]] = {}
        every = 0
        dead = 0
        for topic, payload, user, (fields, sensor_id, source), reading in zip(
                topics, payloads, users, routes, fast, strict=True):
            if user:
                source = self._source(fields, user)
            group = by_source.get(source)
            if group is None:
                group = by_source[source] = ([], [])
            if reading is not None:
                group[0].append(reading)
                every += 1
                continue
            decoded = decode_payload(payload, sensor_id, fmt, now=received_at)
            # A reject of the message as a whole keeps the raw bytes; one of an element
            # keeps that element, as over HTTP.
            group[1].extend(DeadLetter(received_at, source, reject.reason,
                                       f"topic {topic}: {reject.detail}", reject.payload)
                            for reject in decoded.rejects)
            dead += len(decoded.rejects)
            group[0].extend(decoded.readings)
            every += len(decoded.readings)
        # Sequence gaps are counted once, by the pipeline, per sensor (GET /api/health).
        health = self._health
        health.messages += len(topics)
        health.readings += every
        health.dead_letters += dead
        health.last_message_at = received_at
        group_ack = _AckGroup(client, received.batch, len(by_source))
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
        for name in _SENDER_FIELDS:
            if name in fields:
                return fields[name]
        return self.name
