"""Declared site events as the twin keeps them: a declaration is checked against the twin,
a pour or a load step has a default length, and the spans handed to health name every
sensor an event concerns."""

from __future__ import annotations

import dataclasses

import pytest

from twinsync.errors import InvalidInput
from twinsync.model import Binding, Element, Sensor, Twin
from twinsync.model.site_events import SiteEvent, declared, kind_key, spans

HOUR = 3600.0


@pytest.fixture
def twin() -> Twin:
    twin = Twin()
    twin.add_element(Element("slab-1", "IfcSlab"))
    twin.add_element(Element("col-1", "IfcColumn"))
    for sensor_id, element_id in (("t1", "slab-1"), ("t2", "slab-1"), ("s1", "col-1")):
        twin.add_sensor(Sensor(sensor_id, "slab_temperature", "degC"))
        twin.bind_sensor(Binding(sensor_id, element_id, "core_temperature"))
    twin.add_sensor(Sensor("loose", "slab_temperature", "degC"))
    return twin


def declare(twin: Twin, **body: object) -> SiteEvent:
    return declared(twin, body, event_id="e1", time=5.0, by="tablet-3")


@pytest.mark.parametrize(
    ("kind", "hours"),
    [("pour", 72), ("Pour", 72), ("load step", 24), ("Load_Step", 24), ("load-step", 24)],
)
def test_a_pour_or_a_load_step_without_an_end_lasts_its_kinds_default(
    twin: Twin, kind: str, hours: float
) -> None:
    event = declare(twin, kind=kind, start=1000.0, element_ids=["slab-1"])
    assert event.end == 1000.0 + hours * HOUR
    assert event.kind == kind  # kept as written; only the default is looked up normalised


def test_any_other_kind_must_give_its_end(twin: Twin) -> None:
    with pytest.raises(InvalidInput, match="needs an end") as refused:
        declare(twin, kind="heating", start=1000.0, element_ids=["slab-1"])
    assert refused.value.reason == "end_required"
    event = declare(twin, kind="heating", start=1000.0, end=2000.0, element_ids=["slab-1"])
    assert (event.start, event.end) == (1000.0, 2000.0)


def test_times_are_iso_8601_or_epoch_seconds(twin: Twin) -> None:
    event = declare(
        twin,
        kind="heating",
        start="2026-01-01T00:00:00Z",
        end="2026-01-01T06:00:00+01:00",
        sensor_ids=["loose"],
    )
    assert (event.start, event.end) == (1_767_225_600.0, 1_767_225_600.0 + 5 * HOUR)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"start": 1000.0, "end": 900.0}, "bad_span"),
        ({"start": 1000.0, "end": 1000.0}, "bad_span"),
        ({"start": 0.0, "end": 90.5 * 24 * HOUR}, "span_too_long"),
        ({"start": "next tuesday"}, "bad_time"),
        ({"start": True}, "bad_time"),
        ({"end": 2000.0}, "missing_field"),
        ({"start": 1000.0, "element_ids": []}, "no_target"),
        ({"start": 1000.0, "element_ids": ["no-such"]}, "unknown_element"),
        ({"start": 1000.0, "element_ids": "slab-1"}, "bad_id"),
        ({"start": 1000.0, "sensor_ids": ["t1", "no-such"]}, "unknown_sensor"),
        ({"start": 1000.0, "kind": ""}, "bad_text"),
        ({"start": 1000.0, "kind": "x" * 65}, "bad_text"),
        ({"start": 1000.0, "note": "x" * 2001}, "bad_text"),
    ],
)
def test_a_declaration_that_cannot_be_is_refused_with_its_reason(
    twin: Twin, body: dict[str, object], reason: str
) -> None:
    full = {"kind": "pour", "element_ids": ["slab-1"], **body}
    with pytest.raises(InvalidInput) as refused:
        declared(twin, full, event_id="e1", time=5.0, by="x")
    assert refused.value.reason == reason


def test_an_archived_element_is_not_one_to_declare_on(twin: Twin) -> None:
    twin.archive_element("col-1")
    with pytest.raises(InvalidInput, match="no element") as refused:
        declare(twin, kind="pour", start=1000.0, element_ids=["col-1"])
    assert refused.value.reason == "unknown_element"


def test_spans_name_each_sensor_named_and_each_bound_to_an_element_named_once(twin: Twin) -> None:
    index = {"t1": 0, "t2": 1, "s1": 2, "loose": 3}
    pour = declare(
        twin, kind="pour", start=1000.0, element_ids=["slab-1"], sensor_ids=["t1", "loose"]
    )
    rows, starts, ends = spans([pour], twin, index)
    assert sorted(rows) == [0, 1, 3]
    assert set(starts) == {1000.0} and set(ends) == {1000.0 + 72 * HOUR}


def test_withdrawn_events_and_sensors_without_a_row_give_no_span(twin: Twin) -> None:
    pour = declare(twin, kind="pour", start=1000.0, element_ids=["slab-1"])
    withdrawn = dataclasses.replace(pour, id="e2", withdrawn_at=2000.0)
    assert spans([withdrawn], twin, {"t1": 0, "t2": 1}) == ([], [], [])
    assert spans([pour], twin, {"t2": 1}) == ([1], [1000.0], [1000.0 + 72 * HOUR])


def test_an_event_reads_back_from_its_dict_and_says_what_it_concerns(twin: Twin) -> None:
    event = declare(
        twin, kind="heating", start=1000.0, end=5000.0, sensor_ids=["s1"], note="winter\nheaters"
    )
    assert SiteEvent.from_dict(event.to_dict()) == event
    assert event.concerns("col-1", twin) and not event.concerns("slab-1", twin)
    assert event.overlaps(5000.0, None) and not event.overlaps(5000.5, None)
    assert event.overlaps(None, 1000.5) and not event.overlaps(None, 1000.0)


def test_kinds_are_compared_without_case_or_separators() -> None:
    assert kind_key("  Load__Step ") == "load step"
