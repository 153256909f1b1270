from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from twinsync.demo import demo_project
from twinsync.service import TwinService


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[TwinService]:
    svc = TwinService.open(f"sqlite:///{tmp_path / 'twin.sqlite'}")
    project = demo_project()
    await svc.import_project(project.elements, project.sensors, project.bindings)
    yield svc
    await svc.aclose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The SQLite store, and PostgreSQL on a schema of its own (skipped when the server
    is not running, unless TWINSYNC_REQUIRE_SERVICES=1). A test module may narrow it to
    SQLite with a ``store_url`` of its own (``test_supervisor``)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'twin.db'}"
        return
    postgres_url: str = request.getfixturevalue("postgres_url")
    schema = f"twinsync_test_{uuid.uuid4().hex[:12]}"
    yield f"{postgres_url}?schema={schema}"
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
            sql.Identifier(schema)))
