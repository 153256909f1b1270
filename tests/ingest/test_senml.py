"""SenML packs resolve base name, time, unit and value as RFC 8428 says."""

from __future__ import annotations

from typing import Any

from twinsync.ingest.payloads import Reject, decode_payload
from twinsync.ingest.senml import decode_senml_records, looks_like_senml
from twinsync.pipeline import RawReading

T0 = 1_767_225_600.0


def resolve(records: Any, now: float | None = None) -> tuple[list[RawReading], list[Reject]]:
    decoded = decode_senml_records(records, now=now)
    return decoded.readings, decoded.rejects


def test_base_name_is_concatenated_and_base_fields_carry_over_to_later_records() -> None:
    readings, rejects = resolve([
        {"bn": "urn:dev:ow:10e2073a0108006:", "bt": T0, "bu": "A", "bver": 5,
         "n": "current", "v": 1.2},
        {"n": "current", "t": -5, "v": 1.3},
        {"n": "voltage", "u": "V", "t": -4, "v": 120.1},
    ])
    assert rejects == []
    assert [(r.sensor_id, r.value, r.time, r.unit) for r in readings] == [
        ("urn:dev:ow:10e2073a0108006:current", 1.2, T0, "A"),
        ("urn:dev:ow:10e2073a0108006:current", 1.3, T0 - 5, "A"),
        ("urn:dev:ow:10e2073a0108006:voltage", 120.1, T0 - 4, "V"),
    ]


def test_base_value_is_added_and_booleans_and_sums_become_numbers() -> None:
    readings, _ = resolve([{"bn": "d/", "bv": 100, "n": "a", "v": 1.5},
                                        {"n": "b", "vb": True}, {"n": "c", "s": 12}])
    assert [r.value for r in readings] == [101.5, 1.0, 12]


def test_small_times_are_relative_to_now_and_no_time_means_now() -> None:
    readings, _ = resolve([{"n": "a", "v": 1, "t": -30}, {"n": "b", "v": 2}],
                                       now=T0)
    assert readings[0].time == T0 - 30
    assert readings[1].time is None  # the pipeline stamps the receive time


def test_a_later_base_time_replaces_the_earlier_one() -> None:
    readings, _ = resolve([{"bt": T0, "n": "a", "v": 1},
                                        {"bt": T0 + 60, "n": "a", "t": 1, "v": 2}])
    assert [r.time for r in readings] == [T0, T0 + 61]


def test_records_without_a_usable_value_become_rejects_with_the_reason() -> None:
    readings, rejects = resolve([
        {"bn": "d/", "bt": T0},              # header: base fields only, nothing to report
        {"n": "no-value", "u": "Cel"},
        {"n": "text", "vs": "open"},
        {"n": "bad", "v": "12"},
        {"v": 1},                            # resolves to name "d/" — still a name
        {"n": "ok", "v": 1, "x_": 1},
        {"bver": 99, "n": "future", "v": 1},
    ])
    assert [r.sensor_id for r in readings] == ["d/"]
    assert [r.reason for r in rejects] == [
        "senml_no_value", "not_a_number", "not_a_number", "senml_must_understand",
        "senml_version"]


def test_a_record_without_any_name_is_rejected() -> None:
    readings, rejects = resolve([{"v": 1}])
    assert readings == [] and rejects[0].reason == "senml_no_name"


def test_a_pack_that_is_not_an_array_is_rejected() -> None:
    _, rejects = resolve({"n": "a"})
    assert rejects[0].reason == "bad_senml"


def test_senml_is_recognised_by_its_keys_and_our_objects_are_not() -> None:
    assert looks_like_senml([{"bn": "x", "v": 1}])
    assert looks_like_senml({"n": "x", "v": 1})
    assert not looks_like_senml([{"sensor_id": "x", "v": 1}])
    assert not looks_like_senml({"id": "x", "v": 1, "t": 5})


def test_a_senml_payload_decodes_from_bytes_and_keeps_a_seq_extension() -> None:
    readings = decode_payload(b'[{"bn":"g1/","n":"t","v":20.5,"seq":3}]').readings
    assert (readings[0].sensor_id, readings[0].seq) == ("g1/t", 3)


def test_a_header_that_later_records_use_is_their_context_not_a_reject() -> None:
    decoded = decode_senml_records([{"bn": "d/", "bt": T0}, {"n": "a", "v": 1}])
    assert [r.sensor_id for r in decoded.readings] == ["d/a"]
    assert decoded.rejects == [] and decoded.headers == 1


def test_records_of_base_fields_only_that_nothing_uses_are_rejected_not_lost() -> None:
    decoded = decode_senml_records([{"bn": "dev1", "bv": 21.5}])
    assert decoded.readings == []
    assert [(r.reason, r.position) for r in decoded.rejects] == [("senml_no_value", 0)]
    decoded = decode_senml_records([{"n": "a", "v": 1}, {"bn": "d/", "bt": T0}])
    assert len(decoded.readings) == 1
    assert [(r.reason, r.position) for r in decoded.rejects] == [("senml_no_value", 1)]


def test_a_pack_of_headers_only_over_http_answers_with_a_dead_letter_each() -> None:
    decoded = decode_payload(b'[{"bn": "a/", "bt": 1767225600}, {"bu": "Cel"}]')
    assert [(r.reason, r.position) for r in decoded.rejects] == [
        ("senml_no_value", 0), ("senml_no_value", 1)]


def test_names_numbers_and_times_of_the_wrong_type_are_rejected_with_the_reason() -> None:
    decoded = decode_senml_records([
        {"bn": ["x"], "n": "a", "v": 1},
        {"n": 5, "v": 1},
        {"n": "b", "v": 10**400, "bv": 1.0},   # past the float range: inf, not a crash
        {"n": "c", "v": 1, "t": 10**400},
    ])
    assert [(r.reason, r.position) for r in decoded.rejects] == [
        ("bad_sensor_id", 0), ("bad_sensor_id", 1)]
    assert [r.value for r in decoded.readings] == [float("inf"), 2.0]  # bv carries over
    assert decoded.readings[1].time == float("inf")
