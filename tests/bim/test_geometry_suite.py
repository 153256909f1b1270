"""The GLB of real-model shapes: every element where OpenCASCADE puts it, within 1 cm.

The model (``generate_shapes``) has one element per kind of body real models carry:
clipped walls under a pitched roof, CSG, openings, B-reps, surface models, mapped items,
face sets and swept solids. Each element's box in the exported GLB is compared with the
box OpenCASCADE gives the same element in world coordinates, computed here in-process.
"""

from __future__ import annotations

from pathlib import Path

import ifcopenshell
import ifcopenshell.geom
import numpy as np
import pytest

from twinsync.bim import GeneratedModel, GlbInfo, export_glb, generate_shapes
from twinsync.bim.ifc import geometry_settings
from twinsync.bim.shapes import EAVES

from .glb_reading import bounds, node_triangles, volume

TOLERANCE = 0.01  # metres


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> GeneratedModel:
    return generate_shapes(tmp_path_factory.mktemp("shapes") / "shapes.ifc")


@pytest.fixture(scope="module")
def exported(shapes: GeneratedModel, tmp_path_factory: pytest.TempPathFactory) -> GlbInfo:
    return export_glb(shapes.path, tmp_path_factory.mktemp("glb") / "shapes.glb")


@pytest.fixture(scope="module")
def exact_bounds(shapes: GeneratedModel) -> dict[str, np.ndarray]:
    """OpenCASCADE's world box of every element with a body, in glTF axes (y up)."""
    model = ifcopenshell.open(str(shapes.path))
    settings = geometry_settings()
    settings.set("use-world-coords", True)
    result = {}
    for case, global_id in shapes.ids.items():
        if case == "no_body":
            continue
        shape = ifcopenshell.geom.create_shape(settings, model.by_guid(global_id))
        corners = np.frombuffer(shape.geometry.verts_buffer, dtype=np.float64).reshape(-1, 3)
        y_up = corners[:, [0, 2, 1]] * (1.0, 1.0, -1.0)
        result[case] = np.array([y_up.min(axis=0), y_up.max(axis=0)])
    return result


def test_every_element_with_a_body_is_in_the_glb_where_opencascade_puts_it(
        shapes: GeneratedModel, exported: GlbInfo,
        exact_bounds: dict[str, np.ndarray]) -> None:
    triangles = node_triangles(exported.path)
    for case, expected in exact_bounds.items():
        got = bounds(triangles[shapes.ids[case]])
        assert np.abs(got - expected).max() < TOLERANCE, (case, got.tolist(),
                                                          expected.tolist())


def test_a_wall_clipped_under_the_roof_is_as_tall_as_the_eaves_not_the_ridge(
        shapes: GeneratedModel, exported: GlbInfo) -> None:
    triangles = node_triangles(exported.path)
    for case in ("clipped_wall", "bounded_clipped_wall"):
        top = bounds(triangles[shapes.ids[case]])[1][1]  # glTF y is IFC z
        assert top == pytest.approx(EAVES, abs=TOLERANCE), case


@pytest.mark.parametrize(("case", "expected"), [
    ("wall_with_opening", 6.0 * 0.2 * 6.2 - 1.2 * 0.2 * 1.5),  # the opening cut out
    ("slab_with_hole", (4.0 * 3.0 - 1.0) * 0.25),  # the profile's inner curve
    ("scaled_mapped_brep", 2.0 * 0.6 * 0.375),  # the mapping's non-uniform scale
    ("sloped_extrusion", 0.3 * 0.3 * 3.0 * np.sqrt(3.0) / 2.0),  # height along z
    ("clipped_wall", 6.0 * 0.2 * (EAVES - 0.2 * 3.0)),  # mean height under the roof
])
def test_solids_enclose_the_volume_their_ifc_says(shapes: GeneratedModel, exported: GlbInfo,
                                                  case: str, expected: float) -> None:
    assert volume(node_triangles(exported.path)[shapes.ids[case]]) == pytest.approx(
        expected, rel=0.01)


def test_the_fast_kernel_draws_only_what_it_is_known_to_get_right(
        shapes: GeneratedModel, exported: GlbInfo) -> None:
    # B-reps (one mapped, one mapped and scaled), two face sets, three straight extrusions
    # (one with an opening, one with a hole in its profile, one sloped)
    assert exported.by_kernel["manifold"] == 8
    assert exported.exact_because["IfcBooleanClippingResult"] == 2
    assert exported.exact_because["IfcFaceBasedSurfaceModel"] == 2  # direct and mapped
    assert sum(exported.by_kernel.values()) == len(exported.node_names) == len(shapes.ids) - 1


def test_an_element_without_a_body_is_reported_not_dropped(shapes: GeneratedModel,
                                                           exported: GlbInfo) -> None:
    assert exported.missing == [{"id": shapes.ids["no_body"], "type": "IfcBuildingElementProxy",
                                 "name": "no_body", "reason": "no_representation",
                                 "detail": "the element has no shape representation"}]
    assert exported.report()["missing"] == exported.missing


def test_the_report_is_written_beside_the_glb(exported: GlbInfo) -> None:
    from twinsync.bim import read_report

    report = read_report(exported.path)
    assert report is not None
    assert report["by_kernel"] == exported.by_kernel and report["missing"] == exported.missing
    assert not list(Path(exported.path).parent.glob("*.part"))
