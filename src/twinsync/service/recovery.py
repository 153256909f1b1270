"""The learned state across a crash: saved with its place in the journal, and the batches
committed after that place replayed at start-up.

What health, the anomaly detector, the level/trend models (and a running shadow) and the
thermal zones learn lives in memory and is saved every few minutes (``Watch``) and at a
clean stop. A save records the journal position it reaches (``store/checkpoint.py``) in
the transaction that writes the snapshots, and the newest event then stored. After a
``kill -9`` the readings committed since are in the store; ``replay`` runs them, batch by
batch as they were committed, through the same learning steps as a live batch
(``judge_batch``, ``AnomalyDesk.score``, ``TwinModelDesk.step``, ``ZoneDesk.step``), before
the service takes a new reading. Nothing is written: the readings, their qualities and
scores, and the events and alarms the batches raised are stored already. The alarm book
the steps consult is the one of the save (rebuilt from the alarm events stored by then),
moved on by the replayed batches' own transitions, so an anomaly is told or kept quiet as
it was live; the service's book (every stored alarm event) is put back after.

A replay reads ``REPLAY_PAGE`` batches at a time and stops after ``budget`` seconds: a
start-up is never held longer, and what is left is learned from the next readings on (a
warning says how much). What a replay does not make exact is in docs/DESIGN.md ("The
learned state after a crash").
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import orjson
from numpy.typing import NDArray

from ..alerts import AlarmBook
from ..health.batch_order import in_time_order
from ..health.judge import judge_batch
from ..pipeline import Batch

if TYPE_CHECKING:
    from .twin_service import TwinService

log = logging.getLogger(__name__)

#: The store's name for what a save says beside the snapshots (the newest event then).
STATE_SNAPSHOT = "learned_state"
#: Committed batches read from the store at a time.
REPLAY_PAGE = 64
#: Seconds a start-up may spend replaying.
REPLAY_SECONDS = 120.0


@dataclass(slots=True)
class SavedState:
    """A dump of the learned state taken on the writer: the snapshots by name, the journal
    position they reach, and the tracker generation (``TwinModelDesk.generation``)."""

    snapshots: dict[str, bytes]
    position: int
    generation: int


@dataclass(slots=True)
class Replayed:
    """What a start-up replayed: batches, readings, seconds, and whether the budget ran
    out before the journal's end."""

    batches: int = 0
    readings: int = 0
    seconds: float = 0.0
    cut_short: bool = False


def state_note(newest_event: int) -> bytes:
    """The ``learned_state`` snapshot: the newest event stored when the state was dumped."""
    return orjson.dumps({"events_through": newest_event})


def events_through(body: bytes | None) -> int | None:
    """The newest event a save had seen, or None (saved without one, or unreadable)."""
    if body is None:
        return None
    try:
        value = orjson.loads(body).get("events_through")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return int(value) if isinstance(value, int) else None


def batch_of(rows: NDArray[np.void]) -> Batch:
    """A committed batch's stored rows as the batch it was, with the flags admission gave
    it (quality and score are learned again, and come out as stored)."""
    return Batch(rows["sensor"].astype(np.int64), rows["value"].astype(np.float64),
                 rows["raw_value"].astype(np.float64), rows["event_time"].astype(np.float64),
                 rows["received_at"].astype(np.float64), rows["seq"].astype(np.int64),
                 connector="replay", flags=rows["flags"].astype(np.int64))


def learn(service: TwinService, batch: Batch) -> None:
    """One committed batch through the learning steps of ``_ingest_on_writer``, in its
    order, its events and alarm transitions dropped (they are stored)."""
    ordered = batch.in_order()
    # The device clocks are not kept across a restart (docs/DESIGN.md, "Clocks"): health
    # judges the clock by the corrected times here.
    changes = judge_batch(service.health, batch, ordered=ordered)
    service.watch.events_for(changes, float(batch.received_at.max()))
    if not (service.anomalies.enabled or service.twin_models.enabled
            or service.zones.enabled):
        return
    in_time = in_time_order(np.flatnonzero(ordered), batch.rows, batch.event_time)
    service.anomalies.score(batch, in_time)
    service.twin_models.step(batch, in_time)
    service.zones.step(batch, in_time)


def replay(service: TwinService, *, budget: float = REPLAY_SECONDS,
           page: int = REPLAY_PAGE) -> Replayed:
    """At start-up, before the writer takes a batch: learn the batches committed after the
    saved state's position (see the module)."""
    store = service.store
    position = store.state_position()
    done = Replayed()
    if position is None:
        log.info("the learned state was saved without a journal position: nothing replayed")
        return done
    started = time.perf_counter()
    first = store.batches_after(position, page)
    if not first:
        return done
    live_book = service.alarms
    service.alarms = _book_as_of(service, events_through(store.load_snapshot(STATE_SNAPSHOT)))
    try:
        found = first
        while found:
            for journal_id, rows in found:
                try:
                    learn(service, batch_of(rows))
                except Exception:  # a start-up never fails on one stored row
                    log.exception("replaying journal row %d failed: the replay stops there",
                                  journal_id)
                    found = []
                    break
                position = journal_id
                done.batches += 1
                done.readings += len(rows)
            if not found:
                break
            if time.perf_counter() - started > budget:
                done.cut_short = position < store.position()
                break
            found = store.batches_after(position, page)
    finally:
        service.alarms = live_book
    done.seconds = time.perf_counter() - started
    log.info("replayed %d readings in %d batches committed after the last save of the "
             "learned state, in %.2f s", done.readings, done.batches, done.seconds)
    if done.cut_short:
        log.warning("replay stopped after %.0f s at journal row %d of %d: the batches after "
                    "it are not learned from", budget, position, store.position())
    return done


def _book_as_of(service: TwinService, newest_event: int | None) -> AlarmBook:
    """The alarms active when the state was saved: the stored alarm events up to the
    newest event it had seen (none for a state never saved: a new store's)."""
    book = AlarmBook()
    for event in service.stored_alarm_events():
        if (event.seq or 0) <= (newest_event or 0):
            book.replay(event)
    return book
