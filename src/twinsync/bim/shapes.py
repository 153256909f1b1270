"""A generated IFC model with one element of each kind of body the GLB export must get right.

Where ``generate.py`` builds a tidy building of extrusions, real models carry the shapes
authoring tools write: walls clipped under a pitched roof (IfcBooleanClippingResult with an
IfcHalfSpaceSolid or an IfcPolygonalBoundedHalfSpace), CSG differences, walls with openings
(IfcOpeningElement voiding them), furniture placed as IfcMappedItem of a type's faceted
B-rep or face-based surface model (what Revit exports), scaled by a non-uniform mapping,
tessellated face sets, profiles with holes, sloped extrusions, filleted steel sections, and
swept, revolved and disk-swept solids. Each element is made with ``ifcopenshell.api`` and its
``ShapeBuilder`` and named by its case (``ids[case]`` is its GlobalId), so the tests and
``twinsync bench bim`` can compare every kernel's bounding box with OpenCASCADE's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import ifcopenshell
import ifcopenshell.api.aggregate
import ifcopenshell.api.context
import ifcopenshell.api.feature
import ifcopenshell.api.geometry
import ifcopenshell.api.project
import ifcopenshell.api.root
import ifcopenshell.api.spatial
import ifcopenshell.api.type
import ifcopenshell.api.unit
import numpy as np
from ifcopenshell.util.data import Clipping
from ifcopenshell.util.shape_builder import ShapeBuilder

from .generate import GeneratedModel, global_id

# A storey-high wall as tall as the ridge; the roof plane cuts it to this height at x = 0.
RIDGE = 6.2
EAVES = 3.37
_SEED = "twinsync-shapes"
# A box 1 m x 0.6 m x 0.75 m (a table) as eight corners and six quads, for B-reps and surfaces.
_BOX_POINTS = [(0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (1.0, 0.6, 0.0), (0.0, 0.6, 0.0),
               (0.0, 0.0, 0.75), (1.0, 0.0, 0.75), (1.0, 0.6, 0.75), (0.0, 0.6, 0.75)]
_BOX_FACES = [(0, 3, 2, 1), (4, 5, 6, 7), (0, 1, 5, 4), (1, 2, 6, 5), (2, 3, 7, 6), (3, 0, 4, 7)]

Entity = ifcopenshell.entity_instance


def generate_shapes(path: str | Path, *, cases: Sequence[str] | None = None,
                    seed: str = _SEED) -> GeneratedModel:
    """Write an IFC4 model with one element per case of ``CASES`` (or of ``cases``).

    Elements stand 10 m apart along x, so their bounding boxes never touch.
    """
    chosen = list(cases) if cases is not None else list(CASES)
    unknown = set(chosen) - set(CASES)
    if unknown:
        raise ValueError(f"no shape case {sorted(unknown)}; cases are {sorted(CASES)}")
    builder = _ShapeModel(seed)
    for n, case in enumerate(chosen):
        CASES[case](builder, case, n * 10.0)
    builder.contain()
    out = Path(path)
    builder.file.write(str(out))
    return GeneratedModel(path=out, schema=builder.file.schema_identifier, revision=0,
                          ids=builder.ids, by_class=builder.by_class)


class _ShapeModel:
    def __init__(self, seed: str) -> None:
        self.seed = seed
        self.file = ifcopenshell.api.project.create_file(version="IFC4")
        self.shape = ShapeBuilder(self.file)
        self.ids: dict[str, str] = {}
        self.by_class: dict[str, list[str]] = {}
        self.contained: list[Entity] = []
        f = self.file
        project = ifcopenshell.api.root.create_entity(f, ifc_class="IfcProject", name="Shapes")
        project.GlobalId = global_id(seed, "project")
        # Metres: the default of assign_unit is millimetres, and ShapeBuilder writes as given.
        ifcopenshell.api.unit.assign_unit(f, units=[
            ifcopenshell.api.unit.add_si_unit(f, unit_type="LENGTHUNIT"),
            ifcopenshell.api.unit.add_si_unit(f, unit_type="PLANEANGLEUNIT")])
        model = ifcopenshell.api.context.add_context(f, context_type="Model")
        self.body = ifcopenshell.api.context.add_context(
            f, context_type="Model", context_identifier="Body", target_view="MODEL_VIEW",
            parent=model)
        self.storey = ifcopenshell.api.root.create_entity(f, ifc_class="IfcBuildingStorey",
                                                          name="Level 0")
        self.storey.GlobalId = global_id(seed, "storey")
        ifcopenshell.api.aggregate.assign_object(f, products=[self.storey],
                                                 relating_object=project)

    def element(self, case: str, ifc_class: str, x: float) -> Entity:
        element = ifcopenshell.api.root.create_entity(self.file, ifc_class=ifc_class, name=case)
        element.GlobalId = global_id(self.seed, case)
        self.ids[case] = element.GlobalId
        self.by_class.setdefault(ifc_class, []).append(element.GlobalId)
        matrix = np.eye(4)
        matrix[0, 3] = x
        ifcopenshell.api.geometry.edit_object_placement(self.file, product=element,
                                                        matrix=matrix)
        self.contained.append(element)
        return element

    def body_of(self, element: Entity, items: list[Entity], kind: str) -> None:
        representation = self.file.create_entity(
            "IfcShapeRepresentation", ContextOfItems=self.body, RepresentationIdentifier="Body",
            RepresentationType=kind, Items=items)
        ifcopenshell.api.geometry.assign_representation(self.file, product=element,
                                                        representation=representation)

    def wall(self, case: str, x: float, clippings: list[Clipping] | None = None) -> Entity:
        wall = self.element(case, "IfcWall", x)
        representation = ifcopenshell.api.geometry.add_wall_representation(
            self.file, self.body, length=6.0, height=RIDGE, thickness=0.2,
            clippings=list(clippings or []))
        ifcopenshell.api.geometry.assign_representation(self.file, product=wall,
                                                        representation=representation)
        return wall

    def faces(self) -> list[Entity]:
        return [self.shape.face([_BOX_POINTS[i] for i in face]) for face in _BOX_FACES]

    def surface_model(self) -> Entity:
        return self.file.create_entity("IfcFaceBasedSurfaceModel", FbsmFaces=[
            self.file.create_entity("IfcConnectedFaceSet", CfsFaces=self.faces())])

    def brep(self) -> Entity:
        shell = self.file.create_entity("IfcClosedShell", CfsFaces=self.faces())
        return self.file.create_entity("IfcFacetedBrep", Outer=shell)

    def furniture(self, case: str, x: float, item: Entity, kind: str) -> Entity:
        """An occurrence whose body is an IfcMappedItem of its type's representation map."""
        f = self.file
        furniture_type = ifcopenshell.api.root.create_entity(
            f, ifc_class="IfcFurnitureType", name=f"{case} type")
        furniture_type.GlobalId = global_id(self.seed, f"{case}-type")
        representation = f.create_entity(
            "IfcShapeRepresentation", ContextOfItems=self.body, RepresentationIdentifier="Body",
            RepresentationType=kind, Items=[item])
        ifcopenshell.api.geometry.assign_representation(f, product=furniture_type,
                                                        representation=representation)
        furniture = self.element(case, "IfcFurniture", x)
        ifcopenshell.api.type.assign_type(f, related_objects=[furniture],
                                          relating_type=furniture_type)
        return furniture

    def contain(self) -> None:
        ifcopenshell.api.spatial.assign_container(self.file, products=self.contained,
                                                  relating_structure=self.storey)


