from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from twinsync.api.app import create_app
from twinsync.cli.token_cmd import create_token
from twinsync.config import Settings
from twinsync.demo import demo_project
from twinsync.service import TwinService
from twinsync.tokens import Role


def bearer(store_url: str, role: Role = Role.ADMIN, **options: object) -> dict[str, str]:
    """The header of a new token of ``role`` in the store at ``store_url``."""
    secret, _ = create_token(store_url, f"tests {role.value}", role, **options)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {secret}"}


def signed_in(app_settings: Settings, role: Role = Role.ADMIN) -> TestClient:
    """A test client of an app on ``app_settings`` that sends a token of ``role``."""
    return TestClient(create_app(app_settings), headers=bearer(app_settings.store, role))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """An admin's client of the API over a twin holding the code-defined demo project (no
    simulator). Its requests carry an admin token; see test_access for the other roles."""
    url = seeded_store(tmp_path)
    with signed_in(Settings(store=url)) as test_client:
        yield test_client


def seeded_store(folder: Path) -> str:
    """A SQLite store in ``folder`` holding the code-defined demo project; its URL."""
    url = f"sqlite:///{folder / 'twin.sqlite'}"
    seed_demo_project(url)
    return url


def seed_demo_project(url: str) -> None:
    """Import the code-defined demo project into the store at ``url``."""

    async def seed() -> None:
        service = TwinService.open(url)
        project = demo_project()
        await service.import_project(project.elements, project.sensors, project.bindings)
        await service.aclose()

    asyncio.run(seed())
