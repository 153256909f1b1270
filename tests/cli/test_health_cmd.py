"""``twinsync health replay`` judges a data set from the command line and ends with its
counts as JSON; ``twinsync health`` lists its sub-commands."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from twinsync.cli import main, parser
from twinsync.cli.health_cmd import SUBCOMMANDS

SENSORS = """sensor_id,kind,unit,element_id,property,expected_interval_s,resolution,source
t-1,temperature,degC,room-1,temperature,60,0.01,gw-1
"""


def test_health_replay_writes_the_state_changes_and_prints_its_counts_as_json(
        tmp_path: Path) -> None:
    (tmp_path / "sensors.csv").write_text(SENSORS)
    start = 1_767_225_600.0
    rows = [f"{start + 60 * i + 2},gw-1,t-1,{start + 60 * i},{20 + 0.1 * (i % 3)},{i}"
            for i in range(30)]
    rows.append(f"{start + 3600},gw-1,t-1,{start + 3600},twenty,30")  # refused, not fatal
    rows.append(f"{start + 3600},gw-1,t-1,{start + 3590},20.1,31")
    (tmp_path / "readings.csv").write_text(
        "received_at,source,sensor_id,time,value,seq\n" + "\n".join(rows) + "\n")

    result = subprocess.run(
        [sys.executable, "-m", "twinsync", "health", "replay",
         "--sensors", str(tmp_path / "sensors.csv"),
         "--readings", str(tmp_path / "readings.csv"), "--out", str(tmp_path / "states.csv"),
         "--qualities", str(tmp_path / "qualities.csv"), "--json"],
        capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stderr
    assert "line 32: not_a_number" in result.stdout
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    assert counts["readings"] == 32 and counts["accepted"] == 31
    assert counts["rejected"] == {"not_a_number": 1}
    assert counts["readings_per_second"] > 0
    with (tmp_path / "states.csv").open() as file:
        states = [(row["sensor_id"], row["state"]) for row in csv.DictReader(file)]
    # 30 minutes of silence (every 60 s promised): stale, then offline; back, it is held
    # stale until it has arrived regularly for a while (no flapping).
    assert states == [("t-1", "stale"), ("t-1", "offline"), ("t-1", "stale")]
    assert counts["state_changes"] == 3
    assert len((tmp_path / "qualities.csv").read_text().splitlines()) == 1 + 31


def test_health_has_replay_as_its_first_subcommand() -> None:
    assert next(iter(SUBCOMMANDS)) == "replay"
    args = parser().parse_args(["health", "replay", "--sensors", "s.csv", "--readings",
                                "r.csv", "--out", "o.csv"])
    assert args.health_command == "replay" and args.qualities is None


def test_the_evaluation_set_is_generated_and_scored_through_the_health_command(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site"
    assert main(["health", "generate", "--part", "tune", "--days", "1", "--sensors", "12",
                 "--out", str(site)]) == 0
    assert main(["health", "replay", "--sensors", str(site / "SENSORS.csv"),
                 "--readings", str(site / "READINGS.csv"),
                 "--out", str(site / "STATES.csv")]) == 0
    capsys.readouterr()
    assert main(["health", "score", "--labels", str(site / "LABELS.csv"),
                 "--sensors", str(site / "SENSORS.csv"), "--states", str(site / "STATES.csv"),
                 "--json"]) == 0
    scored = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert scored["run"]["sensors"] >= 12 and "stuck" in scored["kinds"]
