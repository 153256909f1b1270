"""The connector interface: how a data source hands readings to twinsync.

A connector is ``start()``, ``aclose()`` and an async stream of ``Delivery`` objects. The
service consumes the stream, commits each delivery's readings and dead letters to the
store, and only then calls ``delivery.ack()`` — so a source that can redeliver (MQTT QoS 1
with a persistent session, a NATS JetStream consumer) loses nothing if twinsync dies
between receiving and committing.

Backpressure: the stream is pulled. A connector buffers at most a bounded number of
deliveries; when full it stops reading from its source (the broker then holds or
redelivers), it never grows an unbounded list.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ..pipeline import DeadLetter, IncomingBatch


@dataclass(slots=True)
class Delivery:
    """Readings from one source message (or several), plus what could not be decoded."""

    batch: IncomingBatch
    dead_letters: list[DeadLetter] = field(default_factory=list)
    ack: Callable[[], Awaitable[None]] | None = None


@dataclass(slots=True)
class ConnectorHealth:
    """What ``GET /api/connectors`` shows for one connector.

    The connector fills in what it knows of its source (``connected``, counts, ``error``,
    ``details``); ``ready`` is False while it is connected but not yet fully set up (an
    MQTT session whose SUBACK is still queued behind a backlog). The supervisor
    (``twinsync.service.supervisor``) fills in ``state``, ``since``, ``restarts`` and
    ``last_error``: whether its consumer runs, and what stopped it last.
    """

    name: str
    kind: str
    connected: bool = False
    ready: bool = True
    last_message_at: float | None = None
    messages: int = 0
    readings: int = 0
    dead_letters: int = 0
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    state: str = "unsupervised"
    """Set by the supervisor: connecting, running, retrying (a store error), restarting,
    failed, finished, stopped."""
    since: float | None = None
    """When ``state`` last changed (Unix seconds)."""
    restarts: int = 0
    last_error: str | None = None
    last_error_at: float | None = None
    rejected_deliveries: int = 0
    """Deliveries whose ingest raised: kept as dead letters with the reason, and acked."""
    retries: int = 0
    """Times a delivery was tried again because the store failed or the twin was busy
    (nothing acked meanwhile)."""
    failed_after_commit: int = 0
    """Deliveries (or parts) committed, then failed applying, publishing or answering:
    kept once, neither tried again nor dead-lettered, and acked."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "state": self.state,
            "since": self.since,
            "connected": self.connected,
            "ready": self.ready,
            "last_message_at": self.last_message_at,
            "messages": self.messages,
            "readings": self.readings,
            "dead_letters": self.dead_letters,
            "error": self.error,
            "restarts": self.restarts,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at,
            "rejected_deliveries": self.rejected_deliveries,
            "retries": self.retries,
            "failed_after_commit": self.failed_after_commit,
            "details": self.details,
        }

    def saw(self, readings: int, dead_letters: int = 0, messages: int = 1) -> None:
        self.messages += messages
        self.readings += readings
        self.dead_letters += dead_letters
        self.last_message_at = time.time()


@runtime_checkable
class Connector(Protocol):
    name: str

    async def start(self) -> None:
        """Connect and check the source; raise ConnectorError if it cannot be used."""

    async def aclose(self) -> None:
        """Stop and release everything; safe to call twice."""

    def deliveries(self) -> AsyncIterator[Delivery]:
        """The stream of deliveries, until ``aclose()``."""
        ...

    def health(self) -> ConnectorHealth: ...
