"""The index of events recorded once under a key: a field measurement's id.

A phone that lost the answer sends the same measurement again, with the same id; the
writer must find the first sending's event before it records anything
(``service/measurements.py``). Searching the element's stored events for it read every
PATCH the element ever had, on the writer: 36 ms at 10,000 of them, half a second at
100,000, with ingest waiting behind it. So each store keeps a table of
``(element_id, key) -> seq``, written in the transaction that writes the event, and the
search is one look-up by primary key.

A key is the element's (the same id on two elements is two measurements). The first
event under a key is the one kept: a second one under it is never proposed (the writer
finds the first), and if one were, the answer a retry gets must not change.

Stores written before this table existed fill it when they are upgraded
(``fill``): one pass over their ``property_changed`` events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..model import Event
from ..model.measurement import recorded_key
from .problems import LoadProblems
from .rows import EVENT_COLUMNS, events_of, events_query

#: ``execute(query, params)`` of a connection or cursor (SQLite's or psycopg's).
Execute = Callable[..., Any]

SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS event_keys (
    element_id TEXT NOT NULL,
    key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (element_id, key)
) WITHOUT ROWID;
"""

POSTGRES_SCHEMA = """
CREATE TABLE IF NOT EXISTS event_keys (
    element_id text NOT NULL,
    key text NOT NULL,
    seq bigint NOT NULL,
    PRIMARY KEY (element_id, key)
);
"""

#: Both stores spell "keep the first" the same way.
INSERT = "INSERT INTO event_keys VALUES ({m}, {m}, {m}) ON CONFLICT DO NOTHING"


def keyed(events: Iterable[Event]) -> list[tuple[str, str, int]]:
    """``(element_id, key, seq)`` of the committed ``events`` recorded under a key."""
    rows = []
    for event in events:
        key = recorded_key(event)
        if key is not None and event.element_id is not None and event.seq is not None:
            rows.append((event.element_id, key, event.seq))
    return rows


def insert(executemany: Execute, mark: str, events: Sequence[Event]) -> None:
    """Index ``events`` (their ``seq`` assigned) in the transaction that wrote them."""
    rows = keyed(events)
    if rows:
        executemany(INSERT.format(m=mark), rows)


def query(mark: str, element_id: str, key: str) -> tuple[str, list[object]]:
    """``Store.keyed_event``: the event under ``key`` of ``element_id``."""
    return (f"SELECT {EVENT_COLUMNS} FROM events WHERE seq = (SELECT seq FROM event_keys "
            f"WHERE element_id = {mark} AND key = {mark})", [element_id, key])


def first_of(records: Sequence[tuple[Any, ...]], problems: LoadProblems) -> Event | None:
    events = events_of(records, problems)
    return events[0] if events else None


#: Events read a page at a time while an older store's index is filled.
FILL_PAGE = 10_000


def fill(execute: Execute, mark: str, problems: LoadProblems) -> int:
    """Index every stored event recorded under a key (an upgrade's one pass); returns how
    many were indexed."""
    indexed = 0
    after = 0
    while True:
        query_, params = events_query(mark, after, None, "property_changed", FILL_PAGE)
        records = execute(query_, params).fetchall()
        if not records:
            return indexed
        rows = keyed(events_of(records, problems))
        for row in rows:
            execute(INSERT.format(m=mark), row)
        indexed += len(rows)
        after = int(records[-1][0])
