"""The authoring calls the generated building is made of: entities, placements, shapes, sets.

``ModelAuthor`` writes one IFC file with ``ifcopenshell.api`` the way an authoring tool
does: every rooted entity gets a GlobalId from a stable key and a seed, placements are
given in metres whatever the project's length unit, and doors and windows sit in openings
that void their wall (``IfcOpeningElement``, ``IfcRelVoidsElement``, ``IfcRelFillsElement``)
so the wall's shape shows the hole. What the building holds is ``generate.py``'s business.
"""

from __future__ import annotations

import uuid
from typing import Any

import ifcopenshell
import ifcopenshell.api.context
import ifcopenshell.api.feature
import ifcopenshell.api.geometry
import ifcopenshell.api.project
import ifcopenshell.api.pset
import ifcopenshell.api.root
import ifcopenshell.guid
import ifcopenshell.util.shape_builder
import numpy as np

# Entities that are written but are not elements the importer reads.
_NOT_COUNTED = ("IfcProject", "IfcSensorType", "IfcOpeningElement")
_QTO_NAMES = {"length": "Length", "width": "Width", "depth": "Depth", "height": "Height",
              "area": "GrossArea", "volume": "GrossVolume", "perimeter": "Perimeter"}
# Quantity sets whose area or volume has another name than GrossArea / GrossVolume.
_QTO_RENAMES = {
    "Qto_SpaceBaseQuantities": {"area": "NetFloorArea", "volume": "NetVolume"},
    "Qto_ColumnBaseQuantities": {"area": "CrossSectionArea"},
    "Qto_WallBaseQuantities": {"area": "GrossSideArea"},
    "Qto_DoorBaseQuantities": {"area": "Area"},
    "Qto_WindowBaseQuantities": {"area": "Area"},
    "Qto_StairFlightBaseQuantities": {"volume": "GrossVolume"},
}


def global_id(seed: str, key: str) -> str:
    """The GlobalId of ``key``: the same for the same seed in every revision and schema.

    >>> global_id("demo", "wall-L00-1") == global_id("demo", "wall-L00-1")
    True
    >>> len(global_id("demo", "slab-L00"))
    22
    """
    return str(ifcopenshell.guid.compress(uuid.uuid5(uuid.NAMESPACE_URL, f"{seed}/{key}").hex))


def frame(x: float, y: float, direction: tuple[float, float],
          along: float, across: float) -> tuple[float, float]:
    """The plan point ``along`` a wall's axis and ``across`` it (to its left) from (x, y)."""
    return (x + direction[0] * along - direction[1] * across,
            y + direction[1] * along + direction[0] * across)


