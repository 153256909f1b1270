"""A field measurement is checked whole before anything is built: its uncertainty is
required and positive, its unit converts to the property's, its time is not ahead."""

from __future__ import annotations

import math

import pytest

from twinsync.errors import InvalidInput
from twinsync.model import PropertyValue, Source
from twinsync.model.measurement import is_measurement, measured

NOW = 1_765_000_000.0
GOOD = {"property": "core_temperature", "value": 21.4, "unit": "degC", "uncertainty": 0.3,
        "instrument": "probe HT-2"}


def test_a_measurement_is_stored_in_the_propertys_unit_with_its_uncertainty_scaled() -> None:
    value, given = measured({**GOOD, "value": 70.52, "unit": "degF", "uncertainty": 0.54},
                            unit="degC", now=NOW)
    assert math.isclose(value.value, 21.4) and math.isclose(value.uncertainty or 0, 0.3)
    assert value.unit == "degC" and value.time == NOW and value.source is Source.FIELD
    assert value.instrument == "probe HT-2" and is_measurement(value)
    assert given["unit"] == "degF" and given["value"] == 70.52


def test_a_stored_measurement_reads_back_the_same() -> None:
    value, _ = measured({**GOOD, "time": NOW - 60}, unit="degC", now=NOW)
    assert PropertyValue.from_dict(value.to_dict()) == value


@pytest.mark.parametrize(("change", "reason"), [
    ({"uncertainty": None}, "missing_uncertainty"),
    ({"uncertainty": 0.0}, "bad_uncertainty"),
    ({"uncertainty": -0.3}, "bad_uncertainty"),
    ({"uncertainty": math.inf}, "bad_uncertainty"),
    ({"uncertainty": "0.3"}, "bad_uncertainty"),
    ({"value": math.nan}, "not_finite"),
    ({"value": "21"}, "not_a_number"),
    ({"unit": "m"}, "incompatible_unit"),
    ({"unit": "furlongs of heat"}, "unknown_unit"),
    ({"unit": None}, "missing_unit"),
    ({"time": NOW + 600}, "future_time"),
    ({"time": math.nan}, "bad_time"),
    ({"time": "yesterday"}, "bad_time"),
    ({"colour": "red"}, "bad_measurement"),
])
def test_a_bad_measurement_is_refused_with_its_reason(change: dict[str, object],
                                                     reason: str) -> None:
    body = {**GOOD, **change}
    if change.get("uncertainty", 1) is None:
        del body["uncertainty"]
    if "unit" in change and change["unit"] is None:
        del body["unit"]
    with pytest.raises(InvalidInput) as refused:
        measured(body, unit="degC", now=NOW)
    assert refused.value.reason == reason


def test_a_time_within_the_clock_tolerance_is_taken() -> None:
    value, _ = measured({**GOOD, "time": NOW + 60}, unit="degC", now=NOW)
    assert value.time == NOW + 60


def test_a_plain_field_value_is_not_a_measurement() -> None:
    assert not is_measurement(PropertyValue(21.0, "degC", NOW, Source.FIELD, 0.8))
    assert not is_measurement(PropertyValue("warm", "", NOW, Source.FIELD, 0.8, 0.3))
