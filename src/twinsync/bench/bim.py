"""``twinsync bench bim``: how long importing and exporting a model of N elements takes.

Generates a building of at least ``--elements`` elements in a temporary directory, then
times reading it (``read_model``), bringing it into an empty twin (``import_ifc``),
re-importing the next revision, and exporting its GLB with each geometry kernel (the
median of ``--repeat`` runs), and checks the kernels agree on the element set and on every
element's bounding box. Then it exports the geometry suite (``generate_shapes``: clipped
walls, CSG, openings, B-reps, surface models, mapped items, sweeps) and says how many of
its elements each kernel drew, why the others went to OpenCASCADE, and how far each
element's box is from the one an export with OpenCASCADE alone gives.

``--detail rich`` (the default) gives every element the several property sets and the
quantities a delivered model carries, where an import's cost is; ``--detail common`` the
common set and quantities only. Generation, import and each export run in a fresh process
of their own, so each step's peak memory (``ru_maxrss``, with any worker process it
starts) is its own; ``baseline_rss_mb`` is what such a process holds before it starts.
``--ifc FILE`` times a given file instead (a real model, or one generated before: a
50,000-element rich model takes about ten minutes to generate).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from ..bim import (
    available_kernels,
    export_glb,
    generate_building,
    generate_shapes,
    import_ifc,
    read_model,
)
from ..bim.generate import DETAILS
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
    parser.add_argument("--repeat", type=int, default=3,
                        help="GLB exports per kernel; the median is reported (default 3)")
    parser.add_argument("--workers", type=int, default=None,
                        help="geometry worker processes (default: one per core)")
    parser.add_argument("--detail", default="rich", choices=DETAILS,
                        help="property sets per element: rich (several, as a delivered model "
                             "has; default) or common")
    parser.add_argument("--no-reimport", dest="reimport", action="store_false",
                        help="skip re-importing the next revision")
    parser.add_argument("--ifc", type=Path, default=None,
                        help="time this IFC file instead of a generated one (no re-import)")


def run(args: argparse.Namespace) -> dict[str, Any]:
    kernels = available_kernels() if args.kernels == "all" else args.kernels.split(",")
    figures: dict[str, Any] = {"schema": args.schema, "detail": args.detail}
    figures["baseline_rss_mb"] = _in_process(_baseline)["peak_rss_mb"]
    with tempfile.TemporaryDirectory(prefix="twinsync-bench-bim-") as tmp:
        reimport = args.reimport and args.ifc is None
        model_path = Path(tmp) / "building.ifc"
        next_path = Path(tmp) / "building-r1.ifc" if reimport else None
        if args.ifc is None:
            generated = _in_process(_generate, model_path, next_path, args.elements,
                                    args.schema, args.detail)
            figures.update({f"generate_{k}" if k == "peak_rss_mb" else k: v
                            for k, v in generated.items()})
        else:
            model_path = args.ifc
            figures.update({"file": str(args.ifc), "ifc_bytes": args.ifc.stat().st_size})
            del figures["schema"], figures["detail"]
        imported = _in_process(_import, model_path, next_path)
        figures.setdefault("elements", imported.pop("elements"))
        figures.update({f"import_{k}" if k == "peak_rss_mb" else k: v
                        for k, v in imported.items()})
        figures["import_elements_per_s"] = round(figures["elements"] / (
            figures["read_model_s"] + figures["import_s"]))
        bounds: dict[str, dict[str, tuple[list[float], list[float]]]] = {}
        for kernel in kernels:
            exported = _in_process(_export, model_path, Path(tmp) / f"{kernel}.glb", kernel,
                                   max(1, args.repeat), args.workers)
            bounds[kernel] = exported.pop("bounds")
            figures.update({f"glb_{kernel}_{k}": v for k, v in exported.items()})
        if len(kernels) > 1:
            figures["kernels_agree"] = _compare(bounds)
        figures["shapes"] = _in_process(_shapes, Path(tmp), kernels, args.workers)
        figures["shapes"].pop("peak_rss_mb", None)
    return figures


def _in_process(step: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run ``step`` in a fresh interpreter and return its figures and its peak memory."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_measured, step, *args).result()


def _measured(step: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    figures = step(*args)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    figures["peak_rss_mb"] = round(max(_own_peak_kib(), workers) / 1024, 1)
    return figures


def _own_peak_kib() -> int:
    """This process's peak resident memory, in KiB.

    ``ru_maxrss`` of a process started by fork and exec starts at its parent's peak, so a
    fresh process would report the parent's; Linux's ``VmHWM`` is the process's own.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _baseline() -> dict[str, Any]:
    return {}


