"""How the dashboard reads the shadow twin (``shadow_model.js``), run in Node on the module
the page loads: figures to three digits, the parameters a shadow changes, which model
tracks better from the RMS ratio, a sensor's live against shadow line, and the fleet's
comparison as the panel shows it (nothing when no shadow runs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .node import node_json

JS = Path(__file__).parents[2] / "src/twinsync/web/static/js"


def run(expression: str) -> Any:
    """What ``expression`` (over shadow_model.js's exports as ``m``) gives, in Node."""
    return node_json(f"import * as m from {json.dumps((JS / 'shadow_model.js').as_uri())};\n"
                     f"console.log(JSON.stringify({expression}));")


def figures(rms: float | None, calibration: float | None) -> dict[str, Any]:
    return {"rms": rms, "mean_abs": None, "bias": None, "calibration": calibration,
            "divergences": 0}


def test_figures_have_three_significant_digits_ratios_two_decimals_and_a_dash_for_none() -> None:
    assert run("[m.figure(0.051234), m.figure(1.0249), m.figure(123.456), m.figure(null),"
               " m.figure(NaN), m.percent(0.536), m.percent(null), m.ratio(1.0003),"
               " m.ratio(0.8312), m.ratio(null)]") == [
        "0.0512", "1.02", "123", "—", "—", "54 %", "—", "1.00", "0.83", "—"]


def test_the_changed_parameters_read_in_order_of_name() -> None:
    assert run('[m.changedText({threshold: 12, rate: 0.02, gate_probability: 0.99}),'
               ' m.changedText({}), m.changedText(null)]') == [
        "gate probability 0.99 · rate 0.02 · threshold 12",
        "the live parameters", "the live parameters"]


def test_the_verdict_follows_the_rms_ratio_with_two_percent_counted_even() -> None:
    assert [v["key"] for v in run("[0.9, 0.99, 1.0, 1.015, 1.1, null].map(m.verdict)")] == [
        "shadow", "even", "even", "even", "live", "unknown"]


def test_a_sensor_s_line_gives_both_errors_in_its_unit_and_who_leads() -> None:
    shadow = {"shadow_id": "s1", "state": "in_control", "level": 20.0, "noise": 0.05,
              "ratio": 0.1, "comparison": {"readings": 298, "shadow_closer": 0.6,
                                           "live": figures(0.0623, 0.981),
                                           "shadow": figures(0.05114, 1.0432)}}
    fresh = {**shadow, "comparison": {**shadow["comparison"], "readings": 0}}
    assert run(f"""[m.sensorShadowText({json.dumps(shadow)}, "°C"),
                    m.sensorShadowText({json.dumps(fresh)}, "°C"),
                    m.sensorShadowText(null, "°C"),
                    m.sensorLeader({json.dumps(shadow)}), m.sensorLeader({json.dumps(fresh)}),
                    m.sensorLeader(null)]""") == [
        "shadow RMS 0.0511 vs live 0.0623 °C · calibration 1.04 vs 0.981 · 298 readings",
        "shadow: no reading compared yet", None, "shadow", None, None]


def test_the_fleet_comparison_says_which_tracks_better_and_nothing_without_a_shadow() -> None:
    report = {"enabled": True, "live": {"parameters": {}},
              "shadow": {"shadow_id": "s1", "start_from": "live", "started_at": 0,
                         "started_by": "ana", "counted_since": 0, "parameters": {},
                         "changed": {"threshold": 12}},
              "comparison": {"sensors": 3, "sensors_compared": 2, "readings": 1200,
                             "rms_ratio": 0.8312, "shadow_lower_rms": 2, "live_lower_rms": 0,
                             "shadow_closer": 0.58, "live": {"calibration": 0.97, "divergences": 3},
                             "shadow": {"calibration": 1.01, "divergences": 1}}}
    young = {**report, "comparison": {**report["comparison"], "sensors_compared": 0,
                                      "readings": 0, "rms_ratio": None}}
    assert run(f"""[m.fleetShadow({json.dumps(report)}), m.fleetShadow({json.dumps(young)}),
                    m.fleetShadow({json.dumps({**report, "shadow": None})}),
                    m.fleetShadow(null)]""") == [
        {"verdict": {"key": "shadow", "text": "the shadow tracks better"},
         "changed": "threshold 12",
         "lines": ["RMS shadow ÷ live 0.83 on 2 sensors · the shadow lower on 2, the live on 0",
                   "the shadow closer on 58 % of 1,200 readings · calibration 1.01 shadow,"
                   " 0.97 live · divergences 1 shadow, 3 live"]},
        {"verdict": {"key": "unknown", "text": "too few readings to compare yet"},
         "changed": "threshold 12",
         "lines": ["no sensor has 10 readings compared yet"]},
        None, None]
