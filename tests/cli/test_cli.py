"""The command line lists its commands and benchmarks print their figures as JSON."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.bim.models import unrelated_model
from tests.server import Server, free_port

from twinsync.bim import generate_building, generate_shapes


def twinsync(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "twinsync", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd)


def test_help_lists_the_commands() -> None:
    result = twinsync("--help")
    assert result.returncode == 0
    for command in ("demo", "serve", "import", "bench"):
        assert command in result.stdout


def test_every_command_and_subcommand_prints_its_help() -> None:
    """``--help`` of every command, walked through the parser (a "90 %" in a bench's
    summary once made ``twinsync bench --help`` end in a traceback)."""
    from twinsync.cli import parser

    def helps(command: argparse.ArgumentParser, path: str) -> Iterator[tuple[str, str]]:
        yield path, command.format_help()
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from helps(sub, f"{path} {name}")

    shown = dict(helps(parser(), "twinsync"))
    assert {"twinsync bench", "twinsync bench forecast", "twinsync health replay"} <= set(shown)
    assert "90 %" in shown["twinsync bench"]


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
    assert set(figures["anomaly_events"]) == {"told", "untold", "storms", "storm_events"}


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


def test_import_refuses_another_projects_file_shows_it_with_dry_run_and_takes_it_with_force(
        tmp_path: Path) -> None:
    model = generate_building(tmp_path / "tower.ifc", storeys=1, bays_x=1, bays_y=1)
    shed = unrelated_model(tmp_path / "shed.ifc")
    store = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    first = json.loads(twinsync("import", "ifc", str(model.path), "--store", store,
                                "--json").stdout)

    refused = twinsync("import", "ifc", str(shed), "--store", store)
    assert refused.returncode == 2
    assert "shed.ifc was not imported" in refused.stderr and "--force" in refused.stderr
    assert "IfcProject" in refused.stderr

    dry = twinsync("import", "ifc", str(shed), "--store", store, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("dry run of shed.ifc") and "would be refused" in dry.stdout
    plan = json.loads(twinsync("import", "ifc", str(shed), "--store", store, "--dry-run",
                               "--json").stdout)
    assert plan["dry_run"] is True
    assert plan["counts"]["archived"] == len(first["added"])
    assert [r["reason"] for r in plan["refusals"]] == ["other_project", "archives_too_much"]

    forced = twinsync("import", "ifc", str(shed), "--store", store, "--force")
    assert forced.returncode == 0, forced.stderr
    assert f"{len(first['added'])} archived" in forced.stdout
    assert "forced past: other_project, archives_too_much" in forced.stdout


def test_an_upload_refused_by_a_running_twin_is_reported_and_taken_with_force(
        tmp_path: Path) -> None:
    model = generate_building(tmp_path / "tower.ifc", storeys=1, bays_x=1, bays_y=1)
    shed = unrelated_model(tmp_path / "shed.ifc")
    server = Server("serve", "--store", f"sqlite:///{tmp_path / 'twin.sqlite'}", cwd=tmp_path)
    server.start()
    try:
        remote = ("--url", server.url, "--token", server.token)
        assert twinsync("import", "ifc", str(model.path), *remote).returncode == 0
        refused = twinsync("import", "ifc", str(shed), *remote, "--json")
        assert refused.returncode == 2 and "--force" in refused.stderr
        body = json.loads(refused.stdout)
        assert body["error"] == "import_refused" and body["counts"]["added"] == 4
        plan = json.loads(twinsync("import", "ifc", str(shed), *remote, "--dry-run",
                                   "--json").stdout)
        assert plan["dry_run"] is True and len(plan["refusals"]) == 2
        forced = twinsync("import", "ifc", str(shed), *remote, "--force", "--json")
        assert forced.returncode == 0, forced.stderr
        assert json.loads(forced.stdout)["forced"] == ["other_project", "archives_too_much"]
    finally:
        server.stop()


def test_uploading_to_a_server_that_cannot_be_reached_fails_in_one_line(tmp_path: Path) -> None:
    model = tmp_path / "tower.ifc"
    model.write_bytes(b"ISO-10303-21;")
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    result = twinsync("import", "ifc", str(model), "--url", url)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"twinsync: cannot reach twinsync at {url}")
    assert "Traceback" not in result.stderr
