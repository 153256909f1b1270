"""``bench anomaly-split`` tunes on one half of a corpus and scores on the other, both ways."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from twinsync.analytics.synthetic import write_corpus


def test_each_half_is_scored_with_the_setting_best_on_the_other(tmp_path: Path) -> None:
    write_corpus(tmp_path, series=8, seed=2)
    grid = ["--set", "levels=6", "--set", "order=1,2", "--set", "tilings=2",
            "--set", "day_parts=24", "--set", "warmup=150", "--set", "quiet=200"]
    done = subprocess.run(
        [sys.executable, "-m", "twinsync", "bench", "anomaly-split", "--detector", "surprise",
         "--corpus", str(tmp_path / "data"), "--labels", str(tmp_path / "combined_windows.json"),
         *grid, "--json"],
        capture_output=True, text=True, check=True, timeout=600)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["settings"] == 2 and figures["detector"] == "surprise"
    assert sorted(figures["half_a"] + figures["half_b"]) == sorted(
        str(p.relative_to(tmp_path / "data")) for p in (tmp_path / "data").rglob("*.csv"))
    # Half A: the first, third, ... file of each category in name order.
    files = sorted(str(p.relative_to(tmp_path / "data"))
                   for p in (tmp_path / "data").rglob("*.csv"))
    categories = sorted({name.split("/")[0] for name in files})
    assert figures["half_a"] == [name for category in categories for name in
                                 [f for f in files if f.split("/")[0] == category][::2]]
    a, b = figures["tuned_on_a"], figures["tuned_on_b"]
    assert a["setting"]["order"] in (1, 2) and b["setting"]["order"] in (1, 2)
    assert figures["held_out_mean"] == round((a["held_out"] + b["held_out"]) / 2, 2)
    assert figures["whole_median"] <= figures["whole_best"]