class ModelAuthor:
    """One IFC file being written, with the helpers every element of it needs."""

    def __init__(self, schema: str, seed: str, revision: int, length_unit: str) -> None:
        self.seed = seed
        self.revision = revision
        self.file = ifcopenshell.api.project.create_file(version=schema)  # type: ignore[arg-type]
        self.is_2x3 = self.file.schema == "IFC2X3"
        self.length_unit = length_unit
        self.ids: dict[str, str] = {}
        self.opening_ids: dict[str, str] = {}
        self._fillings: list[ifcopenshell.entity_instance] = []
        self.by_class: dict[str, list[str]] = {}
        self._body: ifcopenshell.entity_instance | None = None
        #: Each wall's start, direction and length in plan (m), as built.
        self.wall_plans: dict[ifcopenshell.entity_instance,
                              tuple[float, float, tuple[int, int], float]] = {}

    def add_body_context(self) -> None:
        """The 3D body context every shape is drawn in; the project must exist first."""
        model = ifcopenshell.api.context.add_context(self.file, context_type="Model")
        self._body = ifcopenshell.api.context.add_context(
            self.file, context_type="Model", context_identifier="Body",
            target_view="MODEL_VIEW", parent=model)

    @property
    def body(self) -> ifcopenshell.entity_instance:
        if self._body is None:
            raise RuntimeError("add_body_context() comes before any shape")
        return self._body

    def guid(self, key: str) -> str:
        return global_id(self.seed, key)

    def entity(self, ifc_class: str, key: str, name: str,
               predefined: str | None = None) -> ifcopenshell.entity_instance:
        element = ifcopenshell.api.root.create_entity(
            self.file, ifc_class=ifc_class, name=name, predefined_type=predefined)
        element.GlobalId = self.guid(key)
        # Openings are keyed like elements but are not elements: the importer skips them.
        (self.opening_ids if ifc_class == "IfcOpeningElement" else self.ids)[key] = \
            element.GlobalId
        if ifc_class not in _NOT_COUNTED:
            self.by_class.setdefault(ifc_class, []).append(element.GlobalId)
        return element

    def si(self, metres: float) -> float:
        return metres * 1000.0 if self.length_unit == "mm" else metres

    def place(self, product: ifcopenshell.entity_instance, x: float, y: float, z: float,
              direction: tuple[float, float] = (1, 0)) -> None:
        matrix = np.eye(4)
        matrix[:3, 0] = (direction[0], direction[1], 0.0)
        matrix[:3, 1] = (-direction[1], direction[0], 0.0)
        matrix[:3, 3] = (x, y, z)
        ifcopenshell.api.geometry.edit_object_placement(self.file, product=product, matrix=matrix)

    def shape(self, product: ifcopenshell.entity_instance,
              representation: ifcopenshell.entity_instance) -> None:
        ifcopenshell.api.geometry.assign_representation(
            self.file, product=product, representation=representation)

    def box_shape(self, product: ifcopenshell.entity_instance, x_dim: float, y_dim: float,
                  height: float) -> None:
        profile = self.file.create_entity(
            "IfcRectangleProfileDef", ProfileType="AREA",
            Position=self.file.create_entity(
                "IfcAxis2Placement2D", self.file.create_entity("IfcCartesianPoint", (0.0, 0.0))),
            XDim=self.si(x_dim), YDim=self.si(y_dim))
        self.shape(product, ifcopenshell.api.geometry.add_profile_representation(
            self.file, self.body, profile=profile, depth=height, cardinal_point=None))

    def slab_shape(self, product: ifcopenshell.entity_instance, depth: float,
                   corners: list[tuple[float, float]]) -> None:
        """A horizontal plate: ``corners`` (metres, in the product's frame) extruded up."""
        self.shape(product, ifcopenshell.api.geometry.add_slab_representation(
            self.file, self.body, depth=depth, polyline=[*corners, corners[0]]))

    def wall_shape(self, product: ifcopenshell.entity_instance, length: float, height: float,
                   thickness: float) -> None:
        """A straight wall on its axis: ``length`` along x, centred across it."""
        self.shape(product, ifcopenshell.api.geometry.add_wall_representation(
            self.file, self.body, length=length, height=height, thickness=thickness,
            offset=-thickness / 2))

    def profile_shape(self, product: ifcopenshell.entity_instance,
                      outline: list[tuple[float, float]], width: float) -> None:
        """An outline drawn in the product's xz plane (metres), extruded ``width`` along +y.

        A stair flight is its stepped side view swept across the flight.
        """
        f = self.file
        points = [f.create_entity("IfcCartesianPoint", (self.si(u), self.si(v)))
                  for u, v in [*outline, outline[0]]]
        profile = f.create_entity("IfcArbitraryClosedProfileDef", ProfileType="AREA",
                                  OuterCurve=f.create_entity("IfcPolyline", points))
        # The profile's own z axis points to -y, so its y axis is the world's z; starting
        # ``width`` along +y, the sweep covers 0..width.
        position = f.create_entity(
            "IfcAxis2Placement3D", f.create_entity("IfcCartesianPoint", (0.0, self.si(width), 0.0)),
            f.create_entity("IfcDirection", (0.0, -1.0, 0.0)),
            f.create_entity("IfcDirection", (1.0, 0.0, 0.0)))
        solid = f.create_entity("IfcExtrudedAreaSolid", SweptArea=profile, Position=position,
                                ExtrudedDirection=f.create_entity("IfcDirection", (0.0, 0.0, 1.0)),
                                Depth=self.si(width))
        builder = ifcopenshell.util.shape_builder.ShapeBuilder(f)
        self.shape(product, builder.get_representation(self.body, [solid], "SweptSolid"))

    def pset(self, product: ifcopenshell.entity_instance, name: str,
             properties: dict[str, Any]) -> None:
        pset = ifcopenshell.api.pset.add_pset(self.file, product=product, name=name)
        ifcopenshell.api.pset.edit_pset(self.file, pset=pset, properties=properties)

    def typed_pset(self, product: ifcopenshell.entity_instance, name: str,
                   values: dict[str, tuple[str, Any]]) -> None:
        """A property set whose values carry their measure type: ``{name: (type, value)}``.

        Written as entities rather than through ``pset.edit_pset``, which looks every
        value's type up in the standard's templates: a 50,000-element model would take
        minutes to write.
        """
        f = self.file
        props = [f.create_entity("IfcPropertySingleValue", Name=prop,
                                 NominalValue=f.create_entity(measure, value))
                 for prop, (measure, value) in values.items()]
        history = product.OwnerHistory
        pset = f.create_entity("IfcPropertySet", GlobalId=ifcopenshell.guid.new(),
                               OwnerHistory=history, Name=name, HasProperties=props)
        f.create_entity("IfcRelDefinesByProperties", GlobalId=ifcopenshell.guid.new(),
                        OwnerHistory=history, RelatedObjects=[product],
                        RelatingPropertyDefinition=pset)

    def qto(self, product: ifcopenshell.entity_instance, name: str, **values: float) -> None:
        names = {**_QTO_NAMES, **{k: v for k, v in _QTO_RENAMES.get(name, {}).items()}}
        # Lengths are written in the project's length unit; areas and volumes stay in m2
        # and m3, the area and volume units the project declares.
        scaled: dict[str, Any] = {names[k]: v if k in ("area", "volume") else self.si(v)
                                  for k, v in values.items()}
        qto = ifcopenshell.api.pset.add_qto(self.file, product=product, name=name)
        ifcopenshell.api.pset.edit_qto(self.file, qto=qto, properties=scaled)

    # -- openings ----------------------------------------------------------------------

    def opening(self, host: ifcopenshell.entity_instance, key: str, origin: tuple[float, float],
                direction: tuple[float, float], z: float, size: tuple[float, float, float],
                ) -> ifcopenshell.entity_instance:
        """An opening voiding ``host``: a box ``size`` (along, across, up) whose near
        bottom corner on the axis is at ``origin``, ``z``. It is made deeper than the host
        across, so the cut goes clean through."""
        opening = self.entity("IfcOpeningElement", key, "Opening", "OPENING")
        along, across, height = size
        self.shape(opening, ifcopenshell.api.geometry.add_wall_representation(
            self.file, self.body, length=along, height=height, thickness=across,
            offset=-across / 2))
        ifcopenshell.api.feature.add_feature(self.file, feature=opening, element=host)
        self.place(opening, origin[0], origin[1], z, direction)
        return opening

    def slab_opening(self, slab: ifcopenshell.entity_instance, key: str,
                     corner: tuple[float, float], size: tuple[float, float], z: float,
                     depth: float) -> None:
        """A rectangular hole through a slab (a stair well, a lift shaft)."""
        opening = self.entity("IfcOpeningElement", key, "Opening", "OPENING")
        width, length = size
        self.slab_shape(opening, depth + 0.2,
                        [(0, 0), (width, 0), (width, length), (0, length)])
        ifcopenshell.api.feature.add_feature(self.file, feature=opening, element=slab)
        self.place(opening, corner[0], corner[1], z - 0.1)

    def filling(self, wall: ifcopenshell.entity_instance, key: str, name: str, ifc_class: str,
                wall_origin: tuple[float, float], direction: tuple[float, float], z: float,
                along: float, sill: float, size: tuple[float, float], wall_thickness: float,
                *, external: bool, kind: str) -> ifcopenshell.entity_instance:
        """A door or window ``size`` (width, height) ``along`` the wall and ``sill`` above
        its base, in an opening of its own that voids the wall."""
        width, height = size
        origin = frame(*wall_origin, direction, along, 0.0)
        opening = self.opening(wall, f"opening-{key}", origin, direction, z + sill,
                               (width, wall_thickness + 0.2, height))
        filling = self.entity(ifc_class, key, name, kind if not self.is_2x3 else None)
        filling.OverallWidth = self.si(width)
        filling.OverallHeight = self.si(height)
        # Doors and windows are drawn from their outer face inwards (+y); the wall's outer
        # face is half its thickness to the right of its axis.
        depth = wall_thickness if ifc_class == "IfcDoor" else wall_thickness / 2
        lining = {"LiningDepth": self.si(depth), "LiningThickness": self.si(0.05)}
        if ifc_class == "IfcDoor":
            representation = ifcopenshell.api.geometry.add_door_representation(
                self.file, context=self.body, overall_width=self.si(width),
                overall_height=self.si(height), lining_properties=lining,
                operation_type="DOUBLE_DOOR_SINGLE_SWING" if width > 1.5 else "SINGLE_SWING_LEFT")
            start = -wall_thickness / 2
        else:
            representation = ifcopenshell.api.geometry.add_window_representation(
                self.file, context=self.body, overall_width=self.si(width),
                overall_height=self.si(height), lining_properties=lining,
                partition_type="TRIPLE_PANEL_VERTICAL" if width > 2.5 else "DOUBLE_PANEL_VERTICAL",
                panel_properties=[{}] * (3 if width > 2.5 else 2))
            start = -wall_thickness / 4
        if representation is not None:
            self.shape(filling, representation)
        fills = ifcopenshell.api.feature.add_filling(self.file, opening=opening, element=filling)
        if fills.OwnerHistory is None and self.is_2x3:
            # IFC2X3 requires one on every rooted entity; this api call does not add it.
            fills.OwnerHistory = filling.OwnerHistory
        x, y = frame(*origin, direction, 0.0, start)
        self.place(filling, x, y, z + sill, direction)
        common = "Pset_DoorCommon" if ifc_class == "IfcDoor" else "Pset_WindowCommon"
        letter = "D" if ifc_class == "IfcDoor" else "W"
        props: dict[str, Any] = {"IsExternal": external,
                                 "Reference": f"{letter}{round(width * 100)}x{round(height * 100)}"}
        if not external:
            props["FireRating"] = "EI30"
        self.pset(filling, common, props)
        quantities = "Qto_DoorBaseQuantities" if ifc_class == "IfcDoor" \
            else "Qto_WindowBaseQuantities"
        self.qto(filling, quantities, width=width, height=height, area=width * height)
        self._fillings.append(filling)
        return filling

    def take_fillings(self) -> list[ifcopenshell.entity_instance]:
        """The doors and windows made since the last call: the storey contains them too,
        as authoring tools write it, not only the wall they sit in."""
        fillings, self._fillings = self._fillings, []
        return fillings
