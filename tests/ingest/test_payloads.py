"""Each payload format is decoded by its own function; bad input becomes a reject."""

from __future__ import annotations

import json
import math

import msgspec
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twinsync.errors import InvalidInput
from twinsync.ingest.payloads import (
    FORMATS,
    Decoded,
    DecodeLimits,
    decode_array,
    decode_document,
    decode_number,
    decode_object,
    decode_objects_many,
    decode_payload,
    parse_json,
)
from twinsync.pipeline import RawReading


def test_an_object_with_long_names_becomes_one_reading() -> None:
    record = {"sensor_id": "t-1", "value": 21.5, "time": 1767225600, "unit": "degC", "seq": 7}
    assert decode_object(record) == RawReading("t-1", 21.5, 1767225600, "degC", 7)


def test_an_object_with_short_names_and_the_id_from_the_topic_becomes_one_reading() -> None:
    assert decode_object({"v": 3, "ts": "2026-01-01T00:00:00Z", "u": "K"}, "t-9") == (
        RawReading("t-9", 3, "2026-01-01T00:00:00Z", "K", None))


def test_the_id_in_the_payload_wins_over_the_topic() -> None:
    assert decode_object({"id": "a", "v": 1}, "from-topic").sensor_id == "a"


@pytest.mark.parametrize(("record", "reason"), [
    ({"sensor_id": "a"}, "no_value"),
    ({"v": 1}, "no_sensor_id"),
    ([1, 2], "bad_shape"),
])
def test_an_object_without_what_a_reading_needs_is_refused_with_the_reason(
        record: object, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_object(record)
    assert caught.value.reason == reason


def test_an_array_keeps_the_good_elements_and_rejects_each_bad_one() -> None:
    decoded = decode_array([{"id": "a", "v": 1}, {"id": "b"}, "x", {"id": "c", "v": 2}])
    assert [r.sensor_id for r in decoded.readings] == ["a", "c"]
    assert decoded.positions == [0, 3]
    assert [(r.reason, r.detail.split(":")[0], r.position) for r in decoded.rejects] == [
        ("no_value", "element 1", 1), ("bad_shape", "element 2", 2)]


def test_a_bare_number_takes_its_sensor_from_the_topic() -> None:
    assert decode_number(b" 21.25\n", "t-1") == RawReading("t-1", 21.25)
    assert decode_number(b"-4", "t-1").value == -4


def test_a_bare_number_without_a_sensor_in_the_topic_is_refused() -> None:
    with pytest.raises(InvalidInput, match="sensor_id"):
        decode_number(b"1.0", None)


def test_undecodable_bytes_come_back_as_one_reject_with_the_raw_bytes() -> None:
    for payload, reason in [(b"{oops", "bad_json"), (b"\xff\xfe", "bad_json"),
                            (b"12abc", "bad_number"), (b'"text"', "bad_shape")]:
        decoded = decode_payload(payload, "t-1")
        assert decoded.readings == []
        assert [(r.reason, r.payload, r.position) for r in decoded.rejects] == [
            (reason, payload, None)]


def test_auto_detection_tells_the_formats_apart() -> None:
    assert decode_payload(b"7", "t-1").readings == [RawReading("t-1", 7)]
    assert decode_payload(b'{"v": 1}', "t-1").readings == [RawReading("t-1", 1)]
    assert len(decode_payload(b'[{"id": "a", "v": 1}, {"id": "b", "v": 2}]').readings) == 2
    assert decode_payload(b'[{"n": "a", "v": 1}]').readings[0].sensor_id == "a"


def test_a_forced_format_is_used_even_when_auto_would_guess_otherwise() -> None:
    decoded = decode_payload(b'{"v": 1}', "t-1", "senml")
    assert decoded.readings == [] and decoded.rejects[0].reason == "senml_no_name"


def test_parse_json_names_bad_json() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_json(b"[1,")
    assert caught.value.reason == "bad_json"


def test_batch_decoding_of_single_objects_gives_what_decode_payload_gives() -> None:
    payloads = [
        b'{"id":"a","v":1,"seq":3}', b'{"sensor_id":"b","value":2.5,"time":5,"unit":"K"}',
        b'{"v":3,"ts":"2026-01-01T00:00:00Z","u":"degC"}', b'{"id":null,"v":1}',
        b'{"v":null}', b'{"n":"senml","v":1}', b'21.5', b'[{"id":"a","v":1}]',
        b'{"v":1,\n"id":"split"}', b'{"sensor_id":"a","id":"b","value":null,"v":4,"t":1}',
        b'{"v":1,"v":2}', b'{"id":"c","v":"text"}',
    ]
    topics: list[str | None] = ["t-1", None, "t-3", "t-4", "t-5", None, "t-7", None, "t-9",
                                None, "t-11", None]
    for fmt in ("auto", "json"):
        fast = decode_objects_many(payloads, topics, fmt)
        assert fast[0] is not None and fast[6] is None  # vouches for objects only
        for payload, sensor_id, reading in zip(payloads, topics, fast, strict=True):
            if reading is not None:
                decoded = decode_payload(payload, sensor_id, fmt)
                assert (decoded.readings, decoded.rejects) == ([reading], [])


def test_one_bad_payload_sends_the_whole_batch_to_decode_payload() -> None:
    assert decode_objects_many([b'{"v":1}', b'{"v":1} trailing'], ["a", "a"]) == [None, None]
    assert decode_objects_many([b'{"v":1}'], ["a"], "senml") == [None]


# -- the same shapes on every transport, and bounded ---------------------------------------

def test_a_reading_with_short_names_decodes_the_same_from_any_transport_shape() -> None:
    one = RawReading("s1", 1)
    assert decode_payload(b'{"id":"s1","v":1}').readings == [one]
    assert decode_payload(b'[{"id":"s1","v":1}]').readings == [one]
    assert decode_payload(b'{"readings":[{"id":"s1","v":1}]}').readings == [one]


def test_nan_and_infinity_literals_cost_only_their_own_readings() -> None:
    decoded = decode_payload(b'[{"id":"a","v":NaN},{"id":"b","v":2},{"id":"c","v":-Infinity},'
                             b'{"id":"d","v":1e400}]')
    assert [r.sensor_id for r in decoded.readings] == ["a", "b", "c", "d"]
    assert decoded.readings[1].value == 2
    # Not finite: refused one by one by the pipeline (not_finite), not here as a batch.
    assert [math.isfinite(r.value) for r in decoded.readings] == [False, True, False, False]


def test_json_holding_a_lone_surrogate_is_refused_as_a_whole() -> None:
    decoded = decode_payload(b'[{"id":"\\ud800","v":NaN}]')
    assert [r.reason for r in decoded.rejects] == ["bad_json"]


def test_a_sensor_id_past_the_limit_is_refused_cut_to_the_limit_with_its_length() -> None:
    long_id = "x" * 100_000
    payload = orjson.dumps([{"id": long_id, "v": 1}, {"id": "ok", "v": 2}])
    decoded = decode_payload(payload)
    assert [r.sensor_id for r in decoded.readings] == ["ok"]
    assert decoded.positions == [1]
    [reject] = decoded.rejects
    assert (reject.reason, reject.position) == ("id_too_long", 0)
    assert "100000" in reject.detail and len(reject.detail) < 400
    assert reject.payload["sensor_id"] == "x" * 256
    assert reject.payload["sensor_id_length"] == 100_000
    # The fast path leaves it to decode_payload, which says why.
    assert decode_objects_many([orjson.dumps({"id": long_id, "v": 1})], [None]) == [None]


def test_a_unit_or_time_text_past_the_limit_is_refused() -> None:
    limits = DecodeLimits(max_text_length=8)
    decoded = decode_payload(b'[{"id":"a","v":1,"u":"degC degC"},{"id":"a","v":1,'
                             b'"t":"2026-01-01T00:00:00Z"},{"id":"a","v":1,"u":"K"}]',
                             limits=limits)
    assert [(r.reason, r.position) for r in decoded.rejects] == [
        ("text_too_long", 0), ("text_too_long", 1)]
    assert decoded.positions == [2]


def test_a_payload_with_more_readings_than_the_limit_is_refused_whole() -> None:
    decoded = decode_payload(orjson.dumps([{"id": "a", "v": i} for i in range(11)]),
                             limits=DecodeLimits(max_readings=10))
    assert decoded.readings == []
    assert [(r.reason, r.position) for r in decoded.rejects] == [("too_many_readings", None)]
    assert decoded.items == 11


# -- properties: anything in, readings or reasoned rejects out, every item accounted ------

_KEYS = st.sampled_from(["sensor_id", "id", "value", "v", "time", "t", "ts", "unit", "u",
                         "seq", "n", "bn", "bt", "bu", "bv", "bver", "s", "vb", "vs",
                         "readings", "x_"])
_SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(min_value=2**63)
            | st.floats() | st.text(max_size=12))
