"""Payload decoders: bytes from a source → raw readings, and rejects with the reason.

Each format is one function, so each has its own tests:

- ``decode_object``: one JSON object ``{"sensor_id"|"id", "value"|"v", "time"|"t"|"ts",
  "unit"|"u", "seq"}``; the sensor id may come from the topic instead.
- ``decode_array``: a JSON array of such objects.
- ``decode_number``: a bare number (``21.5``); the sensor id comes from the topic.
- SenML (RFC 8428) lives in ``senml.py``.

``decode_payload`` picks the format (``auto`` looks at the first byte and, for arrays, at
the keys). Nothing is validated beyond the shape: the pipeline checks sensors, numbers,
times and units once, for every source alike. JSON is parsed with msgspec (~0.5 µs for an
80-byte message, against ~4 µs for the standard library).

``decode_objects_many`` is the hot path's twin of ``decode_payload`` for the common
message, one JSON object holding one reading: it parses a whole batch of such payloads in
one msgspec call into typed records, and returns ``None`` for any payload it cannot vouch
for, which then goes through ``decode_payload``; both give the same readings (a test says
so).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import msgspec

from ..errors import InvalidInput
from ..pipeline import RawReading
from .senml import decode_senml_records, looks_like_senml

FORMATS = ("auto", "json", "senml", "number")

_decode_json = msgspec.json.Decoder().decode
_NUMBER_START = frozenset(b"-0123456789.")


class _Record(msgspec.Struct):
    """The keys ``decode_object`` reads; ``UNSET`` tells an absent key from a null one."""

    sensor_id: Any = None
    id: Any = msgspec.UNSET
    value: Any = None
    v: Any = None
    time: Any = None
    t: Any = None
    ts: Any = None
    unit: Any = None
    u: Any = None
    seq: Any = None
    n: Any = msgspec.UNSET   # SenML markers: such a record is left to decode_payload
    bn: Any = msgspec.UNSET
    bt: Any = msgspec.UNSET


_decode_record_lines = msgspec.json.Decoder(_Record).decode_lines
_UNSET = msgspec.UNSET


class Reject(NamedTuple):
    """Part of a payload that could not be decoded: a dead letter once the source is known."""

    reason: str
    detail: str
    payload: Any


def parse_json(payload: bytes) -> Any:
    """Any JSON value; InvalidInput(reason ``bad_json``) if the bytes are not JSON."""
    try:
        return _decode_json(payload)
    except msgspec.DecodeError as exc:
        raise InvalidInput(f"not JSON: {exc}", "bad_json") from exc


def decode_object(record: Any, sensor_id: str | None = None) -> RawReading:
    """One reading from a JSON object; ``sensor_id`` (from the topic) fills a missing id."""
    if type(record) is not dict:
        raise InvalidInput(f"a reading must be a JSON object, not {type(record).__name__}",
                           "bad_shape")
    get = record.get
    sid = get("sensor_id")
    if sid is None:
        sid = get("id", sensor_id)
    value = get("value")
    if value is None:
        value = get("v")
        if value is None:
            raise InvalidInput("a reading needs a 'value' (or 'v')", "no_value")
    time = get("time")
    if time is None:
        time = get("t")
        if time is None:
            time = get("ts")
    unit = get("unit")
    if unit is None:
        unit = get("u")
    if sid is None:
        raise InvalidInput("a reading needs a 'sensor_id' (or 'id', or one in the topic)",
                           "no_sensor_id")
    return RawReading(sid, value, time, unit, get("seq"))


def decode_array(records: Any, sensor_id: str | None = None
                 ) -> tuple[list[RawReading], list[Reject]]:
    """Readings from a JSON array of objects; each bad element is rejected on its own."""
    if type(records) is not list:
        raise InvalidInput("expected a JSON array of readings", "bad_shape")
    readings: list[RawReading] = []
    rejects: list[Reject] = []
    for position, record in enumerate(records):
        try:
            readings.append(decode_object(record, sensor_id))
        except InvalidInput as exc:
            rejects.append(Reject(exc.reason, f"element {position}: {exc}", record))
    return readings, rejects


def decode_number(payload: bytes, sensor_id: str | None) -> RawReading:
    """A bare number such as ``b"21.5"``; the sensor id must come from the topic."""
    if sensor_id is None:
        raise InvalidInput("a bare number needs a {sensor_id} field in the topic template",
                           "no_sensor_id")
    text = payload.strip()
    try:
        value: float | int = int(text) if text.lstrip(b"-").isdigit() else float(text)
    except ValueError as exc:
        raise InvalidInput(f"not a number: {payload[:40]!r}", "bad_number") from exc
    return RawReading(sensor_id, value)


def decode_payload(payload: bytes, sensor_id: str | None = None, fmt: str = "auto",
                   *, now: float | None = None) -> tuple[list[RawReading], list[Reject]]:
    """Readings and rejects from one message, never an exception.

    Whatever cannot be decoded as a whole comes back as one reject whose payload is the
    raw bytes, so the dead letter keeps exactly what was sent.
    """
    try:
        if fmt == "number" or (fmt == "auto" and payload[:1] and payload[0] in _NUMBER_START):
            return [decode_number(payload, sensor_id)], []
        document = parse_json(payload)
        if fmt == "senml" or (fmt == "auto" and looks_like_senml(document)):
            if type(document) is dict:  # a single record is accepted as a pack of one
                document = [document]
            return decode_senml_records(document, now=now)
        if type(document) is list:
            return decode_array(document, sensor_id)
        if type(document) is dict:
            return [decode_object(document, sensor_id)], []
        if type(document) in (int, float) and sensor_id is not None:
            return [RawReading(sensor_id, document)], []
        raise InvalidInput(f"a {type(document).__name__} is not a reading", "bad_shape")
    except InvalidInput as exc:
        return [], [Reject(exc.reason, str(exc), bytes(payload))]


def decode_objects_many(payloads: list[bytes], sensor_ids: list[str | None],
                        fmt: str = "auto") -> list[RawReading | None]:
    """One reading per payload that is a single JSON object with one reading, in one parse.

    ``sensor_ids`` are the topics' ids, as for ``decode_payload``. A ``None`` in the answer
    means "not vouched for here" (not an object, a SenML record under ``auto``, a missing
    id or value, bad JSON): decode that payload with ``decode_payload``.

    >>> many = decode_objects_many([b'{"id":"a","v":1,"seq":3}', b'7', b'{"v":2}'],
    ...                            [None, "b", "c"])
    >>> [None if r is None else (r.sensor_id, r.value, r.seq) for r in many]
    [('a', 1, 3), None, ('c', 2, None)]
    """
    out: list[RawReading | None] = [None] * len(payloads)
    if fmt not in ("auto", "json"):
        return out
    # One payload per line: a payload with a newline of its own is left out, so a line
    # can never hold more or less than one payload.
    index = [i for i, payload in enumerate(payloads)
             if payload[:1] == b"{" and b"\n" not in payload]
    if not index:
        return out
    try:
        records = _decode_record_lines(b"\n".join([payloads[i] for i in index]))
    except msgspec.DecodeError:
        return out  # one bad payload: let each be decoded (and rejected) on its own
    if len(records) != len(index):
        return out
    senml_possible = fmt == "auto"
    for i, record in zip(index, records, strict=True):
        if senml_possible and (record.n is not _UNSET or record.bn is not _UNSET
                               or record.bt is not _UNSET):
            continue
        sensor_id = record.sensor_id
        if sensor_id is None:
            sensor_id = record.id
            if sensor_id is _UNSET:
                sensor_id = sensor_ids[i]
            if sensor_id is None:
                continue
        value = record.value
        if value is None:
            value = record.v
            if value is None:
                continue
        time = record.time
        if time is None:
            time = record.t
            if time is None:
                time = record.ts
        unit = record.unit
        if unit is None:
            unit = record.u
        out[i] = RawReading(sensor_id, value, time, unit, record.seq)
    return out
