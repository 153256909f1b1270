"""WebSocket ``/ws``: live subscriptions to elements, and field updates from the client.

Client → server messages (JSON):

- ``{"type": "subscribe", "elements": "*" | "id" | ["id", ...]}`` → a ``snapshot`` of those
  elements, then ``delta`` messages, in order: ``{"type": "delta", "committed_at": …,
  "changes": [event, …], "properties": {"element_id": […], "value": […], …}}``, where
  ``changes`` are events (status, properties set by hand, health, alarms) one object each,
  and ``properties`` the moved live values as columns (``service/changes.py``: the
  property's fused ``value``, ``time`` and ``quality``; the sensor's own
  ``sensor_value``, ``sensor_time``, ``sensor_quality`` and ``sensor_anomaly``, the
  reading's anomaly score, null where not scored), present only when some moved.
- ``{"type": "unsubscribe", "elements": "*" | "id" | [...]}``
- ``{"type": "update", "element_id": "…", "status": "…", "properties": {…},
  "revision": 4, "id": 7}`` → ``{"type": "ack", "id": 7, "revision": 5, "events": [...]}``
  or an ``error`` with the same id. The values' source is the sender's (``field``); an
  operator's token is needed. ``revision`` is optional: given, the update is made only
  if the element is still at that revision (the ``revision`` of its snapshot), and is
  refused otherwise with ``stale_revision`` (as HTTP's 412), having changed nothing. The
  ack's ``revision`` is the one the update left (given ``revision``; without it, the
  element's as the ack is sent).
- ``{"type": "ping"}`` → ``{"type": "pong", "time": …}``

The socket opens only for a signed-in reader (token or session cookie) from this server's
own pages (``Origin``); ``access.WS_COMMANDS`` says who may send each message.

A client that cannot keep up is not allowed to slow ingest: its queue is bounded, and when
it overflows the backlog is dropped and the client gets ``{"type": "snapshot",
"resync": true, …}`` with the current state instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from ..errors import Conflict, Forbidden, InvalidInput, NotFound, StaleRevision, TwinsyncError
from ..pipeline.limits import short_repr
from ..service import ALL, Resync, Subscriber, TwinService
from ..service.revisions import Match
from .access import WS_COMMANDS, actor_of, earned_source, identity_of
from .auth import Authenticator, Identity
from .deps import ws_service
from .limits import limits_of
from .responses import dumps

log = logging.getLogger(__name__)
router = APIRouter()


class Session:
    """One connected client."""

    def __init__(self, websocket: WebSocket, service: TwinService,
                 identity: Identity) -> None:
        self.websocket = websocket
        self.service = service
        self.identity = identity
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
            return service.elements_snapshot(ids)

        elements = await service.view(read)
        return {"type": "snapshot", "resync": resync, "time": time.time(),
                "elements": elements}

    async def pump(self) -> None:
        """Send queued deltas; a Resync marker becomes a fresh snapshot."""
        queue = self.subscriber.queue
        while True:
            message = await queue.get()
            if not await self.still_valid():
                # Revoked, expired or signed out: the feed stops here, and the socket too.
                await self.websocket.close(1008, "signed out")
                return
            if isinstance(message, Resync):
                await self.send(await self.snapshot(resync=True))
            else:
                await self.send(message)

    async def still_valid(self) -> bool:
        auth: Authenticator = self.websocket.app.state.auth
        return await auth.still_valid(self.identity)

    async def handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        request_id = _request_id(message)
        handler = COMMANDS.get(kind) if isinstance(kind, str) else None
        if handler is None or not isinstance(kind, str):
            await self.send({"type": "error", "id": request_id, "error": "unknown_type",
                             "detail": f"unknown message type {short_repr(kind)}; known: "
                                       f"{', '.join(COMMANDS)}"})
            return
        if not WS_COMMANDS[kind].allows(self.identity.role):
            raise Forbidden(f"the {self.identity.role.value} role may not send {kind!r}")
        await handler(self, message, request_id)

    async def subscribe(self, message: dict[str, Any], request_id: RequestId) -> None:
        selected = _selection(message.get("elements", ALL))
        if selected is None:
            self.subscriber.everything = True
        else:
            missing = [i for i in selected if i not in self.service.twin.elements]
            if missing:
                raise NotFound(f"no elements {short_repr(missing)}")
            self.subscriber.elements.update(selected)
        await self.send(await self.snapshot() | {"id": request_id})

    async def unsubscribe(self, message: dict[str, Any], request_id: RequestId) -> None:
        selected = _selection(message.get("elements", ALL))
        if selected is None:
            self.subscriber.everything = False
            self.subscriber.elements.clear()
        else:
            self.subscriber.elements.difference_update(selected)
        await self.send({"type": "ack", "id": request_id})

    async def update(self, message: dict[str, Any], request_id: RequestId) -> None:
        element_id = message.get("element_id")
        if not isinstance(element_id, str):
            raise InvalidInput("update needs an element_id (text)", "bad_message")
        properties = message.get("properties")
        if properties is None:
            properties = {}
        if not isinstance(properties, dict):
            raise InvalidInput("properties must be an object {name: value, …}, not "
                               f"{type(properties).__name__}", "bad_message")
        status = message.get("status")
        if status is not None and not isinstance(status, str):
            raise InvalidInput("status must be text", "bad_message")
        claimed = message.get("source")
        if claimed is not None and not isinstance(claimed, str):
            raise InvalidInput("source must be text", "bad_message")
        revision = message.get("revision")
        if revision is not None and (type(revision) is not int or revision < 0):
            raise InvalidInput("revision must be a whole number ≥ 0", "bad_message")
        source = earned_source(self.identity, claimed)
        events = await self.service.update_element(
            element_id, status=status, properties=properties, source=source.value,
            actor=actor_of(self.identity),
            if_match=None if revision is None else Match.of(revision))
        # Made against ``revision``, the update left exactly the next one; read afterwards,
        # the revision could be another writer's, and a client that sent it with its next
        # update would overwrite that writer's change unseen.
        current = (revision + 1 if revision is not None else
                   await self.service.view(self.service.revisions.element, element_id))
        await self.send({"type": "ack", "id": request_id, "revision": current,
                         "events": [e.to_dict() for e in events]})

    async def ping(self, message: dict[str, Any], request_id: RequestId) -> None:
        await self.send({"type": "pong", "id": request_id, "time": time.time()})


RequestId = int | str | None
Command = Callable[[Session, dict[str, Any], RequestId], Awaitable[None]]
#: The messages a client may send; who may send each is in ``access.WS_COMMANDS``.
COMMANDS: dict[str, Command] = {
    "subscribe": Session.subscribe,
    "unsubscribe": Session.unsubscribe,
    "update": Session.update,
    "ping": Session.ping,
}


def _selection(value: Any) -> list[str] | None:
    """None means every element."""
    if value == ALL:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise InvalidInput('elements must be "*", an id or a list of ids', "bad_message")


def _request_id(message: Any) -> int | str | None:
    """The client's id for its request, echoed in the answer: a number or a short text."""
    request_id = message.get("id") if isinstance(message, dict) else None
    if type(request_id) is int or (type(request_id) is str and len(request_id) <= 256):
        return request_id
    return None


