"""The OPC UA connector: data-change subscriptions on nodes mapped to sensors (asyncua).

Each configured node (``{"node": "ns=2;i=2", "sensor_id": "t-1", "unit": "degC"}``) is
monitored; every notification becomes a reading whose event time is the value's source
timestamp (the device's clock), else the server's. A value whose status code is bad
becomes a dead letter with the status name: a PLC that lost its sensor says so, and the
twin must not believe the number.

Reconnects are asyncua's own supervisor (``auto_reconnect=True``): it backs off
exponentially and re-creates the subscription; the connector only reports the loss.
Backpressure: the notification handler awaits a bounded queue, which holds up asyncua's
publish loop; the server then keeps (and, past its monitored-item queue, drops the
oldest) values, as OPC UA defines.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from asyncua.client.client import Client
from asyncua.common.node import Node
from asyncua.common.subscription import DataChangeNotif, Subscription
from asyncua.ua.uaerrors import UaError

from ..errors import ConnectorError
from ..pipeline import DeadLetter, IncomingBatch, RawReading
from .connector import ConnectorHealth, Delivery


@dataclass(slots=True)
class OpcuaSettings:
    """Everything a ``[[connectors]]`` table with ``kind = "opcua"`` may set."""

    name: str = "opcua"
    url: str = "opc.tcp://127.0.0.1:4840"
    nodes: list[dict[str, Any]] = field(default_factory=list)
    publishing_interval: float = 100.0
    """Milliseconds between the server's notification messages."""
    username: str | None = None
    password: str | None = None
    source: str = ""
    """Whose clock the source timestamps are; default: the server URL."""
    max_queue: int = 10_000
    max_batch: int = 5_000
    linger: float = 0.05
    timeout: float = 4.0

    def __post_init__(self) -> None:
        if not self.nodes:
            raise ConnectorError(f"opcua connector {self.name!r}: no nodes configured")
        for entry in self.nodes:
            if not isinstance(entry, dict) or "node" not in entry or "sensor_id" not in entry:
                raise ConnectorError(f"opcua connector {self.name!r}: each node needs 'node' "
                                     f"and 'sensor_id', got {entry!r}")
        if not self.source:
            self.source = self.url


def _seconds(moment: Any) -> float | None:
    return moment.timestamp() if moment is not None else None


class OpcuaConnector:
    """A Connector subscribed to data changes of a set of OPC UA nodes."""

    kind = "opcua"

    def __init__(self, settings: OpcuaSettings) -> None:
        self.settings = settings
        self.name = settings.name
        self._health = ConnectorHealth(settings.name, self.kind)
        self._client: Client | None = None
        self._subscription: Subscription | None = None
        self._queue: asyncio.Queue[tuple[str, Any, float | None, str | None, Any]] = (
            asyncio.Queue(settings.max_queue))
        self._sensor_of: dict[str, tuple[str, str | None]] = {}
        self._closed = asyncio.Event()
        self._bad_status = 0

    async def start(self) -> None:
        s = self.settings
        self._closed.clear()  # a supervisor may start it again after aclose()
        client = Client(s.url, timeout=s.timeout, auto_reconnect=True)
        if s.username is not None:
            client.set_user(s.username)
            client.set_password(s.password or "")
        client.connection_lost_callback = self._connection_lost
        try:
            await client.connect()
        except (OSError, TimeoutError, UaError) as exc:
            self._health.error = f"cannot connect to {s.url}: {exc}"
            raise ConnectorError(f"opcua connector {self.name!r}: {self._health.error}") from exc
        self._client = client
        try:
            nodes = await self._resolve(client)
            self._subscription = await client.create_subscription(s.publishing_interval, self)
            await self._subscription.subscribe_data_change(nodes)
        except (UaError, OSError, TimeoutError) as exc:
            await self.aclose()
            raise ConnectorError(f"opcua connector {self.name!r}: {exc}") from exc
        self._health.connected = True

    async def _resolve(self, client: Client) -> list[Node]:
        """Check every configured node exists, so a typo fails at start, not silently."""
        nodes = []
        for entry in self.settings.nodes:
            try:
                node = client.get_node(entry["node"])
                await node.read_browse_name()
            except (UaError, ValueError) as exc:
                raise ConnectorError(f"opcua connector {self.name!r}: node {entry['node']!r} "
                                     f"({entry['sensor_id']}): {exc}") from exc
            self._sensor_of[node.nodeid.to_string()] = (str(entry["sensor_id"]),
                                                        entry.get("unit"))
            nodes.append(node)
        return nodes

    async def _connection_lost(self, exc: Exception) -> None:
        self._health.connected = False
        self._health.error = f"connection lost: {exc}; reconnecting"

    async def aclose(self) -> None:
        self._closed.set()
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):  # the server may be gone already
                await client.disconnect()
        self._health.connected = False

    async def __aenter__(self) -> OpcuaConnector:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def health(self) -> ConnectorHealth:
        self._health.details["bad_status"] = self._bad_status
        self._health.details["nodes"] = len(self._sensor_of)
        self._health.details["queued"] = self._queue.qsize()
        return self._health

    # asyncua calls this for every notification; awaiting the bounded queue is the backpressure.
    async def datachange_notification(self, node: Node, val: Any, data: DataChangeNotif) -> None:
        if not self._health.connected and self._client is not None:
            self._health.connected, self._health.error = True, None  # notifications flow again
        value = data.monitored_item.Value
        sensor_id, unit = self._sensor_of.get(node.nodeid.to_string(), (None, None))
        event_time = _seconds(value.SourceTimestamp) or _seconds(value.ServerTimestamp)
        status = value.StatusCode
        await self._queue.put((sensor_id or node.nodeid.to_string(), val, event_time, unit,
                               status))

    async def deliveries(self) -> AsyncIterator[Delivery]:
        s = self.settings
        queue = self._queue
        while not self._closed.is_set():
            try:
                first = await asyncio.wait_for(queue.get(), s.linger * 4)
            except TimeoutError:
                continue
            items = [first]
            deadline = time.monotonic() + s.linger
            while len(items) < s.max_batch and time.monotonic() < deadline:
                try:
                    items.append(queue.get_nowait())
                except asyncio.QueueEmpty:
                    with contextlib.suppress(TimeoutError):
                        items.append(await asyncio.wait_for(queue.get(),
                                                            deadline - time.monotonic()))
            yield self._delivery(items)

    def _delivery(self, items: list[tuple[str, Any, float | None, str | None, Any]]
                  ) -> Delivery:
        received_at = time.time()
        source = self.settings.source
        readings: list[RawReading] = []
        letters: list[DeadLetter] = []
        for sensor_id, value, event_time, unit, status in items:
            if status is not None and status.is_bad():
                self._bad_status += 1
                letters.append(DeadLetter(
                    received_at, source, "opcua_bad_status",
                    f"sensor {sensor_id}: status {status.name}",
                    {"sensor_id": sensor_id, "time": event_time, "status": status.name,
                     "value": value if isinstance(value, int | float | str) else repr(value)}))
                continue
            if isinstance(value, bool):
                value = float(value)
            readings.append(RawReading(sensor_id, value, event_time, unit))
        self._health.saw(len(readings), len(letters), messages=len(items))
        return Delivery(IncomingBatch(readings, source, received_at, self.kind), letters)
