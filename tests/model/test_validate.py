"""The rules every write is held to: what the twin keeps comes back from JSON unchanged,
and what it refuses is refused with a stable reason."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twinsync.errors import InvalidInput, UnitError
from twinsync.model import Binding, Element, PropertyValue, Sensor, Transform, validate

#: Every reason a refused property value may carry.
VALUE_REASONS = {"bad_value", "not_finite", "int_too_large", "value_too_deep",
                 "value_too_large"}

# Anything a JSON parser, a Python client or a NumPy computation might hand over,
# including what JSON cannot carry: NaN, infinities, integers past 64 bits, lone
# surrogates, non-string keys, tuples, sets and bytes.
_scalars = (st.none() | st.booleans() | st.integers() | st.floats()
            | st.text(st.characters(exclude_categories=()), max_size=20)
            | st.binary(max_size=4)
            | st.integers(-(2**63), 2**63 - 1).map(np.int64)
            | st.floats(width=32).map(np.float32))
_keys = st.text(st.characters(exclude_categories=()), max_size=8) | st.integers(0, 3)
json_like = st.recursive(
    _scalars,
    lambda inner: (st.lists(inner, max_size=5) | st.tuples(inner, inner)
                   | st.dictionaries(_keys, inner, max_size=5)
                   | st.frozensets(st.integers(), max_size=2)),
    max_leaves=40)


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same JSON type all the way down (``1 == 1.0 == True`` is not)."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def native(value: Any) -> bool:
    """Already what JSON gives back: no tuples, no NumPy scalars."""
    if isinstance(value, list):
        return all(native(v) for v in value)
    if isinstance(value, dict):
        return all(native(v) for v in value.values())
    return value is None or type(value) in (bool, int, float, str)


@settings(max_examples=400, deadline=None)
@given(json_like)
def test_any_property_value_is_refused_with_a_reason_or_round_trips_unchanged(
        value: Any) -> None:
    element = Element("slab", "IfcSlab", properties={"p": PropertyValue(value)})
    try:
        element.check()
    except InvalidInput as exc:
        assert exc.reason in VALUE_REASONS
        return
    kept = element.properties["p"].value
    if native(value):
        assert same(kept, value)
    text = json.dumps(element.to_dict(), allow_nan=False)
    assert same(Element.from_dict(json.loads(text)).properties["p"].value, kept)
    # The store writes with orjson, which refuses more than json does.
    stored = orjson.dumps(element.to_dict())
    assert same(Element.from_dict(orjson.loads(stored)).properties["p"].value, kept)


@pytest.mark.parametrize(("value", "reason"), [
    (2**70, "int_too_large"),
    (-(2**63) - 1, "int_too_large"),
    (np.uint64(2**64 - 1), "int_too_large"),
    (math.nan, "not_finite"),
    (math.inf, "not_finite"),
    ([1.0, -math.inf], "not_finite"),
    ("\ud800", "bad_value"),
    ({1: "a"}, "bad_value"),
    ({"a", "b"}, "bad_value"),
    (b"\x00", "bad_value"),
    (object(), "bad_value"),
])
def test_a_value_json_cannot_carry_is_refused_with_its_reason(value: Any, reason: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate.json_value(value, "property 'p'")
    assert refused.value.reason == reason


def test_the_64_bit_edges_are_kept() -> None:
    for edge in (-(2**63), 2**63 - 1):
        assert same(validate.json_value(edge, "p"), edge)
        assert orjson.loads(orjson.dumps(edge)) == edge


def test_tuples_become_lists_and_numpy_scalars_python_ones() -> None:
    kept = validate.json_value({"a": (np.int64(3), np.float64(0.5), np.bool_(True))}, "p")
    assert same(kept, {"a": [3, 0.5, True]})


def test_a_value_nested_past_the_depth_limit_is_refused_without_recursing_into_it() -> None:
    deep: Any = "bottom"
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(InvalidInput) as refused:
        validate.json_value(deep, "p")
    assert refused.value.reason == "value_too_deep"
    shallow: Any = 1
    for _ in range(validate.MAX_VALUE_DEPTH):
        shallow = {"k": shallow}
    assert validate.json_value(shallow, "p") == shallow


def test_a_value_that_contains_itself_is_refused() -> None:
    looped: list[Any] = []
    looped.append(looped)
    with pytest.raises(InvalidInput, match="deeper"):
        validate.json_value(looped, "p")


class _CountedList(list[int]):
    """A list that counts how many of its items were read."""

    read = 0

    def __iter__(self) -> Iterator[int]:
        for item in super().__iter__():
            self.read += 1
            yield item


def test_a_huge_value_is_refused_after_walking_only_its_allowance() -> None:
    huge = _CountedList(range(10_000_000))
    with pytest.raises(InvalidInput) as refused:
        validate.json_value(huge, "p")
    assert refused.value.reason == "value_too_large"
    # Each item costs at least two characters of JSON: the walk stops within the allowance.
    assert 0 < huge.read <= validate.MAX_VALUE_SIZE // 2 + 1
    with pytest.raises(InvalidInput, match="larger than"):
        validate.json_value("x" * (validate.MAX_VALUE_SIZE + 1), "p")


@pytest.mark.parametrize("sensor_id", [
    "", "x" * (validate.MAX_ID_LENGTH + 1), "gw\x00probe", "line\nbreak", "tab\there",
    "\x85next-line", "\udc80", 17, None,
])
def test_an_id_that_is_empty_too_long_or_holds_a_control_character_is_refused(
        sensor_id: Any) -> None:
    with pytest.raises(InvalidInput) as refused:
        Sensor(sensor_id, "temperature", "degC").check()
    assert refused.value.reason == "bad_id"


def test_an_id_of_the_longest_allowed_length_and_any_script_is_kept() -> None:
    for sensor_id in ("s" * validate.MAX_ID_LENGTH, "3$Fb8HZ_n0VQhUwGNmS1sL", "Temp-Zone-Ä1 ☃"):
        Sensor(sensor_id, "temperature", "degC").check()


@pytest.mark.parametrize("gain", [math.nan, math.inf, -math.inf, "2", "NaN", None, True, 0.0,
                                  1e-300, 1e300, 2**70])
def test_a_gain_that_is_not_a_finite_nonzero_number_is_refused(gain: Any) -> None:
    with pytest.raises(InvalidInput) as refused:
        Transform(gain=gain).check()
    assert refused.value.reason in {"not_a_number", "not_finite", "out_of_range",
                                    "int_too_large"}


@pytest.mark.parametrize("offset", [math.nan, math.inf, "0", None, 1e300])
def test_an_offset_that_is_not_finite_and_bounded_is_refused(offset: Any) -> None:
    with pytest.raises(InvalidInput):
        Transform(offset=offset).check()


def test_a_negative_gain_and_an_integer_one_are_kept() -> None:
    Transform(gain=-2.0, offset=5).check()
    assert Binding.from_dict({"sensor_id": "s", "element_id": "e", "property": "t",
                              "transform": {"gain": 2}}).transform.gain == 2.0


def test_a_binding_stored_with_a_null_gain_is_refused_with_a_reason_not_a_type_error() -> None:
    # What the NaN gain of a PUT became in the store (orjson writes NaN as null).
    stored = orjson.loads(orjson.dumps({"sensor_id": "s", "element_id": "e", "property": "t",
                                        "transform": {"gain": math.nan}}))
    assert stored["transform"]["gain"] is None
    with pytest.raises(InvalidInput) as refused:
        Binding.from_dict(stored)
    assert refused.value.reason == "not_a_number"


@pytest.mark.parametrize(("body", "reason"), [
    ({"type": "IfcSlab"}, "missing_field"),
    ({"id": "e"}, "missing_field"),
    ({"id": "e", "type": "IfcSlab", "status": "finished"}, "bad_status"),
    ({"id": "e", "type": "IfcSlab", "archived": "no"}, "bad_value"),
    ({"id": "e", "type": "IfcSlab", "parent": "e"}, "bad_parent"),
    ({"id": "e", "type": "IfcSlab", "properties": []}, "bad_value"),
    ({"id": "e", "type": "IfcSlab", "properties": {"p": {"unit": "m"}}}, "missing_field"),
    ({"id": "e", "type": "IfcSlab", "properties": {"p": {"value": 1, "time": None}}},
     "not_a_number"),
    ({"id": "e", "type": "IfcSlab", "properties": {"p": {"value": 1, "confidence": 2}}},
     "bad_confidence"),
    ({"id": "e", "type": "IfcSlab", "properties": {"p": {"value": 1, "source": "rumour"}}},
     "bad_source"),
    ({"id": "e", "type": "IfcSlab", "properties": {"": {"value": 1}}}, "bad_property"),
    ({"id": "e", "type": "IfcSlab", "name": "x" * (validate.MAX_TEXT_LENGTH + 1)}, "bad_text"),
    ("not an object", "bad_value"),
])
def test_an_element_row_that_cannot_be_used_is_refused_with_a_reason(
        body: Any, reason: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        Element.from_dict(body)
    assert refused.value.reason == reason


@pytest.mark.parametrize(("body", "reason"), [
    ({"id": "s", "expected_interval": math.nan}, "not_finite"),
    ({"id": "s", "expected_interval": -1.0}, "out_of_range"),
    ({"id": "s", "resolution": "fine"}, "not_a_number"),
    ({"id": "s", "kind": ""}, "bad_text"),
    ({"id": "s", "kind": "k\x00"}, "bad_text"),
    ({"id": "s", "unit": ["degC"]}, "bad_text"),
    ({"id": "s", "meta": {"n": 2**64}}, "int_too_large"),
    ({"id": "s", "meta": []}, "bad_value"),
])
def test_a_sensor_row_that_cannot_be_used_is_refused_with_a_reason(
        body: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        Sensor.from_dict(body)
    assert refused.value.reason == reason


def test_a_unit_that_does_not_exist_is_refused_wherever_a_unit_is_given() -> None:
    with pytest.raises(UnitError):
        Sensor.from_dict({"id": "s", "unit": "furlongs-per-fortnight-squared"})
    with pytest.raises(UnitError):
        Transform(unit="bogons").check()
    with pytest.raises(UnitError):
        PropertyValue.checked(1.0, "bogons")


def test_a_confidence_must_be_a_finite_number_within_0_and_1() -> None:
    for bad in (math.nan, -0.1, 1.5, "0.5", True):
        with pytest.raises(InvalidInput) as refused:
            PropertyValue.checked(1.0, confidence=bad)
        assert refused.value.reason == "bad_confidence"
    assert PropertyValue.checked(1.0, confidence=0).confidence == 0.0


def test_a_message_that_echoes_input_back_is_cut_short() -> None:
    with pytest.raises(InvalidInput) as refused:
        Transform(gain="x" * 1_000_000).check()
    assert len(str(refused.value)) < 200
