"""The OPC UA connector against an asyncua server started in this test process."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from asyncua import Server, ua
from tests.server import free_port

from twinsync.errors import ConnectorError
from twinsync.ingest.opcua import OpcuaConnector, OpcuaSettings
from twinsync.service import TwinService

from .mqtt_helpers import wait_until


@pytest.fixture
async def plc() -> AsyncIterator[tuple[str, list[object]]]:
    """A server with two variables; yields its URL and the variables."""
    url = f"opc.tcp://127.0.0.1:{free_port()}/twinsync/"
    server = Server()
    await server.init()
    server.set_endpoint(url)
    namespace = await server.register_namespace("urn:twinsync:test")
    device = await server.nodes.objects.add_object(namespace, "Slab")
    temperature = await device.add_variable(namespace, "Temperature", 20.0)
    strain = await device.add_variable(namespace, "Strain", 0.0)
    async with server:
        yield url, [temperature, strain]


async def test_data_changes_become_readings_stamped_with_the_source_time(
        service: TwinService, plc: tuple[str, list[object]]) -> None:
    url, (temperature, strain) = plc
    connector = OpcuaConnector(OpcuaSettings(name="plc", url=url, publishing_interval=20, nodes=[
        {"node": temperature.nodeid.to_string(), "sensor_id": "s-0", "unit": "degC"},  # type: ignore[attr-defined]
        {"node": strain.nodeid.to_string(), "sensor_id": "s-1"},  # type: ignore[attr-defined]
    ]))
    await service.start_connector(connector)
    assert await wait_until(lambda: service.store.counts()["readings"] >= 2)  # initial values
    stamped = datetime.fromtimestamp(round(time.time()) - 60, UTC)  # the device's clock
    await temperature.write_value(ua.DataValue(ua.Variant(23.5, ua.VariantType.Double),  # type: ignore[attr-defined]
                                               SourceTimestamp=stamped))
    row = service.sensor_row("s-0")
    assert await wait_until(
        lambda: 23.5 in service.store.history(row, 0, 4e9).raw_value.tolist())
    history = service.store.history(row, 0, 4e9)
    assert history.event_time[history.raw_value == 23.5].tolist() == [stamped.timestamp()]
    assert connector.health().connected
    await service.stop_connector("plc")


async def test_a_bad_status_code_becomes_a_dead_letter_not_a_reading(
        service: TwinService, plc: tuple[str, list[object]]) -> None:
    url, (temperature, _) = plc
    connector = OpcuaConnector(OpcuaSettings(name="plc", url=url, publishing_interval=20, nodes=[
        {"node": temperature.nodeid.to_string(), "sensor_id": "s-0"}]))  # type: ignore[attr-defined]
    await service.start_connector(connector)
    assert await wait_until(lambda: service.store.counts()["readings"] >= 1)
    await temperature.write_value(ua.DataValue(  # type: ignore[attr-defined]
        ua.Variant(-999.0, ua.VariantType.Double),
        StatusCode=ua.StatusCode(ua.StatusCodes.BadSensorFailure)))
    assert await wait_until(lambda: service.store.counts()["dead_letters"] == 1)
    [letter] = service.store.dead_letters()
    assert letter.reason == "opcua_bad_status"
    assert "BadSensorFailure" in letter.detail
    assert service.store.counts()["readings"] == 1
    await service.stop_connector("plc")


async def test_a_node_that_does_not_exist_fails_at_start(
        plc: tuple[str, list[object]]) -> None:
    url, _ = plc
    connector = OpcuaConnector(OpcuaSettings(url=url, nodes=[
        {"node": "ns=2;i=99999", "sensor_id": "ghost"}]))
    with pytest.raises(ConnectorError, match="ghost"):
        await connector.start()
    await connector.aclose()
