"""The shadow twin: a second level/trend tracker with other parameters, run beside the live
one on exactly the same readings, its tracking error compared with the live one's, and
promoted to live (or stopped) by a person.

**What runs.** At most one shadow at a time: ``physics.tracker_settings.TrackerSettings``
(the live parameters with those given changed) and a ``LevelTrendTracker`` of its own,
which ``TwinModelDesk.step`` steps right after the live one, in the same batch step, over
the same readings with the same qualities. By default its rows start as a copy of the
live rows (``start_from: "live"``): it then predicts from the first reading on, the two
are compared on the same footing from the start, and a promotion swaps models that have
followed the same sensors all along; its parameters that only act while learning
(``warmup``) then matter only for rows still learning or started afresh.
``start_from: "fresh"`` starts every row anew, to judge a warm-up or a first fit; such
a shadow's readings count only once it predicts them. The shadow raises no event and no
alarm: its divergences are counted, nothing else.

**What is compared** (``physics/comparison.py``): per sensor and fleet-wide, over the
readings both predicted and health trusted since the shadow started: RMS, mean absolute
error and bias of the one-step prediction in the reading's unit, calibration (mean squared
normalised residual, clipped at 4 sd: about 1 when honest) and divergences each started.

**Transactions.** Starting, promoting and stopping are each one transaction on the
writer: the event (``twin_shadow_started`` with the parameters, ``twin_shadow_promoted``
and ``twin_shadow_stopped`` with the comparison as it stood) and its audit entry are
committed before anything changes in memory; a failed commit changes nothing
(``StoreError``). On the reading path the shadow's rows and its comparison are saved with
the live rows before the step and put back if the batch's commit fails.

**Promotion.** The shadow's tracker (parameters and state) becomes the live one; the
``twin:<sensor>`` alarms follow its state in the same transaction (an alarm of a row the
promoted model does not find diverging is cleared, a row it finds diverging raises one),
and the live state is saved to the store at once.

**Restarts.** The events are the record of what runs: at start-up the newest
``twin_shadow_promoted`` gives the live parameters, and a ``twin_shadow_started`` newer
than any promotion or stop means a shadow runs. Its rows and comparison are saved with the
live tracker's (store snapshot ``twin_shadow``, keyed by the shadow's id) and restored; if
the process stopped before the shadow was first saved, it is started again from the live
rows as restored (or fresh), its comparison counted from then (``counted_since``).
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..analytics.snapshot import DetectorSnapshotMismatch, dump, load
from ..archive import ArchiveUnreadable, pack, unpack
from ..errors import Conflict, InvalidInput
from ..model import Event
from ..physics.comparison import Comparison
from ..physics.tracker import LevelTrendTracker, TrackUpdate
from ..physics.tracker_settings import TrackerSettings
from ..records import RowsSavepoint
from ..store.audit import SYSTEM, Actor
from .commit import commit_store
from .views import finite_or_none

if TYPE_CHECKING:
    from .twin_models import TwinModelDesk

log = logging.getLogger(__name__)

#: The store's name for the saved shadow (its tracker's rows and its comparison).
SHADOW_SNAPSHOT = "twin_shadow"
STARTED, PROMOTED, STOPPED = "twin_shadow_started", "twin_shadow_promoted", "twin_shadow_stopped"
KINDS = (STARTED, PROMOTED, STOPPED)
#: Where a shadow's rows start.
START_FROM = ("live", "fresh")
#: Sensors listed where the shadow does best and worst against the live model.
LISTED = 10
MAX_LISTED = 1000


@dataclass(slots=True)
class Shadow:
    """The running shadow."""

    id: str
    settings: TrackerSettings
    start_from: str
    started_at: float
    started_by: str
    counted_since: float
    tracker: LevelTrendTracker
    comparison: Comparison


class ShadowPoint(NamedTuple):
    """The shadow's rows as they were before a batch."""

    tracker: RowsSavepoint
    comparison: RowsSavepoint


