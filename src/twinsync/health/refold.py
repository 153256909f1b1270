"""Readings that come behind their sensor's newest, judged in their place: the re-fold.

A gateway that polls its devices every few minutes hands a poll over as several deliveries,
in no particular order; a sensor's reading of 12:03 may then come after its reading of
12:04. The pipeline does not call it late (it is within ``allowed_lateness`` of the
sensor's watermark), but the fold cannot take it either: the sensor's state has moved past
it. Without this module such a reading was stored with no verdict of its own (the sensor's
quality) and no check ever saw it: on the evaluation sets a quarter to a third of a
building system's and a vibration gateway's readings.

So each sensor that has once had a reading come behind its newest is *tracked*: it keeps
two checkpoints of its fold state (its record and its peer ring, as bytes, taken from the
live state after a batch) and a log of the readings folded since the older one. A reading
that comes behind its sensor's newest but after a checkpoint's newest is judged by putting
the sensor back to that checkpoint and folding the logged readings and the new ones again,
all in event-time order (``HealthMonitor.update_many``). The newer checkpoint is replaced
by the live state once the sensor's newest has moved ``reach`` past it, the older one then
taking its place; so every reading not more than ``reach`` behind its sensor's newest, which
the pipeline does not call late when ``reach`` is its allowed lateness, lies after the
older checkpoint and can be placed. Why not a hold that releases readings only once the
watermark has passed them: a reading is committed with its quality, and a hold would leave
every reading of such a sensor without a verdict for ``reach`` (until the next poll);
fusion, the anomaly detector and the models would wait as long.

Bounds, each a decision: the log holds ``LOG`` readings a sensor (a sensor that sends more
than that within ``2 * reach`` moves its older checkpoint on early, and a reading further
back than the log reaches is left unjudged as before); a re-fold folds at most the log and
the batch again. Sensors never out of order pay one test a batch; only tracked sensors get
a slot (a few kB), so memory grows with the sensors that need it, not the fleet.

Arrivals (``silence``) are not put back: they are noted in arrival order as they came, and
noting a reading's arrival again does not move its sensor's cadence (an arrival no newer
than the newest is not a gap). The slots are part of ``savepoint``/``rollback``, so a batch
whose commit fails leaves no reading logged (it would be folded twice by the next re-fold)
and takes none out. A restart starts with no sensor tracked (``snapshot`` carries the
learned state, not this short log): a sensor's first reading out of order after it is left
unjudged, and tracking starts again.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..records import Field, Records, RowsSavepoint
from .table import HealthTable

#: Readings a tracked sensor's log holds: with ``reach`` five minutes, a one-minute sensor
#: logs 10 to 15 between checkpoints. The cost of a re-fold is at most this many readings.
LOG = 32
#: How far behind its sensor's newest (seconds) a reading is placed: the pipeline's
#: ``ALLOWED_LATENESS_SECONDS``, beyond which it flags a reading late and health scores it
#: without learning from it.
REACH = 300.0

#: Batches up to this size are looked through reading by reading for tracked sensors.
FEW = 8

#: The two checkpoints of a slot: the older one, and the newer one (NaN time: none).
OLDER, NEWER = 0, 1


class RefoldPlan(NamedTuple):
    """Which readings of a batch are re-folded, and what goes with them."""

    rows: NDArray[np.int64]
    """The sensors put back to a checkpoint."""
    states: NDArray[np.int64]
    """Their states as shown before the batch (what subscribers were last told)."""
    placed: NDArray[np.bool_]
    """Per reading of the batch: behind its sensor's newest, and placed by a re-fold."""
    log_rows: NDArray[np.int64]
    log_values: NDArray[np.float64]
    log_times: NDArray[np.float64]
    log_expected: NDArray[np.float64]
    log_received: NDArray[np.float64]
    log_stamped: NDArray[np.float64]
    """The logged readings folded again with the batch."""
    split_rows: NDArray[np.int64]
    split_times: NDArray[np.float64]
    """Sensors put back to their older checkpoint, and their newer one's time: it is
    taken again (``retake``) once the readings up to that time are folded."""


class RefoldSavepoint(NamedTuple):
    rows: RowsSavepoint
    slots: RowsSavepoint
    used: int