def _roof_plane() -> Clipping:
    # The roof rises towards x = 0: 3.37 m there, 1.2 m lower at the wall's far end. The
    # normal points at the material the roof removes.
    slope = 0.2
    return Clipping(location=(0.0, 0.0, EAVES), normal=(slope, 0.0, 1.0))


def _clipped_wall(m: _ShapeModel, case: str, x: float) -> None:
    m.wall(case, x, [_roof_plane()])


def _bounded_clipped_wall(m: _ShapeModel, case: str, x: float) -> None:
    wall = m.wall(case, x)
    body = wall.Representation.Representations[0]
    extrusion = body.Items[0]
    clipped = ifcopenshell.api.geometry.clip_solid_bounded(
        m.file, item=extrusion, location=(0.0, 0.0, EAVES), normal=(0.2, 0.0, 1.0),
        boundary_points=[(-1.0, -1.0), (7.0, -1.0), (7.0, 1.0), (-1.0, 1.0)])
    body.Items = [clipped]
    body.RepresentationType = "Clipping"


def _csg_difference(m: _ShapeModel, case: str, x: float) -> None:
    slab = m.element(case, "IfcSlab", x)
    block = m.shape.extrude(m.shape.rectangle(size=(4.0, 3.0)), magnitude=0.3)
    notch = m.file.create_entity(
        "IfcBlock", Position=m.shape.create_axis2_placement_3d((3.0, 2.0, -0.5)),
        XLength=2.0, YLength=2.0, ZLength=1.0)
    result = m.file.create_entity("IfcBooleanResult", Operator="DIFFERENCE",
                                  FirstOperand=block, SecondOperand=notch)
    m.body_of(slab, [result], "CSG")


