"""The model's geometry as one GLB file for the browser, named by GlobalId, cached by revision.

IfcOpenShell's geometry iterator tessellates every element with a body and its glTF
serializer writes a binary glTF whose nodes are named by the elements' GlobalIds, so the
viewer can find an element from the twin and the twin's element from a click. Spaces are
left out by default: as solid boxes they would hide the building.

The default kernel is ``manifold``: for the swept solids of a building model it gives the
same elements and the same meshes as OpenCASCADE about five times faster (docs/BIM.md
has the figures and the command). ``opencascade`` remains available for models that need
exact booleans.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ifcopenshell
import ifcopenshell.geom

from .ifc import geometry_settings, gltf_serializer, shape_iterator
from .importer import check_header, open_ifc, revision_of

DEFAULT_KERNEL = "manifold"
# Kernels bundled with IfcOpenShell 0.9 wheels; which ones work is asked at run time.
KERNELS = ("manifold", "opencascade", "cgal-simple", "cgal")
_EXCLUDED = ("IfcOpeningElement", "IfcSpace")


@dataclass(slots=True)
class GlbInfo:
    """One exported GLB: where, how big, which elements, how long it took."""

    path: Path
    kernel: str
    size: int
    node_names: list[str]
    seconds: float


def available_kernels() -> list[str]:
    """The geometry kernels this IfcOpenShell build has."""
    return [k for k in KERNELS if ifcopenshell.geom.has_geometry_library(k)]


def export_glb(path: str | os.PathLike[str], out_path: str | os.PathLike[str], *,
               kernel: str = DEFAULT_KERNEL, include_spaces: bool = False,
               threads: int = 1) -> GlbInfo:
    """Write the geometry of the IFC file at ``path`` to ``out_path`` as binary glTF.

    One thread is the default: on two cores the iterator's threads cost more than they
    save for a model of swept solids (docs/BIM.md).
    """
    if kernel not in available_kernels():
        raise ValueError(f"geometry kernel {kernel!r} is not one of {available_kernels()}")
    started = time.perf_counter()
    data = Path(path).read_bytes()
    check_header(data)
    model = open_ifc(path, data)
    settings = geometry_settings()
    settings.set("use-element-guids", True)  # node names are GlobalIds
    settings.set("apply-default-materials", True)  # a colour per class when the model has none
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed, so a reader never sees half a file.
    handle, partial = tempfile.mkstemp(suffix=".glb.part", dir=out.parent)
    os.close(handle)
    try:
        serializer = gltf_serializer(partial, settings)
        serializer.setFile(model)
        serializer.setUnitNameAndMagnitude("METER", 1.0)
        serializer.writeHeader()
        excluded = [c for c in _EXCLUDED if include_spaces is False or c != "IfcSpace"]
        shapes = shape_iterator(settings, model, kernel=kernel, exclude=excluded,
                                threads=threads)
        if shapes.initialize():
            while True:
                serializer.write(shapes.get())
                if not shapes.next():
                    break
        serializer.finalize()
        del serializer  # the file is flushed and closed when the serializer goes
        os.replace(partial, out)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return GlbInfo(out, kernel, out.stat().st_size, glb_node_names(out),
                   time.perf_counter() - started)


def glb_for(model_path: str | os.PathLike[str], cache_dir: str | os.PathLike[str], *,
            kernel: str = DEFAULT_KERNEL, include_spaces: bool = False,
            revision: str | None = None) -> Path:
    """The GLB of a model file, exported once per revision and kept in ``cache_dir``.

    ``revision`` (from ``read_model``) saves hashing the file again when it is known.
    """
    revision = revision or revision_of(Path(model_path).read_bytes())
    suffix = "-spaces" if include_spaces else ""
    target = Path(cache_dir) / f"{revision}-{kernel}{suffix}.glb"
    if not target.exists():
        export_glb(model_path, target, kernel=kernel, include_spaces=include_spaces)
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
