from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from twinsync.demo import demo_project
from twinsync.service import TwinService


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[TwinService]:
    svc = TwinService.open(f"sqlite:///{tmp_path / 'twin.sqlite'}")
    project = demo_project()
    await svc.import_project(project.elements, project.sensors, project.bindings)
    yield svc
    await svc.aclose()