class RefoldLog:
    """Per tracked sensor: two checkpoints of its fold state and the readings since."""

    def __init__(self, main_bytes: int, peer_bytes: int, *, reach: float = REACH,
                 capacity: int = 1024) -> None:
        self.reach = float(reach)
        self._rows = Records({"slot": (np.int64, -1)}, capacity)
        fields: dict[str, Field] = {
            "ck_time": (np.float64, np.nan, (2,)),
            "log_n": (np.int64, 0),
            "log_time": (np.float64, np.nan, (LOG,)),
            "log_value": (np.float64, np.nan, (LOG,)),
            "log_expected": (np.float64, np.nan, (LOG,)),
            "log_received": (np.float64, np.nan, (LOG,)),
            "log_stamped": (np.float64, np.nan, (LOG,)),
            "ck_main": (np.uint8, 0, (2, main_bytes)),
            "ck_peer": (np.uint8, 0, (2, peer_bytes)),
        }
        self._slots = Records(fields, 16)
        self._used = 0

    @property
    def tracked(self) -> int:
        """How many sensors are tracked (have had a reading behind their newest)."""
        return self._used

    def slot_of(self, rows: NDArray[np.int64]) -> NDArray[np.int64]:
        """Each row's slot, -1 for an untracked one (rows past the table included)."""
        slot = self._rows.columns["slot"]
        return np.where(rows < slot.size, np.take(slot, rows, mode="clip"), -1)

    # -- before the fold -------------------------------------------------------------------

    def plan(self, table: HealthTable, rows: NDArray[np.int64], times: NDArray[np.float64],
             behind: NDArray[np.bool_]) -> RefoldPlan | None:
        """For the readings ``behind`` their sensor's newest: which a checkpoint lets be
        placed, from which checkpoint (the newer when all of a sensor's behind readings
        are after it: fewer readings to fold again), and the logged readings after it.
        None when there is nothing to re-fold. Puts the sensors re-folded back to their
        checkpoint in ``table``."""
        index = np.flatnonzero(behind)
        slots = self.slot_of(rows[index])
        index, slots = index[slots >= 0], slots[slots >= 0]
        if index.size == 0:
            return None
        c = self._slots.columns
        state = table.state
        shown: list[int] = []
        placed = np.zeros(rows.size, dtype=np.bool_)
        chosen_rows: list[int] = []
        split_rows: list[int] = []
        split_times: list[float] = []
        parts: list[tuple[int, NDArray[np.int64]]] = []
        for mine in _groups(index, rows[index]):
            row = int(rows[mine[0]])
            slot = int(self._rows.columns["slot"][row])
            ck_time = c["ck_time"][slot]
            earliest = float(times[mine].min())
            # A reading at a checkpoint's own newest time is not after it: the older one.
            which = (NEWER if ck_time[NEWER] < earliest
                     else OLDER if ck_time[OLDER] < earliest else -1)
            if which < 0:
                # Some readings may still be after the older checkpoint: those are placed.
                which = OLDER
                mine = mine[times[mine] > ck_time[OLDER]]
                if mine.size == 0:
                    continue
            placed[mine] = True
            chosen_rows.append(row)
            shown.append(int(state[row]))
            parts.append((slot, np.flatnonzero(
                c["log_time"][slot, : c["log_n"][slot]] > ck_time[which])))
            if which == OLDER and not np.isnan(ck_time[NEWER]):
                split_rows.append(row)
                split_times.append(float(ck_time[NEWER]))
            self._put_back(table, row, slot, which)
        if not chosen_rows:
            return None
        chosen = np.array(chosen_rows, dtype=np.int64)
        log_rows = np.concatenate([np.full(k.size, r, np.int64)
                                   for r, (_, k) in zip(chosen_rows, parts, strict=True)])

        def logged(name: str) -> NDArray[np.float64]:
            return np.concatenate([c[name][slot, k] for slot, k in parts])

        return RefoldPlan(chosen, np.array(shown, dtype=np.int64), placed, log_rows,
                          logged("log_value"), logged("log_time"), logged("log_expected"),
                          logged("log_received"), logged("log_stamped"),
                          np.array(split_rows, dtype=np.int64), np.array(split_times))

    def _put_back(self, table: HealthTable, row: int, slot: int, which: int) -> None:
        c = self._slots.columns
        main, peer = table.record_bytes()
        main[row] = c["ck_main"][slot, which]
        peer[row] = c["ck_peer"][slot, which]
        if which == OLDER:
            # The newer checkpoint lacks the readings placed before it now: taken again by
            # ``retake`` during the re-fold.
            c["ck_time"][slot, NEWER] = np.nan

    def retake(self, table: HealthTable, rows: NDArray[np.int64]) -> None:
        """The newer checkpoint of ``rows`` again, from their state now (a re-fold has
        folded their readings up to its time, the placed ones among them)."""
        slots = self.slot_of(rows)
        for row, slot in zip(rows.tolist(), slots.tolist(), strict=True):
            self._checkpoint(table, row, slot, NEWER)

    # -- after the fold --------------------------------------------------------------------

    def note(self, table: HealthTable, rows: NDArray[np.int64], values: NDArray[np.float64],
             times: NDArray[np.float64], expected: NDArray[np.float64],
             received: NDArray[np.float64], stamped: NDArray[np.float64],
             folded: NDArray[np.bool_], behind: NDArray[np.bool_]) -> None:
        """After a batch's fold: log the readings ``folded`` of tracked sensors and move
        their checkpoints on; start tracking the sensors with a reading ``behind`` their
        newest (from the live state, which holds this batch already)."""
        if not behind.any():
            if self._used == 0:
                return  # the common case: no sensor out of order, ever
            if rows.size <= FEW:
                # A replay's or a single device's batch: a look per reading costs less than
                # the gathers below, and most such batches hold no tracked sensor.
                slot_of_row = self._rows.columns["slot"]
                if not any(r < slot_of_row.size and slot_of_row[r] >= 0
                           for r in rows.tolist()):
                    return
        slots = self.slot_of(rows)
        starting = behind & (slots < 0)
        if starting.any():
            for row in np.unique(rows[starting]).tolist():
                self._track(table, row)
        logged = np.flatnonzero(folded & (slots >= 0))
        if logged.size == 0:
            return
        c = self._slots.columns
        last_time = table.last_time
        for mine in _groups(logged, slots[logged]):
            slot = int(slots[mine[0]])
            row = int(rows[mine[0]])
            n = int(c["log_n"][slot])
            if n + mine.size > LOG and not np.isnan(c["ck_time"][slot, NEWER]):
                self._rotate(slot)  # room, if the newer checkpoint can take the older's place
                n = int(c["log_n"][slot])
            if n + mine.size > LOG:
                # More readings than the log holds within ``reach``: start afresh from the
                # live state; readings behind it are left unjudged, as without the log.
                self._checkpoint(table, row, slot, OLDER)
                c["ck_time"][slot, NEWER] = np.nan
                c["log_n"][slot] = 0
                continue
            end = n + mine.size
            c["log_time"][slot, n:end] = times[mine]
            c["log_value"][slot, n:end] = values[mine]
            c["log_expected"][slot, n:end] = expected[mine]
            c["log_received"][slot, n:end] = received[mine]
            c["log_stamped"][slot, n:end] = stamped[mine]
            c["log_n"][slot] = end
            newest = float(last_time[row])
            ck_time = c["ck_time"][slot]
            if np.isnan(ck_time[NEWER]):
                if newest - ck_time[OLDER] > self.reach:
                    self._checkpoint(table, row, slot, NEWER)
            elif newest - ck_time[NEWER] > self.reach:
                self._rotate(slot)
                self._checkpoint(table, row, slot, NEWER)

    def _track(self, table: HealthTable, row: int) -> None:
        slot = self._used
        self._slots.grow(slot + 1)
        self._rows.grow(row + 1)
        self._used += 1
        self._rows.columns["slot"][row] = slot
        c = self._slots.columns
        c["log_n"][slot] = 0
        c["ck_time"][slot] = np.nan
        self._checkpoint(table, row, slot, OLDER)

    def _checkpoint(self, table: HealthTable, row: int, slot: int, which: int) -> None:
        c = self._slots.columns
        main, peer = table.record_bytes()
        c["ck_main"][slot, which] = main[row]
        c["ck_peer"][slot, which] = peer[row]
        c["ck_time"][slot, which] = table.last_time[row]

    def _rotate(self, slot: int) -> None:
        """The newer checkpoint becomes the older; the log keeps what came after it."""
        c = self._slots.columns
        c["ck_main"][slot, OLDER] = c["ck_main"][slot, NEWER]
        c["ck_peer"][slot, OLDER] = c["ck_peer"][slot, NEWER]
        c["ck_time"][slot, OLDER] = c["ck_time"][slot, NEWER]
        c["ck_time"][slot, NEWER] = np.nan
        n = int(c["log_n"][slot])
        keep = np.flatnonzero(c["log_time"][slot, :n] > c["ck_time"][slot, OLDER])
        for name in ("log_time", "log_value", "log_expected", "log_received", "log_stamped"):
            c[name][slot, : keep.size] = c[name][slot, keep]
        c["log_n"][slot] = keep.size

    # -- transactions and restarts ---------------------------------------------------------

    def savepoint(self, rows: NDArray[np.int64]) -> RefoldSavepoint:
        slots = self.slot_of(rows)
        return RefoldSavepoint(self._rows.savepoint(rows), self._slots.savepoint(
            slots[slots >= 0]), self._used)

    def rollback(self, point: RefoldSavepoint) -> None:
        self._rows.rollback(point.rows)
        self._slots.rollback(point.slots)
        # Slots taken by the batch are free again (their rows point nowhere now).
        self._used = point.used

    def forget(self, rows: NDArray[np.int64]) -> None:
        """Untrack ``rows`` (their state was replaced, as by ``snapshot.load``): their
        checkpoints belong to a state they no longer have."""
        slot = self._rows.columns["slot"]
        inside = rows[rows < slot.size]
        slot[inside] = -1


def _groups(positions: NDArray[np.int64], keys: NDArray[np.int64]) -> list[NDArray[np.int64]]:
    """``positions`` grouped by their ``keys``, the groups in ascending key, each in the
    order given: one sort, not a pass over the batch per key."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    return np.split(positions[order], starts)
