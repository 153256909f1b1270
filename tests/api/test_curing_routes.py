"""Progress from sensors over HTTP: a mix declared by an admin (and refused to an operator
or when malformed), readings of a slab's temperature posted as any device posts them, and
the slab's maturity read as of now and as of an earlier date."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from twinsync.config import Settings
from twinsync.model import Binding, Element, PropertyValue, Sensor
from twinsync.service import TwinService
from twinsync.tokens import Role

from .conftest import bearer, signed_in

MIX = {
    "name": "C30-slab",
    "curve": {"form": "logarithmic", "a": -20.0, "b": 12.0},
    "required_strength": 20.0,
    "ifc_class": "IfcSlab",
    "max_gap_hours": 1.0,
}
#: the pour, whole minutes ago (the schedule's dates are to the minute)
POURED = datetime.fromtimestamp(time.time() - 3 * 3600).replace(second=0, microsecond=0)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    """An admin's client over a twin holding a slab poured three hours ago and its
    temperature sensor, and the store's URL."""
    url = f"sqlite:///{tmp_path / 'twin.sqlite'}"

    async def seed() -> None:
        service = TwinService.open(url)
        await service.import_project(
            [
                Element(
                    "slab-1",
                    "IfcSlab",
                    properties={"poured_at": PropertyValue(POURED.strftime("%Y-%m-%d %H:%M"))},
                )
            ],
            [Sensor("slab-1-t", "slab_temperature", "degC")],
            [Binding("slab-1-t", "slab-1", "core_temperature")],
        )
        await service.aclose()

    asyncio.run(seed())
    with signed_in(Settings(store=url)) as test_client:
        test_client.headers.update(bearer(url, Role.ADMIN))
        yield test_client, url


def test_a_slabs_maturity_from_readings_posted_over_http(site: tuple[TestClient, str]) -> None:
    client, url = site
    assert client.get("/api/elements/slab-1/maturity").status_code == 404
    operator = bearer(url, Role.OPERATOR)
    assert client.post("/api/mixes", json=MIX, headers=operator).status_code == 403
    bad = client.post("/api/mixes", json={**MIX, "curve": {"form": "cubic"}})
    assert bad.status_code == 422 and "form" in bad.json()["detail"]
    declared = client.post("/api/mixes", json=MIX)
    assert declared.status_code == 201, declared.text
    assert client.get("/api/mixes").json() == [declared.json()]

    pour = POURED.timestamp()
    # every half hour since the pour at 20 °C: 30 °C·h an hour over the -10 °C datum
    readings = [
        {"sensor_id": "slab-1-t", "value": 20.0, "time": pour + 1800.0 * k, "seq": k}
        for k in range(1, 6)
    ]
    answer = client.post("/api/readings", json={"readings": readings})
    assert answer.status_code == 200 and answer.json()["accepted"] == 5, answer.text
    view = client.get("/api/elements/slab-1/maturity").json()
    assert view["pour_source"] == "declared" and view["poured_at"] == pour
    assert view["maturity"] == pytest.approx(75.0)  # 2.5 h x 30
    assert view["unit"] == "°C·h" and view["reached"] is False
    assert view["governing_sensor"] == "slab-1-t" and view["extrapolated"] is False
    # as of an hour after the pour: two readings, 30 °C·h
    as_of = datetime.fromtimestamp(pour + 3600).strftime("%Y-%m-%d %H:%M")
    then = client.get("/api/elements/slab-1/maturity", params={"as_of": as_of}).json()
    assert then["maturity"] == pytest.approx(30.0)
    assert client.get("/api/elements/slab-1/maturity", params={"as_of": "soon"}).status_code == 422
    # A new version of the mix fitted from its breaks: the strength gets its interval; two
    # and a half hours of readings are too few to tell the pace, so no time is projected.
    breaks = [{"maturity": m, "strength": s} for m, s in
              [(500.0, 11.0), (1000.0, 16.5), (2000.0, 19.0), (4000.0, 24.5)]]
    fitted = client.post("/api/mixes", json={**MIX, "curve": {"form": "logarithmic",
                                                              "breaks": breaks}})
    assert fitted.status_code == 201 and fitted.json()["curve"]["scatter"]["breaks"] == 4
    view = client.get("/api/elements/slab-1/maturity").json()
    interval = view["strength_interval"]
    assert interval["coverage"] == 0.9 and interval["low"] <= view["strength"] < interval["high"]
    assert view["pace"] is None and view["targets"]["required"]["expected_at"] is None
    assert view["targets"]["required"]["maturity_range"]["latest"] > view["required_maturity"]
