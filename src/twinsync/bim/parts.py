"""The parts of the generated building past slabs and columns: walls with their doors and
windows, the stair and lift core, the stairs, the roof, and the property sets a delivered
model adds to the common ones.

``BuildingParts`` is the authoring base ``generate.py``'s builder stands on; the dimensions
here are the building's, in metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import ifcopenshell
import ifcopenshell.api.aggregate
import ifcopenshell.api.spatial

from .authoring import ModelAuthor, frame

BAY = 6.0  # metres between grid lines
STOREY_HEIGHT = 3.5
SLAB_DEPTH = 0.25
WALL_THICKNESS = 0.2
CORE_WALL_THICKNESS = 0.25
PARAPET_HEIGHT = 1.1
HEAD_HOUSE_HEIGHT = 3.0
WINDOW = (3.6, 1.8, 0.8)  # width, height, sill: one ribbon window per external bay
DOOR = (0.9, 2.1)
ENTRANCE = (1.8, 2.4)
# The dog-leg stair: two flights of RISERS risers each per storey, TREAD apart, FLIGHT wide.
RISERS = 10
TREAD = 0.28
FLIGHT = 1.2


@dataclass(frozen=True, slots=True)
class Core:
    """The stair and lift core in one bay: its corner (x0, y0) and which sides are façade."""

    x0: float
    y0: float
    bays_x: int
    bays_y: int

    def contains_wall(self, x: float, y: float, direction: tuple[int, int]) -> bool:
        """Whether a one-bay wall from (x, y) runs along the core's edge."""
        mid = frame(x, y, direction, BAY / 2, 0.0)
        return (self.x0 <= mid[0] <= self.x0 + BAY) and (self.y0 <= mid[1] <= self.y0 + BAY)

    @property
    def stair_x(self) -> float:
        """Where the lower flight starts and the upper one ends: the stair well's edge."""
        return self.x0 + BAY - CORE_WALL_THICKNESS / 2 - FLIGHT - (RISERS - 1) * TREAD

    def wells(self) -> list[tuple[str, tuple[float, float], tuple[float, float]]]:
        """Holes in each slab above the ground: the stair well and the lift shaft."""
        inner = CORE_WALL_THICKNESS / 2
        return [
            ("stair", (self.stair_x, self.y0 + inner),
             (self.x0 + BAY - inner - self.stair_x, 2 * FLIGHT + 0.2)),
            ("lift", (self.x0 + inner, self.y0 + 4.0 + inner),
             (2.4 - 2 * inner, 2.0 - 2 * inner)),
        ]


