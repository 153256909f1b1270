"""The Gantt's rows (``gantt_rows.js``), run in Node on the module the page loads: the
WBS tree and the order of its rows, what a folded node and the critical-path filter
leave, a node's span and standing, and each activity's bars from the API's answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .node import node_json

ROWS_JS = Path(__file__).parents[2] / "src/twinsync/web/static/js/gantt_rows.js"

# An answer of GET /api/schedule, cut to what the Gantt reads. Building > Level 1; X is
# on Level 1, half done and behind; Y on the building, done by its elements, ahead; Z on
# no node, not started; M a milestone.
OVERVIEW: dict[str, Any] = {
    "as_of": "2026-03-11 12:00",
    "wbs": [{"id": "L1", "code": "B.1", "name": "Level 1", "parent": "B"},
            {"id": "B", "code": "B", "name": "Building", "parent": None}],
    "activities": [
        {"id": "X", "name": "Slab", "type": "task", "wbs": "L1", "critical": True,
         "planned_start": "2026-03-02 08:00", "planned_finish": "2026-03-06 16:00",
         "early_start": "2026-03-02 08:00", "early_finish": "2026-03-13 12:00",
         "progress": {"percent_complete": 50, "state": "in_progress", "source": "field",
                      "reported": {"actual_start": "2026-03-03 08:00", "actual_finish": None},
                      "from_elements": None},
         "variance": {"standing": "behind", "days": 3, "planned_percent": 100}},
        {"id": "Y", "name": "Columns", "type": "task", "wbs": "B", "critical": False,
         "planned_start": "2026-03-09 08:00", "planned_finish": "2026-03-13 16:00",
         "early_start": "2026-03-05 08:00", "early_finish": "2026-03-09 16:00",
         "progress": {"percent_complete": 100, "state": "complete",
                      "source": "elements:field", "reported": None,
                      "from_elements": {"actual_start": "2026-03-05 08:00",
                                        "actual_finish": "2026-03-09 16:00"}},
         "variance": {"standing": "ahead", "days": 4, "planned_percent": 40}},
        {"id": "Z", "name": "Roof", "type": "task", "wbs": None, "critical": False,
         "planned_start": "2026-03-16 08:00", "planned_finish": "2026-03-20 16:00",
         "early_start": "2026-03-18 08:00", "early_finish": "2026-03-24 16:00",
         "progress": {"percent_complete": 0, "state": "not_started", "source": None},
         "variance": {"standing": "on_track", "days": 0, "planned_percent": 0}},
        {"id": "M", "name": "Topped out", "type": "finish_milestone", "wbs": "L1",
         "critical": True, "planned_start": "2026-03-06 16:00",
         "planned_finish": "2026-03-06 16:00", "early_start": "2026-03-13 12:00",
         "early_finish": "2026-03-13 12:00",
         "progress": {"percent_complete": 0, "state": "not_started", "source": None},
         "variance": {"standing": "behind", "days": 3, "planned_percent": 100}},
    ],
}

SCRIPT = """
import { activityBar, ancestorsOf, buildTree, formatDay, parseDay, visibleRows }
  from %(module)s;
const overview = %(overview)s;
const day = (t) => (t === null ? null : formatDay(t));
const rows = (list) => list.map((r) => [r.kind === "wbs" ? r.id : r.code, r.depth]);
const tree = buildTree(overview);
const asOf = parseDay(overview.as_of);
const bar = (code) => {
  const b = activityBar(overview.activities.find((a) => a.id === code), asOf);
  return { actual: [day(b.actualStart), day(b.actualFinish)],
           forecast: [day(b.forecastStart), day(b.forecastFinish)],
           planned: [day(b.plannedStart), day(b.plannedFinish)],
           complete: b.complete, milestone: b.milestone, standing: b.standing };
};
const building = tree.roots[0];
console.log(JSON.stringify({
  roots: tree.roots.map((r) => r.id), loose: tree.loose.map((b) => b.code),
  span: [day(tree.start), day(tree.finish)],
  building: { span: [day(building.start), day(building.finish)],
              standing: building.standing, critical: building.critical },
  rows: rows(visibleRows(tree, new Set())),
  folded: rows(visibleRows(tree, new Set(["L1"]))),
  critical: rows(visibleRows(tree, new Set(), true)),
  ancestors: ancestorsOf(tree, "X"),
  bars: { X: bar("X"), Y: bar("Y"), Z: bar("Z"), M: bar("M") },
}));
"""


def run_rows() -> dict[str, Any]:
    script = SCRIPT % {"module": json.dumps(ROWS_JS.as_uri()),
                       "overview": json.dumps(OVERVIEW)}
    answer: dict[str, Any] = node_json(script)
    return answer


@pytest.fixture(scope="module")
def rows() -> dict[str, Any]:
    return run_rows()


def test_activities_hang_under_their_wbs_nodes_in_planned_order(rows: dict[str, Any]) -> None:
    assert rows["roots"] == ["B"] and rows["loose"] == ["Z"]
    # the building, its level (nodes before activities), then the building's own activity
    assert rows["rows"] == [["B", 0], ["L1", 1], ["X", 2], ["M", 2], ["Y", 1], ["Z", 0]]
    assert rows["ancestors"] == ["B", "L1"]


def test_a_folded_node_hides_what_is_under_it_and_the_filter_keeps_the_critical_path(
        rows: dict[str, Any]) -> None:
    assert rows["folded"] == [["B", 0], ["L1", 1], ["Y", 1], ["Z", 0]]
    assert rows["critical"] == [["B", 0], ["L1", 1], ["X", 2], ["M", 2]]


def test_a_node_spans_its_activities_and_is_as_behind_as_the_worst_of_them(
        rows: dict[str, Any]) -> None:
    # from the earliest bar under it (X planned) to the latest (Y planned, after X's
    # forecast and M)
    assert rows["building"] == {"span": ["2026-03-02 08:00", "2026-03-13 16:00"],
                                "standing": "behind", "critical": True}
    assert rows["span"] == ["2026-03-02 08:00", "2026-03-24 16:00"]


def test_bars_show_what_was_done_and_what_is_forecast(rows: dict[str, Any]) -> None:
    bars = rows["bars"]
    # started on the reported day, done up to the analysis date, the rest forecast
    assert bars["X"]["actual"] == ["2026-03-03 08:00", "2026-03-11 12:00"]
    assert bars["X"]["forecast"] == ["2026-03-11 12:00", "2026-03-13 12:00"]
    # complete by its elements: their dates, nothing left to forecast
    assert bars["Y"]["actual"] == ["2026-03-05 08:00", "2026-03-09 16:00"]
    assert bars["Y"]["forecast"] == [None, None] and bars["Y"]["complete"]
    # not started: its early dates are the forecast
    assert bars["Z"]["actual"] == [None, None]
    assert bars["Z"]["forecast"] == ["2026-03-18 08:00", "2026-03-24 16:00"]
    assert bars["Z"]["planned"] == ["2026-03-16 08:00", "2026-03-20 16:00"]
    assert bars["M"]["milestone"] and bars["M"]["standing"] == "behind"
