"""Rows of the PostgreSQL store that are not readings: events and dead letters in and out,
and the encoding they share with the SQLite store (orjson bodies, raw payloads marked)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import psycopg

from ..model import Event
from ..pipeline import DeadLetter
from .base import json_default

_RAW = b"\x00raw:"


def dumps(value: object) -> bytes:
    return orjson.dumps(value, default=json_default, option=orjson.OPT_SERIALIZE_NUMPY)


def insert_events(cursor: psycopg.Cursor[Any], events: Sequence[Event]) -> None:
    if not events:
        return
    # One round trip for all of them (pipelined); each result set holds one new seq.
    cursor.executemany(
        "INSERT INTO events (kind, time, element_id, source, data) "
        "VALUES (%s, %s, %s, %s, %b) RETURNING seq",
        [(e.kind, e.time, e.element_id, e.source, dumps(e.data)) for e in events],
        returning=True)
    for event in events:
        event.seq = int(cursor.fetchone()[0])  # type: ignore[index]
        cursor.nextset()


def insert_dead_letters(cursor: psycopg.Cursor[Any],
                         dead_letters: Sequence[DeadLetter]) -> None:
    if not dead_letters:
        return
    cursor.executemany(
        "INSERT INTO dead_letters (received_at, source, reason, detail, payload) "
        "VALUES (%s, %s, %s, %s, %b) RETURNING id",
        [(d.received_at, d.source, d.reason, d.detail, payload_bytes(d.payload))
         for d in dead_letters], returning=True)
    for letter in dead_letters:
        letter.id = int(cursor.fetchone()[0])  # type: ignore[index]
        cursor.nextset()


def event_of(record: tuple[int, str, float, str | None, str, bytes]) -> Event:
    seq, kind, time, element_id, source, data = record
    return Event(kind, time, element_id, source, orjson.loads(data), seq=seq)


def payload_bytes(payload: object) -> bytes:
    # Raw bytes that are not JSON (an undecodable MQTT payload) are kept as they came,
    # marked so they read back as bytes, as in the SQLite store.
    if isinstance(payload, bytes | bytearray):
        return _RAW + bytes(payload)
    return dumps(payload)


def payload_value(stored: bytes) -> object:
    if stored.startswith(_RAW):
        return stored[len(_RAW):]
    return orjson.loads(stored)
