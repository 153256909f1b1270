"""Helpers shared by the store tests, and the tiered stores as one parametrised fixture."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from psycopg import sql

from twinsync.pipeline import Batch
from twinsync.store.postgres_schema import target_of


def batch_of(rows: list[int], times: list[float], values: list[float]) -> Batch:
    """A committed-looking batch: value and raw value alike, received at 1e9, seq 0..n."""
    n = len(rows)
    return Batch(np.array(rows, dtype=np.int64), np.array(values, dtype=np.float64),
                 np.array(values, dtype=np.float64), np.array(times, dtype=np.float64),
                 np.full(n, 1e9), np.arange(n, dtype=np.int64), source="test")


@pytest.fixture
def schema_url(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL store URL on a schema of its own, dropped afterwards."""
    schema = f"twinsync_test_{uuid.uuid4().hex[:12]}"
    yield f"{postgres_url}?schema={schema}"
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
            sql.Identifier(schema)))


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every tiered store, each on a fresh database; options follow as ``&key=value``."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'twin.sqlite'}?synchronous=normal"
    url: str = request.getfixturevalue("schema_url")
    return url


@contextmanager
def raw(url: str) -> Iterator[Any]:
    """A connection of its own to the store's database, outside twinsync (autocommit):
    what someone who can write the database uses to change the log."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.split("///", 1)[1].split("?", 1)[0],
                                     isolation_level=None)
        try:
            yield connection
        finally:
            connection.close()
        return
    target = target_of(url)
    with psycopg.connect(target.conninfo, autocommit=True) as connection:
        connection.execute(sql.SQL("SET search_path TO {}").format(
            sql.Identifier(target.schema)))
        yield connection
