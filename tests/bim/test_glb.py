"""GLB export: a valid binary glTF whose nodes are the elements' GlobalIds, built once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from twinsync.bim import (
    DEFAULT_KERNEL,
    GeneratedModel,
    available_kernels,
    export_glb,
    glb_for,
    glb_node_names,
)
from twinsync.errors import ModelImportError


@pytest.fixture(scope="module")
def glb(models: dict[str, GeneratedModel], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_glb(models["IFC4"].path, tmp_path_factory.mktemp("glb") / "model.glb").path


def test_the_export_is_a_binary_gltf_file(glb: Path) -> None:
    data = glb.read_bytes()
    assert data[:4] == b"glTF"
    assert int.from_bytes(data[8:12], "little") == len(data)


def test_nodes_are_named_by_the_global_ids_of_walls_slabs_and_columns(
    glb: Path, models: dict[str, GeneratedModel],
) -> None:
    names = set(glb_node_names(glb))
    by_class = models["IFC4"].by_class
    for cls in ("IfcWall", "IfcSlab", "IfcColumn", "IfcSensor"):
        assert set(by_class[cls]) <= names
    assert not set(by_class["IfcSpace"]) & names  # rooms would hide the building


@pytest.mark.parametrize("schema", ["IFC2X3", "IFC4X3"])
def test_other_schemas_export_too(models: dict[str, GeneratedModel], schema: str,
                                  tmp_path: Path) -> None:
    info = export_glb(models[schema].path, tmp_path / "model.glb")
    assert set(models[schema].by_class["IfcWall"]) <= set(info.node_names)


def test_spaces_are_exported_when_asked(models: dict[str, GeneratedModel],
                                        tmp_path: Path) -> None:
    info = export_glb(models["IFC4"].path, tmp_path / "rooms.glb", include_spaces=True)
    assert set(models["IFC4"].by_class["IfcSpace"]) <= set(info.node_names)


def test_the_fast_kernel_exports_the_same_elements_as_opencascade(
    glb: Path, models: dict[str, GeneratedModel], tmp_path: Path,
) -> None:
    assert DEFAULT_KERNEL in available_kernels()
    exact = export_glb(models["IFC4"].path, tmp_path / "occ.glb", kernel="opencascade")
    assert sorted(exact.node_names) == sorted(glb_node_names(glb))


def test_the_glb_is_built_once_per_revision(models: dict[str, GeneratedModel],
                                            tmp_path: Path) -> None:
    first = glb_for(models["IFC4"].path, tmp_path)
    built_at = first.stat().st_mtime_ns
    second = glb_for(models["IFC4"].path, tmp_path)
    assert second == first
    assert second.stat().st_mtime_ns == built_at
    other = glb_for(models["IFC2X3"].path, tmp_path)
    assert other != first
    names = [first.name, other.name]
    reports = [name.replace(".glb", ".json") for name in names]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names + reports)


def test_partial_files_left_by_a_dead_export_are_removed_when_the_next_starts(
        models: dict[str, GeneratedModel], tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    left = [tmp_path / f"old.glb.{dead}.part", tmp_path / "tmpa1b2.glb.part",
            tmp_path / "model.glb.tmp"]
    live = tmp_path / f"other.glb.{os.getpid()}.part"  # an export still running
    for path in [*left, live]:
        path.write_bytes(b"half a file")
    info = export_glb(models["IFC4"].path, tmp_path / "model.glb")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [info.path.name, "model.json", live.name])


def test_an_unknown_kernel_is_refused(models: dict[str, GeneratedModel], tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        export_glb(models["IFC4"].path, tmp_path / "x.glb", kernel="no-such-kernel")


def test_a_broken_model_is_refused_before_anything_is_written(
    model_bytes: bytes, tmp_path: Path,
) -> None:
    broken = tmp_path / "broken.ifc"
    broken.write_bytes(model_bytes[: len(model_bytes) // 2])
    with pytest.raises(ModelImportError):
        export_glb(broken, tmp_path / "out" / "x.glb")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_model_in_millimetres_is_exported_in_metres(tmp_path: Path) -> None:
    from twinsync.bim import generate_building

    from .glb_reading import bounds, node_triangles

    small = {"storeys": 1, "bays_x": 2, "bays_y": 1}
    metres = generate_building(tmp_path / "m.ifc", **small)
    millimetres = generate_building(tmp_path / "mm.ifc", length_unit="mm", **small)
    placed = [node_triangles(export_glb(model.path, tmp_path / f"{model.path.stem}.glb").path)
              for model in (metres, millimetres)]
    assert placed[0].keys() == placed[1].keys()
    for global_id, triangles in placed[0].items():
        assert abs(bounds(triangles) - bounds(placed[1][global_id])).max() < 1e-6
