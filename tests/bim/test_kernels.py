"""Choosing the kernel per element: the fast one only for bodies it is known to get right."""

from __future__ import annotations

import ifcopenshell
import ifcopenshell.geom
import numpy as np
import pytest

from twinsync.bim import GeneratedModel, choose_kernel, generate_shapes
from twinsync.bim.ifc import geometry_settings
from twinsync.bim.kernels import KernelChoice, body_items
from twinsync.bim.shapes import EAVES


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> GeneratedModel:
    return generate_shapes(tmp_path_factory.mktemp("kernels") / "shapes.ifc")


@pytest.fixture(scope="module")
def model(shapes: GeneratedModel) -> ifcopenshell.file:
    return ifcopenshell.open(str(shapes.path))


def choice(model: ifcopenshell.file, shapes: GeneratedModel, case: str,
           preferred: str = "manifold") -> KernelChoice:
    return choose_kernel(model.by_guid(shapes.ids[case]), preferred)


@pytest.mark.parametrize("case", ["faceted_brep", "mapped_brep", "scaled_mapped_brep",
                                  "polygonal_face_set", "triangulated_face_set",
                                  "wall_with_opening", "slab_with_hole", "sloped_extrusion",
                                  "no_body"])
def test_extrusions_breps_and_face_sets_go_to_the_fast_kernel(
        model: ifcopenshell.file, shapes: GeneratedModel, case: str) -> None:
    assert choice(model, shapes, case) == KernelChoice("manifold")


@pytest.mark.parametrize(("case", "reason"), [
    ("clipped_wall", "IfcBooleanClippingResult"),
    ("bounded_clipped_wall", "IfcBooleanClippingResult"),
    ("csg_difference", "IfcBooleanResult"),
    ("surface_model", "IfcFaceBasedSurfaceModel"),
    ("mapped_surface_model", "IfcFaceBasedSurfaceModel"),
    ("shell_surface_model", "IfcShellBasedSurfaceModel"),
    ("swept_disk", "IfcSweptDiskSolid"),
    ("revolved", "IfcRevolvedAreaSolid"),
    ("round_column", "IfcCircle"),
    ("steel_beam", "IfcIShapeProfileDef"),
])
def test_booleans_surface_models_and_curved_sweeps_go_to_opencascade_with_the_reason(
        model: ifcopenshell.file, shapes: GeneratedModel, case: str, reason: str) -> None:
    assert choice(model, shapes, case) == KernelChoice("opencascade", reason)


def test_with_opencascade_configured_every_element_goes_to_it_without_a_reason(
        model: ifcopenshell.file, shapes: GeneratedModel) -> None:
    for case in shapes.ids:
        assert choice(model, shapes, case, "opencascade") == KernelChoice("opencascade")


def test_mapped_items_are_looked_through_to_the_type_representation(
        model: ifcopenshell.file, shapes: GeneratedModel) -> None:
    items = body_items(model.by_guid(shapes.ids["mapped_surface_model"]))
    assert [item.is_a() for item in items] == ["IfcFaceBasedSurfaceModel"]


def test_an_opening_with_a_curved_body_sends_its_wall_to_opencascade() -> None:
    from ifcopenshell.util.shape_builder import ShapeBuilder

    f = ifcopenshell.file(schema="IFC4")
    builder = ShapeBuilder(f)
    wall = f.create_entity("IfcWall", GlobalId=ifcopenshell.guid.new())
    opening = f.create_entity("IfcOpeningElement", GlobalId=ifcopenshell.guid.new())
    for product, item in ((wall, builder.extrude(builder.rectangle(size=(6.0, 0.2)), 3.0)),
                          (opening, builder.extrude(builder.circle(radius=0.1), 1.0))):
        body = f.create_entity("IfcShapeRepresentation", RepresentationIdentifier="Body",
                               Items=[item])
        product.Representation = f.create_entity("IfcProductDefinitionShape",
                                                 Representations=[body])
    assert choose_kernel(wall, "manifold") == KernelChoice("manifold")
    f.create_entity("IfcRelVoidsElement", GlobalId=ifcopenshell.guid.new(),
                    RelatingBuildingElement=wall, RelatedOpeningElement=opening)
    assert choose_kernel(wall, "manifold") == KernelChoice("opencascade", "IfcCircle")


def test_a_profile_with_an_arc_segment_is_not_straight() -> None:
    f = ifcopenshell.file(schema="IFC4")
    points = f.create_entity("IfcCartesianPointList2D",
                             CoordList=[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.2)])
    curve = f.create_entity("IfcIndexedPolyCurve", Points=points, Segments=[
        f.create_entity("IfcLineIndex", (1, 2, 3)), f.create_entity("IfcArcIndex", (3, 4, 1))])
    profile = f.create_entity("IfcArbitraryClosedProfileDef", ProfileType="AREA",
                              OuterCurve=curve)
    solid = f.create_entity("IfcExtrudedAreaSolid", SweptArea=profile, Depth=1.0,
                            ExtrudedDirection=f.create_entity("IfcDirection", (0.0, 0.0, 1.0)))
    body = f.create_entity("IfcShapeRepresentation", RepresentationIdentifier="Body",
                           Items=[solid])
    slab = f.create_entity("IfcSlab", GlobalId=ifcopenshell.guid.new(),
                           Representation=f.create_entity("IfcProductDefinitionShape",
                                                          Representations=[body]))
    assert choose_kernel(slab, "manifold") == KernelChoice("opencascade", "IfcArcIndex")
    curve.Segments = [f.create_entity("IfcLineIndex", (1, 2, 3, 4, 1))]
    assert choose_kernel(slab, "manifold") == KernelChoice("manifold")


def test_a_body_that_cannot_be_read_through_goes_to_opencascade() -> None:
    f = ifcopenshell.file(schema="IFC4")
    mapped = f.create_entity("IfcMappedItem")  # no source: a damaged file
    body = f.create_entity("IfcShapeRepresentation", RepresentationIdentifier="Body",
                           Items=[mapped])
    chair = f.create_entity("IfcFurniture", GlobalId=ifcopenshell.guid.new(),
                            Representation=f.create_entity("IfcProductDefinitionShape",
                                                           Representations=[body]))
    assert choose_kernel(chair, "manifold") == KernelChoice("opencascade", "unreadable body")


def test_manifold_alone_still_gets_a_clipped_wall_wrong(model: ifcopenshell.file,
                                                        shapes: GeneratedModel) -> None:
    """Why clipped walls go to OpenCASCADE. If a new IfcOpenShell fixes this, the allow-list
    in kernels.py may take IfcBooleanClippingResult in."""
    settings = geometry_settings()
    settings.set("use-world-coords", True)
    wall = model.by_guid(shapes.ids["clipped_wall"])
    tops = {}
    for kernel in ("manifold", "opencascade"):
        shape = ifcopenshell.geom.create_shape(settings, wall, geometry_library=kernel)
        tops[kernel] = np.frombuffer(shape.geometry.verts_buffer).reshape(-1, 3)[:, 2].max()
    assert tops["opencascade"] == pytest.approx(EAVES)
    assert tops["manifold"] > EAVES + 1.0
