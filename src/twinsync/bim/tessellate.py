"""Tessellating one element, in a geometry worker process: what runs where a kernel may crash.

A worker opens the model once (``open_model``) and then turns one element at a time into a
``Mesh``: plain bytes and numbers that pickle across the pipe, so the parent process,
which never runs a geometry kernel, can write the GLB. A kernel that refuses an element
raises ``TessellationError``; one that crashes takes only the worker with it.

``TWINSYNC_GEOMETRY_FAULT`` (read in the parent and handed to each worker) makes the
worker fail on one element as a kernel bug does: ``segv:GlobalId`` kills it with SIGSEGV,
``hang:GlobalId`` never returns; ``@kernel`` after the GlobalId limits it to one kernel.
The tests use it to prove that a crash or a hang costs that element only.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import ifcopenshell
import ifcopenshell.geom
import numpy as np

from .ifc import geometry_settings, shape_kernel

FAULT_HOOK = "TWINSYNC_GEOMETRY_FAULT"


class TessellationError(Exception):
    """The kernel could not tessellate the element (it said so, without crashing)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(slots=True)
class Mesh:
    """One element's triangles in its own frame, and where that frame sits."""

    global_id: str
    kernel: str
    geometry_id: str  # the same for occurrences sharing a representation (mapped items)
    matrix: tuple[float, ...]  # 4x4, column-major, IFC axes (z up), metres
    positions: bytes  # float32 x, y, z per vertex
    indices: bytes  # uint32, three per triangle
    material_ids: bytes  # int32 per triangle, into ``materials``; -1 for none
    materials: list[tuple[str, tuple[float, float, float, float]]] = field(default_factory=list)


@dataclass(slots=True)
class _Worker:
    model: ifcopenshell.file
    settings: ifcopenshell.geom.settings
    fault: str | None
    kernels: dict[str, object] = field(default_factory=dict)


_worker: _Worker | None = None


def open_model(path: str, fault: str | None = None) -> None:
    """Open the model this worker process tessellates (once, before the first element)."""
    global _worker
    settings = geometry_settings()
    # A colour per class when the model has none, as IfcOpenShell's serializers give.
    settings.set("apply-default-materials", True)
    _worker = _Worker(ifcopenshell.open(str(Path(path))), settings, fault)


def tessellate(global_id: str, kernel: str) -> Mesh:
    """The mesh of the element ``global_id`` by ``kernel``; TessellationError if none."""
    if _worker is None:
        raise RuntimeError("open_model() first")
    if _worker.fault is not None:
        _inject_fault(_worker.fault, global_id, kernel)
    element = _worker.model.by_guid(global_id)
    if kernel not in _worker.kernels:  # one per kernel: it keeps its caches between elements
        _worker.kernels[kernel] = shape_kernel(_worker.settings, _worker.model, kernel)
    try:
        shape = _worker.kernels[kernel].create_shape(element)  # type: ignore[attr-defined]
    except RuntimeError as exc:
        message = str(exc)
        reason = "no_body" if "No suitable IfcRepresentation" in message else "kernel_error"
        raise TessellationError(reason, message) from exc
    geometry = shape.geometry
    positions = np.frombuffer(geometry.verts_buffer, dtype=np.float64).astype(np.float32)
    indices = np.frombuffer(geometry.faces_buffer, dtype=np.int32).astype(np.uint32)
    if len(indices) == 0:
        raise TessellationError("empty", f"{kernel} made no triangles")
    materials = [(str(style.name), _rgba(style)) for style in geometry.materials]
    return Mesh(global_id=global_id, kernel=kernel, geometry_id=str(geometry.id),
                matrix=tuple(float(v) for v in shape.transformation.matrix),
                positions=positions.tobytes(), indices=indices.tobytes(),
                material_ids=np.frombuffer(geometry.material_ids_buffer,
                                           dtype=np.int32).tobytes(),
                materials=materials)


def _inject_fault(fault: str, global_id: str, kernel: str) -> None:
    action, _, target = fault.partition(":")
    if target not in (global_id, f"{global_id}@{kernel}"):
        return
    if action == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif action == "hang":
        while True:
            time.sleep(60)


def _rgba(style: object) -> tuple[float, float, float, float]:
    red, green, blue = style.diffuse.components  # type: ignore[attr-defined]
    transparency = float(style.transparency)  # type: ignore[attr-defined]
    alpha = 1.0 if transparency != transparency else 1.0 - transparency  # NaN: opaque
    return (float(red), float(green), float(blue), alpha)
