"""Admission turns raw readings into columns and every bad one into a dead letter."""

from __future__ import annotations

import pytest

from twinsync.model import Binding, Element, Sensor, Transform, Twin
from twinsync.pipeline import IncomingBatch, Pipeline, RawReading

NOW = 1_790_000_000.0


@pytest.fixture
def pipeline() -> Pipeline:
    twin = Twin()
    twin.add_element(Element("slab", "IfcSlab"))
    twin.add_sensor(Sensor("t1", "temperature", "degC"))
    twin.add_sensor(Sensor("free", "temperature", "degC"))
    # The logger reads 0.5 K low, and the slab's property is kept in kelvin.
    twin.bind_sensor(Binding("t1", "slab", "core_temperature", Transform(1.0, 0.5, "K")))
    return Pipeline(twin)


def accept(pipeline: Pipeline, *readings: RawReading):  # type: ignore[no-untyped-def]
    return pipeline.accept(IncomingBatch(list(readings), "test", NOW))


def test_a_reading_is_calibrated_and_converted_to_the_property_unit(pipeline: Pipeline) -> None:
    accepted = accept(pipeline, RawReading("t1", 20.0, NOW - 1))
    assert accepted.rejected == []
    assert accepted.batch.value[0] == pytest.approx(293.65)
    assert accepted.batch.raw_value[0] == 20.0


def test_a_reading_in_another_unit_is_converted_to_the_sensor_unit_first(
        pipeline: Pipeline) -> None:
    accepted = accept(pipeline, RawReading("t1", 68.0, NOW - 1, "degF"))
    assert accepted.batch.raw_value[0] == pytest.approx(20.0)
    assert accepted.batch.value[0] == pytest.approx(293.65)


def test_an_unbound_sensor_keeps_its_own_value(pipeline: Pipeline) -> None:
    assert accept(pipeline, RawReading("free", 3.0)).batch.value[0] == 3.0


def test_a_reading_without_time_takes_the_arrival_time(pipeline: Pipeline) -> None:
    assert accept(pipeline, RawReading("t1", 1.0)).batch.event_time[0] == NOW


@pytest.mark.parametrize("time, expected", [
    ("2026-01-01T00:00:00Z", 1767225600.0),
    ("2026-01-01T01:00:00+01:00", 1767225600.0),
    (1767225600, 1767225600.0),
    (1767225600500, 1767225600.5),
])
def test_times_are_iso_8601_seconds_or_milliseconds(pipeline: Pipeline, time: object,
                                                    expected: float) -> None:
    assert accept(pipeline, RawReading("t1", 1.0, time)).batch.event_time[0] == expected


@pytest.mark.parametrize("reading, reason", [
    (RawReading("ghost", 1.0), "unknown_sensor"),
    (RawReading(None, 1.0), "missing_sensor_id"),
    (RawReading(7, 1.0), "bad_sensor_id"),
    (RawReading("t1", "21.5"), "not_a_number"),
    (RawReading("t1", True), "not_a_number"),
    (RawReading("t1", None), "not_a_number"),
    (RawReading("t1", float("nan")), "not_finite"),
    (RawReading("t1", float("inf")), "not_finite"),
    (RawReading("t1", 1.0, "yesterday"), "bad_time"),
    (RawReading("t1", 1.0, [1]), "bad_time"),
    (RawReading("t1", 1.0, NOW + 10 * 86_400), "time_in_future"),
    (RawReading("t1", 1.0, None, "m"), "incompatible_unit"),
    (RawReading("t1", 1.0, None, "bogons"), "unknown_unit"),
    (RawReading("t1", 1.0, None, None, -3), "bad_seq"),
    (RawReading("t1", 1.0, None, None, "7"), "bad_seq"),
])
def test_a_bad_reading_becomes_a_dead_letter_with_its_reason(
        pipeline: Pipeline, reading: RawReading, reason: str) -> None:
    accepted = accept(pipeline, RawReading("t1", 1.0), reading, RawReading("t1", 2.0))
    assert len(accepted.batch) == 2
    [(position, letter)] = accepted.rejected
    assert position == 1
    assert letter.reason == reason
    assert letter.detail
    assert letter.source == "test"
    # The dead letter keeps what was sent (fields the reading did not have are left out).
    assert set(letter.payload) == {k for k, v in reading._asdict().items() if v is not None}


def test_rows_follow_the_dense_sensor_index(pipeline: Pipeline) -> None:
    accepted = accept(pipeline, RawReading("free", 1.0), RawReading("t1", 1.0))
    assert accepted.batch.rows.tolist() == [pipeline.table.index["free"],
                                            pipeline.table.index["t1"]]


def test_a_sensor_id_holding_a_nul_character_is_found_among_others() -> None:
    twin = Twin()
    # The twin's operations refuse such an id (validate.identifier); the index must still
    # keep it apart from its prefix, so it is loaded as a store would.
    twin.load((), [Sensor(i, "temperature", "degC") for i in ("a", "gw\x00probe", "b")], ())
    pipeline = Pipeline(twin)
    accepted = accept(pipeline, RawReading("b", 1.0), RawReading("gw\x00probe", 2.0),
                      RawReading("a", 3.0), RawReading("gw", 4.0))
    index = pipeline.table.index
    assert accepted.batch.rows.tolist() == [index["b"], index["gw\x00probe"], index["a"]]
    assert [letter.reason for _, letter in accepted.rejected] == ["unknown_sensor"]
