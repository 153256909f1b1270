"""The physics twin on the reading path: every numeric bound sensor's local level/trend
model, stepped over each batch, with divergence raising ``twin_divergence`` events and
alarms and recalibration recorded as ``twin_recalibrated`` events.

``step`` runs on the writer inside a batch's transaction, after health has judged the
batch and after the anomaly detector (so each reading's quality is known): the readings
health folds in order (``Batch.in_order``: fresh and stale; not late, quarantined or out
of range) of sensors bound to a live element, each sensor's in event-time order, go
through ``physics.tracker.LevelTrendTracker`` in one compiled pass. A reading's quality
weighs it in the filter; below 0.5 it teaches the noise nothing.

When a sensor's divergence starts, its row is recalibrated at once (``tracker``), and the
batch commits a ``twin_divergence`` event (element, property, sensor, direction, size in
the property's unit and in standard deviations, since when), the ``twin:<sensor>`` alarm
(the alarm book suppresses repeats), and a ``twin_recalibrated`` event with the noise,
level and trend before and after. The alarm clears when the row is back in control, or
in the commit of a change that unbinds or moves the sensor (``leaving``: its model stops
or starts afresh, and would never end the divergence). If
the commit fails, ``rollback`` puts the tracker's rows back (the service rolls the alarm
book back). The tracker's table is saved with the health snapshot and restored at
start-up (``analytics/snapshot.py``'s format). ``enabled`` False (the ``twin_models``
setting) runs nothing.
"""

from __future__ import annotations

import logging
import math
import threading
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..analytics.snapshot import DetectorSnapshotMismatch, dump, load
from ..errors import NotFound
from ..health.batch_order import has_later
from ..model import Event, validate
from ..physics.tracker import DETAIL, ENDED, STARTED, LevelTrendTracker
from ..pipeline import Batch, binding_transform
from ..records import Records, RowsSavepoint
from .twin_shadow import ShadowDesk, ShadowPoint
from .views import finite_or_none

if TYPE_CHECKING:
    from .twin_service import TwinService

log = logging.getLogger(__name__)

#: The store's name for the saved tracker state.
TWIN_SNAPSHOT = "twin_models"
#: The prefix of a sensor's divergence alarm key.
ALARM_PREFIX = "twin:"
SEVERITY = "warning"

_AT = {name: k for k, name in enumerate(DETAIL)}


class ModelsSavepoint(NamedTuple):
    """A batch's model rows as they were: the live tracker's and the shadow's."""

    live: RowsSavepoint
    shadow: ShadowPoint | None


