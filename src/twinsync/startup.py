"""What a starting twin does before it serves: seed the demo, start the configured sources."""

from __future__ import annotations

import logging

from .config import Settings
from .demo import demo_project
from .ingest.simulator import SiteSimulator
from .service import TwinService

log = logging.getLogger(__name__)


async def seed_demo(service: TwinService) -> bool:
    """Put the demo project into an empty twin. Returns False if the twin was not empty."""
    if service.twin.elements:
        return False
    project = demo_project()
    await service.import_project(project.elements, project.sensors, project.bindings,
                                 source="demo")
    return True


async def start_sources(service: TwinService, settings: Settings) -> None:
    if settings.demo:
        await seed_demo(service)
        simulator = SiteSimulator(service.twin.sensors.values(), speed=settings.simulator_speed)
        await service.start_connector(simulator)
    if settings.connectors:
        from .ingest.registry import build_connector

        for spec in settings.connectors:
            await service.start_connector(build_connector(spec))
