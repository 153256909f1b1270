"""The learned state goes on after a crash as if the process had not stopped: a process
ingesting into a store saves its learned state once, goes on, and is killed with SIGKILL
mid-stream; the twin reopened on the store replays the batches committed after the save
and holds the same health table, anomaly detector, level/trend models and thermal zones,
to the bit, as a twin that ingested the same batches without a crash. Seals run between
the save and the crash (a small ``seal_rows``), so the replayed batches are in segments
already. A replay after a clean stop has nothing to do."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from twinsync.health import snapshot
from twinsync.service import TwinService, recovery
from twinsync.store import open_store

from .replay_worker import JUMP, PER_BATCH, SAVED, batch_number, open_service

KILL_AFTER = JUMP + 20
"""Batches the worker reports committed before it is killed (it goes on meanwhile)."""
SEAL_ROWS = 200


@pytest.fixture(params=["sqlite", "postgresql"])
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The crashed twin's store and the calm twin's, of one kind, sealing every few
    batches."""
    if request.param == "sqlite":
        yield (f"sqlite:///{tmp_path / 'crash.db'}?seal_rows={SEAL_ROWS}",
               f"sqlite:///{tmp_path / 'calm.db'}?seal_rows={SEAL_ROWS}")
        return
    postgres_url: str = request.getfixturevalue("postgres_url")
    schemas = [f"twinsync_test_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    yield tuple(f"{postgres_url}?schema={schema}&seal_rows={SEAL_ROWS}"  # type: ignore[misc]
                for schema in schemas)
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        for schema in schemas:
            connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(schema)))


async def learned(service: TwinService) -> dict[str, bytes | None]:
    """Everything the twin has learned, as it saves it."""
    def dump() -> dict[str, bytes | None]:
        ids = service.pipeline.table.ids
        return {"health": snapshot.dump(service.health, ids),
                "anomaly": service.anomalies.dump(), "models": service.twin_models.dump(),
                "zones": service.zones.dump()}
    return await service.view(dump)


def crash_after(store_url: str, batches: int) -> None:
    """Run the worker on the store and kill it (SIGKILL) once it has reported
    ``batches`` committed."""
    worker = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("replay_worker.py")), store_url],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert worker.stdout is not None
    saved = False
    try:
        for line in worker.stdout:
            saved = saved or line.strip() == "saved"
            if line.strip().isdigit() and int(line) + 1 >= batches:
                break
    finally:
        os.kill(worker.pid, signal.SIGKILL)  # mid-stream: it is ingesting the next batches
        assert worker.wait(60) == -signal.SIGKILL
        worker.stdout.close()
    assert saved


async def test_health_anomalies_models_and_zones_go_on_after_a_kill_9_as_without_it(
        two_stores: tuple[str, str]) -> None:
    crash_url, calm_url = two_stores
    crash_after(crash_url, KILL_AFTER)
    store = open_store(crash_url)
    saved_health = store.load_snapshot("health")
    store.close()

    service = await open_service(crash_url)
    try:
        stored = service.store.counts()["readings"]
        batches = stored // PER_BATCH
        assert stored == batches * PER_BATCH and batches >= KILL_AFTER
        # Every batch after the save was replayed, and no other.
        assert service.replayed.batches == batches - SAVED
        assert service.replayed.readings == (batches - SAVED) * PER_BATCH
        after = await learned(service)
        model = (await service.twin_models.of_element("column"))["sensors"][0]
        zones = [await service.zones.of_element(f"room-{k}") for k in range(2)]
    finally:
        await service.aclose()

    calm = await open_service(calm_url)
    try:
        for number in range(batches):
            await calm.ingest(batch_number(number))
        expected = await learned(calm)
        calm_model = (await calm.twin_models.of_element("column"))["sensors"][0]
        calm_zones = [await calm.zones.of_element(f"room-{k}") for k in range(2)]
    finally:
        await calm.aclose()

    assert after == expected
    assert model == calm_model and model["recalibration"] is not None
    assert zones == calm_zones and all(zone["modelled"] for zone in zones)
    # What was saved before the crash is not it: the replay made the difference.
    assert saved_health is not None and saved_health != expected["health"]


async def test_a_replay_after_a_clean_stop_has_nothing_to_do_and_costs_nothing(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twin.db'}?seal_rows={SEAL_ROWS}"
    service = await open_service(url)
    for number in range(30):
        await service.ingest(batch_number(number))
    await service.aclose()
    reopened = await open_service(url)
    try:
        assert reopened.replayed.batches == 0
        started = time.perf_counter()
        again = await reopened.view(recovery.replay, reopened)
        assert again.batches == 0
        assert time.perf_counter() - started < 0.25
    finally:
        await reopened.aclose()


async def test_a_replay_stops_at_its_budget_and_says_what_it_left(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twin.db'}"
    service = await open_service(url)
    for number in range(12):
        await service.ingest(batch_number(number))
    service.store.close()  # a crash: nothing saved since the store was made
    reopened = TwinService.open(url, replay_budget=0.0)
    try:
        # One page read, then the budget is spent.
        assert reopened.replayed.batches == 12 and not reopened.replayed.cut_short
        cut = recovery.replay(reopened, budget=0.0, page=5)
        assert cut.batches == 5 and cut.cut_short
    finally:
        await reopened.aclose()
