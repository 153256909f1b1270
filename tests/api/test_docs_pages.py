"""``/docs`` and ``/redoc`` work without the internet: each page refers only to this
server's own files (the npm packages under ``/vendor``), each of which it serves, and only
to those who may read the OpenAPI document. Without the packages the pages say how to get
them. (tests/web/test_api_docs.py renders both in Chromium.)"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from twinsync.api.app import create_app, find_vendor
from twinsync.api.docs_pages import PACKAGES
from twinsync.config import Settings
from twinsync.tokens import Role

from .conftest import bearer, seeded_store


class References(HTMLParser):
    """Every address a page makes the browser load or follow."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "spec-url", "action") and value:
                self.found.append(value)


def references(html: str) -> list[str]:
    parser = References()
    parser.feed(html)
    return parser.found


def vendor_folder() -> Path:
    vendor = find_vendor(Settings())
    if vendor is None or not all((vendor / file).is_file() for file in PACKAGES.values()):
        pytest.skip("the npm packages are not installed: make install (web/package.json)")
    return vendor


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    store = seeded_store(tmp_path_factory.mktemp("docs"))
    settings = Settings(store=store, web_vendor=vendor_folder())
    with TestClient(create_app(settings)) as client:
        yield client, store


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_page_loads_only_this_servers_files_and_each_is_served(
    twin: tuple[TestClient, str], page: str
) -> None:
    client, store = twin
    viewer = bearer(store, Role.VIEWER)
    answer = client.get(page, headers=viewer)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    found = references(answer.text)
    assert '"/openapi.json"' in answer.text
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert re.findall(r"https?://|\bwss?://", answer.text) == []  # inline script included
    for address in found:
        assert address.startswith("data:") or (
            address.startswith("/") and not address.startswith("//")
        ), f"{page} refers to {address}, which is not on this server"
        if address.startswith("/"):
            assert client.get(address, headers=viewer).status_code == 200, address


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_page_is_for_those_who_may_read_the_document(
    twin: tuple[TestClient, str], page: str
) -> None:
    client, store = twin
    assert client.get(page).status_code == 401
    assert client.get(page, headers=bearer(store, Role.DEVICE, sensors=("x",))).status_code == 403
    for role in (Role.VIEWER, Role.OPERATOR, Role.ADMIN):
        assert client.get(page, headers=bearer(store, role)).status_code == 200


def test_without_the_npm_packages_the_pages_say_how_to_install_them(tmp_path: Path) -> None:
    store = seeded_store(tmp_path)
    empty = tmp_path / "node_modules"
    empty.mkdir()
    with TestClient(create_app(Settings(store=store, web_vendor=empty))) as client:
        for page in ("/docs", "/redoc"):
            answer = client.get(page, headers=bearer(store, Role.VIEWER))
            assert answer.status_code == 404 and "make install" in answer.json()["detail"]
