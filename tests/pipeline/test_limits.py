"""Admission's bounds: poison fields become dead letters with a reason, never an error,
and never cost the good readings of the same batch."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twinsync.model import Sensor, Twin
from twinsync.pipeline import IncomingBatch, Pipeline, RawReading
from twinsync.pipeline.limits import VALUE_LIMIT, short_repr

NOW = 1_790_000_000.0


@pytest.fixture
def pipeline() -> Pipeline:
    twin = Twin()
    twin.add_sensor(Sensor("t1", "temperature", "degC"))
    return Pipeline(twin)


@pytest.mark.parametrize("reading, reason", [
    (RawReading("t1", 1.0, None, 123), "bad_unit"),
    (RawReading("t1", 1.0, None, ["degC"]), "bad_unit"),
    (RawReading("t1", 1.0, None, {"u": "K"}), "bad_unit"),
    (RawReading(["t1"], 1.0), "bad_sensor_id"),
    (RawReading({"id": "t1"}, 1.0), "bad_sensor_id"),
    (RawReading("t1", 1.0, None, None, 1.5), "bad_seq"),
    (RawReading("t1", 1.0, None, None, True), "bad_seq"),
    (RawReading("t1", 1.0, None, None, 2**63), "bad_seq"),
    (RawReading("t1", 1.0, None, None, 10**400), "bad_seq"),
    (RawReading("t1", 1.0, {"at": 5}), "bad_time"),
    (RawReading("t1", 1.0, 10**400), "bad_time"),
    (RawReading("t1", 1.0, float("nan")), "bad_time"),
    (RawReading("t1", False), "not_a_number"),
    (RawReading("t1", "21.5"), "not_a_number"),
    (RawReading("t1", 1e308), "value_out_of_range"),
    (RawReading("t1", -1e308), "value_out_of_range"),
    (RawReading("t1", VALUE_LIMIT), "value_out_of_range"),
    (RawReading("t1", 10**400), "value_out_of_range"),
    (RawReading("t1", float("-inf")), "not_finite"),
    (RawReading("t1", 1e14, None, "TK"), "value_out_of_range"),  # 1e26 K once converted
])
def test_a_poison_field_becomes_a_dead_letter_and_the_good_readings_stay(
        pipeline: Pipeline, reading: RawReading, reason: str) -> None:
    good = [RawReading("t1", 20.0, NOW - 2, None, 1), RawReading("t1", 21.0, NOW - 1, "K", 2)]
    accepted = pipeline.accept(IncomingBatch([good[0], reading, good[1]], "test", NOW))
    assert accepted.batch.raw_value.tolist() == pytest.approx([20.0, 21.0 - 273.15])
    [(position, letter)] = accepted.rejected
    assert (position, letter.reason) == (1, reason)
    assert len(letter.detail) < 400


def test_details_quote_a_huge_field_by_its_beginning_and_size(pipeline: Pipeline) -> None:
    huge_id = ["x" * 1_000_000]
    accepted = pipeline.accept(IncomingBatch([RawReading(huge_id, 1.0),
                                              RawReading("ghost" * 100_000, 1.0)], "test", NOW))
    assert [letter.reason for _, letter in accepted.rejected] == ["bad_sensor_id",
                                                                  "unknown_sensor"]
    assert all(len(letter.detail) < 200 for _, letter in accepted.rejected)
    assert "500000 characters" in accepted.rejected[1][1].detail


def test_short_repr_never_fails_on_what_json_can_hold() -> None:
    assert short_repr(10**5000) == "an integer of 16610 bits"
    assert len(short_repr([[["deep"] * 1000] * 1000])) < 200


_FIELD = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
          | st.sampled_from(["t1", "degF", "K", "2026-01-01T00:00:00Z"])
          | st.lists(st.integers(), max_size=2)
          | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@settings(max_examples=300, deadline=None)
@given(fields=st.lists(st.tuples(_FIELD, _FIELD, _FIELD, _FIELD, _FIELD), max_size=12))
def test_any_field_values_are_accepted_or_refused_with_a_reason_never_raised(
        fields: list[tuple[object, object, object, object, object]]) -> None:
    twin = Twin()
    twin.add_sensor(Sensor("t1", "temperature", "degC"))
    pipeline = Pipeline(twin)
    readings = [RawReading(*f) for f in fields] + [RawReading("t1", 1.0)]
    accepted = pipeline.accept(IncomingBatch(readings, "test", NOW))
    refused = [position for position, _ in accepted.rejected]
    assert len(set(refused)) == len(refused)
    assert all(letter.reason and letter.detail for _, letter in accepted.rejected)
    # Every reading is accepted, refused with a reason, or dropped as a duplicate.
    assert len(accepted.batch) + len(refused) + accepted.duplicates == len(readings)
    assert all(abs(v) < VALUE_LIMIT for v in accepted.batch.raw_value.tolist())
