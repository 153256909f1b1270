"""The model's geometry as one GLB file for the browser, named by GlobalId, cached by revision.

Design, and why. A geometry kernel is C++ that can crash (manifold segfaults on some
Revit furniture) or hang, and one that does so inside the server takes the twin down. So
no kernel runs in this process. The parent reads the model, chooses a kernel for each
element (``kernels.choose_kernel``: the fast one only for bodies it is known to get right),
and hands the elements one at a time to worker processes (``pool.GeometryPool``), which
tessellate them with ``ifcopenshell.geom.kernel(...).create_shape`` and send back plain
meshes. An element whose fast kernel fails, crashes its worker or times out is tried
again with OpenCASCADE; if that fails too it is reported, never silently dropped. The
parent then writes the GLB itself (``gltf.write_glb``) from the meshes it has, so one bad
element costs that element only.

Per element rather than IfcOpenShell's iterator with ``include=`` chunks: the iterator
would be a little faster, but a crash inside a chunk loses the chunk and does not say
which element did it; one element per round trip costs ~0.1 ms and always knows. The
serializer of IfcOpenShell needs its own shape objects, which do not cross processes,
hence the small writer of our own with the same layout.

Spaces are left out by default: as solid boxes they would hide the building. The file is
written beside its target as ``*.part`` and renamed, with a ``.json`` report beside it
(which elements have no geometry and why, which kernel made the others), so nothing half
written is ever served; partial files left by a process that died are removed when the
next export into the folder starts.
"""

from __future__ import annotations

import json
import os
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ifcopenshell

from .gltf import write_glb
from .ifc import class_of, is_a
from .importer import check_header, open_ifc, revision_of
from .kernels import (
    DEFAULT_KERNEL,
    EXACT,
    KERNELS,
    KernelChoice,
    check_kernel,
    choose_kernel,
)
from .pool import DEFAULT_TIMEOUT, Failed, GeometryPool, Job
from .tessellate import Mesh

_EXCLUDED = ("IfcOpeningElement", "IfcAnnotation", "IfcGrid")


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """How geometry is exported: the preferred kernel, worker processes, time per element."""

    kernel: str = DEFAULT_KERNEL
    workers: int | None = None  # None: one per core
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        if self.kernel not in KERNELS:
            raise ValueError(f"geometry kernel {self.kernel!r} is not one of {list(KERNELS)}")
        if self.workers is not None and (not isinstance(self.workers, int)
                                         or isinstance(self.workers, bool) or self.workers < 1):
            raise ValueError(f"geometry workers must be a whole number of at least 1, not "
                             f"{self.workers!r}")
        if not self.timeout > 0:
            raise ValueError("the geometry timeout must be more than 0 seconds")


@dataclass(slots=True)
class GlbInfo:
    """One exported GLB: where, how big, which elements, how long, and what is missing."""

    path: Path
    kernel: str
    size: int
    node_names: list[str]
    seconds: float
    by_kernel: dict[str, int] = field(default_factory=dict)  # kernel -> elements it made
    exact_because: dict[str, int] = field(default_factory=dict)  # IFC class -> elements
    retried: list[dict[str, str]] = field(default_factory=list)  # fast kernel failed
    missing: list[dict[str, str]] = field(default_factory=list)  # no geometry, and why

    def report(self) -> dict[str, Any]:
        """What GET /api/model says of the geometry."""
        return {"kernel": self.kernel, "elements": len(self.node_names),
                "by_kernel": self.by_kernel, "exact_because": self.exact_because,
                "retried": self.retried, "missing": self.missing,
                "bytes": self.size, "seconds": round(self.seconds, 3)}


def export_glb(path: str | os.PathLike[str], out_path: str | os.PathLike[str], *,
               kernel: str = DEFAULT_KERNEL, include_spaces: bool = False,
               workers: int | None = None, timeout: float = DEFAULT_TIMEOUT) -> GlbInfo:
    """Write the geometry of the IFC file at ``path`` to ``out_path`` as binary glTF.

    ``workers`` geometry processes (default: one per core) tessellate; an element may
    take ``timeout`` seconds per kernel before its worker is killed.
    """
    check_kernel(kernel)
    started = time.perf_counter()
    data = Path(path).read_bytes()
    check_header(data)
    out = Path(out_path)
    info = GlbInfo(out, kernel, 0, [], 0.0)
    with GeometryPool(str(path), workers=workers or os.cpu_count() or 1,
                      timeout=timeout) as pool:
        pool.start()  # the workers fork and open the model while this process reads it
        model = open_ifc(path, data)
        out.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(out.parent)
        products = _products(model, include_spaces, info)
        choices = {p.GlobalId: choose_kernel(p, kernel) for p in products}
        for choice in choices.values():
            if choice.reason is not None:
                info.exact_because[choice.reason] = info.exact_because.get(choice.reason,
                                                                           0) + 1
        meshes, failures = _tessellate(pool, choices, info)
    by_id = {p.GlobalId: p for p in products}
    for global_id, failure in failures.items():
        product = by_id[global_id]
        if failure.reason == "no_body" and not is_a(product, "IfcElement"):
            continue  # a site or storey drawn only in plan: nothing is missing
        info.missing.append({"id": global_id, "type": class_of(product),
                             "name": product.Name or "", "reason": failure.reason,
                             "detail": failure.detail})
    ordered = [meshes[p.GlobalId] for p in products if p.GlobalId in meshes]
    for mesh in ordered:
        info.by_kernel[mesh.kernel] = info.by_kernel.get(mesh.kernel, 0) + 1
    info.node_names = [mesh.global_id for mesh in ordered]
    _write_atomically(out, lambda partial: write_glb(partial, ordered))
    info.size = out.stat().st_size
    info.seconds = time.perf_counter() - started
    report = json.dumps(info.report(), indent=1).encode()
    _write_atomically(_report_path(out), lambda partial: partial.write_bytes(report))
    return info


