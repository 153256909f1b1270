"""Rows that are not readings, as every store writes and reads them: elements, events and
dead letters as orjson bodies (raw payloads marked), and the queries that list events, in
a driver's placeholder (``?`` for sqlite3, ``%s`` for psycopg). Decoding never raises: a
row that cannot be used is reported (``problems``) and skipped."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

import orjson

from ..errors import InvalidInput
from ..model import Binding, Element, Event, Sensor
from .base import json_default
from .problems import LoadProblems

#: Marks a payload that is raw bytes (an undecodable MQTT payload), kept as it came.
RAW = b"\x00raw:"

EVENT_COLUMNS = "seq, kind, time, element_id, source, data"


def dumps(value: object) -> bytes:
    """A body as stored. A value JSON cannot hold as it is (an integer past 64 bits, an
    object of no JSON type) is refused with InvalidInput before anything is written, not
    left to fail the transaction as a server error."""
    try:
        return orjson.dumps(value, default=json_default, option=orjson.OPT_SERIALIZE_NUMPY)
    except (orjson.JSONEncodeError, TypeError) as exc:
        raise InvalidInput(f"value cannot be stored: {exc}", "unstorable_value") from exc


def twin_of(elements: Iterable[tuple[str, bytes]], sensors: Iterable[tuple[int, str, bytes]],
            bindings: Iterable[tuple[str, bytes]], problems: LoadProblems
            ) -> tuple[list[Element], list[tuple[int, Sensor]], list[Binding]]:
    """``Store.load_twin`` from the stored rows: (id, body), (row, id, body) and
    (sensor id, body). A row that does not decode is reported and skipped; a sensor keeps
    its row (the readings history refers to it) as a bare sensor marked with the problem."""
    loaded_elements = []
    skipped: set[str] = set()
    for key, body in elements:
        try:
            loaded_elements.append(Element.from_dict(orjson.loads(body)))
        except Exception as exc:  # whatever a damaged body raises: reported, not fatal
            problems.report("elements", key, _why(exc))
            skipped.add(key)
    loaded_sensors = []
    for row, key, body in sensors:
        try:
            sensor = Sensor.from_dict(orjson.loads(body))
            if sensor.id != key:
                raise ValueError(f"its body names sensor {sensor.id!r}")
            _require_finite("sensor", sensor.expected_interval, sensor.resolution)
        except Exception as exc:
            reason = _why(exc)
            problems.report("sensors", key, reason)
            sensor = Sensor(key, "generic", meta={"load_problem": reason})
        loaded_sensors.append((int(row), sensor))
    loaded_bindings = []
    for key, body in bindings:
        try:
            binding = Binding.from_dict(orjson.loads(body))
            _require_finite("transform", binding.transform.gain, binding.transform.offset)
            if binding.element_id in skipped:
                # A binding must not point at an element the twin will not have.
                raise ValueError(f"its element {binding.element_id!r} was skipped")
            loaded_bindings.append(binding)
        except Exception as exc:
            problems.report("bindings", key, _why(exc))
    return loaded_elements, loaded_sensors, loaded_bindings


def _require_finite(what: str, *numbers: float) -> None:
    if not all(math.isfinite(n) for n in numbers):
        raise ValueError(f"{what} has a number that is not finite: {numbers}")


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def event_of(record: tuple[int, str, float, str | None, str, bytes]) -> Event:
    seq, kind, time, element_id, source, data = record
    return Event(kind, time, element_id, source, orjson.loads(data), seq=seq)


def events_of(records: Iterable[tuple[int, str, float, str | None, str, bytes]],
              problems: LoadProblems) -> list[Event]:
    """Events from stored rows; one whose data does not decode to an object is reported
    and skipped."""
    events = []
    for record in records:
        try:
            event = event_of(record)
            if not isinstance(event.data, dict):
                raise ValueError(f"data is a {type(event.data).__name__}, not an object")
            events.append(event)
        except Exception as exc:
            problems.report("events", record[0], _why(exc))
    return events


def snapshot_body(name: str, row: tuple[Any, ...] | None,
                  problems: LoadProblems) -> bytes | None:
    """A stored snapshot's bytes; one stored as anything but bytes is reported and taken as
    never saved (its state is relearned)."""
    if row is None:
        return None
    if not isinstance(row[0], bytes | bytearray | memoryview):
        problems.report("snapshots", name, f"body is {type(row[0]).__name__}, not bytes")
        return None
    return bytes(row[0])


def payload_bytes(payload: object) -> bytes:
    """A dead letter's payload as stored. It never fails: a payload orjson cannot write
    (an integer past 64 bits) is written by Python's json, and failing that kept as the
    raw bytes of its repr — a bad payload must not lose the batch it came with."""
    if isinstance(payload, bytes | bytearray):
        return RAW + bytes(payload)
    try:
        return dumps(payload)
    except InvalidInput:
        try:
            return json.dumps(payload, default=repr).encode()
        except (ValueError, TypeError, RecursionError):
            return RAW + repr(payload).encode("utf-8", "backslashreplace")


def payload_value(stored: bytes) -> object:
    if stored.startswith(RAW):
        return stored[len(RAW):]
    return orjson.loads(stored)


def events_query(mark: str, after: int, element_id: str | None, kind: str | None,
                 limit: int, newest_first: bool = False) -> tuple[str, list[object]]:
    """``Store.events``: events after a sequence number, oldest first (or the newest of
    them first)."""
    return _page_query(mark, EVENT_COLUMNS, "events", "seq", after,
                       {"element_id": element_id, "kind": kind}, limit,
                       descending=newest_first)


def recent_events_query(mark: str, kind: str | None, limit: int) -> tuple[str, list[object]]:
    """``Store.recent_events``: the newest events, newest first."""
    params: list[object] = [limit] if kind is None else [kind, limit]
    where = "" if kind is None else f" WHERE kind = {mark}"
    return f"SELECT {EVENT_COLUMNS} FROM events{where} ORDER BY seq DESC LIMIT {mark}", params


def _page_query(mark: str, columns: str, table: str, key: str, after: int,
                equal: dict[str, object | None], limit: int, *,
                descending: bool = False) -> tuple[str, list[object]]:
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
    return query + f" ORDER BY {key}{' DESC' if descending else ''} LIMIT {mark}", params
