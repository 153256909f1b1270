"""Fan-out of live changes to subscribers (WebSocket clients), without letting one slow
client slow ingest.

Each subscriber has a bounded queue. Publishing never waits: when a subscriber's queue
is full, its backlog is dropped and it is marked as behind; its sender then gets a fresh
snapshot instead of the stale backlog (``Resync``), and goes on with deltas from there.

A message for every subscriber of everything is encoded to JSON once, not once a client.
A delta carries events as ``changes`` (one object each) and moved live values as
``properties`` (columns, see ``changes.PropertyChanges``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..store.base import json_dumps as dumps
from .changes import PropertyChanges

ALL = "*"


@dataclass(slots=True)
class Resync:
    """Put in a subscriber's queue when it fell behind: send a snapshot, not the backlog."""


@dataclass(eq=False, slots=True)
class Subscriber:
    """One client's subscription: which elements, and its outgoing queue."""

    queue: asyncio.Queue[dict[str, Any] | str | Resync]
    elements: set[str] = field(default_factory=set)
    everything: bool = False
    dropped: int = 0
    resyncs: int = 0

    def wants(self, element_id: str | None) -> bool:
        return self.everything or (element_id is not None and element_id in self.elements)


class Hub:
    """The set of subscribers; ``publish`` is called from the event loop thread."""

    def __init__(self, queue_size: int = 256) -> None:
        self.queue_size = queue_size
        self.subscribers: set[Subscriber] = set()

    def __len__(self) -> int:
        return len(self.subscribers)

    def subscribe(self) -> Subscriber:
        subscriber = Subscriber(asyncio.Queue(self.queue_size))
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    def publish(self, changes: Iterable[dict[str, Any]] = (),
                properties: PropertyChanges | None = None, **extra: Any) -> None:
        """Send each subscriber what it wants of ``changes`` (events, one dict each) and
        ``properties`` (moved live values, as columns), as one message per publish;
        ``extra`` fields go into every message."""
        changes = list(changes)
        if (not changes and not properties) or not self.subscribers:
            return
        encoded: str | None = None
        for subscriber in list(self.subscribers):
            if subscriber.everything:
                if encoded is None:
                    encoded = dumps(_delta(changes, properties, extra)).decode()
                self._offer(subscriber, encoded)
                continue
            wanted = [c for c in changes if subscriber.wants(c.get("element_id"))]
            theirs = properties.of_elements(subscriber.elements) if properties else None
            if wanted or theirs:
                self._offer(subscriber, _delta(wanted, theirs, extra))

    def _offer(self, subscriber: Subscriber, message: dict[str, Any] | str) -> None:
        try:
            subscriber.queue.put_nowait(message)
        except asyncio.QueueFull:
            # Drop the backlog: the client will get one snapshot of the current state.
            while not subscriber.queue.empty():
                subscriber.queue.get_nowait()
                subscriber.dropped += 1
            subscriber.dropped += 1
            subscriber.resyncs += 1
            subscriber.queue.put_nowait(Resync())


def _delta(changes: list[dict[str, Any]], properties: PropertyChanges | None,
           extra: dict[str, Any]) -> dict[str, Any]:
    """A delta message: its extra fields (``committed_at``) first, so a reader can find
    them without decoding the rest; moved live values only when there are some."""
    message: dict[str, Any] = {"type": "delta", **extra, "changes": changes}
    if properties:
        message["properties"] = properties.columns()
    return message
