"""How the dashboard reads the twin's models (``twin_model.js`` and ``twin.js``'s event
test), run in Node on the modules the page loads: the worst of some states, the fleet's
columns as a map, how a sensor's model reads, which delta changes start or end a
divergence, the track's predictions put on a chart's raw and bucket points, and the spans
to shade within a chart's range."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .node import node_json

JS = Path(__file__).parents[2] / "src/twinsync/web/static/js"


def run(expression: str) -> Any:
    """What ``expression`` (over twin_model.js's exports as ``m``) gives, in Node."""
    return node_json(f"import * as m from {json.dumps((JS / 'twin_model.js').as_uri())};\n"
                     f"console.log(JSON.stringify({expression}));")


def test_an_element_is_in_its_sensors_worst_state() -> None:
    assert run("""[
        m.worstState(["learning", "in_control", "diverging", "off"]),
        m.worstState(["in_control", "learning"]),
        m.worstState(["off", "learning"]),
        m.worstState(["off"]),
        m.worstState([]),
        m.worstState(["nonsense"]),
    ]""") == ["diverging", "in_control", "learning", "off", None, None]


def test_the_fleet_s_columns_become_one_entry_an_element() -> None:
    answer = {"element_id": ["a", "b"], "state": ["diverging", "learning"], "sensors": [3, 1],
              "diverging": [1, 0], "since": [100.5, None]}
    assert run(f"[...m.fleetMap({json.dumps(answer)})]") == [
        ["a", {"state": "diverging", "sensors": 3, "diverging": 1, "since": 100.5}],
        ["b", {"state": "learning", "sensors": 1, "diverging": 0, "since": None}]]


def test_a_sensor_s_model_reads_as_its_state() -> None:
    # 2026-12-08 14:30 UTC; Node reads it in the machine's zone, so compare with its own.
    since = 1796740200
    shown = run(f"""[
        m.stateText({{state: "diverging", diverging_since: {since}}}),
        m.when({since}),
        m.stateText({{state: "in_control"}}),
        m.stateText({{state: "learning", readings: 12}}),
        m.stateText({{state: "learning", readings: 40}}),
        m.stateText({{state: "off"}}),
        m.stateLabel({{state: "in_control"}}),
        m.stateText(null),
    ]""")
    assert shown[0] == f"diverging since {shown[1]}" and "Dec" in shown[1]
    assert shown[2:] == ["in control", "learning · 12 of 32 readings",
                         "learning · 32 of 32 readings", "off", "in control", "\u2014"]


def test_a_track_lines_up_with_raw_points_by_time_and_with_buckets_by_their_middle() -> None:
    track = {"time": [10, 20, 40], "predicted": [1.0, None, 3.0], "low": [0.5, None, 2.5],
             "high": [1.5, None, 3.5]}
    raw = run(f"m.overlayColumns([5, 10, 20, 30, 40], {json.dumps(track)})")
    assert raw == {"predicted": [None, 1.0, None, None, 3.0],
                   "low": [None, 0.5, None, None, 2.5], "high": [None, 1.5, None, None, 3.5]}
    # A chart of buckets draws each at its middle: buckets of 20 from 0, 20 and 40 are
    # drawn at 10, 30 and 50.
    buckets = {**track, "time": [0, 20, 40]}
    assert run(f"m.overlayColumns([10, 30, 50, 70], {json.dumps(buckets)}, 20)") == {
        "predicted": [1.0, None, 3.0, None], "low": [0.5, None, 2.5, None],
        "high": [1.5, None, 3.5, None]}
    assert run("m.overlayColumns([1, 2], null)") == {"predicted": [None, None],
                                                     "low": [None, None], "high": [None, None]}


def test_spans_are_clipped_to_the_chart_and_an_open_one_runs_to_its_end() -> None:
    spans = [{"start": 0, "end": 50}, {"start": 80, "end": 90}, {"start": 150, "end": None},
             {"start": 300, "end": None}, {"start": 10, "end": 20}]
    assert run(f"m.shadedSpans({json.dumps(spans)}, 40, 200)") == [
        [40, 50], [80, 90], [150, 200]]


def test_a_divergence_s_events_and_its_alarm_s_are_twin_changes_and_others_are_not() -> None:
    script = (f"import {{ isTwinChange }} from {json.dumps((JS / 'twin.js').as_uri())};\n"
              """console.log(JSON.stringify([
                  {kind: "twin_divergence"}, {kind: "twin_recalibrated"},
                  {kind: "alarm_raised", key: "twin:t1"}, {kind: "alarm_cleared", key: "twin:t1"},
                  {kind: "alarm_raised", key: "health:t1"}, {kind: "property"},
                  {kind: "status_changed"},
              ].map(isTwinChange)));""")
    assert node_json(script) == [True, True, True, True, False, False, False]
