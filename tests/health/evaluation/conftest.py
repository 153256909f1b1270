"""One small generated part of each kind, shared by the tests of a module run."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.health.evaluation.readings import Readings

from twinsync.health.evaluation import generate


@pytest.fixture(scope="session")
def tune_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tune")
    generate("tune", 3, 10.0, folder, sensors=120)
    return folder


@pytest.fixture(scope="session")
def holdout_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("holdout")
    generate("holdout", 3, 8.0, folder, sensors=60)
    return folder


@pytest.fixture(scope="session")
def tune_readings(tune_site: Path) -> Readings:
    return Readings(tune_site / "READINGS.csv")
