"""Where the saved learned state stands in the journal, and the journal kept for replay.

The learned state (the health table, the counters, the anomaly detector, the models, the
zones) lives in memory and is saved now and then as snapshots. Each save records the
*position* it reaches: the id of the newest journal row (one committed batch) folded into
that state. Journal ids grow in commit order in both stores (SQLite: ``AUTOINCREMENT``,
never reused; PostgreSQL: a ``bigserial`` that only the one writing connection draws,
under the store's write lock), so "the batches after the position" are exactly the
committed batches the saved state has not seen. After a crash the service replays them.

The journal is therefore kept until both a seal has copied its rows into a segment and a
save has covered them: a seal deletes the journal rows it sealed only up to the saved
position, and a save deletes the rows already sealed up to its position. ``meta`` holds
both marks (``sealed_through``, ``state_position``); at open, journal rows at or below
``sealed_through`` are in segments already and are not hot rows again. A seal and a save
that run at once (PostgreSQL: two connections) each delete with the other's older mark,
so neither deletes a row still needed; what is left over goes at the next save.

No ``state_position`` means the saved state (if any) was written before positions were
kept: nothing can be replayed safely after it. A store created new starts at 0 (replay
every batch in the journal), since nothing has been learned yet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

STATE_POSITION = "state_position"
SEALED_THROUGH = "sealed_through"

Execute = Callable[..., Any]


def mark_of(execute: Execute, mark: str, key: str) -> int | None:
    """An integer kept in ``meta``, or None if there is none."""
    row = execute(f"SELECT value FROM meta WHERE key = {mark}", (key,)).fetchone()
    return None if row is None else int(row[0])


def set_mark(execute: Execute, mark: str, key: str, value: int) -> None:
    execute(f"INSERT INTO meta VALUES ({mark}, {mark}) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, str(value)))


#: Below every journal id (an upgraded SQLite file may hold ids of 0 and less).
NONE_SEALED = -(2**62)


def sealed_through(execute: Execute, mark: str) -> int:
    """The newest journal id a seal has copied into a segment (``NONE_SEALED``: none)."""
    through = mark_of(execute, mark, SEALED_THROUGH)
    return NONE_SEALED if through is None else through


def sealed(execute: Execute, mark: str, through: int) -> None:
    """In a seal's transaction: the journal rows up to ``through`` are in a segment now.
    Those the saved state has covered go; the rest stay for a replay. With no position
    saved nothing is replayed (see the module), so nothing stays for it."""
    set_mark(execute, mark, SEALED_THROUGH, through)
    position = mark_of(execute, mark, STATE_POSITION)
    covered = through if position is None else min(through, position)
    execute(f"DELETE FROM journal WHERE id <= {mark}", (covered,))


def saved(execute: Execute, mark: str, position: int) -> None:
    """In a save's transaction, with the snapshots: the state reaches ``position``. The
    journal rows it covers that are sealed already go."""
    set_mark(execute, mark, STATE_POSITION, position)
    covered = min(position, sealed_through(execute, mark))
    execute(f"DELETE FROM journal WHERE id <= {mark}", (covered,))


def newest(execute: Execute, mark: str) -> int:
    """At open: the newest position the store has reached (the newest journal id, or a
    mark past it when the journal has been emptied)."""
    row = execute("SELECT COALESCE(MAX(id), 0) FROM journal").fetchone()
    marks = [mark_of(execute, mark, key) or 0 for key in (STATE_POSITION, SEALED_THROUGH)]
    return max(int(row[0]), *marks)