def _generate(path: Path, next_path: Path | None, elements: int, schema: str,
              detail: str) -> dict[str, Any]:
    started = time.perf_counter()
    storeys = max(1, math.ceil((elements - _PER_BUILDING) / _PER_STOREY))
    while True:
        model = generate_building(path, schema=schema, storeys=storeys, bays_x=_BAYS[0],
                                  bays_y=_BAYS[1], detail=detail)
        if model.element_count >= elements:
            break
        storeys += 1
    figures: dict[str, Any] = {"generate_s": round(time.perf_counter() - started, 2),
                               "elements": model.element_count, "storeys": storeys,
                               "ifc_bytes": path.stat().st_size}
    if next_path is not None:
        generate_building(next_path, schema=schema, storeys=storeys, bays_x=_BAYS[0],
                          bays_y=_BAYS[1], detail=detail, revision=1)
    return figures


def _import(path: Path, next_path: Path | None) -> dict[str, Any]:
    started = time.perf_counter()
    contents = read_model(path)
    figures: dict[str, Any] = {"read_model_s": round(time.perf_counter() - started, 3),
                               "elements": len(contents.elements),
                               "sensors": len(contents.sensors),
                               "properties": sum(len(e.properties)
                                                 for e in contents.elements.values())}
    twin = Twin()
    started = time.perf_counter()
    import_ifc(twin, contents, time=0.0)
    figures["import_s"] = round(time.perf_counter() - started, 3)
    if next_path is not None:
        started = time.perf_counter()
        report = import_ifc(twin, read_model(next_path), time=1.0).report
        figures["reimport_s"] = round(time.perf_counter() - started, 3)
        figures["reimport"] = {key: len(report[key]) for key in ("added", "changed", "removed")}
    return figures


def _export(path: Path, out: Path, kernel: str, repeat: int,
            workers: int | None) -> dict[str, Any]:
    runs = [export_glb(path, out, kernel=kernel, workers=workers) for _ in range(repeat)]
    info = runs[-1]
    # The first export of a process includes starting the workers' fork server.
    return {"s": round(statistics.median(run.seconds for run in runs), 3),
            "first_s": round(runs[0].seconds, 3), "bytes": info.size,
            "nodes": len(info.node_names), "by_kernel": info.by_kernel,
            "bounds": _node_bounds(info.path)}


def _shapes(folder: Path, kernels: list[str], workers: int | None) -> dict[str, Any]:
    """The geometry suite: per preferred kernel, who drew what and how close to OpenCASCADE."""
    suite = generate_shapes(folder / "shapes.ifc")
    result: dict[str, Any] = {"elements": len(suite.ids)}
    bounds = {}
    for kernel in sorted(set(kernels) | {"opencascade"}):
        info = export_glb(suite.path, folder / f"shapes-{kernel}.glb", kernel=kernel,
                          workers=workers)
        drawn = len(info.node_names)
        result[kernel] = {
            "drawn": drawn,
            "share": {k: round(n / drawn, 3) for k, n in sorted(info.by_kernel.items())},
            "by_kernel": info.by_kernel, "exact_because": info.exact_because,
            "missing": [f"{m['type']} {m['name']}: {m['reason']}" for m in info.missing]}
        bounds[kernel] = _node_bounds(info.path)
    if len(bounds) > 1:
        result["kernels_agree"] = _compare(bounds)
    return result


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
