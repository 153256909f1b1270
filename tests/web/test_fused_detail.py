"""The fused value's detail lists a field measurement's share beside the sensors' shares:
run in Node on the module the page loads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .node import node_json

FUSED_JS = Path(__file__).parents[2] / "src/twinsync/web/static/js/fused_detail.js"


def detail(property_value: dict[str, Any]) -> Any:
    """The share rows and the HTML ``fusedDetail`` gives ``property_value`` (the module
    listens on ``document``: a bare stand-in is enough for Node)."""
    script = (
        "globalThis.document = { addEventListener() {} };\n"
        f"const m = await import({json.dumps(FUSED_JS.as_uri())});\n"
        f"const p = {json.dumps(property_value)};\n"
        "console.log(JSON.stringify({ rows: m.shareRows(p),"
        " html: m.fusedDetail('core_temperature', p), fused: m.isFused(p) }));")
    return node_json(script)


FIELD = {"value": 21.4, "time": 1.0, "age": 7200.0, "uncertainty": 0.3,
         "aged_uncertainty": 0.35, "rate": 1e-5, "instrument": "probe HT-2", "used": True}


def test_the_field_measurements_share_stands_next_to_the_sensors() -> None:
    shown = detail({
        "value": 21.3, "unit": "degC", "source": "iot", "uncertainty": 0.2,
        "weights": {"t1": 0.2, "t2": 0.1, "field": 0.7},
        "sources": [{"kind": "sensor", "id": "t1", "weight": 0.2},
                    {"kind": "sensor", "id": "t2", "weight": 0.1},
                    {"kind": "field", "weight": 0.7}],
        "field": FIELD})
    assert [row[:3] for row in shown["rows"]] == [
        ["field", "field measurement", 0.7], ["sensor:t1", "t1", 0.2],
        ["sensor:t2", "t2", 0.1]]
    assert "probe HT-2" in shown["rows"][0][3] and "2 h ago" in shown["rows"][0][3]
    html = shown["html"]
    assert 'data-source-share="field"' in html and 'data-sensor-share="t1"' in html
    assert "70 %" in html and "2 sensors + field" in html


def test_a_sensor_named_field_is_not_taken_for_the_field_measurement() -> None:
    shown = detail({
        "value": 20.0, "unit": "degC", "source": "iot", "uncertainty": 0.1,
        "weights": {"field": 1.0},
        "sources": [{"kind": "sensor", "id": "field", "weight": 1.0}]})
    assert [row[:3] for row in shown["rows"]] == [["sensor:field", "field", 1.0]]
    assert 'data-sensor-share="field"' in shown["html"]
    assert "data-source-share" not in shown["html"]


def test_a_value_the_field_measurement_carries_alone_still_shows_its_detail() -> None:
    shown = detail({"value": 20.0, "unit": "degC", "source": "field", "uncertainty": 0.5,
                    "weights": {"field": 1.0}, "sources": [{"kind": "field", "weight": 1.0}],
                    "field": {**FIELD, "rate": None}})
    assert shown["fused"] and "± 0.50" in shown["html"]
    assert "not aging yet" in shown["rows"][0][3]


def test_a_value_of_an_older_server_is_read_from_its_weights_and_a_plain_value_has_none(
        ) -> None:
    older = detail({"value": 20.0, "unit": "degC", "source": "iot", "uncertainty": 0.1,
                    "weights": {"t1": 0.25, "t2": 0.75}})
    assert [row[1] for row in older["rows"]] == ["t2", "t1"]
    plain = detail({"value": 20.0, "unit": "degC", "source": "field"})
    assert plain["html"] == "" and not plain["fused"]


def test_a_zone_models_prediction_is_named_with_its_age_when_it_carries_the_value_alone() -> None:
    shown = detail({
        "value": 19.2, "unit": "degC", "source": "sensor", "uncertainty": 0.5,
        "weights": {"prediction": 1.0},
        "sources": [{"kind": "prediction", "weight": 1.0, "model": "thermal_zone",
                     "basis": "extrapolated", "variance": 0.25, "age": 14400.0}]})
    [row] = shown["rows"]
    assert row[:3] == ["prediction", "thermal zone model (extrapolated 4 h)", 1.0]
    assert "no sensor trusted" in row[3] and "0.5" in row[3]
    assert shown["fused"] and "thermal zone model" in shown["html"]
