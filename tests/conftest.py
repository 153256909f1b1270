"""Shared fixtures: real local services, skipped when absent unless CI requires them."""

from __future__ import annotations

import os
import socket

import pytest

SERVICES = {
    "mqtt": ("127.0.0.1", 1883),
    "postgres": ("127.0.0.1", 5432),
    "nats": ("127.0.0.1", 4222),
    "redis": ("127.0.0.1", 6379),
}


def service_up(name: str) -> bool:
    host, port = SERVICES[name]
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_service(name: str) -> None:
    """Skip the test if a service is not running; fail instead when CI requires services."""
    if service_up(name):
        return
    host, port = SERVICES[name]
    message = f"{name} is not running on {host}:{port}"
    if os.environ.get("TWINSYNC_REQUIRE_SERVICES") == "1":
        pytest.fail(message + " (TWINSYNC_REQUIRE_SERVICES=1)")
    pytest.skip(message)


@pytest.fixture(scope="session", autouse=True)
def compiled_reading_path() -> None:
    """Rehearse the reading path once, as a starting server does, before any test times a
    reading's way through or waits for a server to start: on a fresh checkout compiling
    it takes a minute or more, which a server process started by a test (60 s to answer)
    would otherwise spend in its own rehearsal. Afterwards it is in the disk cache."""
    import asyncio

    from twinsync.health import warm_up
    from twinsync.service.rehearsal import rehearse

    asyncio.run(rehearse(anomaly_detection=True, twin_models=True, zone_models=True))
    warm_up()  # and what the health monitor's own checks call outside a batch


@pytest.fixture
def mqtt_broker() -> tuple[str, int]:
    require_service("mqtt")
    return SERVICES["mqtt"]


@pytest.fixture
def postgres_url() -> str:
    require_service("postgres")
    return "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def nats_url() -> str:
    require_service("nats")
    return "nats://127.0.0.1:4222"
