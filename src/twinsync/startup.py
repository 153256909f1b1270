"""What a starting twin does before it serves: seed the demo, start the configured sources.

The demo is a building generated as IFC by twinsync's own code (``twinsync.bim``),
imported like any user's model, plus the extra loggers a site would stick on: redundant
slab loggers, room sensors, strain gauges and a weather station, 50 sensors in all.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from .bim import generate_building
from .config import Settings
from .demo import storey_status
from .ingest.simulator import SiteSimulator
from .model import SPATIAL_TYPES, Binding, Sensor, Status
from .service import TwinService
from .service.views import storey_order

log = logging.getLogger(__name__)
DEMO_SENSORS = 50


async def seed_demo(service: TwinService, *, storeys: int = 4) -> bool:
    """Put the demo project into an empty twin. Returns False if the twin was not empty."""
    if service.twin.elements:
        return False
    with tempfile.TemporaryDirectory(prefix="twinsync-demo-") as folder:
        model = generate_building(Path(folder) / "demo.ifc", storeys=storeys,
                                  name="Riverside Block A")
        await service.models.import_bytes(model.path.read_bytes(), name="riverside-block-a.ifc")
    twin = service.twin
    extra_sensors, extra_bindings = _site_loggers(service)
    await service.import_project([], extra_sensors, extra_bindings, source="demo")
    storeys_by_height = sorted((e for e in twin.elements.values()
                                if e.type == "IfcBuildingStorey"), key=storey_order)
    progress = {s.id: storey_status(i, len(storeys_by_height))
                for i, s in enumerate(storeys_by_height)}
    for element in list(twin.elements.values()):
        status = progress.get(twin.storey_of(element.id) or "")
        if status is not None and element.type not in SPATIAL_TYPES \
                and status is not Status.PLANNED:
            await service.update_element(element.id, status=status.value, source="schedule")
    return True


def _site_loggers(service: TwinService) -> tuple[list[Sensor], list[Binding]]:
    """Loggers added on site beside the model's own sensors, up to DEMO_SENSORS."""
    twin = service.twin
    sensors: list[Sensor] = []
    bindings: list[Binding] = []

    def add(sensor_id: str, kind: str, unit: str, element_id: str, prop: str) -> None:
        if sensor_id in twin.sensors or len(twin.sensors) + len(sensors) >= DEMO_SENSORS:
            return
        sensors.append(Sensor(sensor_id, kind, unit, expected_interval=2.0,
                              resolution=0.01 if kind == "temperature" else 0.1))
        bindings.append(Binding(sensor_id, element_id, prop))

    site = next(e for e in twin.elements.values() if e.type == "IfcSite")
    add("WEATHER-T", "temperature", "degC", site.id, "ambient_temperature")
    add("WEATHER-H", "humidity", "percent", site.id, "relative_humidity")
    by_type: dict[str, list[str]] = {}
    for element in sorted(twin.elements.values(), key=lambda e: e.name):
        by_type.setdefault(element.type, []).append(element.id)
    bound = {b.element_id for b in twin.bindings.values()}
    # Redundant loggers beside the model's own, in the floor slabs (not landings or roofs):
    # the health checks compare them.
    for slab in (s for s in by_type.get("IfcSlab", []) if s in bound):
        for n in (2, 3):
            add(f"{twin.elements[slab].name}-T{n}".replace(" ", "-").upper(),
                "temperature", "degC", slab, "core_temperature")
    for space in by_type.get("IfcSpace", []):
        if space not in bound:
            add(f"{twin.elements[space].name}-T".replace(" ", "-").upper(),
                "temperature", "degC", space, "air_temperature")
    for column in by_type.get("IfcColumn", [])[::8]:
        add(f"{twin.elements[column].name}-S".replace(" ", "-").upper(),
            "strain", "microstrain", column, "strain")
    return sensors, bindings


async def start_sources(service: TwinService, settings: Settings) -> None:
    if settings.demo:
        await seed_demo(service)
        simulator = SiteSimulator(service.twin.sensors.values(), service.twin.bindings,
                                  speed=settings.simulator_speed)
        await service.start_connector(simulator)
    if settings.connectors:
        from .ingest.registry import build_connector

        for spec in settings.connectors:
            # A bad table fails here, by name. A source that is not reachable yet (a broker
            # still loading a large persistent backlog, a PLC that is off) does not stop
            # the twin from serving: its supervisor keeps trying, and its health says so.
            await service.start_connector(build_connector(spec), wait=False)
