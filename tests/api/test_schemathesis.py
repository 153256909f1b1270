"""The OpenAPI document against the live app: schemathesis generates requests for every
operation from the document (bounded examples), sends them as an admin to a real server
over a throwaway SQLite twin, and fails on a server error or an answer that breaks the
status, content type or schema the document declares."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis import checks
from tests.server import free_port

from twinsync.api.app import create_app
from twinsync.config import Settings

from .conftest import bearer, seeded_store

#: Examples per operation: about 35 s for the whole document on 2 shared cores, the same
#: examples each run. ``TWINSYNC_FUZZ_EXAMPLES=200`` hunts deeper, with new examples each run.
DEEPER = os.environ.get("TWINSYNC_FUZZ_EXAMPLES")
EXAMPLES = int(DEEPER or 12)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


class LiveTwin:
    """The app served by uvicorn on a free loopback port, in a thread of the test."""

    def __init__(self, folder: Path) -> None:
        store = seeded_store(folder)
        self.headers = bearer(store)
        # No rate limit: schemathesis sends faster than a device, and a 429 is not what
        # this test looks for (test_rates.py is).
        app = create_app(
            Settings(store=store, rate_requests=0, rate_readings=0, data_folder=folder / "data")
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
            )
        )
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()), daemon=True)

    def __enter__(self) -> LiveTwin:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="module")
def live_twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveTwin]:
    with LiveTwin(tmp_path_factory.mktemp("schemathesis")) as twin:
        yield twin


def _document() -> dict[str, Any]:
    # The document is built from the routes alone (no store is opened for it); the
    # live server below serves the same (a test says so).
    return create_app(Settings(store="sqlite://unused")).openapi()


schema = schemathesis.openapi.from_dict(_document())
schema.config.generation.update(max_examples=EXAMPLES)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=DEEPER is None,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_a_server_error_or_off_its_declared_schema(
    case: Any, live_twin: LiveTwin
) -> None:
    case.call_and_validate(
        base_url=live_twin.url, headers=live_twin.headers, checks=CHECKS, timeout=30
    )


def test_the_document_is_served_to_readers_only(live_twin: LiveTwin) -> None:
    answer = httpx.get(f"{live_twin.url}/openapi.json")
    assert answer.status_code == 401
    document = httpx.get(f"{live_twin.url}/openapi.json", headers=live_twin.headers).json()
    assert document == _document()
    assert document["paths"]["/api/readings"]["post"]["requestBody"]["content"]