def _reason(exc: TwinsyncError) -> str:
    if isinstance(exc, NotFound):
        return "not_found"
    if isinstance(exc, StaleRevision):
        return exc.reason
    if isinstance(exc, Conflict):
        return "conflict"
    if isinstance(exc, (InvalidInput, Forbidden)):
        return exc.reason
    return "error"


def _error(reason: str, detail: str, request_id: int | str | None = None,
           **extra: Any) -> dict[str, Any]:
    return {"type": "error", "id": request_id, "error": reason, "detail": detail, **extra}


async def _refuse_oversize(session: Session, websocket: WebSocket, size: int,
                           limit: int) -> None:
    await session.send(_error("frame_too_large",
                              f"a message of {size} bytes; the limit is {limit}", limit=limit))
    await websocket.close(1009, "message too big")


@router.websocket("/ws")
async def websocket_endpoint(websocket: WebSocket) -> None:
    service = ws_service(websocket)
    await websocket.accept()
    session = Session(websocket, service, identity_of(websocket))
    pump = asyncio.create_task(session.pump())
    frame_limit = limits_of(websocket).max_ws_frame_bytes
    try:
        while True:
            # Every frame gets an answer and the socket stays open; only a frame past the
            # size limit closes it (1009, "message too big"), after saying why.
            frame = await websocket.receive()
            if frame["type"] == "websocket.disconnect":
                break
            if not await session.still_valid():
                await websocket.close(1008, "signed out")
                break
            text: str | None = frame.get("text")
            if text is None:
                data: bytes = frame.get("bytes") or b""
                if len(data) > frame_limit:
                    await _refuse_oversize(session, websocket, len(data), frame_limit)
                    break
                await session.send(_error("binary_frame", "messages are JSON text frames; "
                                          "a binary frame is not read"))
                continue
            # A character takes one to four bytes: encode only when the count is unclear.
            size = len(text) if len(text) * 4 <= frame_limit else len(text.encode())
            if size > frame_limit:
                await _refuse_oversize(session, websocket, size, frame_limit)
                break
            message: Any = None
            try:
                message = orjson.loads(text)
                if not isinstance(message, dict):
                    raise InvalidInput("a message must be a JSON object", "bad_message")
                await session.handle(message)
            except orjson.JSONDecodeError as exc:
                await session.send(_error("bad_message", f"not JSON: {exc}"))
            except TwinsyncError as exc:
                await session.send(_error(_reason(exc), str(exc), _request_id(message)))
            except WebSocketDisconnect:
                raise
            except Exception as exc:  # a bug in a handler must not cost the client its socket
                log.exception("WebSocket message failed: %s", short_repr(message))
                await session.send(_error("internal_error", type(exc).__name__,
                                          _request_id(message)))
    except WebSocketDisconnect:
        pass
    finally:
        service.hub.unsubscribe(session.subscriber)
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump
