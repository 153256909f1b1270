"""Each payload format is decoded by its own function; bad input becomes a reject."""

from __future__ import annotations

import pytest

from twinsync.errors import InvalidInput
from twinsync.ingest.payloads import (
    decode_array,
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
    readings, rejects = decode_array([{"id": "a", "v": 1}, {"id": "b"}, "x", {"id": "c", "v": 2}])
    assert [r.sensor_id for r in readings] == ["a", "c"]
    assert [(r.reason, r.detail.split(":")[0]) for r in rejects] == [
        ("no_value", "element 1"), ("bad_shape", "element 2")]


def test_a_bare_number_takes_its_sensor_from_the_topic() -> None:
    assert decode_number(b" 21.25\n", "t-1") == RawReading("t-1", 21.25)
    assert decode_number(b"-4", "t-1").value == -4


def test_a_bare_number_without_a_sensor_in_the_topic_is_refused() -> None:
    with pytest.raises(InvalidInput, match="sensor_id"):
        decode_number(b"1.0", None)


def test_undecodable_bytes_come_back_as_one_reject_with_the_raw_bytes() -> None:
    for payload, reason in [(b"{oops", "bad_json"), (b"\xff\xfe", "bad_json"),
                            (b"12abc", "bad_number"), (b'"text"', "bad_shape")]:
        readings, rejects = decode_payload(payload, "t-1")
        assert readings == []
        assert [(r.reason, r.payload) for r in rejects] == [(reason, payload)]


def test_auto_detection_tells_the_formats_apart() -> None:
    assert decode_payload(b"7", "t-1")[0] == [RawReading("t-1", 7)]
    assert decode_payload(b'{"v": 1}', "t-1")[0] == [RawReading("t-1", 1)]
    assert len(decode_payload(b'[{"id": "a", "v": 1}, {"id": "b", "v": 2}]')[0]) == 2
    assert decode_payload(b'[{"n": "a", "v": 1}]')[0][0].sensor_id == "a"


def test_a_forced_format_is_used_even_when_auto_would_guess_otherwise() -> None:
    readings, rejects = decode_payload(b'{"v": 1}', "t-1", "senml")
    assert readings == [] and rejects[0].reason == "senml_no_name"


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
                assert decode_payload(payload, sensor_id, fmt) == ([reading], [])


def test_one_bad_payload_sends_the_whole_batch_to_decode_payload() -> None:
    assert decode_objects_many([b'{"v":1}', b'{"v":1} trailing'], ["a", "a"]) == [None, None]
    assert decode_objects_many([b'{"v":1}'], ["a"], "senml") == [None]
