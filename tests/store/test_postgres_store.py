"""The PostgreSQL store: the conformance check, restarts, partitions and the service on it.

Each test writes its own schema and drops it afterwards, so tests never see each other's
rows and a shared database stays clean.
"""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest
from tests.store.conftest import batch_of

from twinsync.errors import StoreError
from twinsync.model import Binding, Element, Sensor
from twinsync.pipeline import IncomingBatch, RawReading
from twinsync.service import TwinService
from twinsync.store import open_store
from twinsync.store.check import check_store
from twinsync.store.postgres import PostgresStore


def test_the_postgres_store_passes_the_conformance_check(schema_url: str) -> None:
    check_store(lambda: PostgresStore(schema_url))


def test_a_postgres_store_that_seals_after_every_batch_passes_the_conformance_check(
        schema_url: str) -> None:
    check_store(lambda: PostgresStore(schema_url + "&seal_rows=1"))


def test_open_store_picks_the_postgres_store_by_scheme(schema_url: str) -> None:
    store = open_store(schema_url.replace("postgresql://", "postgres://"))
    try:
        assert isinstance(store, PostgresStore)
    finally:
        store.close()
    store.close()  # closing twice is harmless


def test_a_second_writer_on_the_same_schema_is_refused(schema_url: str) -> None:
    store = PostgresStore(schema_url)
    try:
        with pytest.raises(StoreError, match="open for writing"):
            PostgresStore(schema_url)
    finally:
        store.close()
    PostgresStore(schema_url).close()  # released on close


def test_a_server_that_cannot_be_reached_is_a_store_error() -> None:
    with pytest.raises(StoreError):
        PostgresStore("postgresql://postgres@127.0.0.1:1/test?connect_timeout=2")


def test_segments_land_in_monthly_partitions_and_old_months_can_be_dropped(
        schema_url: str) -> None:
    store = PostgresStore(schema_url + "&seal_rows=1")
    january, march = 1_704_067_200.0 + 3600, 1_709_251_200.0 + 3600  # 2024-01, 2024-03
    try:
        for when in (january, march):
            store.commit(batch_of([0, 1], [when, when + 1], [1.0, 2.0]), [])
            store.seal()
        with psycopg.connect(schema_url.split("?")[0]) as c:
            partitions = sorted(name for (name,) in c.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n "
                "ON n.oid = p.relnamespace WHERE n.nspname = %s AND p.relname = 'segments'",
                (store.schema,)))
        assert partitions == ["segments_other", "segments_y2024m01", "segments_y2024m03"]
        assert store.drop_history_before(march - 86_400) == ["segments_y2024m01"]
        assert store.history(0, 0.0, 2e9).event_time.tolist() == [march]
        assert store.counts()["readings"] == 2
        # A month dropped can be written again: its partition is made anew.
        store.commit(batch_of([0], [january], [3.0]), [])
        store.seal()
        assert store.history(0, 0.0, 2e9).event_time.tolist() == [january, march]
    finally:
        store.close()


async def test_the_service_on_postgres_ingests_and_reads_back_after_a_restart(
        schema_url: str, tmp_path: Path) -> None:
    service = TwinService.open(schema_url, models_dir=tmp_path / "models")
    now = time.time()
    try:
        await service.import_project(
            [Element("slab", "IfcSlab")],
            [Sensor("t", "temperature", "degC", expected_interval=60.0)],
            [Binding("t", "slab", "core_temperature")], source="test")
        result = await service.ingest(IncomingBatch(
            [RawReading("t", 20.0 + i, now - 10 + i, None, i) for i in range(5)]
            + [RawReading("nobody", 1.0)], "test", now, "test"))
        assert result.accepted == 5
        assert [r[1] for r in result.rejected] == ["unknown_sensor"]
        history = service.store.history(service.sensor_row("t"), now - 60, now + 60)
        assert history.value.tolist() == [20.0, 21.0, 22.0, 23.0, 24.0]
        await service.update_element("slab", status="issue", properties={"note": "crack"})
    finally:
        await service.aclose()
    reopened = TwinService.open(schema_url, models_dir=tmp_path / "models")
    try:
        snapshot = reopened.sensor_snapshot("t")
        assert snapshot["value"] == 24.0
        assert reopened.twin.element("slab").status.value == "issue"
        assert reopened.store.dead_letters()[0].payload == {"sensor_id": "nobody",
                                                           "value": 1.0}
        # Redelivered readings (the same sequence numbers) are recognised after the restart.
        again = await reopened.ingest(IncomingBatch(
            [RawReading("t", 24.0, now - 6, None, 4)], "test", now, "test"))
        assert again.accepted == 0 and again.duplicates == 1
        assert reopened.store.counts()["readings"] == 5
    finally:
        await reopened.aclose()



async def test_the_service_on_postgres_takes_a_batch_whole_after_its_commit_was_cut_off(
        schema_url: str, postgres_url: str, tmp_path: Path) -> None:
    """A batch whose commit lost its connection is refused, changes nothing live, and the
    same batch sent again is accepted whole, stored once."""
    import asyncio

    schema = schema_url.split("schema=")[1]
    service = TwinService.open(f"{schema_url}&application_name={schema}",
                               models_dir=tmp_path / "models")
    now = time.time()
    batch = [RawReading("t", 20.0 + i, now - 10 + i, None, i) for i in range(5)]
    try:
        await service.import_project([Element("slab", "IfcSlab")],
                                     [Sensor("t", "temperature", "degC")],
                                     [Binding("t", "slab", "core_temperature")], source="test")
        before = service.sensor_snapshot("t")
        with psycopg.connect(postgres_url) as blocker:
            blocker.execute(f'LOCK TABLE "{schema}".journal IN ACCESS EXCLUSIVE MODE')
            ingest = asyncio.ensure_future(
                service.ingest(IncomingBatch(batch, "test", now, "test")))
            for _ in range(500):
                with psycopg.connect(postgres_url, autocommit=True) as admin:
                    if admin.execute(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                            "application_name = %s AND query LIKE 'INSERT INTO journal%%'",
                            (schema,)).fetchall():
                        break
                await asyncio.sleep(0.01)
            with pytest.raises(StoreError):
                await ingest
            blocker.rollback()
        assert service.sensor_snapshot("t") == before
        again = await service.ingest(IncomingBatch(batch, "test", now, "test"))
        assert (again.accepted, again.duplicates) == (5, 0)
        history = service.store.history(service.sensor_row("t"), now - 60, now + 60)
        assert history.seq.tolist() == [0, 1, 2, 3, 4]
    finally:
        await service.aclose()
