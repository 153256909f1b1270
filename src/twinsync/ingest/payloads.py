"""The one payload decoder: bytes from any source → raw readings, and rejects with the reason.

HTTP (``POST /api/readings``), MQTT and every other source that receives readings as
JSON call ``decode_payload``, so a payload is a reading on one transport exactly when it
is on the others. The shapes it takes:

- one JSON object ``{"sensor_id"|"id", "value"|"v", "time"|"t"|"ts", "unit"|"u", "seq"}``;
  the sensor id may come from elsewhere (an MQTT topic) instead (``decode_object``);
- a JSON array of such objects, each bad element rejected on its own (``decode_array``);
- ``{"readings": [...]}``, the same array in an envelope;
- a bare number (``21.5``); the sensor id must come from elsewhere (``decode_number``);
- SenML (RFC 8428 JSON), in ``senml.py``.

``auto`` tells them apart by the first byte and, for JSON, by the keys. Nothing is
validated beyond the shape and the bounds of ``DecodeLimits`` (items per payload, id and
text lengths): the pipeline checks sensors, numbers, times and units once, for every
source alike. ``Decoded`` accounts for every item of the payload: it is a reading (with
its position), a reject (with its position), or a SenML header that later records use.

JSON is parsed with msgspec (~0.5 µs for an 80-byte message, against ~4 µs for the
standard library). Devices also send ``NaN``, ``Infinity`` and numbers past the float
range, which are not JSON: a payload msgspec refuses is parsed again by the standard
library, which reads them, so only the readings holding them are refused (``not_finite``)
instead of the whole batch.

Two typed fast paths give exactly what the general one gives (property tests say so):
``decode_objects_many``, for MQTT's common message, one JSON object holding one reading,
parses a whole batch of such messages in one msgspec call and returns ``None`` for any it
cannot vouch for, which then goes through ``decode_payload``; and inside
``decode_payload``, a batch (``[...]`` or ``{"readings": [...]}``) whose every element is
a good reading object is read in one typed call, else by the general path.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from ..errors import InvalidInput
from ..pipeline import RawReading
from ..pipeline.limits import short_repr
from .decoded import DEFAULT_LIMITS, Decoded, DecodeLimits, Reject
from .senml import decode_senml_records, looks_like_senml

__all__ = ["FORMATS", "DecodeLimits", "Decoded", "Reject", "decode_array",
           "decode_document", "decode_number", "decode_object", "decode_objects_many",
           "decode_payload", "parse_json"]

FORMATS = ("auto", "json", "senml", "number")

_decode_json = msgspec.json.Decoder().decode
_encode_json = msgspec.json.encode
_NUMBER_START = frozenset(b"-0123456789.")
_ENVELOPE = "readings"


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
    readings: Any = msgspec.UNSET  # an envelope: left to decode_payload


class _Envelope(msgspec.Struct):
    """``{"readings": [...]}``; the SenML markers tell a SenML record that has the key."""

    readings: list[_Record]
    n: Any = msgspec.UNSET
    bn: Any = msgspec.UNSET
    bt: Any = msgspec.UNSET


_decode_record_lines = msgspec.json.Decoder(_Record).decode_lines
_decode_record_list = msgspec.json.Decoder(list[_Record]).decode
_decode_envelope = msgspec.json.Decoder(_Envelope).decode
_UNSET = msgspec.UNSET


def parse_json(payload: bytes) -> Any:
    """Any JSON value, ``NaN``/``Infinity`` included; InvalidInput(``bad_json``) if not JSON."""
    try:
        return _decode_json(payload)
    except (msgspec.DecodeError, RecursionError) as exc:
        error: Exception = exc
    try:
        # The standard library reads NaN, Infinity and 1e400 (as inf), which msgspec
        # refuses; the readings holding them are then refused one by one by the pipeline.
        document = json.loads(payload)
        # It also lets lone surrogates ("\ud800") through, which no store can write.
        _encode_json(document)
    except (ValueError, RecursionError, TypeError, OverflowError):
        raise InvalidInput(f"not JSON: {error}", "bad_json") from error
    return document


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


def decode_array(records: Any, sensor_id: str | None = None,
                 limits: DecodeLimits = DEFAULT_LIMITS) -> Decoded:
    """Readings from a JSON array of objects; each bad element is rejected on its own."""
    if type(records) is not list:
        return _whole(records, "bad_shape", "expected a JSON array of readings")
    count = len(records)
    if count > limits.max_readings:
        return _too_many(records, count, limits)
    decoded = Decoded(items=count)
    for position, record in enumerate(records):
        try:
            decoded.add(decode_object(record, sensor_id), position)
        except InvalidInput as exc:
            decoded.rejects.append(Reject(exc.reason, f"element {position}: {exc}", record,
                                          position))
    return decoded


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


def decode_document(document: Any, sensor_id: str | None = None, fmt: str = "auto", *,
                    now: float | None = None, limits: DecodeLimits = DEFAULT_LIMITS
                    ) -> Decoded:
    """Readings and rejects from an already parsed JSON value, never an exception."""
    kind = type(document)
    if fmt == "senml" or (fmt == "auto" and looks_like_senml(document)):
        records = [document] if kind is dict else document  # one record: a pack of one
        if type(records) is list and len(records) > limits.max_readings:
            return _too_many(document, len(records), limits)
        decoded = decode_senml_records(records, now=now)
    elif kind is dict and _ENVELOPE in document:
        decoded = decode_array(document[_ENVELOPE], sensor_id, limits)
        if decoded.rejects and decoded.rejects[0].reason == "bad_shape" and (
                decoded.rejects[0].position is None):
            decoded.rejects[0] = decoded.rejects[0]._replace(
                detail=f'expected {{"{_ENVELOPE}": [reading, …]}}', payload=document)
    elif kind is list:
        decoded = decode_array(document, sensor_id, limits)
    elif kind is dict:
        decoded = Decoded(items=1)
        try:
            decoded.add(decode_object(document, sensor_id), 0)
        except InvalidInput as exc:
            decoded.rejects.append(Reject(exc.reason, str(exc), document, 0))
    elif (kind is int or kind is float) and sensor_id is not None:
        decoded = Decoded(items=1)
        decoded.add(RawReading(sensor_id, document), 0)
    elif kind is int or kind is float:
        return _whole(document, "no_sensor_id",
                      "a bare number needs a sensor id (a {sensor_id} field in the topic)")
    else:
        return _whole(document, "bad_shape", f"a {kind.__name__} is not a reading")
    return _within_limits(decoded, limits)


def decode_payload(payload: bytes, sensor_id: str | None = None, fmt: str = "auto", *,
                   now: float | None = None, limits: DecodeLimits = DEFAULT_LIMITS
                   ) -> Decoded:
    """Readings and rejects from one message or request body, never an exception.

    Whatever cannot be decoded as a whole comes back as one reject (position None) whose
    payload is the raw bytes, so the dead letter keeps exactly what was sent.
    """
    try:
        if fmt == "number" or (fmt == "auto" and payload[:1] and payload[0] in _NUMBER_START):
            decoded = Decoded(items=1)
            decoded.add(decode_number(payload, sensor_id), 0)
            return _within_limits(decoded, limits)
        batch = _decode_batch(payload, sensor_id, fmt, limits)
        if batch is not None:
            return batch
        document = parse_json(payload)
    except InvalidInput as exc:
        return Decoded(rejects=[Reject(exc.reason, str(exc), bytes(payload))])
    decoded = decode_document(document, sensor_id, fmt, now=now, limits=limits)
    rejects = decoded.rejects
    if rejects and rejects[0].position is None:
        rejects[0] = rejects[0]._replace(payload=bytes(payload))
    return decoded


def _whole(document: Any, reason: str, detail: str) -> Decoded:
    return Decoded(rejects=[Reject(reason, detail, document)])


def _too_many(document: Any, count: int, limits: DecodeLimits) -> Decoded:
    return Decoded(rejects=[Reject(
        "too_many_readings",
        f"{count} readings in one payload; the limit is {limits.max_readings}", document)],
        items=count)


def _within_limits(decoded: Decoded, limits: DecodeLimits) -> Decoded:
    """Move readings with an over-long id, unit or time text to the rejects.

    The reject's payload holds the field cut to the limit and its length: a 20 MB id is
    neither kept nor echoed whole.
    """
    id_limit = limits.max_id_length
    text_limit = limits.max_text_length
    over = [i for i, reading in enumerate(decoded.readings)
            if (type(reading.sensor_id) is str and len(reading.sensor_id) > id_limit)
            or (type(reading.unit) is str and len(reading.unit) > text_limit)
            or (type(reading.time) is str and len(reading.time) > text_limit)]
    if not over:
        return decoded
    readings, positions = decoded.readings, decoded.positions
    for i in over:
        reading, position = readings[i], positions[i]
        payload: dict[str, Any] = {k: v for k, v in reading._asdict().items() if v is not None}
        sensor_id = reading.sensor_id
        if type(sensor_id) is str and len(sensor_id) > id_limit:
            reason = "id_too_long"
            detail = (f"sensor id of {len(sensor_id)} characters; the limit is {id_limit}: "
                      f"{sensor_id[:id_limit]!r}…")
            payload["sensor_id"] = sensor_id[:id_limit]
            payload["sensor_id_length"] = len(sensor_id)
        else:
            reason = "text_too_long"
            field = "unit" if type(reading.unit) is str and len(reading.unit) > text_limit \
                else "time"
            text: str = payload[field]
            detail = (f"{field} of {len(text)} characters; the limit is {text_limit}: "
                      f"{short_repr(text)}")
            payload[field] = text[:text_limit]
            payload[f"{field}_length"] = len(text)
        decoded.rejects.append(Reject(reason, f"element {position}: {detail}", payload,
                                      position))
    keep = set(range(len(readings))) - set(over)
    decoded.readings = [readings[i] for i in sorted(keep)]
    decoded.positions = [positions[i] for i in sorted(keep)]
    return decoded


def decode_objects_many(payloads: list[bytes], sensor_ids: list[str | None],
                        fmt: str = "auto", limits: DecodeLimits = DEFAULT_LIMITS
                        ) -> list[RawReading | None]:
    """One reading per payload that is a single JSON object with one reading, in one parse.

    ``sensor_ids`` are the topics' ids, as for ``decode_payload``. A ``None`` in the answer
    means "not vouched for here" (not an object, a SenML record under ``auto``, an
    envelope, a missing id or value, text past the limits, bad JSON): decode that payload
    with ``decode_payload``.

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
    except (msgspec.DecodeError, RecursionError):
        return out  # one bad payload: let each be decoded (and rejected) on its own
    if len(records) != len(index):
        return out
    senml_possible = fmt == "auto"
    for i, record in zip(index, records, strict=True):
        out[i] = _reading_of(record, sensor_ids[i], senml_possible, limits)
    return out


