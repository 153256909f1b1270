"""Rows that are not readings, as every store writes and reads them: elements, events and
dead letters as orjson bodies (raw payloads marked), and the queries that list events and
dead letters, in a driver's placeholder (``?`` for sqlite3, ``%s`` for psycopg)."""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from ..model import Binding, Element, Event, Sensor
from .base import json_default

#: Marks a payload that is raw bytes (an undecodable MQTT payload), kept as it came.
RAW = b"\x00raw:"

EVENT_COLUMNS = "seq, kind, time, element_id, source, data"
DEAD_LETTER_COLUMNS = "id, received_at, source, reason, detail, payload"


def dumps(value: object) -> bytes:
    return orjson.dumps(value, default=json_default, option=orjson.OPT_SERIALIZE_NUMPY)


def twin_of(elements: Iterable[tuple[bytes]], sensors: Iterable[tuple[int, bytes]],
            bindings: Iterable[tuple[bytes]]
            ) -> tuple[list[Element], list[tuple[int, Sensor]], list[Binding]]:
    """``Store.load_twin`` from the stored bodies: (body,), (row, body) and (body,) rows."""
    return ([Element.from_dict(orjson.loads(body)) for (body,) in elements],
            [(row, Sensor.from_dict(orjson.loads(body))) for row, body in sensors],
            [Binding.from_dict(orjson.loads(body)) for (body,) in bindings])


def event_of(record: tuple[int, str, float, str | None, str, bytes]) -> Event:
    seq, kind, time, element_id, source, data = record
    return Event(kind, time, element_id, source, orjson.loads(data), seq=seq)


def payload_bytes(payload: object) -> bytes:
    if isinstance(payload, bytes | bytearray):
        return RAW + bytes(payload)
    return dumps(payload)


def payload_value(stored: bytes) -> object:
    if stored.startswith(RAW):
        return stored[len(RAW):]
    return orjson.loads(stored)


def events_query(mark: str, after: int, element_id: str | None, kind: str | None,
                 limit: int) -> tuple[str, list[object]]:
    """``Store.events``: events after a sequence number, oldest first."""
    return _page_query(mark, EVENT_COLUMNS, "events", "seq", after,
                       {"element_id": element_id, "kind": kind}, limit)


def recent_events_query(mark: str, kind: str | None, limit: int) -> tuple[str, list[object]]:
    """``Store.recent_events``: the newest events, newest first."""
    params: list[object] = [limit] if kind is None else [kind, limit]
    where = "" if kind is None else f" WHERE kind = {mark}"
    return f"SELECT {EVENT_COLUMNS} FROM events{where} ORDER BY seq DESC LIMIT {mark}", params


def dead_letters_query(mark: str, after: int, reason: str | None,
                       limit: int) -> tuple[str, list[object]]:
    """``Store.dead_letters``: dead letters after an id, oldest first."""
    return _page_query(mark, DEAD_LETTER_COLUMNS, "dead_letters", "id", after,
                       {"reason": reason}, limit)


def _page_query(mark: str, columns: str, table: str, key: str, after: int,
                equal: dict[str, object | None], limit: int) -> tuple[str, list[object]]:
    """Rows of ``table`` whose ``key`` is above ``after``, in key order, keeping those where
    each column of ``equal`` that is given a value holds it. The names come from this
    module; the values go as parameters."""
    query = f"SELECT {columns} FROM {table} WHERE {key} > {mark}"
    params: list[object] = [after]
    for column, value in equal.items():
        if value is not None:
            query += f" AND {column} = {mark}"
            params.append(value)
    params.append(limit)
    return query + f" ORDER BY {key} LIMIT {mark}", params