def _wall_with_opening(m: _ShapeModel, case: str, x: float) -> None:
    wall = m.wall(case, x)
    opening = ifcopenshell.api.root.create_entity(m.file, ifc_class="IfcOpeningElement",
                                                  name=f"{case} opening")
    opening.GlobalId = global_id(m.seed, f"{case}-opening")
    matrix = np.eye(4)
    matrix[:3, 3] = (x + 2.0, -0.5, 1.0)
    ifcopenshell.api.geometry.edit_object_placement(m.file, product=opening, matrix=matrix)
    box = m.shape.extrude(m.shape.rectangle(size=(1.2, 1.0)), magnitude=1.5)
    m.body_of(opening, [box], "SweptSolid")
    ifcopenshell.api.feature.add_feature(m.file, feature=opening, element=wall)


def _faceted_brep(m: _ShapeModel, case: str, x: float) -> None:
    m.body_of(m.element(case, "IfcBuildingElementProxy", x), [m.brep()], "Brep")


def _surface_model(m: _ShapeModel, case: str, x: float) -> None:
    m.body_of(m.element(case, "IfcBuildingElementProxy", x), [m.surface_model()],
              "SurfaceModel")


def _shell_surface_model(m: _ShapeModel, case: str, x: float) -> None:
    shell = m.file.create_entity("IfcOpenShell", CfsFaces=m.faces()[:5])  # a box, lid off
    item = m.file.create_entity("IfcShellBasedSurfaceModel", SbsmBoundary=[shell])
    m.body_of(m.element(case, "IfcBuildingElementProxy", x), [item], "SurfaceModel")


def _mapped_brep(m: _ShapeModel, case: str, x: float) -> None:
    m.furniture(case, x, m.brep(), "Brep")


def _mapped_surface_model(m: _ShapeModel, case: str, x: float) -> None:
    m.furniture(case, x, m.surface_model(), "SurfaceModel")


def _polygonal_face_set(m: _ShapeModel, case: str, x: float) -> None:
    item = m.shape.polygonal_face_set(_BOX_POINTS, _BOX_FACES)
    m.body_of(m.element(case, "IfcBuildingElementProxy", x), [item], "Tessellation")


def _slab_with_hole(m: _ShapeModel, case: str, x: float) -> None:
    outer = m.shape.polyline([(0.0, 0.0), (4.0, 0.0), (4.0, 3.0), (0.0, 3.0)], closed=True)
    hole = m.shape.polyline([(1.0, 1.0), (2.0, 1.0), (2.0, 2.0), (1.0, 2.0)], closed=True)
    profile = m.file.create_entity("IfcArbitraryProfileDefWithVoids", ProfileType="AREA",
                                   OuterCurve=outer, InnerCurves=[hole])
    item = m.shape.extrude(profile, magnitude=0.25)
    m.body_of(m.element(case, "IfcSlab", x), [item], "SweptSolid")


def _sloped_extrusion(m: _ShapeModel, case: str, x: float) -> None:
    # A ramp-like member: a 0.3 m square extruded 3 m along a direction 30 degrees off z.
    item = m.shape.extrude(m.shape.rectangle(size=(0.3, 0.3)), magnitude=3.0,
                           extrusion_vector=(0.5, 0.0, np.sqrt(3.0) / 2.0))
    m.body_of(m.element(case, "IfcMember", x), [item], "SweptSolid")


