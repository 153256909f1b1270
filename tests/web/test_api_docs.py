"""``/docs`` (Swagger UI) and ``/redoc`` render the API's operations in headless Chromium
with every request to another host refused: the pages, their scripts and the document all
come from this server. Signed in with a link, as a person would be."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from tests.api.conftest import seeded_store
from tests.server import free_port

from twinsync.api.app import find_vendor
from twinsync.api.docs_pages import PACKAGES
from twinsync.config import Settings

from .test_dashboard import VIEWPORT, require_chromium
from .twin_server import ServerThread

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    require_chromium()
    vendor = find_vendor(Settings())
    if vendor is None or not all((vendor / file).is_file() for file in PACKAGES.values()):
        pytest.fail("the npm packages are not installed: make install (web/package.json)")
    folder = tmp_path_factory.mktemp("twin")
    # Seeded in a thread of its own: Playwright's sync API runs a loop in this one.
    with ThreadPoolExecutor(1) as worker:
        store = worker.submit(seeded_store, folder).result()
    thread = ServerThread(store, free_port())
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture(scope="module")
def operations(server: ServerThread) -> int:
    document = httpx.get(f"{server.url}/openapi.json", headers=server.headers).json()
    return sum(len(methods) for methods in document["paths"].values())


def signed_in_page(browser: Any, server: ServerThread) -> tuple[Any, list[str], list[str]]:
    """A page signed in with a link; the addresses elsewhere it tried (each refused), and
    its uncaught errors."""
    page = browser.new_page(viewport=VIEWPORT)
    elsewhere: list[str] = []
    errors: list[str] = []

    def only_this_server(route: Any) -> None:
        if urlsplit(route.request.url).netloc == urlsplit(server.url).netloc:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server.url}/login#token={server.token}")
    page.wait_for_url(f"{server.url}/", timeout=10_000)
    return page, elsewhere, errors


def test_swagger_ui_lists_every_operation_from_this_servers_files(
    browser: Any, server: ServerThread, operations: int, tmp_path: Path
) -> None:
    page, elsewhere, errors = signed_in_page(browser, server)
    page.goto(f"{server.url}/docs")
    page.wait_for_selector(".opblock", timeout=20_000)
    assert page.locator(".opblock").count() == operations
    assert page.locator(".opblock-summary-path", has_text="/api/readings").count() >= 1
    page.screenshot(path=str(tmp_path / "docs.png"))
    assert elsewhere == [] and errors == []
    page.close()


def test_redoc_lists_the_operations_from_this_servers_files(
    browser: Any, server: ServerThread, operations: int
) -> None:
    page, elsewhere, errors = signed_in_page(browser, server)
    page.goto(f"{server.url}/redoc")
    page.wait_for_selector("[data-section-id^='operation/']", timeout=30_000)
    assert page.locator("[data-section-id^='operation/']").count() == operations
    assert page.get_by_text("/api/readings").count() >= 1
    assert elsewhere == [] and errors == []
    page.close()
