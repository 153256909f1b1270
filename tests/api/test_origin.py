"""The WebSocket of a real server opens only for a reader from the server's own pages (or
an origin the settings allow), checked on the handshake with a real WebSocket client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from tests.server import free_port
from tests.web.twin_server import ServerThread
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from .conftest import bearer, seeded_store

ALLOWED = "https://board.example.com"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    store = seeded_store(tmp_path_factory.mktemp("origin"))
    running = ServerThread(store, free_port(), cors_origins=[ALLOWED])
    running.start()
    yield running
    running.stop()


def opens(server: ServerThread, headers: dict[str, str]) -> bool:
    """Whether the socket opens and answers a ping; False if the handshake is refused."""
    try:
        with connect(f"ws://127.0.0.1:{server.port}/ws", additional_headers=headers,
                     open_timeout=10) as socket:
            socket.send('{"type": "ping", "id": 1}')
            return bool(orjson.loads(socket.recv(timeout=10))["type"] == "pong")
    except InvalidStatus as refused:
        assert refused.response.status_code == 403
        return False


def test_a_page_of_another_site_cannot_open_the_websocket(server: ServerThread) -> None:
    assert not opens(server, {**server.headers, "Origin": "https://evil.example"})
    assert not opens(server, {**server.headers, "Origin": "null"})
    assert not opens(server, {**server.headers, "Origin": f"http://127.0.0.1:{free_port()}"})


def test_the_servers_own_pages_and_allowed_origins_can(server: ServerThread) -> None:
    assert opens(server, {**server.headers, "Origin": server.url})
    assert opens(server, {**server.headers, "Origin": ALLOWED})
    assert opens(server, server.headers)  # a program, not a browser: its token decides


def test_no_token_and_a_device_token_cannot_open_it(server: ServerThread,
                                                    tmp_path: Path) -> None:
    from twinsync.tokens import Role

    assert not opens(server, {"Origin": server.url})
    assert not opens(server, {**bearer(server.store, Role.DEVICE, sensors=("x",)),
                              "Origin": server.url})


def test_cors_is_closed_but_to_allowed_origins(server: ServerThread) -> None:
    import httpx

    for origin, allowed in (("https://evil.example", False), (ALLOWED, True)):
        answer = httpx.options(f"{server.url}/api/project", headers={
            "Origin": origin, "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization"})
        assert (answer.headers.get("access-control-allow-origin") == origin) == allowed
