"""How the dashboard reads marks of expected anomalies (``expected.js``), run in Node on
the module the page loads: spans grouped into the marks a person made (by the mark's id),
what keeps a withdrawal from being sent, and the line said once a mark is withdrawn."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .node import node_json

JS = Path(__file__).parents[2] / "src/twinsync/web/static/js"


def run(expression: str) -> Any:
    """What ``expression`` (over expected.js's exports as ``m``) gives, in Node."""
    return node_json(f"import * as m from {json.dumps((JS / 'expected.js').as_uri())};\n"
                     f"console.log(JSON.stringify({expression}));")


def test_the_spans_of_one_mark_are_one_entry_and_two_marks_alike_stay_two() -> None:
    span = {"start": 100.0, "end": 200.0, "reason": "pour", "by": "ana"}
    spans = [{**span, "id": "a1", "sensor_id": "t-1"}, {**span, "id": "a1", "sensor_id": "t-2"},
             # the same span and reason marked again is another mark, withdrawn on its own
             {**span, "id": "b2", "sensor_id": "t-1"},
             {**span, "start": 300.0, "end": 400.0, "id": "c3", "sensor_id": "t-3"}]
    marks = run(f"m.grouped({json.dumps(spans)})")
    assert [(mark["id"], mark["sensors"]) for mark in marks] == [
        ("c3", ["t-3"]), ("a1", ["t-1", "t-2"]), ("b2", ["t-1"])]


def test_a_withdrawal_without_a_reason_is_not_sent() -> None:
    assert run('[m.withdrawProblem(""), m.withdrawProblem("  "), m.withdrawProblem("wrong slab")]'
               ) == ["Say why the mark is withdrawn.", "Say why the mark is withdrawn.", None]


def test_a_withdrawn_mark_is_told_by_its_reason_with_why_and_how_many_sensors_it_held() -> None:
    one = {"id": "a1", "sensors": ["t-1"], "reason": "wrong slab"}
    three = {**one, "sensors": ["t-1", "t-2", "t-3"]}
    assert run(f"""[m.withdrawnText("pour", {json.dumps(one)}),
                    m.withdrawnText(null, {json.dumps(three)})]""") == [
        "Withdrew “pour” (wrong slab) for 1 sensor · from now on their anomalies raise alarms"
        " again.",
        "Withdrew the mark (wrong slab) for 3 sensors · from now on their anomalies raise"
        " alarms again."]


def test_withdrawn_marks_are_one_entry_a_mark_the_latest_withdrawn_first() -> None:
    span = {"start": 100.0, "end": 200.0, "reason": "pour", "by": "ana",
            "withdrawn_by": "bo", "withdrawn_reason": "wrong slab"}
    spans = [{**span, "id": "a1", "sensor_id": "t-1", "withdrawn_at": 500.0},
             {**span, "id": "a1", "sensor_id": "t-2", "withdrawn_at": 500.0},
             # marked later but withdrawn earlier: listed after the first
             {**span, "start": 300.0, "id": "b2", "sensor_id": "t-1", "withdrawn_at": 400.0}]
    marks = run(f"m.withdrawnMarks({json.dumps(spans)})")
    assert [(mark["id"], mark["sensors"]) for mark in marks] == [("a1", ["t-1", "t-2"]),
                                                                 ("b2", ["t-1"])]


def test_a_withdrawn_mark_says_who_withdrew_it_when_and_why() -> None:
    mark = {"withdrawn_by": "bo", "withdrawn_reason": "wrong slab"}
    assert run(f'm.withdrawnLine({json.dumps(mark)}, "7 Dec 2026, 04:10")') == (
        "withdrawn by bo · 7 Dec 2026, 04:10 · “wrong slab”")
