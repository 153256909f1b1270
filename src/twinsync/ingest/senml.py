"""SenML (RFC 8428, JSON form): a pack of records → raw readings, and rejects.

Base fields (``bn``, ``bt``, ``bu``, ``bv``, ``bver``) apply to the record that carries them
and to every later record until changed. A record resolves to:

- name = ``bn`` + ``n`` (plain concatenation, as the RFC says);
- time = ``bt`` + ``t``; a result below 2**28 is relative to now (``-5`` is five seconds
  ago); no time at all means "now", left to the pipeline's receive time;
- value = ``bv`` + ``v``; ``vb`` becomes 1.0/0.0; ``s`` (a sum) is used when there is no value;
- unit = ``u`` or else ``bu``.

A record with only base fields is a header and yields nothing. A record with a name or a
time but no numeric value, a string (``vs``) or data (``vd``) value, a version above 10, or
a must-understand field (a name ending in ``_``) is rejected with the reason. ``seq`` is
passed through when a device adds it: it is not SenML, but it lets the pipeline find gaps.

>>> readings, rejects = decode_senml_records(
...     [{"bn": "urn:dev:1:", "bt": 1767225600, "bu": "degC", "n": "temp", "v": 21.5},
...      {"n": "temp", "t": 60, "v": 21.7}])
>>> [(r.sensor_id, r.value, r.time, r.unit) for r in readings]
[('urn:dev:1:temp', 21.5, 1767225600.0, 'degC'), ('urn:dev:1:temp', 21.7, 1767225660.0, 'degC')]
"""

from __future__ import annotations

import time as _time
from typing import TYPE_CHECKING, Any

from ..pipeline import RawReading

if TYPE_CHECKING:
    from .payloads import Reject

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


def decode_senml_records(records: list[Any], *, now: float | None = None
                         ) -> tuple[list[RawReading], list[Reject]]:
    """Resolve a SenML pack (already parsed from JSON) into readings and rejects."""
    from .payloads import Reject

    if type(records) is not list:
        return [], [Reject("bad_senml", "a SenML pack is a JSON array of records", records)]
    readings: list[RawReading] = []
    rejects: list[Reject] = []
    base_name = ""
    base_time = 0.0
    base_unit: str | None = None
    base_value = 0.0
    clock = _time.time() if now is None else now
    for position, record in enumerate(records):
        if type(record) is not dict:
            rejects.append(Reject("bad_senml", f"record {position} is not an object", record))
            continue
        get = record.get
        if "bver" in record and (not _number(record["bver"])
                                 or record["bver"] > SUPPORTED_VERSION):
            rejects.append(Reject("senml_version",
                                  f"record {position}: SenML version {record['bver']!r} is "
                                  f"newer than {SUPPORTED_VERSION}", record))
            continue
        must_understand = [key for key in record if key.endswith("_")]
        if must_understand:
            rejects.append(Reject("senml_must_understand",
                                  f"record {position}: unknown must-understand field(s) "
                                  f"{must_understand}", record))
            continue
        # Base fields change the context even on a record that is later rejected: the RFC
        # scopes them by position in the pack, not by the record's validity.
        if "bn" in record:
            base_name = str(record["bn"])
        if "bt" in record:
            if not _number(record["bt"]):
                rejects.append(Reject("bad_time", f"record {position}: bt is not a number",
                                      record))
                continue
            base_time = float(record["bt"])
        if "bu" in record:
            base_unit = record["bu"]
        if "bv" in record:
            if not _number(record["bv"]):
                rejects.append(Reject("not_a_number", f"record {position}: bv is not a number",
                                      record))
                continue
            base_value = float(record["bv"])
        if _BASE_KEYS.issuperset(record):
            continue  # a header: base fields only
        name = base_name + str(get("n", ""))
        if not name:
            rejects.append(Reject("senml_no_name", f"record {position} has no name (bn + n)",
                                  record))
            continue
        value = get("v")
        if value is not None:
            if not _number(value):
                rejects.append(Reject("not_a_number", f"record {position}: v {value!r} is "
                                      "not a number", record))
                continue
            value = value + base_value if base_value else value
        elif "vb" in record:
            value = 1.0 if record["vb"] else 0.0
        elif _number(get("s")):
            value = record["s"]
        elif "vs" in record or "vd" in record:
            rejects.append(Reject("not_a_number", f"record {position} ({name}) has a string "
                                  "or data value; only numbers become readings", record))
            continue
        else:
            rejects.append(Reject("senml_no_value", f"record {position} ({name}) has no value",
                                  record))
            continue
        offset = get("t", 0.0)
        if not _number(offset):
            rejects.append(Reject("bad_time", f"record {position}: t {offset!r} is not a number",
                                  record))
            continue
        moment = base_time + offset
        event_time: float | None = moment
        if moment == 0.0:
            event_time = None  # "roughly now": the pipeline stamps the receive time
        elif moment < RELATIVE_LIMIT:
            event_time = clock + moment
        unit = get("u", base_unit)
        readings.append(RawReading(name, value, event_time, unit, get("seq")))
    return readings, rejects
