"""SenML (RFC 8428, JSON form): a pack of records → raw readings, and rejects.

Base fields (``bn``, ``bt``, ``bu``, ``bv``, ``bver``) apply to the record that carries them
and to every later record until changed. A record resolves to:

- name = ``bn`` + ``n`` (plain concatenation, as the RFC says);
- time = ``bt`` + ``t``; a result below 2**28 is relative to now (``-5`` is five seconds
  ago); no time at all means "now", left to the pipeline's receive time;
- value = ``bv`` + ``v``; ``vb`` becomes 1.0/0.0; ``s`` (a sum) is used when there is no value;
- unit = ``u`` or else ``bu``.

A record with only base fields is a header: it yields no reading, and when no later
record of the pack uses it, it is rejected (``senml_no_value``) rather than vanishing. A
record with a name or a time but no numeric value, a string (``vs``) or data (``vd``)
value, a version above 10, or a must-understand field (a name ending in ``_``) is rejected
with the reason. ``seq`` is passed through when a device adds it: it is not SenML, but it
lets the pipeline find gaps.

>>> decoded = decode_senml_records(
...     [{"bn": "urn:dev:1:", "bt": 1767225600, "bu": "degC", "n": "temp", "v": 21.5},
...      {"n": "temp", "t": 60, "v": 21.7}])
>>> [(r.sensor_id, r.value, r.time, r.unit) for r in decoded.readings]
[('urn:dev:1:temp', 21.5, 1767225600.0, 'degC'), ('urn:dev:1:temp', 21.7, 1767225660.0, 'degC')]
"""

from __future__ import annotations

import time as _time
from typing import Any

from ..pipeline import RawReading
from ..pipeline.limits import short_repr
from .decoded import Decoded, Reject

SUPPORTED_VERSION = 10
RELATIVE_LIMIT = 2.0**28
"""SenML times below this are relative to now (RFC 8428 §4.5.3)."""

_BASE_KEYS = frozenset(("bn", "bt", "bu", "bv", "bs", "bver"))
_SENML_MARKERS = ("bn", "n", "bt")


def looks_like_senml(document: Any) -> bool:
    """True for a SenML pack: records carrying ``bn``, ``n`` or ``bt``.

    Our own reading objects name the sensor ``sensor_id`` or ``id``, never ``n``, so the
    two formats do not overlap.
    """
    if type(document) is dict:
        return any(key in document for key in _SENML_MARKERS)
    if type(document) is list and document and type(document[0]) is dict:
        return any(key in record for record in document[:4] if type(record) is dict
                   for key in _SENML_MARKERS)
    return False


def _number(value: Any) -> bool:
    return type(value) is float or type(value) is int


def _is_header(record: Any) -> bool:
    return type(record) is dict and bool(record) and _BASE_KEYS.issuperset(record)


def decode_senml_records(records: list[Any], *, now: float | None = None) -> Decoded:
    """Resolve a SenML pack (already parsed from JSON) into readings and rejects.

    Every record is accounted for: a reading, a reject, or a header (base fields only)
    whose context a later record of the pack uses. A header that no later record uses
    reported nothing at all, so it is a reject (``senml_no_value``), not silence.
    """
    if type(records) is not list:
        return Decoded(rejects=[Reject("bad_senml", "a SenML pack is a JSON array of records",
                                       records)])
    decoded = Decoded(items=len(records))
    base_name = ""
    base_time = 0.0
    base_unit: Any = None
    base_value = 0.0
    clock = _time.time() if now is None else now
    # Headers after the last regular record set a context that nothing uses.
    last_regular = max((i for i, record in enumerate(records) if not _is_header(record)),
                       default=-1)

    def reject(position: int, reason: str, detail: str, record: Any) -> None:
        decoded.rejects.append(Reject(reason, f"record {position}: {detail}", record, position))

    for position, record in enumerate(records):
        if type(record) is not dict:
            reject(position, "bad_senml", "not an object", record)
            continue
        get = record.get
        if "bver" in record and (not _number(record["bver"])
                                 or record["bver"] > SUPPORTED_VERSION):
            reject(position, "senml_version",
                   f"SenML version {short_repr(record['bver'])} is newer than "
                   f"{SUPPORTED_VERSION}", record)
            continue
        must_understand = [key for key in record if key.endswith("_")]
        if must_understand:
            reject(position, "senml_must_understand",
                   f"unknown must-understand field(s) {short_repr(must_understand)}", record)
            continue
        # Base fields change the context even on a record that is later rejected: the RFC
        # scopes them by position in the pack, not by the record's validity.
        if "bn" in record:
            if type(record["bn"]) is not str:
                reject(position, "bad_sensor_id",
                       f"bn {short_repr(record['bn'])} is not text", record)
                continue
            base_name = record["bn"]
        if "bt" in record:
            if not _number(record["bt"]):
                reject(position, "bad_time", "bt is not a number", record)
                continue
            base_time = _float(record["bt"])
        if "bu" in record:
            base_unit = record["bu"]
        if "bv" in record:
            if not _number(record["bv"]):
                reject(position, "not_a_number", "bv is not a number", record)
                continue
            base_value = _float(record["bv"])
        if _is_header(record):
            if position < last_regular:
                decoded.headers += 1  # a header: base fields for the records after it
            else:
                reject(position, "senml_no_value",
                       "base fields only (no n, v or t), and no later record uses them",
                       record)
            continue
        name = get("n", "")
        if type(name) is not str:
            reject(position, "bad_sensor_id", f"n {short_repr(name)} is not text", record)
            continue
        name = base_name + name
        if not name:
            reject(position, "senml_no_name", "no name (bn + n)", record)
            continue
        value = get("v")
        if value is not None:
            if not _number(value):
                reject(position, "not_a_number", f"v {short_repr(value)} is not a number",
                       record)
                continue
            value = _float(value) + base_value if base_value else value
        elif "vb" in record:
            value = 1.0 if record["vb"] else 0.0
        elif _number(get("s")):
            value = record["s"]
        elif "vs" in record or "vd" in record:
            reject(position, "not_a_number", f"{short_repr(name)} has a string or data "
                   "value; only numbers become readings", record)
            continue
        else:
            reject(position, "senml_no_value", f"{short_repr(name)} has no value", record)
            continue
        offset = get("t", 0.0)
        if not _number(offset):
            reject(position, "bad_time", f"t {short_repr(offset)} is not a number", record)
            continue
        moment = base_time + _float(offset)
        event_time: float | None = moment
        if moment == 0.0:
            event_time = None  # "roughly now": the pipeline stamps the receive time
        elif moment < RELATIVE_LIMIT:
            event_time = clock + moment
        decoded.add(RawReading(name, value, event_time, get("u", base_unit), get("seq")),
                     position)
    return decoded


def _float(number: float | int) -> float:
    """A JSON number as a float; an integer past the float range becomes infinity, which
    the pipeline refuses as not finite, instead of an OverflowError here."""
    try:
        return float(number)
    except OverflowError:
        return float("inf") if number > 0 else float("-inf")
