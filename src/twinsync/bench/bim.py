"""``twinsync bench bim``: how long importing and exporting a model of N elements takes.

Generates a building of at least ``--elements`` elements in a temporary directory, then
times reading it (``read_model``), bringing it into an empty twin (``import_ifc``),
re-importing the next revision, and exporting its GLB with each geometry kernel, and
checks the kernels agree on the element set and on every element's bounding box.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path
from typing import Any

from ..bim import available_kernels, export_glb, generate_building, import_ifc, read_model
from ..bim.glb import read_glb_json
from ..model import Twin

_BAYS = (8, 6)
_PER_STOREY = 276  # elements a storey of 8 x 6 bays holds, sensors and the storey included
_PER_BUILDING = 14  # site, building, and the roof with its parapets and head house


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--elements", type=int, default=1000,
                        help="at least this many elements in the generated model (default 1000)")
    parser.add_argument("--kernels", default="manifold,opencascade",
                        help="comma-separated geometry kernels to time (default "
                             "manifold,opencascade; 'all' for every one available)")
    parser.add_argument("--schema", default="IFC4", help="IFC2X3, IFC4 or IFC4X3")


def run(args: argparse.Namespace) -> dict[str, Any]:
    kernels = available_kernels() if args.kernels == "all" else args.kernels.split(",")
    figures: dict[str, Any] = {"schema": args.schema}
    with tempfile.TemporaryDirectory(prefix="twinsync-bench-bim-") as tmp:
        model_path = Path(tmp) / "building.ifc"
        started = time.perf_counter()
        storeys = max(1, math.ceil((args.elements - _PER_BUILDING) / _PER_STOREY))
        while True:
            model = generate_building(model_path, schema=args.schema, storeys=storeys,
                                      bays_x=_BAYS[0], bays_y=_BAYS[1])
            if model.element_count >= args.elements:
                break
            storeys += 1
        figures["generate_s"] = time.perf_counter() - started
        figures["elements"] = model.element_count
        figures["storeys"] = storeys
        figures["ifc_bytes"] = model_path.stat().st_size

        started = time.perf_counter()
        contents = read_model(model_path)
        figures["read_model_s"] = time.perf_counter() - started
        figures["sensors"] = len(contents.sensors)

        twin = Twin()
        started = time.perf_counter()
        import_ifc(twin, contents, time=0.0)
        figures["import_s"] = time.perf_counter() - started

        generate_building(model_path, schema=args.schema, storeys=storeys, bays_x=_BAYS[0],
                          bays_y=_BAYS[1], revision=1)
        started = time.perf_counter()
        report = import_ifc(twin, read_model(model_path), time=1.0).report
        figures["reimport_s"] = time.perf_counter() - started
        figures["reimport"] = {key: len(report[key]) for key in ("added", "changed", "removed")}

        generate_building(model_path, schema=args.schema, storeys=storeys, bays_x=_BAYS[0],
                          bays_y=_BAYS[1])
        bounds: dict[str, dict[str, tuple[list[float], list[float]]]] = {}
        for kernel in kernels:
            info = export_glb(model_path, Path(tmp) / f"{kernel}.glb", kernel=kernel)
            figures[f"glb_{kernel}_s"] = info.seconds
            figures[f"glb_{kernel}_bytes"] = info.size
            figures[f"glb_{kernel}_nodes"] = len(info.node_names)
            bounds[kernel] = _node_bounds(info.path)
        if len(kernels) > 1:
            figures["kernels_agree"] = _compare(bounds)
    return figures


def _node_bounds(path: Path) -> dict[str, tuple[list[float], list[float]]]:
    """Per node: the min and max of its mesh's vertex positions, in the node's frame."""
    document = read_glb_json(path)
    accessors, meshes = document["accessors"], document["meshes"]
    bounds = {}
    for node in document["nodes"]:
        if "mesh" not in node:
            continue
        lows, highs = [], []
        for primitive in meshes[node["mesh"]]["primitives"]:
            accessor = accessors[primitive["attributes"]["POSITION"]]
            lows.append(accessor["min"])
            highs.append(accessor["max"])
        bounds[node["name"]] = ([min(v) for v in zip(*lows, strict=True)],
                                [max(v) for v in zip(*highs, strict=True)])
    return bounds


def _compare(bounds: dict[str, dict[str, tuple[list[float], list[float]]]]) -> dict[str, Any]:
    """Each kernel against OpenCASCADE (exact B-rep) if timed, else the first."""
    kernels = sorted(bounds, key=lambda k: k != "opencascade")
    reference = bounds[kernels[0]]
    result: dict[str, Any] = {"reference": kernels[0]}
    for kernel in kernels[1:]:
        other = bounds[kernel]
        common = reference.keys() & other.keys()
        deviation = max((abs(a - b) for name in common
                         for side in (0, 1)
                         for a, b in zip(reference[name][side], other[name][side], strict=True)),
                        default=0.0)
        result[kernel] = {"same_elements": reference.keys() == other.keys(),
                          "max_bbox_difference_m": deviation}
    return result


def main() -> None:
    """Run the benchmark without the CLI: ``python -m twinsync.bench.bim``."""
    import json

    parser = argparse.ArgumentParser(prog="twinsync bench bim")
    add_arguments(parser)
    print(json.dumps(run(parser.parse_args()), indent=2))


if __name__ == "__main__":
    main()
