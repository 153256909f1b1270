"""``twinsync schedule cpm`` writes one CSV row per activity, and ``twinsync bench
schedule`` prints its figures as JSON."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from twinsync.schedule.generate import generate_xer

from .mspdi_files import tower_mspdi
from .test_xer import FILE, xer


def twinsync(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "twinsync", *args], capture_output=True,
                          text=True, timeout=300)


def test_schedule_cpm_writes_the_dates_floats_and_critical_flag_of_every_activity(
        tmp_path: Path) -> None:
    source = tmp_path / "site.xer"
    source.write_bytes(xer(*FILE))
    out = tmp_path / "activities.csv"
    result = twinsync("schedule", "cpm", str(source), "--project", "TOWER", "--out", str(out),
                      "--json")
    assert result.returncode == 0, result.stderr
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["code", "early_start", "early_finish", "late_start",
                             "late_finish", "total_float_hours", "free_float_hours",
                             "critical"]
    by_code = {row["code"]: row for row in rows}
    assert by_code["A110"]["early_start"] == "2026-03-03 08:00"
    assert by_code["A110"]["early_finish"] == "2026-03-05 17:00"
    assert by_code["M900"]["early_finish"] == "2026-03-06 09:00"
    assert by_code["A100"]["total_float_hours"] == "" and by_code["A100"]["critical"] == "false"
    assert by_code["M900"]["critical"] == "true"
    assert "not scheduled: line 27" in result.stdout
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["activities"] == 3 and summary["external_relationships"] == 1
    assert summary["project_finish"] == "2026-03-06 09:00"
    # A110 is the one activity not complete whose early start the file stored: it agrees
    assert summary["agreement_with_file"] == {"compared": 1, "early_start": 1.0,
                                              "early_finish": 0.0, "total_float": 1.0}


def test_a_later_data_date_moves_the_remaining_work(tmp_path: Path) -> None:
    source = tmp_path / "site.xer"
    source.write_bytes(xer(*FILE))
    out = tmp_path / "later.csv"
    result = twinsync("schedule", "cpm", str(source), "--project", "1", "--data-date",
                      "2026-03-09", "--out", str(out))
    assert result.returncode == 0, result.stderr
    rows = {row["code"]: row for row in csv.DictReader(out.open(encoding="utf-8"))}
    assert rows["A110"]["early_start"] == "2026-03-09 08:00"


def test_a_file_of_two_projects_without_a_choice_fails_clearly(tmp_path: Path) -> None:
    source = tmp_path / "site.xer"
    source.write_bytes(xer(*FILE))
    result = twinsync("schedule", "cpm", str(source), "--out", str(tmp_path / "x.csv"))
    assert result.returncode == 2
    assert "TOWER (id 1), CAR-PARK (id 2)" in result.stderr
    assert not (tmp_path / "x.csv").exists()


def test_a_generated_network_of_a_thousand_activities_is_scheduled(tmp_path: Path) -> None:
    source = tmp_path / "big.xer"
    source.write_bytes(generate_xer(1000, 1500, seed=3))
    out = tmp_path / "big.csv"
    result = twinsync("schedule", "cpm", str(source), "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["activities"] == 1000 and summary["relationships"] == 1500
    assert summary["longest_path"] > 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1001


def test_bench_schedule_prints_its_figures_as_json_on_the_last_line() -> None:
    result = twinsync("bench", "schedule", "--activities", "300", "--relationships", "450",
                      "--repeat", "1", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["bench"] == "schedule" and figures["activities"] == 300
    assert figures["relationships"] == 450 and figures["calendars"] == 3
    assert figures["cpm_s"] > 0 and figures["import_s"] > 0


def test_schedule_cpm_reads_an_ms_project_file_by_its_content(tmp_path: Path) -> None:
    source = tmp_path / "tower.xml"
    source.write_bytes(tower_mspdi())
    out = tmp_path / "activities.csv"
    result = twinsync("schedule", "cpm", str(source), "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    with out.open(newline="", encoding="utf-8") as handle:
        by_code = {row["code"]: row for row in csv.DictReader(handle)}
    assert by_code["3"]["early_start"] == "2026-03-06 08:00"
    assert by_code["6"]["early_finish"] == "2026-03-16 17:00"
    assert json.loads(result.stdout.splitlines()[-1])["activities"] == 4