class ShadowDesk:
    """The shadow twin of one ``TwinModelDesk`` (see the module). ``live`` is the live
    tracker's parameters, ``running`` the shadow if one runs."""

    def __init__(self, models: TwinModelDesk) -> None:
        self.models = models
        self.service = models.service
        self.live = TrackerSettings()
        self.running: Shadow | None = None
        self._resumed: Event | None = None
        self._read_events()

    # -- start-up ----------------------------------------------------------------------------

    def _read_events(self) -> None:
        """The live parameters and whether a shadow runs, from the newest events."""
        store = self.service.store
        newest = [event for kind in KINDS for event in store.recent_events(limit=1, kind=kind)]
        for event in newest:
            if event.kind == PROMOTED:
                try:
                    self.live = TrackerSettings.parsed(event.data.get("parameters", {}))
                except InvalidInput as exc:
                    log.warning("promoted tracker parameters not used, the defaults run: %s",
                                exc)
        last = max(newest, key=lambda e: e.seq or 0, default=None)
        if last is not None and last.kind == STARTED:
            self._resumed = last

    def resume(self) -> None:
        """At start-up, once the live tracker is restored: the shadow that ran, its rows
        and comparison as last saved (or started again from the live rows)."""
        event, self._resumed = self._resumed, None
        if event is None:
            return
        if not self.models.enabled:
            log.warning("shadow %s not resumed: the twin's models are off",
                        event.data.get("shadow_id"))
            return
        data = event.data
        try:
            settings = TrackerSettings.parsed(data.get("parameters", {}))
            start_from = str(data.get("start_from", "live"))
            shadow_id = str(data["shadow_id"])
        except (InvalidInput, KeyError) as exc:
            log.warning("the running shadow's parameters are unreadable, it is not resumed: "
                        "%s", exc)
            return
        shadow = self._restored(shadow_id, settings, start_from, event)
        if shadow is None:
            shadow = self._new(shadow_id, settings, start_from, event.time, event.source,
                               counted_since=self.service.clock())
            log.info("shadow %s started again from the %s rows (no saved state)", shadow_id,
                     start_from)
        self.running = shadow

    def _restored(self, shadow_id: str, settings: TrackerSettings, start_from: str,
                  event: Event) -> Shadow | None:
        body = self.service.store.load_snapshot(SHADOW_SNAPSHOT)
        if body is None:
            return None
        ids = self.service.pipeline.table.ids
        size = max(16, len(ids))
        tracker, comparison = settings.tracker(capacity=size), Comparison(capacity=size)
        try:
            header, arrays = unpack(body)
            if header.get("shadow_id") != shadow_id:
                return None  # another shadow's, saved before this one started
            load(tracker, arrays["tracker"].tobytes(), ids)
            load(comparison, arrays["comparison"].tobytes(), ids)
            counted_since = float(header["counted_since"])
        except (ArchiveUnreadable, DetectorSnapshotMismatch, KeyError, TypeError,
                ValueError) as exc:
            log.warning("saved shadow state not used: %s", exc)
            return None
        log.info("shadow %s restored", shadow_id)
        return Shadow(shadow_id, settings, start_from, event.time, event.source,
                      counted_since, tracker, comparison)

    def _new(self, shadow_id: str, settings: TrackerSettings, start_from: str,
             started_at: float, started_by: str, *, counted_since: float) -> Shadow:
        live = self.models.tracker
        size = len(live.columns["count"])
        tracker = settings.tracker(capacity=size)
        if start_from == "live":
            rows = np.arange(size, dtype=np.int64)
            tracker.restore(rows, live.save(rows))
        return Shadow(shadow_id, settings, start_from, started_at, started_by, counted_since,
                      tracker, Comparison(capacity=size))

    # -- the reading path (on the writer, inside the batch's transaction) --------------------

    def savepoint(self, rows: NDArray[np.int64]) -> ShadowPoint | None:
        """``rows``: the batch's modelled rows, each once."""
        shadow = self.running
        if shadow is None:
            return None
        return ShadowPoint(shadow.tracker.savepoint(rows), shadow.comparison.savepoint(rows))

    def rollback(self, point: ShadowPoint | None) -> None:
        shadow = self.running
        if point is not None and shadow is not None:
            shadow.tracker.rollback(point.tracker)
            shadow.comparison.rollback(point.comparison)

    def step(self, rows: NDArray[np.int64], times: NDArray[np.float64],
             values: NDArray[np.float64], quality: NDArray[np.float64],
             live: TrackUpdate) -> None:
        """The shadow over the readings the live tracker just took (``live``: what it
        made of them), and both counted."""
        shadow = self.running
        if shadow is None:
            return
        update = shadow.tracker.track_many(rows, times, values, quality)
        shadow.comparison.add_many(rows, quality, live.residual, live.normalised, live.code,
                                   update.residual, update.normalised, update.code)

    def forget(self, rows: NDArray[np.int64]) -> None:
        """Rows bound anew: the shadow starts them afresh too, and counts them from zero."""
        if self.running is not None:
            self.running.tracker.forget(rows)
            self.running.comparison.forget(rows)

    # -- operations ------------------------------------------------------------------------------

    async def start(self, parameters: Mapping[str, Any], *, start_from: str = "live",
                    actor: Actor = SYSTEM) -> dict[str, Any]:
        """Start a shadow with the live parameters, ``parameters`` changed. 422 for a bad
        parameter, 409 while one runs or with the models off."""
        service = self.service

        def run() -> list[Event]:
            if not self.models.enabled:
                raise Conflict("the twin's models are off (twin_models = false): there is "
                               "no live model to run a shadow beside")
            if self.running is not None:
                raise Conflict(f"shadow {self.running.id} is running: promote or stop it "
                               f"before starting another")
            settings = TrackerSettings.parsed(parameters, self.live)
            if start_from not in START_FROM:
                raise InvalidInput(f"start_from {str(start_from)[:32]!r}: one of "
                                   f"{', '.join(START_FROM)}", "bad_start_from")
            now = service.clock()
            shadow = self._new(secrets.token_hex(6), settings, start_from, now, actor.name,
                               counted_since=now)
            data = {"shadow_id": shadow.id, "start_from": start_from,
                    "parameters": settings.to_dict(), "changed": settings.changed(self.live),
                    "live_parameters": self.live.to_dict()}
            event = Event(STARTED, now, None, actor.name, data)
            entry = service._entry("start_shadow", f"twin_shadow:{shadow.id}", actor,
                                   after=data)
            commit_store(service.store.save_changes, [event], audit_entries=[entry])
            self.running = shadow
            # Saved now with its journal position: a restart must not replay into the
            # shadow the batches committed before it started.
            try:
                service.save_now()
            except Exception:  # committed already; the next periodic save writes it
                log.exception("saving the learned state as the shadow started failed")
            return [event]

        events = await service.writer.write(run)
        service.publish_events(events)
        return await self.report()

    async def promote(self, *, actor: Actor = SYSTEM) -> dict[str, Any]:
        """Make the running shadow live: its parameters and every row's state. Returns the
        comparison as it stood (the event's)."""
        service = self.service

        def run() -> list[Event]:
            shadow = self._require()
            now = service.clock()
            data = {**self._summary(shadow), "previous_parameters": self.live.to_dict(),
                    "comparison": shadow.comparison.fleet(self._modelled())}
            saved = service.alarms.savepoint()
            try:
                events = [Event(PROMOTED, now, None, actor.name, data)]
                events += self._alarms_for(shadow.tracker, now)
                entry = service._entry("promote_shadow", f"twin_shadow:{shadow.id}", actor,
                                       before=self.live.to_dict(),
                                       after=shadow.settings.to_dict())
                commit_store(service.store.save_changes, events, audit_entries=[entry])
            except BaseException:
                service.alarms.rollback(saved)
                raise
            self.live = shadow.settings
            self.running = None
            self.models.replace_tracker(shadow.tracker)
            return events

        events = await service.writer.write(run)
        service.publish_events(events)
        return events[0].data

    async def stop(self, *, actor: Actor = SYSTEM) -> dict[str, Any]:
        """Stop the running shadow; the live model is left as it is. Returns the comparison
        as it stood (the event's)."""
        service = self.service

        def run() -> Event:
            shadow = self._require()
            now = service.clock()
            data = {**self._summary(shadow),
                    "comparison": shadow.comparison.fleet(self._modelled())}
            event = Event(STOPPED, now, None, actor.name, data)
            entry = service._entry("stop_shadow", f"twin_shadow:{shadow.id}", actor,
                                   before=self._summary(shadow))
            commit_store(service.store.save_changes, [event], audit_entries=[entry])
            self.running = None
            return event

        event = await service.writer.write(run)
        service.publish_events([event])
        return event.data

    def _require(self) -> Shadow:
        if self.running is None:
            raise Conflict("no shadow is running: start one first (POST /api/twin/shadow)")
        return self.running

    def _alarms_for(self, tracker: LevelTrendTracker, now: float) -> list[Event]:
        """The divergence alarms as the promoted model's state has them: cleared for rows
        it does not find diverging, raised for rows it does."""
        from .twin_models import ALARM_PREFIX, SEVERITY

        service = self.service
        table = service.pipeline.table
        book = service.alarms
        diverging = tracker.columns["diverging"]
        events: list[Event] = []
        for key in sorted(k for k in book.active if k.startswith(ALARM_PREFIX)):
            row = table.index.get(key[len(ALARM_PREFIX):])
            if row is None or row >= len(diverging) or not diverging[row]:
                cleared = book.clear(key, f"{key[len(ALARM_PREFIX):]}: in step with the "
                                     f"promoted model", time=now)
                if cleared is not None:
                    events.append(cleared)
        modelled = self._modelled()
        modelled = modelled[modelled < len(diverging)]
        for row in modelled[diverging[modelled] != 0].tolist():
            sensor = table.ids[row]
            if ALARM_PREFIX + sensor in book.active:
                continue  # raised by the live model already, and still so
            element, prop = self.models.binding_of(row)
            since = tracker.columns["diverging_since"][row]
            raised = book.raise_(
                ALARM_PREFIX + sensor, SEVERITY,
                f"{sensor}: {element}.{prop} runs off the promoted model (diverging since "
                f"{since:.0f})", element_id=element, time=now)
            if raised is not None:
                events.append(raised)
        return events

    # -- across restarts -------------------------------------------------------------------------

    def dump(self) -> bytes | None:
        """The running shadow's state (on the writer), or None."""
        shadow = self.running
        if shadow is None:
            return None
        ids = self.service.pipeline.table.ids
        tracker = np.frombuffer(dump(shadow.tracker, ids), dtype=np.uint8)
        comparison = np.frombuffer(dump(shadow.comparison, ids), dtype=np.uint8)
        return pack({"format": 1, "shadow_id": shadow.id,
                     "counted_since": shadow.counted_since},
                    {"tracker": tracker, "comparison": comparison})

    # -- reads -----------------------------------------------------------------------------------

    def _modelled(self) -> NDArray[np.int64]:
        rows: NDArray[np.int64] = np.flatnonzero(self.models.bound).astype(np.int64)
        return rows

    def _summary(self, shadow: Shadow) -> dict[str, Any]:
        return {"shadow_id": shadow.id, "start_from": shadow.start_from,
                "started_at": shadow.started_at, "started_by": shadow.started_by,
                "counted_since": shadow.counted_since,
                "parameters": shadow.settings.to_dict(),
                "changed": shadow.settings.changed(self.live)}

    async def report(self, limit: int = LISTED) -> dict[str, Any]:
        """The live parameters, the shadow's and the comparison: fleet-wide, and the
        ``limit`` sensors where the shadow does best and worst against the live model
        (``GET /api/twin/shadow``)."""
        if not 0 <= limit <= MAX_LISTED:
            raise InvalidInput(f"limit {limit}: at least 0 and at most {MAX_LISTED}",
                               "bad_limit")

        def read() -> dict[str, Any]:
            shadow = self.running
            answer: dict[str, Any] = {"enabled": self.models.enabled,
                                      "live": {"parameters": self.live.to_dict()},
                                      "shadow": None, "comparison": None}
            if shadow is None:
                return answer
            modelled = self._modelled()
            ranked, ratios = shadow.comparison.ranked(modelled)
            best = [self._listed(shadow, int(row), float(ratio))
                    for row, ratio in zip(ranked[:limit], ratios[:limit], strict=True)]
            worst = [self._listed(shadow, int(row), float(ratio))
                     for row, ratio in zip(ranked[::-1][:limit], ratios[::-1][:limit],
                                           strict=True)]
            answer["shadow"] = self._summary(shadow) | {
                "bytes_a_sensor": shadow.tracker.row_bytes + shadow.comparison.row_bytes}
            answer["comparison"] = shadow.comparison.fleet(modelled) | {
                "best": best, "worst": worst}
            return answer

        return await self.service.view(read)

    def _listed(self, shadow: Shadow, row: int, ratio: float) -> dict[str, Any]:
        element, prop = self.models.binding_of(row)
        table = self.service.pipeline.table
        return {"sensor_id": table.ids[row], "element_id": element, "property": prop,
                "unit": table.units[row], "rms_ratio": finite_or_none(ratio),
                **shadow.comparison.of_row(row)}

    def of_row(self, row: int) -> dict[str, Any] | None:
        """One sensor's shadow: its model's state and the comparison (on the writer; None
        when no shadow runs)."""
        shadow = self.running
        if shadow is None:
            return None
        columns = shadow.tracker.columns
        figures = shadow.comparison.of_row(row)
        if row >= len(columns["count"]):
            return {"shadow_id": shadow.id, "state": "learning", "level": None,
                    "noise": None, "ratio": None, "comparison": figures}
        tracking = int(columns["count"][row]) >= shadow.tracker.knobs.warmup
        state = (("diverging" if columns["diverging"][row] else "in_control") if tracking
                 else "learning")

        def shown(name: str) -> float | None:
            return finite_or_none(float(columns[name][row])) if tracking else None

        level_sd = (math.sqrt(max(float(columns["p00"][row]), 0.0)) if tracking
                    else math.nan)
        return {"shadow_id": shadow.id, "state": state, "level": shown("level"),
                "level_sd": finite_or_none(level_sd), "noise": shown("r"),
                "ratio": shown("ratio"), "comparison": figures}
