"""The command line lists its commands and benchmarks print their figures as JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.server import free_port

from twinsync.bim import generate_building


def twinsync(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "twinsync", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd)


def test_help_lists_the_commands() -> None:
    result = twinsync("--help")
    assert result.returncode == 0
    for command in ("demo", "serve", "import", "bench"):
        assert command in result.stdout


def test_bench_ingest_prints_its_figures_as_json_on_the_last_line() -> None:
    result = twinsync("bench", "ingest", "--sensors", "50", "--readings", "20000",
                      "--warm-up", "30", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["bench"] == "ingest"
    assert figures["readings"] == 20000 and figures["sensors"] == 50
    assert figures["warm_up_per_sensor"] == 30
    assert figures["readings_per_second"] > 0
    assert figures["machine"]["cpus"] >= 1


def test_import_ifc_reports_what_it_added_and_a_second_import_changes_nothing(
        tmp_path: Path) -> None:
    model = generate_building(tmp_path / "tower.ifc", storeys=2, bays_x=2, bays_y=2)
    store = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    first = twinsync("import", "ifc", str(model.path), "--store", store, "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["schema"] == "IFC4" and len(report["added"]) > 20
    second = json.loads(twinsync("import", "ifc", str(model.path), "--store", store,
                                 "--json").stdout)
    assert second["added"] == [] and second["unchanged"] == len(report["added"])


def test_importing_a_file_that_is_not_ifc_fails_clearly(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.ifc"
    bogus.write_text("these are not the models you are looking for")
    result = twinsync("import", "ifc", str(bogus), "--store", f"sqlite:///{tmp_path / 't.db'}")
    assert result.returncode == 2
    assert "IFC" in result.stderr or "ifc" in result.stderr


def test_uploading_to_a_server_that_cannot_be_reached_fails_in_one_line(tmp_path: Path) -> None:
    model = tmp_path / "tower.ifc"
    model.write_bytes(b"ISO-10303-21;")
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    result = twinsync("import", "ifc", str(model), "--url", url)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"twinsync: cannot reach twinsync at {url}")
    assert "Traceback" not in result.stderr
