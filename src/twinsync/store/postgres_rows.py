"""Events and dead letters into the PostgreSQL store: one pipelined round trip a kind, each
row's new key read back. Their encoding is the one every store shares (``rows``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from ..model import Event
from ..pipeline import DeadLetter
from . import audit
from .audit import AuditEntry
from .dead_letters import DeadLetterLimits, stored_row
from .rows import dumps


def insert_events(cursor: psycopg.Cursor[Any], events: Sequence[Event]) -> None:
    if not events:
        return
    # One round trip for all of them (pipelined); each result set holds one new seq.
    cursor.executemany(
        "INSERT INTO events (kind, time, element_id, source, data) "
        "VALUES (%s, %s, %s, %s, %b) RETURNING seq",
        [(e.kind, e.time, e.element_id, e.source, dumps(e.data)) for e in events],
        returning=True)
    for event in events:
        event.seq = int(cursor.fetchone()[0])  # type: ignore[index]
        cursor.nextset()


def insert_dead_letters(cursor: psycopg.Cursor[Any], dead_letters: Sequence[DeadLetter],
                        limits: DeadLetterLimits) -> None:
    if not dead_letters:
        return
    cursor.executemany(
        "INSERT INTO dead_letters (received_at, source, reason, detail, payload) "
        "VALUES (%s, %s, %s, %s, %b) RETURNING id",
        [stored_row(d, limits) for d in dead_letters], returning=True)
    for letter in dead_letters:
        letter.id = int(cursor.fetchone()[0])  # type: ignore[index]
        cursor.nextset()



def insert_audit(cursor: psycopg.Cursor[Any], entries: Sequence[AuditEntry]) -> None:
    if not entries:
        return
    cursor.executemany(audit.insert_sql("%s") + " RETURNING id",
                       [audit.row_of(e) for e in entries], returning=True)
    for entry in entries:
        entry.id = int(cursor.fetchone()[0])  # type: ignore[index]
        cursor.nextset()
