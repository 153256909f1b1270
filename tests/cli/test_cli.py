"""The command line lists its commands and benchmarks print their figures as JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from twinsync.bim import generate_building, generate_shapes


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


def test_import_ifc_exports_the_geometry_with_the_kernel_asked_for_and_says_what_is_missing(
        tmp_path: Path) -> None:
    model = generate_shapes(tmp_path / "shapes.ifc",
                            cases=["faceted_brep", "clipped_wall", "no_body"])
    store = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    result = twinsync("import", "ifc", str(model.path), "--store", store,
                      "--kernel", "opencascade")
    assert result.returncode == 0, result.stderr
    assert "geometry: 2 elements drawn (2 by opencascade), 1 without geometry" in result.stdout
    assert f"{model.ids['no_body']} IfcBuildingElementProxy 'no_body': no_representation" in (
        result.stdout)
    assert list((tmp_path / "twin-models" / "glb").glob("*-opencascade-spaces.glb"))


def test_import_ifc_refuses_a_kernel_that_does_not_exist(tmp_path: Path) -> None:
    model = generate_shapes(tmp_path / "shapes.ifc", cases=["faceted_brep"])
    result = twinsync("import", "ifc", str(model.path), "--store",
                      f"sqlite:///{tmp_path / 't.db'}", "--kernel", "blender")
    assert result.returncode == 2
    assert "blender" in result.stderr


def test_importing_a_file_that_is_not_ifc_fails_clearly(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.ifc"
    bogus.write_text("these are not the models you are looking for")
    result = twinsync("import", "ifc", str(bogus), "--store", f"sqlite:///{tmp_path / 't.db'}")
    assert result.returncode == 2
    assert "IFC" in result.stderr or "ifc" in result.stderr
