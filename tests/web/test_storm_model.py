"""The anomaly storm's notice, its logic alone (``storm_model.js`` in Node): which window's
counts it keeps as events arrive in any order, and what it shows at a time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .node import node_json

MODEL_JS = Path(__file__).parents[2] / "src/twinsync/web/static/js/storm_model.js"


def run(body: str) -> Any:
    script = (f"import {{ merge, stateAt }} from {json.dumps(MODEL_JS.as_uri())};\n"
              f"console.log(JSON.stringify((() => {{ {body} }})()));")
    return node_json(script)


def test_a_storm_keeps_its_newest_count_and_its_end_and_a_new_window_replaces_it() -> None:
    assert run("""
        const w = (since, told, untold) => ({ since, until: since + 3600, told, untold });
        let s = merge(null, "anomaly_storm", w(1000, 1000, 5));
        s = merge(s, "anomaly_storm", w(1000, 1000, 40));
        const late = merge(s, "anomaly_storm", w(1000, 1000, 7));      // an older count
        const ended = merge(s, "anomaly_storm_ended", w(1000, 1000, 52));
        const after = merge(ended, "anomaly_storm", w(1000, 1000, 60)); // nothing after its end
        const older = merge(ended, "anomaly_storm", w(-5000, 1000, 9)); // an older window
        const next = merge(ended, "anomaly_storm", w(9000, 1000, 3));
        const bare = merge(null, "anomaly_storm", { since: 0, until: 3600, told: 1000 });
        return [late.untold, ended.untold, ended.ended, after.untold, older.since,
                next.since, next.ended, bare.untold];
    """) == [40, 52, True, 52, 1000, 9000, False, None]


def test_a_storm_shows_while_it_lasts_then_over_until_a_window_has_passed_then_nothing(
        ) -> None:
    assert run("""
        const storm = { since: 1000, until: 4600, told: 1000, untold: 5, ended: false };
        const ended = { ...storm, ended: true };
        return [stateAt(null, 0), stateAt(storm, 1000), stateAt(storm, 4599),
                stateAt(storm, 4600), stateAt(ended, 2000), stateAt(ended, 8199),
                stateAt(ended, 8200), stateAt(storm, 9000)];
    """) == [None, "storming", "storming", "over", "over", "over", None, None]