def _triangulated_face_set(m: _ShapeModel, case: str, x: float) -> None:
    triangles = [tri for a, b, c, d in _BOX_FACES for tri in ((a, b, c), (a, c, d))]
    item = m.shape.triangulated_face_set(_BOX_POINTS, triangles)
    m.body_of(m.element(case, "IfcBuildingElementProxy", x), [item], "Tessellation")


def _scaled_mapped_brep(m: _ShapeModel, case: str, x: float) -> None:
    """A type's B-rep placed twice as long and half as high (IfcMappedItem with a
    non-uniform IfcCartesianTransformationOperator3D), as some exporters write sizes."""
    furniture = m.furniture(case, x, m.brep(), "Brep")
    mapped = furniture.Representation.Representations[0].Items[0]
    mapped.MappingTarget = m.file.create_entity(
        "IfcCartesianTransformationOperator3DnonUniform",
        LocalOrigin=m.file.create_entity("IfcCartesianPoint", (0.0, 0.0, 0.0)),
        Scale=2.0, Scale2=1.0, Scale3=0.5)


def _steel_beam(m: _ShapeModel, case: str, x: float) -> None:
    profile = m.file.create_entity(
        "IfcIShapeProfileDef", ProfileType="AREA", OverallWidth=0.15, OverallDepth=0.3,
        WebThickness=0.0071, FlangeThickness=0.0107, FilletRadius=0.015)
    item = m.shape.extrude(profile, magnitude=5.0)
    m.body_of(m.element(case, "IfcBeam", x), [item], "SweptSolid")


def _swept_disk(m: _ShapeModel, case: str, x: float) -> None:
    path = m.shape.polyline([(0.0, 0.0, 0.0), (3.0, 0.0, 0.0), (3.0, 2.0, 1.0)])
    item = m.shape.create_swept_disk_solid(path, radius=0.05)
    m.body_of(m.element(case, "IfcPipeSegment", x), [item], "AdvancedSweptSolid")


def _revolved(m: _ShapeModel, case: str, x: float) -> None:
    # A dome-like cap: a rectangle 0.5 m to 1.5 m from the z axis, turned half a turn.
    profile = m.file.create_entity(
        "IfcRectangleProfileDef", ProfileType="AREA", XDim=1.0, YDim=0.4,
        Position=m.shape.create_axis2_placement_2d((1.0, 0.2)))
    axis = m.file.create_entity(
        "IfcAxis1Placement", Location=m.file.create_entity("IfcCartesianPoint", (0.0, 0.0, 0.0)),
        Axis=m.file.create_entity("IfcDirection", (0.0, 1.0, 0.0)))
    item = m.file.create_entity(
        "IfcRevolvedAreaSolid", SweptArea=profile, Angle=np.pi,
        Position=m.shape.create_axis2_placement_3d((0.0, 0.0, 0.0), (0.0, -1.0, 0.0),
                                                   (1.0, 0.0, 0.0)),
        Axis=axis)
    m.body_of(m.element(case, "IfcMember", x), [item], "SweptSolid")


def _round_column(m: _ShapeModel, case: str, x: float) -> None:
    item = m.shape.extrude(m.shape.circle(radius=0.25), magnitude=3.0)
    m.body_of(m.element(case, "IfcColumn", x), [item], "SweptSolid")


def _no_body(m: _ShapeModel, case: str, x: float) -> None:
    m.element(case, "IfcBuildingElementProxy", x)


CASES: dict[str, Callable[[_ShapeModel, str, float], None]] = {
    "clipped_wall": _clipped_wall,
    "bounded_clipped_wall": _bounded_clipped_wall,
    "csg_difference": _csg_difference,
    "wall_with_opening": _wall_with_opening,
    "faceted_brep": _faceted_brep,
    "surface_model": _surface_model,
    "shell_surface_model": _shell_surface_model,
    "mapped_brep": _mapped_brep,
    "mapped_surface_model": _mapped_surface_model,
    "polygonal_face_set": _polygonal_face_set,
    "triangulated_face_set": _triangulated_face_set,
    "slab_with_hole": _slab_with_hole,
    "sloped_extrusion": _sloped_extrusion,
    "scaled_mapped_brep": _scaled_mapped_brep,
    "steel_beam": _steel_beam,
    "swept_disk": _swept_disk,
    "revolved": _revolved,
    "round_column": _round_column,
    "no_body": _no_body,
}
"""Each case: a function that adds its element at x to the model."""