def _reading_of(record: _Record, topic_id: str | None, senml_possible: bool,
                limits: DecodeLimits) -> RawReading | None:
    """What ``decode_object`` makes of ``record``, or None where it would refuse it, where
    ``decode_payload`` would read it as SenML or an envelope, or where a text is past its
    limit: all of those are left to the general path, which says why."""
    if record.readings is not _UNSET or (
            senml_possible and (record.n is not _UNSET or record.bn is not _UNSET
                                or record.bt is not _UNSET)):
        return None
    sensor_id = record.sensor_id
    if sensor_id is None:
        sensor_id = record.id
        if sensor_id is _UNSET:
            sensor_id = topic_id
        if sensor_id is None:
            return None
    value = record.value
    if value is None:
        value = record.v
        if value is None:
            return None
    time = record.time
    if time is None:
        time = record.t
        if time is None:
            time = record.ts
    unit = record.unit
    if unit is None:
        unit = record.u
    text_limit = limits.max_text_length
    if ((type(sensor_id) is str and len(sensor_id) > limits.max_id_length)
            or (type(unit) is str and len(unit) > text_limit)
            or (type(time) is str and len(time) > text_limit)):
        return None
    return RawReading(sensor_id, value, time, unit, record.seq)


def _decode_batch(payload: bytes, sensor_id: str | None, fmt: str, limits: DecodeLimits
                  ) -> Decoded | None:
    """The common batch — ``[reading, …]`` or ``{"readings": [...]}`` where every element
    is a good reading object — in one typed msgspec call, about twice as fast as a parse
    into dicts and ``decode_array``. None where it cannot vouch for every element: then
    the general path decodes the payload, so both give the same answer (a property test
    says so)."""
    if fmt != "auto" and fmt != "json":
        return None
    try:
        if payload[:1] == b"[":
            records = _decode_record_list(payload)
        elif payload[:1] == b"{" and b'"readings"' in payload:
            envelope = _decode_envelope(payload)
            if fmt == "auto" and (envelope.n is not _UNSET or envelope.bn is not _UNSET
                                  or envelope.bt is not _UNSET):
                return None  # a SenML record with a "readings" key
            records = envelope.readings
        else:
            return None
    except (msgspec.DecodeError, RecursionError):
        return None
    if len(records) > limits.max_readings:
        return None
    senml_possible = fmt == "auto"
    readings: list[RawReading] = []
    for record in records:
        reading = _reading_of(record, sensor_id, senml_possible, limits)
        if reading is None:
            return None
        readings.append(reading)
    return Decoded(readings, list(range(len(readings))), items=len(readings))
