"""Live values to subscribers: coalesced per bound sensor, pushed on a short tick.

A batch does not build messages. The writer, after applying a batch, marks the rows whose
live value moved (a NumPy assignment). If a delta is due (the last one left at least a
pause ago), it then builds one at once, in the same turn: the fused value of each property
the marked rows feed, computed once and vectorised (``fusion.PropertyIndex.fuse``), handed
to the event loop as columns (``changes.PropertyChanges``) for the hub to send. If not, the
first mark wakes the publisher on the event loop, which asks the writer for the marks when
the pause is over. Ten readings of a sensor within a pause are one change: the cost of
publishing follows the number of sensors that moved, not the rate of readings.

So a change after a quiet spell goes out at once, and while values keep moving at most one
delta leaves every ``interval`` seconds; under steady ingest each delta is built right after
the commit it carries, not after the next batch. Each delta carries ``committed_at``, the
commit time of the oldest batch whose changes it carries, so a client can tell how far
behind the live view is.

Building a delta takes at most ``PUBLISH_BUDGET`` of the time: after a delta that took
``d`` seconds to build (on the writer, and encoding it), the next waits at least
``d / budget - d``. A small twin is pushed every 50 ms; a fleet of 100,000 sensors that all
move gets fewer, larger deltas, and ingest keeps its pace. Waiting for the writer to
finish the batch it is on does not count: that is not publishing's cost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from .background import Background
from .changes import PropertyChanges
from .field_sources import field_sources
from .model_sources import zone_sources

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
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        #: When the next delta may leave (``time.perf_counter``), set after each one sent.
        self._due = 0.0
        #: A delta the writer built is on its way to the event loop: build no other yet.
        self._handing_over = False
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
        loop = self._loop
        if loop is None:
            if self._first_dirty_at is None:
                self._first_dirty_at = time.time()
            return
        if not self._handing_over and time.perf_counter() >= self._due:
            # Due already: build the delta in this same turn of the writer, rather than
            # after the batch it takes up next (the wait a tick's drain would have).
            if self._first_dirty_at is None:
                self._first_dirty_at = time.time()
            try:
                built = self.drain()
            except Exception:
                # The batch is committed: a delta that cannot be built must not fail it.
                # The marks stay, and the event loop's tick tries again.
                log.exception("building live values failed")
                loop.call_soon_threadsafe(self._wake.set)
                return
            self._handing_over = True
            loop.call_soon_threadsafe(self._send, *built)
        elif self._first_dirty_at is None:
            self._first_dirty_at = time.time()
            loop.call_soon_threadsafe(self._wake.set)  # the loop sends it when due

    def drain(self) -> tuple[PropertyChanges | None, float | None, float]:
        """The moved values of every marked row, the oldest commit they carry, and the
        seconds building them took; clears the marks once built (a build that raises
        leaves them for the next try). Runs on the writer, so it sees committed state
        whole."""
        began = time.perf_counter()
        rows = np.flatnonzero(self._dirty)
        changes = self.changes_of(rows) if rows.size else None
        committed_at, self._first_dirty_at = self._first_dirty_at, None
        self._dirty[rows] = False
        return changes, committed_at, time.perf_counter() - began

    def changes_of(self, rows: NDArray[np.int64]) -> PropertyChanges | None:
        """One entry per bound row with a value: its property's fused value and what the
        sensor said (its reading, time, quality and anomaly score)."""
        service = self.service
        properties = service.properties
        table = service.pipeline.table
        inside = rows[rows < properties.property_of_row.size]
        number = properties.property_of_row[inside]
        bound = inside[number >= 0]
        number = number[number >= 0]
        if bound.size == 0:
            return None
        distinct, position = np.unique(number, return_inverse=True)
        # A field measurement of a property is one of its sources on the live path too,
        # so a delta shows the value the element's snapshot shows.
        keys = properties.keys
        numbers = distinct.tolist()
        asked = [keys[k] for k in numbers]
        now = service.clock()
        others, _ = field_sources(service.twin, asked, numbers, properties, service.health,
                                  now, service.measured)
        # A zone's prediction too (``model_sources``): a failed room sensor's delta shows
        # the model's value, as the element's view does.
        others, _ = zone_sources(service.zones, asked, numbers, properties, table,
                                 service.health, now, others, describe=False)
        fused = properties.fuse(distinct, table, sensor_quality=service.health.quality,
                                sensor_noise=service.health.noise_variance, others=others)
        shown = fused.has_value[position]
        if not shown.any():
            return None
        bound, position = bound[shown], position[shown]
        number = distinct[position]
        units = properties.units
        ids = table.ids
        chosen = number.tolist()
        return PropertyChanges(
            element_id=[keys[k][0] for k in chosen],
            property=[keys[k][1] for k in chosen],
            sensor_id=[ids[row] for row in bound.tolist()],
            unit=[units[k] for k in chosen],
            value=fused.value[position], time=fused.time[position],
            quality=fused.confidence[position],
            sensor_value=table.last_value[bound], sensor_time=table.last_event_time[bound],
            sensor_quality=service.health.quality(bound),
            # float32: as the store keeps it, so the live mark and the reloaded one agree.
            sensor_anomaly=table.last_anomaly[bound].astype(np.float32))

    # -- on the event loop --------------------------------------------------------------------

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self._first_dirty_at is not None:  # marked before there was a loop to wake
            self._wake.set()
        self._background.start()

    async def stop(self) -> None:
        await self._background.stop()
        self._loop = None

    async def flush(self) -> int:
        """Push what has moved now; returns the number of changes sent."""
        if not len(self.service.hub) or self._first_dirty_at is None:
            return 0
        return self._send(*await self.service.view(self.drain))

    def _send(self, changes: PropertyChanges | None, committed_at: float | None,
              built: float) -> int:
        """Hand a built delta to the hub and set when the next may leave: at least
        ``interval`` later, longer when building and encoding this one took more than
        ``budget`` of the time. Returns the number of changes sent."""
        self._handing_over = False
        if not changes:
            return 0
        began = time.perf_counter()
        self.service.hub.publish(properties=changes, committed_at=committed_at)
        # Only building and encoding count: sending waits on the clients, and a slow
        # client is the bounded queue's business, not a reason to publish less often.
        spent = built + time.perf_counter() - began
        self._due = began + max(self.interval, spent / self.budget - spent)
        return len(changes)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            wait = self._due - time.perf_counter()
            if wait > 0:  # values kept moving: at most one delta a pause
                await asyncio.sleep(wait)
            if self._first_dirty_at is None:
                continue  # the writer built and sent it meanwhile
            try:
                await self.flush()
            except Exception:  # a bad tick must not end live updates
                log.exception("publishing live values failed")
