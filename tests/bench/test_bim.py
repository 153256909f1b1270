"""``twinsync bench bim``: import and export figures of a property-rich model, with the
peak memory of each step, as one JSON object on the last line."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from twinsync.bench.bim import add_arguments, run
from twinsync.bim import generate_building


def test_the_bim_benchmark_prints_import_and_export_times_and_peak_memory_as_json() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "twinsync", "bench", "bim", "--elements", "250",
         "--kernels", "manifold", "--no-reimport", "--json"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["bench"] == "bim" and figures["detail"] == "rich"
    assert figures["elements"] >= 250 and figures["storeys"] == 1
    # Property-rich: several sets and quantities an element, not one common set.
    assert figures["properties"] > 10 * figures["elements"]
    assert figures["import_elements_per_s"] > 0 and figures["glb_manifold_s"] > 0
    assert figures["glb_manifold_nodes"] > 0
    # Each step runs in a process of its own: its peak is above what a fresh one holds.
    for step in ("generate", "import", "glb_manifold"):
        assert figures[f"{step}_peak_rss_mb"] >= figures["baseline_rss_mb"] > 0
    assert "reimport_s" not in figures


def test_the_bim_benchmark_times_a_given_ifc_file_without_generating_one(tmp_path: Path) -> None:
    model = generate_building(tmp_path / "given.ifc", storeys=1, bays_x=2, bays_y=2)
    result = subprocess.run(
        [sys.executable, "-m", "twinsync", "bench", "bim", "--ifc", str(model.path),
         "--kernels", "manifold", "--json"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["file"] == str(model.path) and figures["elements"] == model.element_count
    assert "generate_s" not in figures and "reimport_s" not in figures
    assert figures["glb_manifold_nodes"] > 0 and figures["import_peak_rss_mb"] > 0


def test_the_bim_bench_times_each_kernel_and_shares_the_geometry_suite_out() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    figures = run(parser.parse_args(["--elements", "10", "--repeat", "1", "--detail", "common",
                                     "--no-reimport"]))
    assert figures["glb_manifold_s"] > 0 and figures["glb_opencascade_s"] > 0
    assert figures["kernels_agree"]["manifold"]["same_elements"] is True
    shapes = figures["shapes"]
    assert shapes["manifold"]["by_kernel"]["manifold"] >= 4
    assert sum(shapes["manifold"]["share"].values()) == 1.0
    assert shapes["opencascade"]["share"] == {"opencascade": 1.0}
    agree = shapes["kernels_agree"]["manifold"]
    assert agree["same_elements"] and agree["max_bbox_difference_m"] < 0.01
