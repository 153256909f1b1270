"""Request-scoped access to the running service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, WebSocket

from ..errors import InvalidInput
from ..pipeline import parse_time
from ..service import TwinService

#: The largest id the stores keep (SQLite's and PostgreSQL's 64-bit integers).
MAX_ID = 2**63 - 1

Position = Annotated[int, Query(ge=-MAX_ID, le=MAX_ID, description=(
    "The id to start after; one past the stores' 64-bit range cannot name a row and is "
    "refused with 422 rather than sent to the database"))]
"""A page's start: an ``after`` id."""


def service(request: Request) -> TwinService:
    svc: TwinService = request.app.state.service
    return svc


def ws_service(websocket: WebSocket) -> TwinService:
    svc: TwinService = websocket.app.state.service
    return svc


def time_param(value: str | None, default: float, name: str) -> float:
    """A time from a query string: ISO 8601 or seconds since the epoch."""
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        return _parse(value, name)
    return _parse(number, name)


def _parse(value: str | float, name: str) -> float:
    try:
        return parse_time(value)
    except InvalidInput as exc:
        raise InvalidInput(f"{name}: {exc}", "bad_time") from exc
