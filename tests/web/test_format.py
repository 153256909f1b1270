"""The dashboard's value formatting shows every shape a property value takes (docs/BIM.md):
run in Node on the module the page loads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .node import node_json

FORMAT_JS = Path(__file__).parents[2] / "src/twinsync/web/static/js/format.js"


def shown(values: list[Any]) -> list[str]:
    """What ``value()`` of format.js gives each of ``values``."""
    script = (f"import {{ value }} from {json.dumps(FORMAT_JS.as_uri())};\n"
              f"console.log(JSON.stringify({json.dumps(values)}.map(value)));")
    # Numbers are formatted in the reader's locale: node_json reads them in one.
    answer: list[str] = node_json(script)
    return answer


def test_bim_values_that_are_not_numbers_read_as_text_not_as_object() -> None:
    assert shown([
        {"lower": 18, "upper": 24, "set_point": 21},
        {"lower": 2.4, "upper": None, "set_point": None},
        {"lower": None, "upper": None, "set_point": 21},
        {"defining": [0, 10], "defined": [1500, 2000], "defining_unit": "degC",
         "defined_unit": "W"},
        {"value": 12, "unit": "bag"},
        ["paint", "tile"],
        [51, 30, 0],
        [],
        {"Depth": 0.2},
    ]) == [
        "18 \u2013 24 (set 21)",
        "2.4 \u2013 …",
        "set 21",
        "0 °C → 1,500 W; 10 °C → 2,000 W",
        "12 bag",
        "paint, tile",
        "51, 30, 0",
        "—",
        "Depth: 0.2",
    ]


def test_numbers_text_and_truth_values_read_as_before() -> None:
    assert shown([1.23456, "EI60", True, None]) == ["1.23", "EI60", "yes", "—"]


def spreads(pairs: list[list[Any]]) -> list[list[Any]]:
    """What ``withSpread()`` of format.js gives each ``[mean, sd]``."""
    script = (f"import {{ withSpread }} from {json.dumps(FORMAT_JS.as_uri())};\n"
              f"console.log(JSON.stringify({json.dumps(pairs)}.map(([m, s]) => "
              "withSpread(m, s))));")
    answer: list[list[Any]] = node_json(script)
    return answer


def test_a_figure_with_its_deviation_is_written_to_the_deviation_s_precision() -> None:
    """Two significant digits of the deviation and the figure to the same place: a room's
    time constant read "164 ± 582.3 h" and its heat gain "14.54 ± 5.96 K"."""
    assert spreads([[164.0, 582.3], [14.54, 5.96], [36.15, 28.38], [18.8234, 0.011],
                    [1234.5, 2.0], [-3.14159, 0.25], [21.0, None], [21.0, 0.0]]) == [
        ["160", "580"], ["14.5", "6.0"], ["36", "28"], ["18.823", "0.011"],
        ["1,234.5", "2.0"], ["-3.14", "0.25"], ["21", None], ["21", "0"]]