_JSON = st.recursive(
    _SCALARS,
    lambda children: (st.lists(children, max_size=6)
                      | st.dictionaries(_KEYS | st.text(max_size=4), children, max_size=8)),
    max_leaves=40)


def _assert_accounted(decoded: Decoded) -> None:
    for reject in decoded.rejects:
        assert reject.reason and reject.detail
    whole = [r for r in decoded.rejects if r.position is None]
    if whole:
        assert len(decoded.rejects) == 1 and decoded.readings == []
        return
    assert len(decoded.readings) == len(decoded.positions)
    outcomes = decoded.positions + [r.position for r in decoded.rejects]
    assert len(set(outcomes)) == len(outcomes)  # no item is both, or twice
    assert all(0 <= i < decoded.items for i in outcomes if i is not None)
    assert len(outcomes) + decoded.headers == decoded.items
    # Nothing out only for an empty batch ([] or {"readings": []}).
    assert outcomes or decoded.items == 0


@settings(max_examples=400, deadline=None)
@given(document=_JSON, topic_id=st.none() | st.just("from-topic"),
       fmt=st.sampled_from(FORMATS))
def test_any_json_value_decodes_to_readings_and_rejects_accounting_for_every_item(
        document: object, topic_id: str | None, fmt: str) -> None:
    # allow_nan: NaN and Infinity literals, which devices send and JSON forbids.
    payload = json.dumps(document, allow_nan=True).encode()
    decoded = decode_payload(payload, topic_id, fmt, now=1_767_225_600.0)
    _assert_accounted(decoded)


