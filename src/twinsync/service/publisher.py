"""Live values to subscribers: coalesced per bound sensor, pushed on a short tick.

A batch does not build messages. The writer, after applying a batch, only marks the rows
whose live value moved (a NumPy assignment). Every ``interval`` seconds the publisher
asks the writer for the marked rows, computes the fused value of each property they feed
once and vectorised (``fusion.PropertyIndex.fuse``), and hands the hub one change per
marked row. Ten readings of a sensor within a tick are one change: the cost of
publishing follows the number of sensors that moved, not the rate of readings, and it
never runs on the event loop's time with the batch.

Each delta message carries ``committed_at``, the commit time of the oldest batch whose
changes it carries, so a client can tell how far behind the live view is.

Publishing takes at most ``PUBLISH_BUDGET`` of the time: after a tick whose delta took
``d`` seconds to build, the next waits at least ``d / budget - d``. A small twin is pushed
every 50 ms; a fleet of 10,000 sensors that all move gets fewer, larger deltas, and ingest
keeps its pace.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..model import Source
from .background import Background

if TYPE_CHECKING:
    from .twin_service import TwinService

log = logging.getLogger(__name__)

#: How often moved values are pushed: short against what a person notices, long enough
#: for many readings of a busy sensor to become one change.
PUBLISH_INTERVAL_SECONDS = 0.05
#: The share of the time publishing may take: a tick that took longer than that share of
#: the interval delays the next one, so a fleet whose every sensor moves every tick gets
#: fewer, larger deltas instead of slowing ingest.
PUBLISH_BUDGET = 0.1


class Publisher:
    def __init__(self, service: TwinService, *,
                 interval: float = PUBLISH_INTERVAL_SECONDS,
                 budget: float = PUBLISH_BUDGET) -> None:
        self.service = service
        self.interval = interval
        self.budget = budget
        self._dirty = np.zeros(0, dtype=np.bool_)
        self._first_dirty_at: float | None = None
        self._background = Background("twinsync-publisher", self._run)

    # -- on the writer ------------------------------------------------------------------------

    def moved(self, rows: NDArray[np.int64]) -> None:
        """Rows whose live value a committed batch moved (called by the writer)."""
        if rows.size == 0 or not len(self.service.hub):
            return
        needed = int(rows.max()) + 1
        if needed > self._dirty.size:
            grown = np.zeros(max(needed, 2 * self._dirty.size), dtype=np.bool_)
            grown[: self._dirty.size] = self._dirty
            self._dirty = grown
        self._dirty[rows] = True
        if self._first_dirty_at is None:
            self._first_dirty_at = time.time()

    def drain(self) -> tuple[list[dict[str, Any]], float | None]:
        """The changes of every marked row, and the oldest commit they carry; clears the
        marks. Runs on the writer, so it sees committed state whole."""
        committed_at, self._first_dirty_at = self._first_dirty_at, None
        rows = np.flatnonzero(self._dirty)
        if rows.size == 0:
            return [], committed_at
        self._dirty[rows] = False
        return self.changes_of(rows), committed_at

    def changes_of(self, rows: NDArray[np.int64]) -> list[dict[str, Any]]:
        """One change per bound row: its property's fused value and what the sensor said."""
        service = self.service
        properties = service.properties
        table = service.pipeline.table
        inside = rows[rows < properties.property_of_row.size]
        number = properties.property_of_row[inside]
        bound = inside[number >= 0]
        number = number[number >= 0]
        if bound.size == 0:
            return []
        distinct, position = np.unique(number, return_inverse=True)
        fused = properties.fuse(distinct, table, sensor_quality=service.health.quality)
        sensor_quality = service.health.quality(bound)
        keys = properties.keys
        units = properties.units
        ids = table.ids
        iot = Source.IOT.value
        has = fused.has_value[position]
        changes = []
        for row, k, ok, value, confidence, when, own_value, own_time, quality in zip(
                bound.tolist(), distinct[position].tolist(), has.tolist(),
                fused.value[position].tolist(), fused.confidence[position].tolist(),
                fused.time[position].tolist(), table.last_value[bound].tolist(),
                table.last_event_time[bound].tolist(), sensor_quality.tolist(), strict=True):
            if not ok:
                continue
            element_id, name = keys[k]
            changes.append({
                "kind": "property", "element_id": element_id, "property": name,
                "sensor_id": ids[row], "value": value, "unit": units[k], "time": when,
                "source": iot, "quality": confidence, "sensor_value": own_value,
                "sensor_time": own_time, "sensor_quality": quality,
            })
        return changes

    # -- on the event loop --------------------------------------------------------------------

    def start(self) -> None:
        self._background.start()

    async def stop(self) -> None:
        await self._background.stop()

    async def flush(self) -> int:
        """Push what has moved now; returns the number of changes sent."""
        service = self.service
        if not len(service.hub) or self._first_dirty_at is None:
            return 0
        changes, committed_at = await service.view(self.drain)
        if changes:
            service.hub.publish(changes, committed_at=committed_at)
        return len(changes)

    async def _run(self) -> None:
        pause = self.interval
        while True:
            await asyncio.sleep(pause)
            began = time.perf_counter()
            try:
                await self.flush()
            except Exception:  # a bad tick must not end live updates
                log.exception("publishing live values failed")
            # Only building the delta counts: sending waits on the clients, and a slow
            # client is the bounded queue's business, not a reason to publish less often.
            spent = time.perf_counter() - began
            pause = max(self.interval, spent / self.budget - spent)
