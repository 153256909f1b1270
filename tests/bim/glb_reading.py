"""Reading a GLB back for the tests: every node's triangles in world space (glTF axes)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from twinsync.bim.glb import read_glb_json

Triangles = np.ndarray  # (n, 3, 3) float64: n triangles, three corners, x y z


def node_triangles(path: Path) -> dict[str, Triangles]:
    """Per node name: its mesh's triangles, placed by the node's matrix."""
    document = read_glb_json(path)
    data = path.read_bytes()
    json_length = struct.unpack_from("<I", data, 12)[0]
    binary = data[20 + json_length + 8:]
    views, accessors = document.get("bufferViews", []), document.get("accessors", [])

    def array(index: int, dtype: type, width: int) -> np.ndarray:
        accessor = accessors[index]
        view = views[accessor["bufferView"]]
        start = view["byteOffset"] + accessor.get("byteOffset", 0)
        count = accessor["count"] * (3 if accessor["type"] == "VEC3" else 1)
        return np.frombuffer(binary, dtype=dtype, count=count, offset=start).reshape(-1, width)

    result = {}
    for node in document.get("nodes", []):
        if "mesh" not in node:
            continue
        matrix = np.array(node["matrix"], dtype=np.float64).reshape(4, 4).T
        triangles = []
        for primitive in document["meshes"][node["mesh"]]["primitives"]:
            positions = array(primitive["attributes"]["POSITION"], np.float32, 3)
            placed = positions.astype(np.float64) @ matrix[:3, :3].T + matrix[:3, 3]
            triangles.append(placed[array(primitive["indices"], np.uint32, 3)])
        result[node["name"]] = np.concatenate(triangles)
    return result


def bounds(triangles: Triangles) -> np.ndarray:
    """(2, 3): the lowest and highest corner."""
    corners = triangles.reshape(-1, 3)
    return np.array([corners.min(axis=0), corners.max(axis=0)])


def volume(triangles: Triangles) -> float:
    """The volume a closed, consistently wound mesh encloses (divergence theorem)."""
    a, b, c = triangles[:, 0], triangles[:, 1], triangles[:, 2]
    return abs(float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum()) / 6.0)
