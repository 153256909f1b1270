"""The PostgreSQL store: the conformance check, restarts, partitions and the service on it.

Each test writes its own schema and drops it afterwards, so tests never see each other's
rows and a shared database stays clean.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psycopg
import pytest
from psycopg import sql

from twinsync.errors import StoreError
from twinsync.model import Binding, Element, Sensor
from twinsync.pipeline import Batch, IncomingBatch, RawReading
from twinsync.service import TwinService
from twinsync.store import open_store
from twinsync.store.check import check_store, expected_aggregates
from twinsync.store.postgres import PostgresStore


@pytest.fixture
def schema_url(postgres_url: str) -> Iterator[str]:
    schema = f"twinsync_test_{uuid.uuid4().hex[:12]}"
    yield f"{postgres_url}?schema={schema}"
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
            sql.Identifier(schema)))


def _batch(rows: list[int], times: list[float], values: list[float]) -> Batch:
    n = len(rows)
    return Batch(np.array(rows, dtype=np.int64), np.array(values, dtype=np.float64),
                 np.array(values, dtype=np.float64), np.array(times, dtype=np.float64),
                 np.full(n, 1e9), np.arange(n, dtype=np.int64), source="test")


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


def test_reopening_a_schema_gives_the_same_twin_history_aggregates_and_sequences(
        schema_url: str) -> None:
    store = PostgresStore(schema_url + "&seal_rows=500")
    store.save_changes([], elements=[Element("e", "IfcSlab")],
                       sensors=[(row, Sensor(f"s{row}", "temperature", "degC"))
                                for row in range(20)])
    rng = np.random.default_rng(5)
    for number in range(4):
        store.commit(_batch(rng.integers(0, 20, 300).tolist(),
                            (number * 300 + np.arange(300)).astype(float).tolist(),
                            rng.random(300).tolist()), [])
    if store._sealer is not None:  # a seal in the background: let it land first
        store._sealer.join()
    # Some readings are sealed (the threshold was crossed), the rest are hot.
    before = (store.aggregates(), store.history(3, 0.0, 1e9), store.counts(),
              store.recent_sequences(), store.load_twin())
    store.close()
    reopened = PostgresStore(schema_url)
    after = (reopened.aggregates(), reopened.history(3, 0.0, 1e9), reopened.counts(),
             reopened.recent_sequences(), reopened.load_twin())
    reopened.close()
    for name in ("rows", "count", "last_value", "last_event_time", "minimum", "maximum"):
        assert getattr(after[0], name).tolist() == getattr(before[0], name).tolist()
    assert np.allclose(after[0].mean, before[0].mean) and np.allclose(after[0].m2, before[0].m2)
    assert after[1].event_time.tolist() == before[1].event_time.tolist()
    assert after[1].value.tolist() == before[1].value.tolist()
    assert after[2] == before[2] and after[2]["readings"] == 1200
    assert [a.tolist() for a in after[3]] == [b.tolist() for b in before[3]]
    assert [(r, s.to_dict()) for r, s in after[4][1]] == [(r, s.to_dict())
                                                          for r, s in before[4][1]]


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
            store.commit(_batch([0, 1], [when, when + 1], [1.0, 2.0]), [])
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
        store.commit(_batch([0], [january], [3.0]), [])
        store.seal()
        assert store.history(0, 0.0, 2e9).event_time.tolist() == [january, march]
    finally:
        store.close()


def test_a_background_seal_keeps_every_reading_exactly_once(schema_url: str) -> None:
    store = PostgresStore(schema_url + "&seal_rows=1000")
    rng = np.random.default_rng(3)
    committed = []
    try:
        for number in range(20):
            rows = rng.integers(0, 50, 400).tolist()
            times = (number * 400 + np.arange(400)).astype(float).tolist()
            values = rng.random(400).tolist()
            store.commit(_batch(rows, times, values), [])
            committed.extend((r, t, v, 0) for r, t, v in zip(rows, times, values, strict=True))
            assert store.counts()["readings"] == len(committed)
        store.seal()
        got, want = store.aggregates(), expected_aggregates(committed)
        assert got.count.tolist() == want.count.tolist()
        assert np.allclose(got.mean, want.mean) and np.allclose(got.m2, want.m2)
        history = store.history(7, 0.0, 1e9)
        assert history.event_time.tolist() == sorted(t for r, t, _, _ in committed if r == 7)
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


def test_commits_from_several_threads_beside_seals_are_neither_lost_nor_doubled(
        schema_url: str) -> None:
    import threading

    url = schema_url + "&seal_rows=700"

    def push(store: PostgresStore, worker: int) -> None:
        for number in range(25):
            times = [worker * 1e4 + number * 100.0 + k for k in range(100)]
            store.commit(_batch([worker] * 100, times, [float(worker)] * 100), [])

    store = PostgresStore(url)
    workers = [threading.Thread(target=push, args=(store, w)) for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    store.close()  # some readings sealed (on the seal's own connection), the rest journalled
    reopened = PostgresStore(url)
    try:
        assert reopened.counts()["readings"] == 4 * 25 * 100
        assert reopened.aggregates().count.tolist() == [2500] * 4
        history = reopened.history(2, 0.0, 1e9)
        assert len(history.event_time) == 2500 and len(set(history.event_time.tolist())) == 2500
    finally:
        reopened.close()
