"""Field property updates are read whole and checked before any is applied."""

from __future__ import annotations

import math
from typing import Any

import pytest

from twinsync.errors import InvalidInput, UnitError
from twinsync.model.properties import MAX_UPDATES, PropertyUpdate, property_updates


def test_a_bare_value_and_the_long_form_are_both_read() -> None:
    updates = property_updates({
        "note": "honeycombing",
        "crack_width": {"value": 0.3, "unit": "mm", "confidence": 0.7},
        "layout": {"value": {"rows": 2}},
    })
    assert updates == [
        PropertyUpdate("note", "honeycombing", "", None),
        PropertyUpdate("crack_width", 0.3, "mm", 0.7),
        PropertyUpdate("layout", {"rows": 2}, "", None),
    ]


def test_a_unit_is_given_in_the_spelling_the_twin_stores() -> None:
    (update,) = property_updates({"t": {"value": 20, "unit": "°C"}})
    assert update.unit == "degC"


@pytest.mark.parametrize(("properties", "reason"), [
    ({"big": 2**70}, "int_too_large"),
    ({"big": {"value": 2**70}}, "int_too_large"),
    ({"x": math.nan}, "not_finite"),
    ({"x": {"value": 1, "confidence": math.nan}}, "bad_confidence"),
    ({"x": {"value": 1, "confidence": 1.5}}, "bad_confidence"),
    ({"x": {"value": 1, "confidence": "high"}}, "bad_confidence"),
    ({"x": {"value": 1, "unit": 123}}, "bad_text"),
    ({"x": {"value": 1, "unit": ["degC"]}}, "bad_text"),
    ({"x": {"unit": "m"}}, "bad_property"),
    ({"x": {"value": 1, "confidance": 0.5}}, "bad_property"),
    ({"": 1}, "bad_property"),
    ({"a\nb": 1}, "bad_property"),
    ([["x", 1]], "bad_value"),
    ("x=1", "bad_value"),
])
def test_an_update_that_cannot_be_used_is_refused_with_its_reason(
        properties: Any, reason: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        property_updates(properties)
    assert refused.value.reason == reason


def test_an_unknown_unit_is_refused() -> None:
    with pytest.raises(UnitError):
        property_updates({"x": {"value": 1, "unit": "bogons"}})


def test_one_request_updates_a_bounded_number_of_properties() -> None:
    assert len(property_updates({f"p{i}": i for i in range(MAX_UPDATES)})) == MAX_UPDATES
    with pytest.raises(InvalidInput) as refused:
        property_updates({f"p{i}": i for i in range(MAX_UPDATES + 1)})
    assert refused.value.reason == "too_many_properties"
