"""Limits at the API's edge: request body size, readings per batch, id and text lengths,
WebSocket frame size. docs/LIMITS.md lists them with their settings.

A body past ``max_body_bytes`` is refused with 413 while it streams in: reading stops at
the limit, so a 1 GB upload costs at most the limit in memory. A batch of more readings
than ``max_readings`` is refused whole with 413 (its client still holds it and can split
it); nothing of it is stored. Ids and texts past their lengths are refused one reading at
a time, as dead letters, by the decoder (``twinsync.ingest.decoded.DecodeLimits``).

The app keeps its ``Limits`` in ``app.state.limits``; ``limits_of`` falls back to the
defaults for an app built without them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import HTTPConnection, Request

from ..errors import InvalidInput
from ..ingest.decoded import MAX_ID_LENGTH, MAX_READINGS, MAX_TEXT_LENGTH, DecodeLimits
from .responses import JSON

MAX_BODY_BYTES = 8 << 20
"""8 MiB: about 80,000 readings of the common JSON object."""
MAX_WS_FRAME_BYTES = 1 << 20
"""1 MiB per WebSocket message."""


@dataclass(frozen=True, slots=True)
class Limits:
    """The API's limits; ``from_settings`` reads them from ``twinsync.config.Settings``."""

    max_body_bytes: int = MAX_BODY_BYTES
    max_readings: int = MAX_READINGS
    max_id_length: int = MAX_ID_LENGTH
    max_text_length: int = MAX_TEXT_LENGTH
    max_ws_frame_bytes: int = MAX_WS_FRAME_BYTES

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise InvalidInput(f"{name} must be a positive whole number, not {value!r}",
                                   "bad_config")

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        """The limits named in ``settings`` (``max_body_bytes`` …); defaults for the rest."""
        return cls(**{name: getattr(settings, name) for name in cls.__dataclass_fields__
                      if getattr(settings, name, None) is not None})

    @property
    def decode(self) -> DecodeLimits:
        return DecodeLimits(max_readings=self.max_readings, max_id_length=self.max_id_length,
                            max_text_length=self.max_text_length)


DEFAULT = Limits()


def limits_of(connection: HTTPConnection) -> Limits:
    """The limits of the app serving ``connection`` (a request or a WebSocket)."""
    limits = getattr(connection.app.state, "limits", None)
    return limits if isinstance(limits, Limits) else DEFAULT


class BodyTooLarge(InvalidInput):
    """The body is longer than the limit; ``size`` is how much was seen before stopping."""

    def __init__(self, limit: int, size: int) -> None:
        super().__init__(f"the body is larger than the limit of {limit} bytes",
                         "body_too_large")
        self.limit = limit
        self.size = size


async def read_body(request: Request, limit: int) -> bytes:
    """The request's body; BodyTooLarge as soon as more than ``limit`` bytes came.

    A declared Content-Length past the limit is refused before anything is read.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit, int(declared))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit, size)
        chunks.append(chunk)
    return b"".join(chunks)


def too_large(error: str, detail: str, limit: int, **extra: Any) -> JSON:
    """The 413 answer: what was too large, and the limit."""
    return JSON({"error": error, "detail": detail, "limit": limit, "accepted": 0, **extra},
                status_code=413)