class BuildingParts(ModelAuthor):
    """Walls, core, stairs and roof; ``rich`` adds the delivered model's property sets."""

    rich = False

    def core_walls(self, tag: str, core: Core, z: float, height: float, *,
                   head_house: bool) -> list[ifcopenshell.entity_instance]:
        """The core's shear walls: its sides (but those on the façade below the roof), the
        wall between stair and lobby, and the lift shaft, each with its door."""
        x0, y0 = core.x0, core.y0
        # (label, start, direction, length, door (along, width) or None)
        segments: list[tuple[str, tuple[float, float], tuple[int, int], float,
                             tuple[float, float] | None]] = [
            ("E", (x0 + BAY, y0), (0, 1), BAY, (3.0, 0.8)),
        ]
        if head_house or y0 > 0:
            segments.append(("S", (x0, y0), (1, 0), BAY, None))
        if head_house or y0 + BAY < core.bays_y * BAY:
            segments.append(("N", (x0 + BAY, y0 + BAY), (-1, 0), BAY, None))
        if head_house:
            segments.append(("W", (x0, y0 + BAY), (0, -1), BAY, None))
        else:
            segments += [("STAIR", (x0, y0 + 2.85), (1, 0), BAY, (0.6, DOOR[0])),
                         ("LIFT", (x0, y0 + 4.0), (1, 0), 2.4, (0.75, DOOR[0])),
                         ("SHAFT", (x0 + 2.4, y0 + 4.0), (0, 1), 2.0, None)]
        walls = []
        for label, (x, y), direction, length, door in segments:
            key = f"wall-{tag}-C{label}"
            wall = self.wall(key, f"Core wall {tag} {label}", x, y, z, direction,
                             external=head_house, length=length, height=height,
                             thickness=CORE_WALL_THICKNESS, predefined="SHEAR")
            if door is not None:
                self.filling(wall, f"door-{tag}-C{label}", f"Core door {tag} {label}", "IfcDoor",
                             (x, y), direction, z, door[0], 0.0, (door[1], DOOR[1]),
                             CORE_WALL_THICKNESS, external=head_house, kind="DOOR")
            walls.append(wall)
        return walls

    def wall(self, key: str, name: str, x: float, y: float, z: float,
             direction: tuple[int, int], *, external: bool, length: float = BAY,
             height: float = STOREY_HEIGHT - SLAB_DEPTH, thickness: float = WALL_THICKNESS,
             predefined: str | None = None) -> ifcopenshell.entity_instance:
        kind = predefined or ("SOLIDWALL" if external else "PARTITIONING")
        wall = self.entity("IfcWall", key, name, kind)
        self.place(wall, x, y, z, direction)
        # Its plan (m), for the space boundaries of the rooms it stands beside.
        self.wall_plans[wall] = (x, y, direction, length)
        self.wall_shape(wall, length, height, thickness)
        load_bearing = external or kind == "SHEAR"
        self.pset(wall, "Pset_WallCommon", {"IsExternal": external, "LoadBearing": load_bearing,
                                             "FireRating": "EI60" if load_bearing else "EI30"})
        self.qto(wall, "Qto_WallBaseQuantities", length=length, width=thickness,
                 height=height, area=length * height, volume=length * height * thickness)
        self.rich_sets(wall, key, concrete=load_bearing)
        return wall

    def rich_sets(self, product: ifcopenshell.entity_instance, key: str, *,
                  concrete: bool) -> None:
        """The sets a delivered model adds to the common ones, when ``detail="rich"``."""
        if not self.rich:
            return
        label, ident, text = "IfcLabel", "IfcIdentifier", "IfcText"
        self.typed_pset(product, "Pset_ManufacturerTypeInformation", {
            "Manufacturer": (label, "Riverside Precast" if concrete else "Nordic Fitout"),
            "ModelLabel": (label, product.Name or key), "ModelReference": (label, key.upper()),
            "ProductionYear": (label, "2024"), "ArticleNumber": (ident, key)})
        self.typed_pset(product, "Pset_EnvironmentalImpactIndicators", {
            "Reference": (ident, key), "FunctionalUnitReference": (label, "m3"),
            "ExpectedServiceLife": ("IfcTimeMeasure", 60.0 * 365 * 86400),
            "ClimateChangePerUnit": ("IfcMassMeasure", 310.0 if concrete else 45.0),
            "WaterConsumptionPerUnit": ("IfcVolumeMeasure", 0.18)})
        if concrete:
            self.typed_pset(product, "Pset_ConcreteElementGeneral", {
                "StrengthClass": (label, "C30/37"), "ExposureClass": (label, "XC1"),
                "ReinforcementVolumeRatio": ("IfcMassDensityMeasure", 120.0),
                "ConstructionMethod": (label, "In situ")})
        self.typed_pset(product, "Pset_Condition", {
            "AssessmentCondition": (label, "New"),
            "AssessmentDescription": (text, "Handed over with the building")})
        self.typed_pset(product, "Twinsync_SiteRecord", {
            "Zone": (label, key.split("-")[1] if "-" in key else key),
            "Phase": (label, "Shell and core"), "Subcontractor": (label, "Riverside Build"),
            "InspectionRef": (ident, f"ITP-{key}"), "Cost": ("IfcReal", 1250.0),
            "LeadTimeDays": ("IfcInteger", 21)})

    def stair(self, tag: str, core: Core, z: float) -> ifcopenshell.entity_instance:
        """A dog-leg stair up to the next floor (or the roof): a flight along +x, a landing
        across the core's east end, a flight back along -x beside the first."""
        rise = STOREY_HEIGHT / (2 * RISERS)
        run = (RISERS - 1) * TREAD
        stair = self.entity("IfcStair", f"stair-{tag}", f"Stair {tag}", "HALF_TURN_STAIR")
        if self.is_2x3:  # IFC2X3 says it with a mandatory attribute instead
            stair.ShapeType = "HALF_TURN_STAIR"
        self.pset(stair, "Pset_StairCommon", {"NumberOfRiser": 2 * RISERS,
                                              "NumberOfTreads": 2 * (RISERS - 1),
                                              "RiserHeight": self.si(rise),
                                              "TreadLength": self.si(TREAD),
                                              "FireRating": "REI90", "IsExternal": False})
        inner = CORE_WALL_THICKNESS / 2
        # The side view of a flight: RISERS - 1 risers and treads; the last riser is the
        # front of the landing or of the floor slab it arrives at. Under the steps, the
        # soffit runs from the first tread's end down at the foot to 0.3 m below the last.
        steps = [(0.0, 0.0)]
        for k in range(RISERS - 1):
            steps += [(k * TREAD, (k + 1) * rise), ((k + 1) * TREAD, (k + 1) * rise)]
        steps += [(run, (RISERS - 1) * rise - 0.3), (TREAD, 0.0)]
        parts = []
        low_y, high_y = core.y0 + inner, core.y0 + inner + FLIGHT + 0.2
        flights = [("1", (core.stair_x, high_y), (1, 0), z),
                   ("2", (core.stair_x + run, high_y - 0.2), (-1, 0), z + RISERS * rise)]
        for label, (x, y), direction, base in flights:
            flight = self.entity("IfcStairFlight", f"stair-{tag}-flight{label}",
                                 f"Stair flight {tag}.{label}", "STRAIGHT")
            self.place(flight, x, y, base, direction)
            self.profile_shape(flight, steps, FLIGHT)
            self.pset(flight, "Pset_StairFlightCommon", {
                "NumberOfRiser": RISERS, "NumberOfTreads": RISERS - 1,
                "RiserHeight": self.si(rise), "TreadLength": self.si(TREAD)})
            self.qto(flight, "Qto_StairFlightBaseQuantities", length=run,
                     volume=FLIGHT * run * 0.35)
            self.rich_sets(flight, f"stair-{tag}-flight{label}", concrete=True)
            parts.append(flight)
        landing = self.entity("IfcSlab", f"stair-{tag}-landing", f"Landing {tag}", "LANDING")
        landing_x = core.stair_x + run
        self.place(landing, landing_x, low_y, z + RISERS * rise - 0.2)
        landing_size = (core.x0 + BAY - inner - landing_x, 2 * FLIGHT + 0.2)
        self.slab_shape(landing, 0.2, [(0, 0), (landing_size[0], 0), landing_size,
                                       (0, landing_size[1])])
        self.pset(landing, "Pset_SlabCommon", {"IsExternal": False, "LoadBearing": True})
        self.qto(landing, "Qto_SlabBaseQuantities", depth=0.2,
                 area=landing_size[0] * landing_size[1])
        parts.append(landing)
        ifcopenshell.api.aggregate.assign_object(self.file, products=parts, relating_object=stair)
        return stair

    def roof(self, top: ifcopenshell.entity_instance, storeys: int, width: float, depth: float,
             core: Core | None) -> None:
        """A flat roof on the top storey: the roof slab, a parapet round it, and the core
        rising through it as a head house with its own roof."""
        z = storeys * STOREY_HEIGHT
        roof = self.entity("IfcRoof", "roof", "Roof", "FLAT_ROOF")
        if self.is_2x3:
            roof.ShapeType = "FLAT_ROOF"
        self.pset(roof, "Pset_RoofCommon", {"IsExternal": True, "FireRating": "REI60"})
        slab = self.entity("IfcSlab", "roof-slab", "Roof slab", "ROOF")
        self.place(slab, 0, 0, z - SLAB_DEPTH)
        self.slab_shape(slab, SLAB_DEPTH, [(0, 0), (width, 0), (width, depth), (0, depth)])
        self.pset(slab, "Pset_SlabCommon", {"IsExternal": True, "LoadBearing": True,
                                             "FireRating": "REI60"})
        self.qto(slab, "Qto_SlabBaseQuantities", length=width, width=depth, depth=SLAB_DEPTH,
                 area=width * depth, volume=width * depth * SLAB_DEPTH)
        self.rich_sets(slab, "roof-slab", concrete=True)
        parts = [slab]
        contained: list[ifcopenshell.entity_instance] = [roof]
        sides = [((0, 0), (1, 0), width), ((width, 0), (0, 1), depth),
                 ((width, depth), (-1, 0), width), ((0, depth), (0, -1), depth)]
        for n, ((x, y), direction, length) in enumerate(sides):
            contained.append(self.wall(f"parapet-{n}", f"Parapet {n}", x, y, z, direction,
                                       external=True, length=length, height=PARAPET_HEIGHT,
                                       predefined="PARAPET"))
        if core is not None:
            for well, corner, size in core.wells():
                self.slab_opening(slab, f"opening-roof-{well}", corner, size, z - SLAB_DEPTH,
                                  SLAB_DEPTH)
            contained += self.core_walls("RF", core, z, HEAD_HOUSE_HEIGHT, head_house=True)
            cap = self.entity("IfcSlab", "roof-slab-core", "Head house roof", "ROOF")
            self.place(cap, core.x0 - 0.2, core.y0 - 0.2, z + HEAD_HOUSE_HEIGHT)
            self.slab_shape(cap, 0.2, [(0, 0), (BAY + 0.4, 0), (BAY + 0.4, BAY + 0.4),
                                       (0, BAY + 0.4)])
            self.pset(cap, "Pset_SlabCommon", {"IsExternal": True, "LoadBearing": True})
            self.qto(cap, "Qto_SlabBaseQuantities", depth=0.2, area=(BAY + 0.4) ** 2)
            parts.append(cap)
        ifcopenshell.api.aggregate.assign_object(self.file, products=parts, relating_object=roof)
        contained += self.take_fillings()
        ifcopenshell.api.spatial.assign_container(self.file, products=contained,
                                                  relating_structure=top)