def _tessellate(pool: GeometryPool, choices: dict[str, KernelChoice],
                info: GlbInfo) -> tuple[dict[str, Mesh], dict[str, Failed]]:
    """Every element by its kernel; what a fast kernel fails on, again by OpenCASCADE."""
    meshes: dict[str, Mesh] = {}
    failures: dict[str, Failed] = {}
    retry = []
    for job, outcome in pool.run(Job(gid, c.kernel) for gid, c in choices.items()):
        if isinstance(outcome, Mesh):
            meshes[job.global_id] = outcome
        elif job.kernel != EXACT and outcome.reason != "no_body":
            info.retried.append({"id": job.global_id, "kernel": job.kernel,
                                 "reason": outcome.reason, "detail": outcome.detail})
            retry.append(Job(job.global_id, EXACT))
        else:
            failures[job.global_id] = outcome
    for job, outcome in pool.run(retry):
        if isinstance(outcome, Mesh):
            meshes[job.global_id] = outcome
        else:
            failures[job.global_id] = outcome
    return meshes, failures


def _products(model: ifcopenshell.file, include_spaces: bool,
              info: GlbInfo) -> list[ifcopenshell.entity_instance]:
    """Products to draw, in file order; elements with no shape at all go in the report."""
    excluded = _EXCLUDED if include_spaces else (*_EXCLUDED, "IfcSpace")
    products = []
    for product in model.by_type("IfcProduct"):
        if any(is_a(product, cls) for cls in excluded):
            continue
        if product.Representation is not None:
            products.append(product)
        elif (is_a(product, "IfcElement") and not is_a(product, "IfcFeatureElement")
              and not _has_parts(product)):
            # A roof or a stair made of slabs and flights is drawn by its parts.
            info.missing.append({"id": product.GlobalId, "type": class_of(product),
                                 "name": product.Name or "", "reason": "no_representation",
                                 "detail": "the element has no shape representation"})
    return products


def _has_parts(product: ifcopenshell.entity_instance) -> bool:
    """Whether the element is an assembly of others (IfcRelAggregates)."""
    return any(rel.RelatedObjects for rel in getattr(product, "IsDecomposedBy", None) or ())


def _write_atomically(target: Path, write: Any) -> None:
    # Written beside the target and renamed, so a reader never sees half a file; the pid
    # in the name tells a later export whether the writer is still alive.
    partial = target.with_name(f"{target.name}.{os.getpid()}.part")
    try:
        write(partial)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def remove_stale_partials(folder: Path) -> list[Path]:
    """Remove ``*.part`` / ``*.tmp`` files in ``folder`` whose writer is not running.

    A writer names its partial file ``<name>.<pid>.part``; a file whose process is gone,
    or that carries no pid, was left by a crash and will never be finished.
    """
    removed = []
    for partial in [*folder.glob("*.part"), *folder.glob("*.tmp")]:
        pid_text = partial.name.rsplit(".", 2)[-2] if partial.name.count(".") >= 2 else ""
        if pid_text.isdigit() and _alive(int(pid_text)):
            continue
        partial.unlink(missing_ok=True)
        removed.append(partial)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _report_path(glb: Path) -> Path:
    return glb.with_suffix(".json")


def read_report(glb: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The report written with a GLB (``GlbInfo.report()``), or None if there is none."""
    try:
        report: dict[str, Any] = json.loads(_report_path(Path(glb)).read_bytes())
    except FileNotFoundError:
        return None
    return report


def cached_glb(cache_dir: str | os.PathLike[str], revision: str, kernel: str,
               include_spaces: bool) -> Path:
    """Where ``glb_for`` keeps the GLB of a revision."""
    suffix = "-spaces" if include_spaces else ""
    return Path(cache_dir) / f"{revision}-{kernel}{suffix}.glb"


def glb_for(model_path: str | os.PathLike[str], cache_dir: str | os.PathLike[str], *,
            kernel: str = DEFAULT_KERNEL, include_spaces: bool = False,
            revision: str | None = None, workers: int | None = None,
            timeout: float = DEFAULT_TIMEOUT) -> Path:
    """The GLB of a model file, exported once per revision and kept in ``cache_dir``.

    ``revision`` (from ``read_model``) saves hashing the file again when it is known.
    """
    revision = revision or revision_of(Path(model_path).read_bytes())
    target = cached_glb(cache_dir, revision, kernel, include_spaces)
    if not (target.exists() and _report_path(target).exists()):
        export_glb(model_path, target, kernel=kernel, include_spaces=include_spaces,
                   workers=workers, timeout=timeout)
    return target


def read_glb_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON chunk of a binary glTF file; ValueError if it is not one."""
    with open(path, "rb") as handle:
        header = handle.read(20)
        if len(header) < 20:
            raise ValueError(f"{path} is too short to be a GLB file")
        magic, version, _length, chunk_length, chunk_type = struct.unpack("<4sIII4s", header)
        if magic != b"glTF" or version != 2 or chunk_type != b"JSON":
            raise ValueError(f"{path} is not a glTF 2.0 binary file")
        document: dict[str, Any] = json.loads(handle.read(chunk_length))
    return document


def glb_node_names(path: str | os.PathLike[str]) -> list[str]:
    """Names of the nodes that carry a mesh: the exported elements' GlobalIds."""
    return [node["name"] for node in read_glb_json(path).get("nodes", [])
            if "mesh" in node and "name" in node]