@settings(max_examples=300, deadline=None)
@given(payload=st.binary(max_size=200), topic_id=st.none() | st.just("from-topic"))
def test_any_bytes_decode_to_readings_and_rejects_never_an_exception(
        payload: bytes, topic_id: str | None) -> None:
    decoded = decode_payload(payload, topic_id)
    _assert_accounted(decoded)


_FINITE = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
           | st.text(max_size=300) | st.lists(st.integers(), max_size=2))
_OBJECTS = st.dictionaries(_KEYS, _FINITE, max_size=6)


@settings(max_examples=300, deadline=None)
@given(objects=st.lists(_OBJECTS, min_size=1, max_size=8),
       topic_ids=st.lists(st.none() | st.text(min_size=1, max_size=300), min_size=8,
                          max_size=8),
       fmt=st.sampled_from(FORMATS))
def test_the_batch_fast_path_gives_exactly_what_decode_payload_gives(
        objects: list[dict[str, object]], topic_ids: list[str | None], fmt: str) -> None:
    payloads = [msgspec.json.encode(o) for o in objects]
    ids = topic_ids[:len(payloads)]
    fast = decode_objects_many(payloads, ids, fmt)
    for payload, sensor_id, reading in zip(payloads, ids, fast, strict=True):
        if reading is not None:
            decoded = decode_payload(payload, sensor_id, fmt)
            assert (decoded.readings, decoded.rejects) == ([reading], [])


# Mostly good readings, with now and then a key that changes how the batch is read.
_READING_LIKE = st.fixed_dictionaries(
    {"id": st.text(max_size=5), "v": st.integers() | st.floats(allow_nan=False)},
    optional={key: _FINITE for key in ("n", "bn", "bt", "t", "u", "seq", "readings",
                                       "sensor_id", "value")})


@settings(max_examples=300, deadline=None)
@given(objects=st.lists(_READING_LIKE | _OBJECTS | _FINITE, max_size=8),
       envelope=st.booleans(),
       topic_id=st.none() | st.text(min_size=1, max_size=300),
       fmt=st.sampled_from(["auto", "json", "senml"]))  # "number" reads no JSON
def test_a_batch_decodes_the_same_by_the_typed_fast_path_and_the_general_one(
        objects: list[object], envelope: bool, topic_id: str | None, fmt: str) -> None:
    payload = msgspec.json.encode({"readings": objects} if envelope else objects)
    # One clock for both: a relative SenML time is read against "now".
    fast = decode_payload(payload, topic_id, fmt, now=1_800_000_000.0)
    general = decode_document(parse_json(payload), topic_id, fmt, now=1_800_000_000.0)
    if general.rejects and general.rejects[0].position is None:
        assert fast.rejects[0].payload == payload  # the raw bytes of a whole reject
        general.rejects[0] = general.rejects[0]._replace(payload=payload)
    assert (fast.readings, fast.positions, fast.rejects, fast.items) == (
        general.readings, general.positions, general.rejects, general.items)


def test_the_typed_fast_path_leaves_senml_and_bad_elements_to_the_general_one() -> None:
    assert decode_payload(b'[{"id":"a","v":1},{"id":"b","v":2}]').positions == [0, 1]
    senml = decode_payload(b'[{"n":"a","v":1},{"id":"b","v":2}]')
    assert [r.sensor_id for r in senml.readings] == ["a"]  # the pack's second record has no n
    mixed = decode_payload(b'[{"id":"a","v":1},"x"]')
    assert [r.reason for r in mixed.rejects] == ["bad_shape"]
