"""The reading counts survive a crash: a process ingesting into a SQLite file is killed
with SIGKILL mid-stream, and the twin reopened on the file counts exactly what the store
holds, as a twin that ingested the same batches without a crash does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .ingest_worker import PER_SENSOR, SENSORS, batch_number, open_service

KILL_AFTER = 25
"""Batches the worker reports committed before it is killed (it goes on meanwhile)."""


async def test_counts_and_dead_letter_totals_survive_a_kill_9_exactly(tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path / 'crash.db'}"
    base = time.time() - 7200
    await (await open_service(store_url)).aclose()  # the sensors exist before the worker
    worker = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("ingest_worker.py")), store_url,
         repr(base)], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert worker.stdout is not None
    reported = -1
    for line in worker.stdout:
        reported = int(line)
        if reported + 1 >= KILL_AFTER:
            break
    os.kill(worker.pid, signal.SIGKILL)  # mid-stream: it is ingesting the next batches
    assert worker.wait(10) == -signal.SIGKILL
    worker.stdout.close()

    service = await open_service(store_url)
    per_batch = len(SENSORS) * PER_SENSOR
    stored = service.store.counts()["readings"]
    batches = stored // per_batch
    assert stored == batches * per_batch and batches >= reported + 1
    counts = dict(service.pipeline.counts)
    assert counts["accepted"] == stored
    assert counts["duplicates"] == 2 * (batches - 1)  # the repeats of each batch before
    assert counts["lost"] == 3 * batches  # one number of each numbered sensor a batch
    totals = service.store.totals()
    assert totals["dead_letters"] == service.store.counts()["dead_letters"] == batches

    # The same batches into a twin that never crashed: the same counts.
    calm = await open_service(f"sqlite:///{tmp_path / 'calm.db'}")
    for number in range(batches):
        await calm.ingest(batch_number(number, base))
    assert dict(calm.pipeline.counts) == counts
    assert calm.store.totals() == totals
    await calm.aclose()

    # And counting goes on from there.
    await service.ingest(batch_number(batches, base))
    assert service.pipeline.counts["accepted"] == stored + per_batch
    assert service.pipeline.counts["duplicates"] == counts["duplicates"] + 2
    await service.aclose()
    reopened = await open_service(store_url)
    assert reopened.pipeline.counts["accepted"] == stored + per_batch
    assert reopened.store.totals()["dead_letters"] == batches + 1
    await reopened.aclose()
