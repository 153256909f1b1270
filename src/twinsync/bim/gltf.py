"""Binary glTF from meshes already computed: the file the browser loads, written in-process.

The layout is the one IfcOpenShell's glTF serializer writes, so the viewer sees no
difference: one node per element named by its GlobalId, whose matrix is the element's
placement turned from IFC's z-up to glTF's y-up; one mesh per distinct representation,
shared by the occurrences of a mapped item; one primitive per material; double-sided
materials named by IFC style (or class, for the default colours). Writing needs no
geometry kernel, so the process that serves the twin can do it safely.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .tessellate import Mesh

_ARRAY_BUFFER = 34962
_ELEMENT_ARRAY_BUFFER = 34963
_FLOAT = 5126
_UNSIGNED_INT = 5125
_TRIANGLES = 4
_DEFAULT_MATERIAL = ("DefaultMaterial", (0.7, 0.7, 0.7, 1.0))
# IFC (x, y, z) is glTF (x, z, -y).
_Z_UP_TO_Y_UP = np.array([[1.0, 0, 0, 0], [0, 0, 1.0, 0], [0, -1.0, 0, 0], [0, 0, 0, 1.0]])


class _Document:
    def __init__(self, generator: str) -> None:
        self.json: dict[str, Any] = {
            "asset": {"version": "2.0", "generator": generator},
            "scene": 0, "scenes": [{"nodes": []}], "nodes": [], "meshes": [],
            "materials": [], "accessors": [], "bufferViews": [], "buffers": []}
        self.chunks: list[bytes] = []
        self.length = 0
        self.materials: dict[tuple[str, tuple[float, float, float, float]], int] = {}
        self.meshes: dict[tuple[str, str], int] = {}

    def view(self, data: bytes, target: int) -> int:
        self.json["bufferViews"].append({"buffer": 0, "byteOffset": self.length,
                                         "byteLength": len(data), "target": target})
        padding = b"\0" * (-len(data) % 4)  # every view starts 4-byte aligned
        self.chunks += [data, padding]
        self.length += len(data) + len(padding)
        return len(self.json["bufferViews"]) - 1

    def accessor(self, **fields: Any) -> int:
        self.json["accessors"].append(fields)
        return len(self.json["accessors"]) - 1

    def material(self, name: str, rgba: tuple[float, float, float, float]) -> int:
        key = (name, rgba)
        if key not in self.materials:
            entry: dict[str, Any] = {"name": name, "doubleSided": True, "pbrMetallicRoughness": {
                "baseColorFactor": list(rgba), "metallicFactor": 0}}
            if rgba[3] < 1.0:
                entry["alphaMode"] = "BLEND"
            self.json["materials"].append(entry)
            self.materials[key] = len(self.json["materials"]) - 1
        return self.materials[key]

    def mesh(self, mesh: Mesh) -> int:
        key = (mesh.kernel, mesh.geometry_id)
        if key in self.meshes:
            return self.meshes[key]
        positions = np.frombuffer(mesh.positions, dtype=np.float32).reshape(-1, 3)
        indices = np.frombuffer(mesh.indices, dtype=np.uint32).reshape(-1, 3)
        material_ids = np.frombuffer(mesh.material_ids, dtype=np.int32)
        position = self.accessor(
            bufferView=self.view(positions.tobytes(), _ARRAY_BUFFER), componentType=_FLOAT,
            count=len(positions), type="VEC3", min=positions.min(axis=0).tolist(),
            max=positions.max(axis=0).tolist())
        primitives = []
        if len(material_ids) != len(indices):  # no styles at all: one default primitive
            material_ids = np.full(len(indices), -1, dtype=np.int32)
        for material_id in np.unique(material_ids):
            triangles = indices[material_ids == material_id].reshape(-1)
            name, rgba = (mesh.materials[material_id] if 0 <= material_id < len(mesh.materials)
                          else _DEFAULT_MATERIAL)
            index = self.accessor(
                bufferView=self.view(triangles.tobytes(), _ELEMENT_ARRAY_BUFFER),
                componentType=_UNSIGNED_INT, count=len(triangles), type="SCALAR",
                min=[int(triangles.min())], max=[int(triangles.max())])
            primitives.append({"attributes": {"POSITION": position}, "indices": index,
                               "material": self.material(name, rgba), "mode": _TRIANGLES})
        self.json["meshes"].append({"name": mesh.geometry_id, "primitives": primitives})
        self.meshes[key] = len(self.json["meshes"]) - 1
        return self.meshes[key]

    def node(self, mesh: Mesh) -> None:
        placement = np.array(mesh.matrix, dtype=np.float64).reshape(4, 4).T  # column-major in
        matrix = (_Z_UP_TO_Y_UP @ placement).T.reshape(-1)
        self.json["nodes"].append({"name": mesh.global_id, "mesh": self.mesh(mesh),
                                   "matrix": [float(v) for v in matrix]})
        self.json["scenes"][0]["nodes"].append(len(self.json["nodes"]) - 1)

    def write(self, path: Path) -> None:
        binary = b"".join(self.chunks)
        if binary:
            self.json["buffers"].append({"byteLength": len(binary)})
        else:  # a model without geometry: glTF allows no empty buffer
            del self.json["buffers"], self.json["bufferViews"], self.json["accessors"]
        text = json.dumps(self.json, separators=(",", ":")).encode()
        text += b" " * (-len(text) % 4)
        total = 12 + 8 + len(text) + (8 + len(binary) if binary else 0)
        with open(path, "wb") as handle:
            handle.write(struct.pack("<4sII", b"glTF", 2, total))
            handle.write(struct.pack("<I4s", len(text), b"JSON") + text)
            if binary:
                handle.write(struct.pack("<I4s", len(binary), b"BIN\0") + binary)


def write_glb(path: str | Path, meshes: Iterable[Mesh], *, generator: str = "twinsync") -> None:
    """Write ``meshes`` (one node each, in the order given) to ``path`` as binary glTF."""
    document = _Document(generator)
    for mesh in meshes:
        document.node(mesh)
    document.write(Path(path))
