"""What the dashboard's browser tests share: one Chromium per module, the demo site's
server and an API client on it (one per module, unless a module serves its own), and where
their screenshots go (``TWINSYNC_SCREENSHOTS``, else a temporary folder)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .test_dashboard import CHROMIUM, CHROMIUM_ARGS, require_chromium
from .twin_server import ServerThread, serving_demo


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    require_chromium()
    with serving_demo(tmp_path_factory.mktemp("twin")) as thread:
        yield thread


@pytest.fixture(scope="module")
def api(server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10.0, headers=server.headers) as client:
        yield client


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("TWINSYNC_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path
