"""The API's limits: a body or batch past its limit gets 413 with the limit, and a
WebSocket frame past its limit closes the socket with 1009."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from twinsync.api.limits import Limits
from twinsync.config import Settings
from twinsync.errors import InvalidInput

from .conftest import signed_in

JSON = {"content-type": "application/json"}


@pytest.fixture
def small(tmp_path: Path) -> Iterator[TestClient]:
    """The API with small limits, over an empty twin."""
    settings = Settings(store=f"sqlite:///{tmp_path / 'twin.sqlite'}", max_body_bytes=1000,
                        max_readings=5, max_ws_frame_bytes=2000)
    with signed_in(settings) as client:
        yield client


def test_a_body_past_the_limit_is_refused_with_413_and_the_limit(small: TestClient) -> None:
    response = small.post("/api/readings", content=b"[" + b" " * 2000 + b"]", headers=JSON)
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"
    assert response.json()["limit"] == 1000
    assert small.get("/api/dead-letters").json()["count"] == 0


def test_a_batch_of_more_readings_than_the_limit_is_refused_whole(small: TestClient) -> None:
    body = orjson.dumps([{"id": "s", "v": i} for i in range(6)])
    response = small.post("/api/readings", content=body, headers=JSON)
    assert response.status_code == 413
    answer = response.json()
    assert (answer["error"], answer["limit"], answer["readings"]) == (
        "too_many_readings", 5, 6)


def test_a_websocket_frame_past_the_limit_closes_the_socket_with_1009(
        small: TestClient) -> None:
    with small.websocket_connect("/ws") as ws:
        ws.send_text('{"type": "ping", "pad": "' + "x" * 3000 + '"}')
        error = ws.receive_json()
        assert (error["error"], error["limit"]) == ("frame_too_large", 2000)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1009


def test_limits_come_from_the_settings_and_must_be_positive() -> None:
    assert Limits.from_settings(Settings(max_readings=7)).decode.max_readings == 7
    with pytest.raises(InvalidInput):
        Limits(max_body_bytes=0)
