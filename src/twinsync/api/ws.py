"""WebSocket ``/ws``: live subscriptions to elements, and field updates from the client.

Client → server messages (JSON):

- ``{"type": "subscribe", "elements": "*" | "id" | ["id", ...]}`` → a ``snapshot`` of those
  elements, then ``delta`` messages with their changes, in order.
- ``{"type": "unsubscribe", "elements": "*" | "id" | [...]}``
- ``{"type": "update", "element_id": "…", "status": "…", "properties": {…},
  "source": "field", "id": 7}`` → ``{"type": "ack", "id": 7, "events": [...]}`` or an
  ``error`` with the same id.
- ``{"type": "ping"}`` → ``{"type": "pong", "time": …}``

A client that cannot keep up is not allowed to slow ingest: its queue is bounded, and when
it overflows the backlog is dropped and the client gets ``{"type": "snapshot",
"resync": true, …}`` with the current state instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from ..errors import NotFound, TwinsyncError
from ..service import ALL, Resync, Subscriber, TwinService
from .deps import ws_service
from .responses import dumps

router = APIRouter()


class Session:
    """One connected client."""

    def __init__(self, websocket: WebSocket, service: TwinService) -> None:
        self.websocket = websocket
        self.service = service
        self.subscriber: Subscriber = service.hub.subscribe()
        self._send_lock = asyncio.Lock()

    async def send(self, message: dict[str, Any] | str) -> None:
        """Send a message, or one the hub already encoded for every subscriber."""
        text = message if isinstance(message, str) else dumps(message).decode()
        async with self._send_lock:
            await self.websocket.send_text(text)

    async def snapshot(self, resync: bool = False) -> dict[str, Any]:
        """The subscribed elements as they are, read on the writer in one piece."""
        everything = self.subscriber.everything
        chosen = list(self.subscriber.elements)
        service = self.service

        def read() -> list[dict[str, Any]]:
            twin = service.twin
            if everything:
                ids = [e.id for e in twin.elements.values() if not e.archived]
            else:
                ids = [i for i in chosen if i in twin.elements]
            return [service.element_snapshot(i) for i in ids]

        elements = await service.view(read)
        return {"type": "snapshot", "resync": resync, "time": time.time(),
                "elements": elements}

    async def pump(self) -> None:
        """Send queued deltas; a Resync marker becomes a fresh snapshot."""
        queue = self.subscriber.queue
        while True:
            message = await queue.get()
            if isinstance(message, Resync):
                await self.send(await self.snapshot(resync=True))
            else:
                await self.send(message)

    async def handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        request_id = message.get("id")
        if kind == "subscribe":
            selected = _selection(message.get("elements", ALL))
            if selected is None:
                self.subscriber.everything = True
            else:
                missing = [i for i in selected if i not in self.service.twin.elements]
                if missing:
                    raise NotFound(f"no elements {missing}")
                self.subscriber.elements.update(selected)
            await self.send(await self.snapshot() | {"id": request_id})
        elif kind == "unsubscribe":
            selected = _selection(message.get("elements", ALL))
            if selected is None:
                self.subscriber.everything = False
                self.subscriber.elements.clear()
            else:
                self.subscriber.elements.difference_update(selected)
            await self.send({"type": "ack", "id": request_id})
        elif kind == "update":
            element_id = message.get("element_id")
            if not isinstance(element_id, str):
                raise TwinsyncError("update needs an element_id")
            events = await self.service.update_element(
                element_id, status=message.get("status"),
                properties=message.get("properties") or {},
                source=message.get("source", "field"))
            await self.send({"type": "ack", "id": request_id,
                             "events": [e.to_dict() for e in events]})
        elif kind == "ping":
            await self.send({"type": "pong", "id": request_id, "time": time.time()})
        else:
            await self.send({"type": "error", "id": request_id, "error": "unknown_type",
                             "detail": f"unknown message type {kind!r}"})


def _selection(value: Any) -> list[str] | None:
    """None means every element."""
    if value == ALL:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise TwinsyncError('elements must be "*", an id or a list of ids')


@router.websocket("/ws")
async def websocket_endpoint(websocket: WebSocket) -> None:
    service = ws_service(websocket)
    await websocket.accept()
    session = Session(websocket, service)
    pump = asyncio.create_task(session.pump())
    try:
        while True:
            text = await websocket.receive_text()
            message: Any = None
            try:
                message = orjson.loads(text)
                if not isinstance(message, dict):
                    raise TwinsyncError("a message must be a JSON object")
                await session.handle(message)
            except (orjson.JSONDecodeError, TwinsyncError) as exc:
                reason = getattr(exc, "reason", "bad_message")
                if isinstance(exc, NotFound):
                    reason = "not_found"
                request_id = message.get("id") if isinstance(message, dict) else None
                await session.send({"type": "error", "id": request_id, "error": reason,
                                    "detail": str(exc)})
    except WebSocketDisconnect:
        pass
    finally:
        service.hub.unsubscribe(session.subscriber)
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump
