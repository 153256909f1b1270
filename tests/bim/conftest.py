"""Generated IFC buildings shared by the bim tests: made once per session, kept small."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinsync.bim import SCHEMAS, GeneratedModel, generate_building

from .models import unrelated_model

SMALL = {"storeys": 2, "bays_x": 2, "bays_y": 2}


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, GeneratedModel]:
    """One small building per supported schema."""
    folder = tmp_path_factory.mktemp("ifc")
    return {schema: generate_building(folder / f"{schema}.ifc", schema=schema, **SMALL)
            for schema in SCHEMAS}


@pytest.fixture(scope="session")
def revisions(tmp_path_factory: pytest.TempPathFactory) -> list[GeneratedModel]:
    """Revisions 0 and 1 of the same IFC4 building, in separate files."""
    folder = tmp_path_factory.mktemp("revisions")
    return [generate_building(folder / f"rev{n}.ifc", revision=n, storeys=2, bays_x=4, bays_y=2)
            for n in (0, 1)]


@pytest.fixture(scope="session")
def model_bytes(models: dict[str, GeneratedModel]) -> bytes:
    return Path(models["IFC4"].path).read_bytes()


@pytest.fixture(scope="session")
def unrelated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A four-element model of another project (``models.unrelated_model``)."""
    return unrelated_model(tmp_path_factory.mktemp("unrelated") / "shed.ifc")
