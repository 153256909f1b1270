"""The demo construction project, defined in code: a small concrete-frame building.

Four storeys, each with a slab, a grid of columns, perimeter walls and three rooms; 50
sensors (slab core temperature loggers, room temperature and humidity, column strain
gauges, a weather station) bound to element properties. Tests use it as a realistic twin
that builds in milliseconds, without IFC.

What ``twinsync demo`` serves is not this but the IFC building ``bim.generate`` writes
(``startup.seed_demo``): the same four storeys 3.5 m apart, the same progress by storey
(``storey_status``, used by both) and the same 50 sensors, on a building that also has
doors, windows, a stair core and a roof. Its elements are keyed by GlobalId; these by
short names (``L0-slab``), so the two are never mixed in one twin.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import Binding, Element, PropertyValue, Sensor, Source, Status, Transform


@dataclass(slots=True)
class DemoProject:
    elements: list[Element] = field(default_factory=list)
    sensors: list[Sensor] = field(default_factory=list)
    bindings: list[Binding] = field(default_factory=list)


def _bim(value: object, unit: str = "") -> PropertyValue:
    return PropertyValue(value, unit, 0.0, Source.BIM, 1.0)


def storey_status(level: int, storeys: int) -> Status:
    """Where the demo site stands: lower storeys done, the next one being built, the top
    one planned."""
    if level < storeys - 2:
        return Status.COMPLETED
    return Status.IN_PROGRESS if level == storeys - 2 else Status.PLANNED


def demo_project(storeys: int = 4) -> DemoProject:
    """Build the demo project. Lower storeys are done, the top one is being built."""
    project = DemoProject()
    add = project.elements.append
    add(Element("site", "IfcSite", "Riverside site"))
    add(Element("building", "IfcBuilding", "Block A", parent="site"))
    project.sensors += [
        Sensor("weather-temp", "ambient_temperature", "degC", expected_interval=2.0),
        Sensor("weather-rh", "relative_humidity", "percent", expected_interval=2.0),
    ]
    project.bindings += [
        Binding("weather-temp", "site", "ambient_temperature"),
        Binding("weather-rh", "site", "relative_humidity"),
    ]
    for level in range(storeys):
        storey = f"L{level}"
        status = storey_status(level, storeys)
        add(Element(storey, "IfcBuildingStorey", f"Level {level}", parent="building",
                    properties={"elevation": _bim(3.5 * level, "m")}))
        slab = f"{storey}-slab"
        add(Element(slab, "IfcSlab", f"Slab {storey}", parent=storey, status=status,
                    properties={"thickness": _bim(0.25, "m"), "concrete": _bim("C30/37")}))
        for n in range(3):
            sensor_id = f"{slab}-t{n + 1}"
            project.sensors.append(Sensor(sensor_id, "slab_temperature", "degC",
                                          expected_interval=2.0, resolution=0.01))
            project.bindings.append(Binding(sensor_id, slab, "core_temperature"))
        for n in range(6):
            column = f"{storey}-col{n + 1}"
            add(Element(column, "IfcColumn", f"Column {storey}.{n + 1}", parent=storey,
                        status=status, properties={"section": _bim("400x400")}))
            if n < 3:
                sensor_id = f"{column}-strain"
                project.sensors.append(Sensor(sensor_id, "strain", "microstrain",
                                              expected_interval=2.0, resolution=0.1))
                project.bindings.append(Binding(sensor_id, column, "strain"))
        for side in ("north", "east", "south", "west"):
            add(Element(f"{storey}-wall-{side}", "IfcWall", f"Wall {storey} {side}",
                        parent=storey, status=status,
                        properties={"IsExternal": _bim(True), "FireRating": _bim("REI 90")}))
        for n in range(3):
            space = f"{storey}-room{n + 1}"
            add(Element(space, "IfcSpace", f"Room {level}.{n + 1:02d}", parent=storey,
                        status=status))
            temp, rh = f"{space}-temp", f"{space}-rh"
            project.sensors += [
                Sensor(temp, "air_temperature", "degC", expected_interval=2.0, resolution=0.01),
                Sensor(rh, "relative_humidity", "percent", expected_interval=2.0,
                       resolution=0.1),
            ]
            project.bindings += [
                Binding(temp, space, "air_temperature"),
                # Humidity is shown as a fraction, the way the comfort model uses it.
                Binding(rh, space, "relative_humidity", Transform(unit="percent")),
            ]
    return project