class TwinModelDesk:
    """The level/trend models of one ``TwinService`` (see the module)."""

    def __init__(self, service: TwinService, *, enabled: bool = True,
                 tracker: LevelTrendTracker | None = None) -> None:
        self.service = service
        self.enabled = enabled
        #: Which tracker is live: a promotion moves it on (``TwinService._write_state``).
        self.generation = 0
        self.save_lock = threading.Lock()
        self._last_modelled: tuple[Batch, NDArray[np.int64], NDArray[np.int64]] | None = None
        # The live parameters are the last promoted shadow's (``twin_shadow.py``).
        self.shadow = ShadowDesk(self)
        self.tracker = tracker if tracker is not None else self.shadow.live.tracker(
            capacity=max(16, len(service.pipeline.table)))
        self.bound = np.zeros(0, dtype=np.bool_)
        self._bindings: dict[int, tuple[str, str, float, float]] = {}
        if enabled:
            self._restore()
        self.apply_bindings(first=True)
        self.shadow.resume()

    # -- which rows are modelled -----------------------------------------------------------

    def apply_bindings(self, *, first: bool = False) -> None:
        """After a change of sensors or bindings (committed): which rows feed a live
        element's property. A row bound anew, or to another property, scale or unit, starts
        its model afresh: what it learned was of another quantity."""
        self._last_modelled = None  # found under the bindings before
        service = self.service
        table = service.pipeline.table
        bound = np.zeros(len(table), dtype=np.bool_)
        now: dict[int, tuple[str, str, float, float]] = {}
        for sensor_id in service.twin.bindings:
            binding = service.twin.live_binding(sensor_id)
            row = table.index.get(sensor_id)
            if binding is None or row is None:
                continue
            bound[row] = True
            now[row] = (binding.element_id, binding.property, float(table.scale[row]),
                        float(table.shift[row]))
        if self.enabled and not first:
            changed = [row for row, key in now.items() if self._bindings.get(row) != key]
            if changed:
                self.tracker.forget(np.array(changed, dtype=np.int64))
                self.shadow.forget(np.array(changed, dtype=np.int64))
        self.bound = bound
        self._bindings = now

    def leaving(self) -> list[Event]:
        """In a twin change's transaction, once proposed and before it commits: clear the
        ``twin:`` alarm of each sensor the change unbinds, moves to another element or
        property, or whose element it archives. Its model stops or starts afresh, and
        only the model's own end of a divergence clears the alarm: nothing would. The
        caller rolls the alarm book back if the commit fails."""
        service = self.service
        book, table = service.alarms, service.pipeline.table
        events: list[Event] = []
        for key in sorted(k for k in book.active if k.startswith(ALARM_PREFIX)):
            sensor = key[len(ALARM_PREFIX):]
            row = table.index.get(sensor)
            before = self._bindings.get(row) if row is not None else None
            now = service.twin.live_binding(sensor)
            # (The unit only for a sensor still bound: one removed from the twin has none.)
            if before is not None and now is not None and (
                    now.element_id, now.property,
                    *binding_transform(service.twin.sensor(sensor).unit, now)) == before:
                continue
            where = "unbound" if now is None else f"now feeds {now.element_id}.{now.property}"
            cleared = book.clear(key, f"{sensor}: {where}, its model stopped",
                                 time=service.clock())
            if cleared is not None:
                events.append(cleared)
        return events

    @property
    def modelled(self) -> dict[int, tuple[str, str, float, float]]:
        """Row → (element, property, scale, shift) of each row modelled now. Replaced on
        each change of bindings, never changed in place: a reader may cache what it
        derives from it for as long as it is the same object. Read it on the writer."""
        return self._bindings

    def _modelled(self, batch: Batch, in_time: NDArray[np.int64]) -> NDArray[np.int64]:
        """Of ``in_time``, the readings of rows bound to a live element, with a value.
        Found once a batch: ``savepoint`` and ``step`` ask for the same batch in turn."""
        last = self._last_modelled
        if last is not None and last[0] is batch and last[1] is in_time:
            return last[2]
        rows = batch.rows[in_time]
        inside = rows < self.bound.shape[0]
        modelled = np.zeros(in_time.size, dtype=np.bool_)
        modelled[inside] = self.bound[rows[inside]]
        result: NDArray[np.int64] = in_time[modelled & np.isfinite(batch.value[in_time])]
        self._last_modelled = (batch, in_time, result)
        return result

    # -- the reading path ------------------------------------------------------------------

    def binding_of(self, row: int) -> tuple[str | None, str | None]:
        """The element and property a modelled row feeds (None, None if none)."""
        element, prop, _, _ = self._bindings.get(row, (None, None, 0.0, 0.0))
        return element, prop

    def savepoint(self, batch: Batch, in_time: NDArray[np.int64]) -> ModelsSavepoint | None:
        if not self.enabled:
            return None
        rows = batch.rows[self._modelled(batch, in_time)]
        # Each row once: a small fleet's batch names each row many times, and a copy of
        # 768 bytes a reading cost more than finding the repeats (one compiled pass).
        once = rows[~has_later(rows)]
        return ModelsSavepoint(self.tracker.savepoint(once), self.shadow.savepoint(once))

    def rollback(self, point: ModelsSavepoint | None) -> None:
        if point is not None:
            self.tracker.rollback(point.live)
            self.shadow.rollback(point.shadow)

    def step(self, batch: Batch, in_time: NDArray[np.int64]) -> list[Event]:
        """On the writer, after health: step the models over ``batch`` and return the
        divergence and recalibration events and alarm transitions. ``in_time``: the
        positions of the readings health folds in order, each sensor's in event-time
        order. Take ``savepoint`` first."""
        if not self.enabled or len(batch) == 0:
            return []
        order = self._modelled(batch, in_time)
        if order.size == 0:
            return []
        quality = (np.ones(order.size) if batch.quality is None else batch.quality[order])
        rows = batch.rows[order]
        times = batch.event_time[order]
        values = batch.value[order]
        update = self.tracker.track_many(rows, times, values, quality)
        # The shadow twin, if one runs: the same readings, no events of its own.
        self.shadow.step(rows, times, values, quality, update)
        happened = np.flatnonzero(update.code)
        events: list[Event] = []
        for i in happened.tolist():
            events += self._events(int(rows[i]), float(times[i]), int(update.code[i]),
                                   update.detail[i])
        return events

    def _events(self, row: int, time: float, code: int, detail: NDArray[np.float64]
                ) -> list[Event]:
        service = self.service
        sensor = service.pipeline.table.ids[row]
        element, prop, _, _ = self._bindings.get(row, (None, None, 0.0, 0.0))
        unit = service.pipeline.table.units[row]
        key = ALARM_PREFIX + sensor
        book = service.alarms
        if code == ENDED:
            cleared = book.clear(key, f"{sensor}: back in step with its model", time=time)
            return [] if cleared is None else [cleared]
        d = {name: float(detail[k]) for name, k in _AT.items()}
        events: list[Event] = []
        if code == STARTED:
            direction = "up" if d["direction"] > 0 else "down"
            data = {"sensor": sensor, "property": prop, "direction": direction, "unit": unit,
                    **{name: finite_or_none(d[name])
                       for name in ("size", "size_sd", "since", "statistic")}}
            events.append(Event("twin_divergence", time, element, "twinsync", data))
            raised = book.raise_(
                key, SEVERITY,
                f"{sensor}: {element}.{prop} runs {d['size']:+.3g} {unit} "
                f"({d['size_sd']:+.1f} sd) off its model", element_id=element, time=time)
            if raised is not None:
                events.append(raised)
        events.append(Event("twin_recalibrated", time, element, "twinsync", {
            "sensor": sensor, "property": prop, "unit": unit, "window": int(d["window"]),
            "before": _parameters(d, "before"), "after": _parameters(d, "after")}))
        return events

    # -- across restarts -------------------------------------------------------------------

    def dump(self) -> bytes | None:
        """The tracker's state (on the writer), or None when the models are off."""
        if not self.enabled:
            return None
        return dump(self.tracker, self.service.pipeline.table.ids)

    def replace_tracker(self, tracker: LevelTrendTracker) -> None:
        """On the writer, after a promotion's commit: ``tracker`` is live, and the learned
        state is saved now with its journal position (a restart must not find the old
        parameters' state under the new, nor replay the batches before the promotion
        into the promoted tracker)."""
        self.tracker = tracker
        with self.save_lock:
            self.generation += 1
        try:
            self.service.save_now()
        except Exception:  # committed already; the next periodic save writes it
            log.exception("saving the promoted model state failed")

    def _restore(self) -> None:
        body = self.service.store.load_snapshot(TWIN_SNAPSHOT)
        if body is None:
            return
        try:
            restored = load(self.tracker, body, self.service.pipeline.table.ids)
        except DetectorSnapshotMismatch as exc:
            log.warning("saved twin model state not used, the models learn afresh: %s", exc)
            return
        log.info("twin model state restored for %d sensors", restored)

    # -- reads -----------------------------------------------------------------------------

    async def of_element(self, element_id: str) -> dict[str, Any]:
        """Each sensor bound to the element: its model's state (see ``GET
        /api/elements/{id}/twin``)."""
        service = self.service

        def read() -> dict[str, Any]:
            twin = service.twin
            element = twin.elements.get(element_id)
            if element is None or element.archived:
                raise NotFound(f"no element {validate.shown(element_id)}")
            table = service.pipeline.table
            sensors = sorted(s for s, b in twin.bindings.items()
                             if b.element_id == element_id and s in table.index)
            return {"element_id": element_id, "enabled": self.enabled,
                    "bytes_a_sensor": self.tracker.row_bytes,
                    "sensors": [self._row_state(sensor, table.index[sensor])
                                | {"shadow": self.shadow.of_row(table.index[sensor])}
                                for sensor in sensors]}

        return await service.view(read)

    def _row_state(self, sensor: str, row: int) -> dict[str, Any]:
        binding = self.service.twin.bindings[sensor]
        unit = self.service.pipeline.table.units[row]
        base = {"sensor_id": sensor, "property": binding.property, "unit": unit}
        if not self.enabled:
            return base | {"state": "off"}
        columns = self.tracker.columns
        if row >= len(columns["count"]):
            # Never stepped (a sensor added since the table last grew): read as a fresh
            # row, without growing the table on a read.
            columns = Records(self.tracker.COLUMNS, 1).columns
            row = 0
        c = {name: column[row] for name, column in columns.items() if column.ndim == 1}
        tracking = int(c["count"]) >= self.tracker.knobs.warmup
        state = ("diverging" if c["diverging"] else "in_control") if tracking else "learning"
        recalibration = None
        if int(c["recal_count"]) > 0:
            recalibration = {"time": float(c["recal_time"]), "count": int(c["recal_count"]),
                             "before": {"noise": finite_or_none(c["r_before"]),
                                        "ratio": finite_or_none(c["ratio_before"])},
                             "after": {"noise": finite_or_none(c["r_after"]),
                                       "ratio": finite_or_none(c["ratio_after"])}}
        return base | {
            "state": state,
            "readings": int(c["count"]),
            "level": finite_or_none(c["level"]) if tracking else None,
            "trend": finite_or_none(c["trend"]) if tracking else None,
            "level_sd": finite_or_none(math.sqrt(max(float(c["p00"]), 0.0))) if tracking else None,
            "trend_sd": finite_or_none(math.sqrt(max(float(c["p11"]), 0.0))) if tracking else None,
            "noise": finite_or_none(c["r"]) if tracking else None,
            "ratio": finite_or_none(c["ratio"]) if tracking else None,
            "level_noise": finite_or_none(c["q"]) if tracking else None,
            "trend_noise": finite_or_none(c["qt"]) if tracking else None,
            "last_time": finite_or_none(c["last_seen"]) if tracking else None,
            "last_residual": finite_or_none(c["last_residual"]),
            "last_normalised": finite_or_none(c["last_z"]),
            "diverging_since": finite_or_none(c["diverging_since"]) if c["diverging"] else None,
            "recalibration": recalibration,
        }


def _parameters(d: dict[str, float], when: str) -> dict[str, float | None]:
    return {name: finite_or_none(d[f"{name}_{when}"])
            for name in ("noise", "ratio", "level", "trend")}
