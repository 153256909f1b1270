"""A generated IFC building: the demo project, the test fixtures and the benchmark model.

The building is made with ``ifcopenshell.api`` as an authoring tool would make it
(``authoring.py`` holds the calls): a project in metres (or millimetres), a site, a
building and storeys. Each storey has a slab, columns on a grid, external walls with
windows (and, on the ground floor, the entrance doors), partitions with doors, offices
(IfcSpace) and a few sensors bound to their hosts the three ways a real model says so
(assignment to a product, containment in a space, a property set naming the host). A
concrete core in the west bay of the middle row (``parts.py``) holds a lift shaft and a
dog-leg stair (IfcStair of two IfcStairFlight and a landing) from each storey to the next,
whose slab is cut for the stair well and the lift shaft. A flat roof (IfcRoof of IfcSlab
ROOF) with a parapet closes the top, and the core rises above it as a stair and lift head
house. Doors and windows fill openings that void their wall, so walls show their holes.
Every element has real swept-solid geometry, property sets and base quantities.

``detail="rich"`` gives walls, slabs, columns and stair flights the several property sets
a delivered model carries (manufacturer, environmental impact, concrete, condition, a
project set): the benchmark uses it to measure an import whose cost is in the properties.

GlobalIds come from a stable key and a seed, so a re-generated revision keeps the ids of
the elements it shares with the last one; ``revision`` renames some elements, edits some
properties, drops some partitions and adds beams and a sensor, to exercise re-import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ifcopenshell
import ifcopenshell.api.aggregate
import ifcopenshell.api.owner
import ifcopenshell.api.spatial
import ifcopenshell.api.type
import ifcopenshell.api.unit

from .authoring import global_id
from .parts import (
    BAY,
    DOOR,
    ENTRANCE,
    SLAB_DEPTH,
    STOREY_HEIGHT,
    WALL_THICKNESS,
    WINDOW,
    BuildingParts,
    Core,
)
from .schema import schema_identifier

__all__ = ["GeneratedModel", "generate_building", "global_id"]

COLUMN_SIZE = 0.4
SENSOR_SIZE = 0.1
SENSOR_PSET = "Pset_TwinsyncSensor"
DETAILS = ("common", "rich")
# Fixed timestamps keep the generation time out of the file: a model says what it holds.
_FIXED_TIMESTAMP = "2024-01-01T00:00:00"
_FIXED_EPOCH = 1704067200


@dataclass(slots=True)
class GeneratedModel:
    """What was generated: where, in which schema, and the GlobalIds worth knowing."""

    path: Path
    schema: str
    revision: int
    ids: dict[str, str] = field(default_factory=dict)  # stable key -> GlobalId
    by_class: dict[str, list[str]] = field(default_factory=dict)  # IFC class -> GlobalIds
    sensors: dict[str, str] = field(default_factory=dict)  # sensor id -> host GlobalId

    @property
    def element_count(self) -> int:
        """Physical elements and spatial structure the importer will read."""
        return sum(len(ids) for ids in self.by_class.values())


def generate_building(
    path: str | Path,
    *,
    schema: str = "IFC4",
    storeys: int = 3,
    bays_x: int = 4,
    bays_y: int = 3,
    sensors: bool = True,
    revision: int = 0,
    seed: str = "twinsync-demo",
    length_unit: str = "m",
    name: str = "Twinsync demo building",
    detail: str = "common",
) -> GeneratedModel:
    """Write an IFC building to ``path`` and say what is in it.

    ``schema`` is ``IFC2X3``, ``IFC4`` or ``IFC4X3`` (``IFC4X3_ADD2`` also accepted);
    ``length_unit`` is ``m`` or ``mm`` (geometry and quantities are written in it);
    ``detail`` is ``common`` (the common sets) or ``rich`` (several sets per element).
    A core, stairs and the head house need two bays along x; a one-bay building has none.
    """
    if storeys < 1 or bays_x < 1 or bays_y < 1:
        raise ValueError("a building needs at least one storey and one bay each way")
    if length_unit not in ("m", "mm"):
        raise ValueError("length_unit is 'm' or 'mm'")
    if detail not in DETAILS:
        raise ValueError(f"detail is one of {', '.join(DETAILS)}")
    builder = _Builder(schema_identifier(schema), seed, revision, length_unit)
    builder.rich = detail == "rich"
    builder.build(name, storeys, bays_x, bays_y, sensors)
    out = Path(path)
    builder.finish()
    builder.file.write(str(out))
    return GeneratedModel(
        path=out,
        schema=builder.file.schema_identifier,
        revision=revision,
        ids=builder.ids,
        by_class={cls: list(ids) for cls, ids in builder.by_class.items()},
        sensors=builder.sensor_hosts,
    )


class _Builder(BuildingParts):
    def __init__(self, schema: str, seed: str, revision: int, length_unit: str) -> None:
        super().__init__(schema, seed, revision, length_unit)
        self.sensor_hosts: dict[str, str] = {}
        #: The storey's rooms as built, their plan's corners (m): its walls bound them.
        self.rooms: dict[ifcopenshell.entity_instance, tuple[float, float, float, float]] = {}
        self._sensor_types: dict[str, ifcopenshell.entity_instance] = {}

    # -- the building ------------------------------------------------------------------

    def build(self, name: str, storeys: int, bays_x: int, bays_y: int, sensors: bool) -> None:
        f = self.file
        if self.is_2x3:
            # IFC2X3 requires an owner history on every rooted entity; the api takes the
            # first user and application in the file.
            person = ifcopenshell.api.owner.add_person(f, identification="twinsync")
            org = ifcopenshell.api.owner.add_organisation(f, identification="twinsync")
            ifcopenshell.api.owner.add_person_and_organisation(f, person=person, organisation=org)
            ifcopenshell.api.owner.add_application(f)
        project = self.entity("IfcProject", "project", name)
        prefix = "MILLI" if self.length_unit == "mm" else None
        units = [
            ifcopenshell.api.unit.add_si_unit(f, unit_type="LENGTHUNIT", prefix=prefix),
            ifcopenshell.api.unit.add_si_unit(f, unit_type="AREAUNIT"),
            ifcopenshell.api.unit.add_si_unit(f, unit_type="VOLUMEUNIT"),
            ifcopenshell.api.unit.add_si_unit(f, unit_type="PLANEANGLEUNIT"),
        ]
        ifcopenshell.api.unit.assign_unit(f, units=units)
        self.add_body_context()
        site = self.entity("IfcSite", "site", "Site")
        building = self.entity("IfcBuilding", "building", name)
        self.place(site, 0, 0, 0)
        self.place(building, 0, 0, 0)
        ifcopenshell.api.aggregate.assign_object(f, products=[site], relating_object=project)
        ifcopenshell.api.aggregate.assign_object(f, products=[building], relating_object=site)
        levels = []
        for level in range(storeys):
            storey = self.entity("IfcBuildingStorey", f"storey-L{level:02d}", f"Level {level}")
            storey.Elevation = self.si(level * STOREY_HEIGHT)
            self.place(storey, 0, 0, level * STOREY_HEIGHT)
            levels.append(storey)
        ifcopenshell.api.aggregate.assign_object(f, products=levels, relating_object=building)
        core = Core(0.0, (bays_y // 2) * BAY, bays_x, bays_y) if bays_x >= 2 else None
        for level, storey in enumerate(levels):
            self.build_storey(storey, level, bays_x, bays_y, sensors, core)
        self.roof(levels[-1], storeys, bays_x * BAY, bays_y * BAY, core)

    def build_storey(
        self, storey: ifcopenshell.entity_instance, level: int, bays_x: int, bays_y: int,
        sensors: bool, core: Core | None,
    ) -> None:
        z = level * STOREY_HEIGHT
        tag = f"L{level:02d}"
        width, depth = bays_x * BAY, bays_y * BAY
        contained: list[ifcopenshell.entity_instance] = []

        slab = self.entity("IfcSlab", f"slab-{tag}", f"Slab {tag}", "FLOOR")
        self.place(slab, 0, 0, z - SLAB_DEPTH)
        self.slab_shape(slab, SLAB_DEPTH, [(0, 0), (width, 0), (width, depth), (0, depth)])
        rating = f"REI{60 + 30 * self.revision}"
        self.pset(slab, "Pset_SlabCommon", {"IsExternal": False, "LoadBearing": True,
                                             "FireRating": rating})
        self.qto(slab, "Qto_SlabBaseQuantities", length=width, width=depth,
                 depth=SLAB_DEPTH, area=width * depth, volume=width * depth * SLAB_DEPTH)
        self.rich_sets(slab, f"slab-{tag}", concrete=True)
        if core is not None and level > 0:
            for well, corner, size in core.wells():
                self.slab_opening(slab, f"opening-slab-{tag}-{well}", corner, size,
                                  z - SLAB_DEPTH, SLAB_DEPTH)
        contained.append(slab)

        columns: dict[tuple[int, int], ifcopenshell.entity_instance] = {}
        for i in range(bays_x + 1):
            for j in range(bays_y + 1):
                label = f"{chr(65 + j)}{i + 1}"
                column_name = f"Column {label} {tag}"
                if (i, j) == (0, 0) and self.revision:
                    column_name += f" (rev {self.revision})"
                column = self.entity("IfcColumn", f"column-{tag}-{label}", column_name, "COLUMN")
                self.place(column, i * BAY, j * BAY, z)
                self.box_shape(column, COLUMN_SIZE, COLUMN_SIZE, STOREY_HEIGHT - SLAB_DEPTH)
                self.pset(column, "Pset_ColumnCommon", {"IsExternal": i in (0, bays_x) or
                                                        j in (0, bays_y),
                                                        "LoadBearing": True, "FireRating": "R90"})
                height = STOREY_HEIGHT - SLAB_DEPTH
                self.qto(column, "Qto_ColumnBaseQuantities", length=height,
                         area=COLUMN_SIZE**2, volume=COLUMN_SIZE**2 * height)
                self.rich_sets(column, f"column-{tag}-{label}", concrete=True)
                columns[(i, j)] = column
                contained.append(column)

        walls = self.perimeter_walls(tag, level, width, depth, bays_x, bays_y, z, core)
        outside = set(walls)
        walls += self.interior_walls(tag, bays_x, bays_y, z, core)
        if core is not None:
            walls += self.core_walls(tag, core, z, STOREY_HEIGHT - SLAB_DEPTH, head_house=False)
            contained.append(self.stair(tag, core, z))
        contained += walls
        for k in range(1, self.revision + 1):
            beam = self.entity("IfcBeam", f"beam-{tag}-rev{k}", f"Beam {tag} r{k}", "BEAM")
            self.place(beam, 0, BAY * 0.5 * k, z + STOREY_HEIGHT - SLAB_DEPTH - 0.5)
            self.wall_shape(beam, width, 0.5, 0.3)
            self.pset(beam, "Pset_BeamCommon", {"LoadBearing": True})
            contained.append(beam)

        spaces = self.spaces(tag, bays_x, bays_y, z, core)
        ifcopenshell.api.aggregate.assign_object(self.file, products=spaces, relating_object=storey)
        self.space_boundaries(walls, outside)
        if sensors:
            contained += self.sensors(tag, slab, columns, spaces, z)
        contained += self.take_fillings()
        ifcopenshell.api.spatial.assign_container(
            self.file, products=contained, relating_structure=storey)

    def perimeter_walls(self, tag: str, level: int, width: float, depth: float, bays_x: int,
                        bays_y: int, z: float,
                        core: Core | None) -> list[ifcopenshell.entity_instance]:
        walls = []
        # One wall per bay along each side, running anticlockwise round the footprint, so
        # each wall's outside is to its right. Each has a window, but where it closes the
        # core; the ground floor's front has the entrance in its middle bay.
        sides = [((0, 0), (1, 0), bays_x), ((width, 0), (0, 1), bays_y),
                 ((width, depth), (-1, 0), bays_x), ((0, depth), (0, -1), bays_y)]
        for side, (origin, direction, count) in enumerate(sides):
            for n in range(count):
                x = origin[0] + direction[0] * n * BAY
                y = origin[1] + direction[1] * n * BAY
                key = f"wall-{tag}-P{side}{n:02d}"
                wall = self.wall(key, f"External wall {tag} {side}.{n}", x, y, z, direction,
                                 external=True)
                walls.append(wall)
                if level == 0 and side == 0 and n == count // 2:
                    self.filling(wall, f"door-{tag}-entrance", f"Entrance {tag}", "IfcDoor",
                                 (x, y), direction, z, (BAY - ENTRANCE[0]) / 2, 0.0, ENTRANCE,
                                 WALL_THICKNESS, external=True, kind="DOOR")
                elif core is None or not core.contains_wall(x, y, direction):
                    self.filling(wall, f"window-{tag}-P{side}{n:02d}", f"Window {tag} {side}.{n}",
                                 "IfcWindow", (x, y), direction, z, (BAY - WINDOW[0]) / 2,
                                 WINDOW[2], WINDOW[:2], WALL_THICKNESS, external=True,
                                 kind="WINDOW")
        return walls

    def interior_walls(self, tag: str, bays_x: int, bays_y: int, z: float,
                       core: Core | None) -> list[ifcopenshell.entity_instance]:
        candidates = []
        # Rooms are two bays wide: partitions on every second x grid line and every inner
        # y grid line, but where the core's own walls stand.
        for i in range(2, bays_x, 2):
            candidates += [(f"X{i:02d}{j:02d}", i * BAY, j * BAY, (0, 1)) for j in range(bays_y)]
        for j in range(1, bays_y):
            candidates += [(f"Y{j:02d}{i:02d}", i * BAY, j * BAY, (1, 0)) for i in range(bays_x)]
        candidates = [c for c in candidates
                      if core is None or not core.contains_wall(c[1], c[2], c[3])]
        walls = []
        for n, (label, x, y, direction) in enumerate(candidates):
            if n < self.revision:  # each revision drops one more partition per storey
                continue
            wall = self.wall(f"wall-{tag}-I{label}", f"Partition {tag} {label}", x, y, z,
                             direction, external=False)
            self.filling(wall, f"door-{tag}-I{label}", f"Door {tag} {label}", "IfcDoor",
                         (x, y), direction, z, 1.0, 0.0, DOOR, WALL_THICKNESS, external=False,
                         kind="DOOR")
            walls.append(wall)
        return walls

    def spaces(self, tag: str, bays_x: int, bays_y: int, z: float,
               core: Core | None) -> list[ifcopenshell.entity_instance]:
        spaces = []
        height = STOREY_HEIGHT - SLAB_DEPTH
        for i in range(0, bays_x, 2):
            for j in range(bays_y):
                x0 = i * BAY
                # The room beside the core starts past it.
                if core is not None and (x0, j * BAY) == (core.x0, core.y0):
                    x0 += BAY
                room_width = (i + min(2, bays_x - i)) * BAY - x0
                label = f"{j}{i // 2}"
                space = self.entity("IfcSpace", f"space-{tag}-{label}", f"Room {tag}.{label}",
                                    None if self.is_2x3 else "INTERNAL")
                if self.is_2x3:  # IFC2X3 says it with a mandatory attribute instead
                    space.InteriorOrExteriorSpace = "INTERNAL"
                self.place(space, x0, j * BAY, z)
                self.slab_shape(space, height,
                                [(0, 0), (room_width, 0), (room_width, BAY), (0, BAY)])
                space.LongName = f"Office {tag}.{label}"
                self.qto(space, "Qto_SpaceBaseQuantities", height=height,
                         area=room_width * BAY, volume=room_width * BAY * height)
                self.rooms[space] = (x0, j * BAY, x0 + room_width, (j + 1) * BAY)
                spaces.append(space)
        return spaces

    def space_boundaries(self, walls: list[ifcopenshell.entity_instance],
                         outside: set[ifcopenshell.entity_instance]) -> None:
        """An ``IfcRelSpaceBoundary`` for each wall of the storey on a room's edge: what
        tells which rooms are beside which (``space_boundaries.adjacent_spaces``), as a
        tool that exports space boundaries writes them (first level, no geometry)."""
        f = self.file
        rooms, self.rooms = self.rooms, {}
        for wall in walls:
            x, y, (dx, dy), length = self.wall_plans[wall]
            external = wall in outside
            for space, (x0, y0, x1, y1) in rooms.items():
                if not _on_edge(x, y, dx, dy, length, x0, y0, x1, y1):
                    continue
                key = f"boundary-{space.GlobalId}-{wall.GlobalId}"
                f.create_entity("IfcRelSpaceBoundary", GlobalId=self.guid(key),
                                OwnerHistory=space.OwnerHistory, RelatingSpace=space,
                                RelatedBuildingElement=wall,
                                PhysicalOrVirtualBoundary="PHYSICAL",
                                InternalOrExternalBoundary="EXTERNAL" if external
                                else "INTERNAL")

    def sensors(self, tag: str, slab: ifcopenshell.entity_instance,
                columns: dict[tuple[int, int], ifcopenshell.entity_instance],
                spaces: list[ifcopenshell.entity_instance],
                z: float) -> list[ifcopenshell.entity_instance]:
        """Sensors contained in the storey; those in rooms are contained in the room."""
        in_storey = []
        # Concrete temperature loggers cast into the slab: the model assigns them to it.
        loggers = [""] + ([f"-rev{k}" for k in range(1, self.revision + 1)] if tag == "L00" else [])
        for n, suffix in enumerate(loggers):
            sensor_id = f"{tag}-SLAB-T{n + 1}"
            sensor = self.sensor(f"sensor-{sensor_id}{suffix}", sensor_id, "TEMPERATURESENSOR",
                                 "temperature", "degC", "core_temperature", 600.0,
                                 (BAY * (0.5 + n), BAY * 0.5, z - SLAB_DEPTH / 2))
            self.file.create_entity(
                "IfcRelAssignsToProduct", GlobalId=self.guid(f"assign-{sensor_id}"),
                OwnerHistory=slab.OwnerHistory, RelatedObjects=[sensor], RelatingProduct=slab)
            self.sensor_hosts[sensor_id] = slab.GlobalId
            in_storey.append(sensor)
        # Room sensors: containment in the space is what binds them.
        for room in spaces[:2]:
            label = room.Name.split(".")[-1]
            for kind, predefined, unit, prop in (
                ("temperature", "TEMPERATURESENSOR", "degC", "air_temperature"),
                ("humidity", "HUMIDITYSENSOR", "%RH", "relative_humidity"),
            ):
                sensor_id = f"{tag}-R{label}-{kind[0].upper()}"
                sensor = self.sensor(f"sensor-{sensor_id}", sensor_id, predefined, kind, unit, prop,
                                     300.0, (0, 0, z + 1.5), placement_of=room)
                ifcopenshell.api.spatial.assign_container(
                    self.file, products=[sensor], relating_structure=room)
                self.sensor_hosts[sensor_id] = room.GlobalId
        # Strain gauges on columns: one named by the property set, one aggregated.
        for n, (cell, how) in enumerate((((1, 1), "pset"), ((0, 1), "aggregate"))):
            column = columns.get(cell)
            if column is None:
                continue
            sensor_id = f"{tag}-COL-S{n + 1}"
            x, y = cell[0] * BAY, cell[1] * BAY
            sensor = self.sensor(f"sensor-{sensor_id}", sensor_id, "STRAINSENSOR", "strain",
                                 "microstrain", "strain", 60.0, (x + 0.25, y, z + 1.0),
                                 host=column.GlobalId if how == "pset" else None)
            if how == "aggregate":
                ifcopenshell.api.aggregate.assign_object(
                    self.file, products=[sensor], relating_object=column)
            else:
                in_storey.append(sensor)
            self.sensor_hosts[sensor_id] = column.GlobalId
        return in_storey

    def sensor(self, key: str, sensor_id: str, predefined: str, kind: str, unit: str,
               bound_property: str, interval: float, where: tuple[float, float, float], *,
               host: str | None = None,
               placement_of: ifcopenshell.entity_instance | None = None,
               ) -> ifcopenshell.entity_instance:
        if self.is_2x3:
            # IFC2X3 has no IfcSensor occurrence: a control element typed by IfcSensorType.
            sensor = self.entity("IfcDistributionControlElement", key, f"Sensor {sensor_id}")
            ifcopenshell.api.type.assign_type(self.file, related_objects=[sensor],
                                              relating_type=self.sensor_type(predefined))
        else:
            sensor = self.entity("IfcSensor", key, f"Sensor {sensor_id}", predefined)
        if placement_of is not None:
            origin = placement_of.ObjectPlacement.RelativePlacement.Location.Coordinates
            scale = 1000.0 if self.length_unit == "mm" else 1.0
            where = (origin[0] / scale + 1.0, origin[1] / scale + 1.0, where[2])
        self.place(sensor, *where)
        self.box_shape(sensor, SENSOR_SIZE, SENSOR_SIZE, SENSOR_SIZE)
        props: dict[str, Any] = {"SensorId": sensor_id, "Kind": kind, "Unit": unit,
                                 "BoundProperty": bound_property, "ExpectedInterval": interval}
        if host is not None:
            props["Host"] = host
        self.pset(sensor, SENSOR_PSET, props)
        return sensor

    def sensor_type(self, predefined: str) -> ifcopenshell.entity_instance:
        if predefined not in self._sensor_types:
            self._sensor_types[predefined] = self.entity(
                "IfcSensorType", f"sensor-type-{predefined}", predefined.title(), predefined)
        return self._sensor_types[predefined]

    def finish(self) -> None:
        """Fixed timestamps, and seeded GlobalIds for the relationships the api created."""
        self.file.header.file_name.time_stamp = _FIXED_TIMESTAMP
        for history in self.file.by_type("IfcOwnerHistory"):
            history.CreationDate = _FIXED_EPOCH
            if history.LastModifiedDate is not None:
                history.LastModifiedDate = _FIXED_EPOCH
        keyed = set(self.ids.values()) | set(self.opening_ids.values()) | {
            r.GlobalId for r in self.file.by_type("IfcRelAssignsToProduct")}
        for n, root in enumerate(self.file.by_type("IfcRoot")):
            if root.GlobalId not in keyed:
                root.GlobalId = self.guid(f"auto-{self.revision}-{n}")


def _on_edge(x: float, y: float, dx: int, dy: int, length: float, x0: float, y0: float,
             x1: float, y1: float) -> bool:
    """Whether a wall from (x, y) along (dx, dy) lies on an edge of the room (x0, y0)-(x1,
    y1) (within a centimetre) and along it."""
    near = 0.01
    end_x, end_y = x + dx * length, y + dy * length
    if dy == 0:  # along x
        on_line = abs(y - y0) < near or abs(y - y1) < near
        low, high = sorted((x, end_x))
        return on_line and low > x0 - near and high < x1 + near
    on_line = abs(x - x0) < near or abs(x - x1) < near
    low, high = sorted((y, end_y))
    return on_line and low > y0 - near and high < y1 + near
