from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from twinsync.api.app import create_app
from twinsync.config import Settings
from twinsync.demo import demo_project
from twinsync.service import TwinService


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """The API over a twin holding the code-defined demo project (no simulator)."""
    url = seeded_store(tmp_path)
    with TestClient(create_app(Settings(store=url))) as test_client:
        yield test_client


def seeded_store(folder: Path) -> str:
    """A SQLite store in ``folder`` holding the code-defined demo project; its URL."""
    url = f"sqlite:///{folder / 'twin.sqlite'}"

    async def seed() -> None:
        service = TwinService.open(url)
        project = demo_project()
        await service.import_project(project.elements, project.sensors, project.bindings)
        await service.aclose()

    asyncio.run(seed())
    return url
