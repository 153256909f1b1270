"""What passes between the MQTT connector and its client process, and how it is framed.

The connector (``mqtt.py``) runs paho-mqtt in a process of its own (``mqtt_client.py``)
and talks to it over the child's stdin and stdout. Each frame is a 4-byte big-endian
length followed by one msgpack value (msgspec):

- connector → client: one ``ClientOptions``, then an ``Ack`` per batch once every reading
  of that batch is committed;
- client → connector: ``Status`` whenever the connection changes, ``Received`` for each
  sealed batch of messages.

Packet ids never cross: the client keeps each batch's ids and acks them when the batch's
``Ack`` arrives. This module imports nothing heavy, so the client process starts fast.
"""

from __future__ import annotations

import asyncio
import struct
from typing import IO, Any

import msgspec

_LENGTH = struct.Struct("!I")


class ClientOptions(msgspec.Struct, array_like=True):
    """The broker connection and the batching bounds, as ``MqttSettings`` set them."""

    host: str
    port: int
    client_id: str
    protocol: int
    qos: int
    filters: list[str]
    persistent: bool
    session_expiry: int
    keepalive: int
    reconnect_min: int
    reconnect_max: int
    receive_maximum: int
    max_batch_messages: int
    max_batch_bytes: int
    max_pending: int
    linger: float
    username: str | None = None
    password: str | None = None
    tls: bool = False
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_insecure: bool = False


class Status(msgspec.Struct, tag=True, array_like=True):
    """The client's connection: ``subscribed`` once the broker granted every filter."""

    connected: bool
    subscribed: bool
    connects: int
    error: str | None = None


class Received(msgspec.Struct, tag=True, array_like=True):
    """One sealed batch: parallel lists, one entry per message, in arrival order."""

    batch: int
    received_at: float
    topics: list[str]
    payloads: list[bytes]
    users: list[Any] | None = None
    """MQTT 5 user properties per message (``None`` for a message without), or ``None``
    when no message of the batch had any."""


class Ack(msgspec.Struct, tag=True, array_like=True):
    """Every reading of batch ``batch`` is committed: send its PUBACKs."""

    batch: int


ToConnector = Status | Received

_encode = msgspec.msgpack.Encoder().encode
_decode_to_connector = msgspec.msgpack.Decoder(ToConnector).decode
_decode_options = msgspec.msgpack.Decoder(ClientOptions).decode
_decode_ack = msgspec.msgpack.Decoder(Ack).decode


def frame(value: msgspec.Struct) -> bytes:
    body = _encode(value)
    return _LENGTH.pack(len(body)) + body


# -- the client's side: blocking file objects ------------------------------------------------

def read_frame(stream: IO[bytes]) -> bytes | None:
    """The next frame's body, or ``None`` at the end of the stream."""
    header = stream.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack(header)
    body = stream.read(length)
    return body if len(body) == length else None


def read_options(stream: IO[bytes]) -> ClientOptions | None:
    body = read_frame(stream)
    return None if body is None else _decode_options(body)


def read_ack(stream: IO[bytes]) -> Ack | None:
    body = read_frame(stream)
    return None if body is None else _decode_ack(body)


# -- the connector's side: asyncio streams ---------------------------------------------------

class FrameReader:
    """Frames from the client's stdout; a read cancelled halfway resumes where it stopped.

    ``readexactly`` consumes nothing unless it completes, and the body's length is kept
    across calls, so a consumer that gives up waiting (``asyncio.wait_for``) never leaves
    the stream in the middle of a frame."""

    __slots__ = ("_length", "_reader", "busy")

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader
        self._length: int | None = None
        self.busy = False
        """A ``receive`` is waiting: a stream takes one reader at a time."""

    async def receive(self) -> Status | Received:
        """The next frame; ``asyncio.IncompleteReadError`` once the client is gone."""
        self.busy = True
        try:
            if self._length is None:
                (self._length,) = _LENGTH.unpack(await self._reader.readexactly(_LENGTH.size))
            body = await self._reader.readexactly(self._length)
        finally:
            self.busy = False
        self._length = None
        value: Status | Received = _decode_to_connector(body)
        return value

    async def drain(self) -> None:
        """Read and drop everything until the client closes its end."""
        while await self._reader.read(1 << 16):
            pass
