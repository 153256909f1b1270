"""How the dashboard reads concrete maturity (``maturity_model.js``), run in Node on the
module the page loads: which mix an element is of (as the server ranks them), the band of
an answer in the colour mode, and the strength as the panel writes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .node import node_json

MODEL_JS = Path(__file__).parents[2] / "src/twinsync/web/static/js/maturity_model.js"


def run(expression: str) -> Any:
    """What ``expression`` (over the module's exports, as ``m``) gives, in Node."""
    return node_json(f"import * as m from {json.dumps(MODEL_JS.as_uri())};\n"
                     f"console.log(JSON.stringify({expression}));")


def test_the_most_specific_mix_wins_as_on_the_server() -> None:
    mixes = [
        {"name": "by class", "ifc_class": "IfcSlab", "elements": []},
        {"name": "by strength class", "property": "Pset.StrengthClass", "value": "C30/37",
         "ifc_class": None, "elements": []},
        {"name": "named", "elements": ["GID-7"], "ifc_class": None},
        {"name": "by a number", "property": "grade", "value": "30.0", "elements": []},
    ]
    elements = [
        {"id": "s1", "type": "IfcSlab", "properties": {}},
        {"id": "s2", "type": "IfcSlab",
         "properties": {"Pset.StrengthClass": {"value": "C30/37"}}},
        {"id": "s3", "global_id": "GID-7", "type": "IfcSlab",
         "properties": {"Pset.StrengthClass": {"value": "C30/37"}}},
        # JSON cannot tell 30 from 30.0 (which the server writes "30.0"): a number is
        # matched as a number, and a 404 from the server has the last word.
        {"id": "w1", "type": "IfcWall", "properties": {"grade": {"value": 30}}},
        {"id": "d1", "type": "IfcDoor", "properties": {}},
    ]
    chosen = run(f"{json.dumps(elements)}"
                 f".map((e) => m.mixOf({json.dumps(mixes)}, e)?.name ?? null)")
    assert chosen == ["by class", "by strength class", "named", "by a number", None]


def test_an_answer_falls_in_its_band_by_its_share_of_the_required_strength() -> None:
    views = [
        None,  # not read yet: the key is left out below
        {"estimate": None, "detail": "the pour is not known"},
        {"strength": 9.9, "required_strength": 20, "reached": False},
        {"strength": 10.0, "required_strength": 20, "reached": False},
        {"strength": 19.9, "required_strength": 20, "reached": False},
        {"strength": 19.9, "required_strength": 20, "reached": False, "recorded": True},
        {"strength": 21.0, "required_strength": 20, "reached": True},
    ]
    bands = run(f"[undefined, ...{json.dumps(views[1:])}].map((v) => m.bandOf(v).key)")
    assert bands == ["pending", "none", "low", "half", "half", "reached", "reached"]


def test_the_strength_reads_with_its_interval_and_without_one() -> None:
    shown = run("""[
        m.strengthText({strength: 18.06, required_strength: 25,
                        strength_interval: {coverage: 0.9, low: 15.94, high: 20.31}}),
        m.strengthText({strength: 18.06, required_strength: 25, strength_interval: null}),
        m.strengthText({estimate: null}),
        m.targetsOf({targets: {required: {strength: 25}, striking: {strength: 15},
                               stripping: {strength: 10}}}).map((t) => t.name),
    ]""")
    assert shown == ["18.1 MPa (15.9\u201320.3, 90 %)", "18.1 MPa", "\u2014",
                     ["stripping", "striking", "required"]]
